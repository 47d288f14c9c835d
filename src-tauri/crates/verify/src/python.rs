//! Python source as a syntax tree: tree-sitter's Python grammar, one parser per thread, and the few walks every
//! reader of Python here needs (answer extraction, HumanEval's `check()` split, the checks a prompt shows).
//! Parsing never fails and never panics: any text gives a tree, with `ERROR` nodes where it is not Python.

use tree_sitter::{Node, Parser, Tree};

thread_local! {
    static PARSER: std::cell::RefCell<Parser> = std::cell::RefCell::new({
        let mut p = Parser::new();
        p.set_language(&tree_sitter_python::LANGUAGE.into()).expect("the bundled Python grammar loads");
        p
    });
}

/// The syntax tree of `code` (any text: what is not Python becomes `ERROR` nodes).
pub fn parse(code: &str) -> Tree {
    PARSER.with(|p| p.borrow_mut().parse(code, None)).expect("tree-sitter parses any text (no timeout is set)")
}

/// Whether `code` is valid Python (no syntax error anywhere in it).
pub fn is_valid_python(code: &str) -> bool {
    !parse(code).root_node().has_error()
}

/// Whether `code` is one valid Python expression (a value in an example: `[1, 2]`, `'a'`, `-3.5`, `f(x)`).
pub fn is_expression(code: &str) -> bool {
    let code = code.trim();
    if code.is_empty() {
        return false;
    }
    let tree = parse(code);
    let root = tree.root_node();
    !root.has_error()
        && root.named_child_count() == 1
        && root.named_child(0).is_some_and(|s| {
            s.kind() == "expression_statement"
                && s.named_child_count() == 1
                && s.named_child(0).is_some_and(|e| !matches!(e.kind(), "assignment" | "augmented_assignment"))
        })
}

/// Every node of a subtree, depth first, without recursion: code of ten thousand nested brackets must not
/// overflow the stack (an overflow aborts the process; it is no panic a run could survive).
pub fn descendants<'t>(node: Node<'t>) -> impl Iterator<Item = Node<'t>> {
    let mut stack = vec![node];
    std::iter::from_fn(move || {
        let n = stack.pop()?;
        let mut cursor = n.walk();
        let children: Vec<Node> = n.children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
        Some(n)
    })
}

/// The top-level statements of a tree (its root's children).
pub fn top_level(tree: &Tree) -> Vec<Node<'_>> {
    let root = tree.root_node();
    let mut cursor = root.walk();
    root.children(&mut cursor).collect()
}

/// The largest character boundary at or below `i` (tree-sitter's offsets are bytes; they fall on boundaries for
/// every input seen, and this keeps a surprise from becoming a panic).
pub fn floor_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// `s[a..b]` on character boundaries.
pub fn span(s: &str, a: usize, b: usize) -> &str {
    let b = floor_boundary(s, b);
    &s[floor_boundary(s, a).min(b)..b]
}

/// A node's text.
pub fn text<'s>(node: Node, src: &'s str) -> &'s str {
    span(src, node.start_byte(), node.end_byte())
}

/// `code` with every identifier `from` (a name, not text inside strings or comments) renamed `to`.
pub fn rename(code: &str, from: &str, to: &str) -> String {
    let tree = parse(code);
    let mut out = String::with_capacity(code.len());
    let mut at = 0;
    for n in descendants(tree.root_node()) {
        if n.kind() == "identifier" && text(n, code) == from && n.start_byte() >= at {
            out.push_str(span(code, at, n.start_byte()));
            out.push_str(to);
            at = floor_boundary(code, n.end_byte());
        }
    }
    out.push_str(span(code, at, code.len()));
    out
}

/// Index just past the string literal whose opening quote is at `i` (single, or tripled for a triple-quoted
/// string); an unterminated single-line string stops at its line end. Byte scanning that stops only at ASCII, so
/// every index it returns is on a character boundary.
pub fn skip_string(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let triple = i + 2 < b.len() && b[i + 1] == q && b[i + 2] == q;
    let mut j = if triple { i + 3 } else { i + 1 };
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            c if c == q => {
                if !triple {
                    return j + 1;
                }
                if j + 2 < b.len() && b[j + 1] == q && b[j + 2] == q {
                    return j + 3;
                }
                j += 1;
            }
            b'\n' if !triple => return j,
            _ => j += 1,
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_are_told_from_statements_and_prose() {
        for e in ["[1, 2]", "'a'", "-3.5", "f(x)", "(1, 'b')", "None", "{'a': 1}", "[\n 1,\n 2]"] {
            assert!(is_expression(e), "{e}");
        }
        for e in ["x = 1", "the output", "", "1 2", "def f(): pass", "a\nb"] {
            assert!(!is_expression(e), "{e:?}");
        }
    }

    #[test]
    fn renaming_touches_names_only() {
        assert_eq!(
            rename("assert candidate('candidate') == candidate_x  # candidate", "candidate", "f"),
            "assert f('candidate') == candidate_x  # candidate"
        );
    }
}
