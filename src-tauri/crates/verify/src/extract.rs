//! Answer → code: the Python a model meant, found among several readings of its answer, and trimmed to what
//! the task needs. Anchored on EvalPlus's sanitizer (parse the answer, keep the imports and the definitions
//! reachable from the entry point) and more transparent: every result says which reading was run, what was
//! kept and what was dropped, and why.
//!
//! **Candidates.** One answer can be read several ways, and models differ in which one they mean:
//! each balanced fenced block; the code before the first fence (an answer that starts with code and then
//! closes a fence the prompt had opened, as Llama models do); the code after an unclosed fence (a truncated
//! answer); the blocks of an alternative pairing (when the first fence closes rather than opens); Code Llama's
//! `[PYTHON]` tags; `>>>` transcripts (prompts kept, printed results dropped); the whole answer with its prose
//! lines removed; all Python blocks joined (a helper in one block, the solution in the next). Each is parsed with
//! tree-sitter's Python grammar. A tail cut at the token limit loses its last incomplete statement instead of
//! failing the whole answer.
//!
//! **The choice.** The candidate that defines the entry point wins; among those, one that parses without a
//! syntax error; then the longest (more of the model's code). Without a known entry point, any function
//! definition counts.
//!
//! **What is kept**, from the chosen candidate: imports; the definitions (functions, classes, assignments)
//! reachable from the entry point (all of them when it is not defined); other top-level statements that set
//! things up (`sys.setrecursionlimit(…)`, a loop filling a table). **Dropped, by decision:** the answer's own
//! `assert`s, `print(…)`s, `input(…)`s, calls of its own functions (examples), `if __name__ == "__main__":`
//! blocks, a definition repeated later (the first complete one stays: small models repeat themselves), and
//! unreachable definitions. A model's own example or test with a wrong expected value (or one that waits for
//! stdin) must not crash a correct answer, and removing usage code can never make a wrong answer pass: only the
//! task's asserts decide. Python itself still judges the result when it runs: a syntax error tree-sitter
//! tolerated is reported by the sandbox as it always was.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use tree_sitter::{Node, Tree};

use crate::python::{descendants, floor_boundary, parse, span};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extracted {
    pub code: String,
    /// Which reading of the answer was run, and what was kept and dropped.
    pub extraction: Extraction,
}

/// What was run of an answer: shown beside the raw answer in `verify --json`, stored with each trial, and
/// shown in the Labeling tab.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Extraction {
    /// The reading of the answer that was chosen, e.g. "fenced block 2 of 3", "code before the first fence".
    pub candidate: String,
    /// The top-level statements kept, as their first line (`def heap_sort(iterable):`, `import heapq`).
    pub kept: Vec<String>,
    /// What was dropped from the chosen reading, each with why (`print(f(3)) — an example print`).
    pub dropped: Vec<String>,
}

const PYTHON_TAGS: &[&str] = &["", "python", "py", "python3", "py3", "pycon", "ipython", "python-repl"];

const KEYWORDS: &[&str] = &[
    "def", "class", "import", "from", "if", "elif", "else", "for", "while", "try", "except", "finally", "with",
    "return", "assert", "raise", "pass", "break", "continue", "global", "nonlocal", "del", "async", "await", "yield",
    "lambda", "print", "match", "case", "not", "None", "True", "False",
];

/// Words that open a prose line even when followed by a colon (`Output: 5` is valid Python, but it is prose).
const PROSE_LABELS: &[&str] = &[
    "output",
    "outputs",
    "explanation",
    "example",
    "examples",
    "note",
    "notes",
    "usage",
    "result",
    "results",
    "input",
    "inputs",
    "returns",
    "answer",
    "solution",
    "code",
    "test",
    "tests",
    "time",
    "space",
    "complexity",
    "approach",
    "here",
    "this",
    "the",
    "it",
    "in",
    "we",
    "you",
    "step",
    "steps",
    "python",
    "function",
    "expected",
];

/// One reading of the answer.
struct Candidate {
    what: String,
    text: String,
}

/// A candidate parsed and repaired.
struct Parsed {
    what: String,
    code: String,
    tree: Tree,
    /// Notes from the repair (a truncated tail dropped).
    dropped: Vec<String>,
    defines_entry: bool,
    defines_function: bool,
}

pub use crate::python::is_valid_python;

/// Extracts runnable code from a model answer. `entry` is the task's function name, when known.
pub fn extract_code(answer: &str, entry: Option<&str>) -> Extracted {
    extract_for_tests(answer, entry, &[])
}

/// [`extract_code`] for an answer that will run against `tests` (the task's setup code and asserts): what they
/// name is needed too (a class the asserts construct, a `Node` the setup code uses).
pub fn extract_for_tests(answer: &str, entry: Option<&str>, tests: &[&str]) -> Extracted {
    let text = answer.replace("\r\n", "\n");
    if text.trim().is_empty() {
        return Extracted {
            code: String::new(),
            extraction: Extraction { candidate: "empty answer".into(), ..Default::default() },
        };
    }
    // The longest reading that defines the entry point and parses cleanly wins; trying the readings longest
    // first lets the first such one end the search (most answers need one or two parses, not all of them).
    let mut readings = candidates(&text);
    readings.sort_by_key(|c| std::cmp::Reverse(c.text.trim().len())); // stable: equal lengths keep their order
    let mut parsed: Vec<(usize, Parsed)> = Vec::new();
    let mut winner = None;
    for c in readings {
        let p = repair(c, entry);
        let qualifies = p.defines_entry || (entry.is_none() && p.defines_function);
        // A reading that parsed as it was is at least as long as every reading after it; one that had to lose
        // its tail may now be shorter than one of those, so the search goes on.
        if qualifies && !p.tree.root_node().has_error() && p.dropped.is_empty() {
            winner = Some(p);
            break;
        }
        parsed.push((p.code.trim().len(), p));
    }
    let best = match &winner {
        Some(p) => p,
        None => parsed
            .iter()
            .enumerate()
            .max_by_key(|(i, (len, p))| {
                (
                    p.defines_entry || (entry.is_none() && p.defines_function),
                    !p.tree.root_node().has_error(),
                    p.defines_function,
                    *len,
                    std::cmp::Reverse(p.dropped.len()), // ties: the reading that needed no repair
                    std::cmp::Reverse(*i),              // then the earlier (more specific) one
                )
            })
            .map(|(_, (_, p))| p)
            .expect("an answer with text has at least one reading"),
    };
    // The names the tests use (beyond the entry point) must stay defined.
    let mut needed: HashSet<String> = HashSet::new();
    for t in tests {
        let tree = parse(t);
        let mut ids = HashSet::new();
        identifiers(tree.root_node(), t, &mut ids);
        needed.extend(ids.into_iter().map(str::to_owned));
    }
    sanitize(best, entry, &needed)
}

/// Extracts a whole program from an answer (a task judged by its output): the reading that parses cleanly and is
/// longest, run as it is — its `input()` calls and prints are the program, so nothing is dropped.
pub fn extract_program(answer: &str) -> Extracted {
    let text = answer.replace("\r\n", "\n");
    let best = candidates(&text)
        .into_iter()
        .map(|c| repair(c, None))
        .max_by_key(|p| (!p.tree.root_node().has_error(), p.dropped.is_empty(), p.code.trim().len()));
    match best {
        Some(p) => {
            let code = p.code.trim_matches('\n').to_owned();
            Extracted {
                code: if code.is_empty() { code } else { code + "\n" },
                extraction: Extraction {
                    candidate: p.what,
                    kept: vec!["the whole program".into()],
                    dropped: p.dropped,
                },
            }
        }
        None => Extracted {
            code: String::new(),
            extraction: Extraction { candidate: "empty answer".into(), ..Default::default() },
        },
    }
}

// ---------------------------------------------------------------------------------------------------------
// Candidates

fn is_fence(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("```") && line.len() - t.len() <= 3
}

fn fence_tag(line: &str) -> String {
    line.trim_start().trim_start_matches('`').split_whitespace().next().unwrap_or("").to_ascii_lowercase()
}

fn candidates(text: &str) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    let mut push = |what: String, body: String| {
        // Each reading dedented; the same code twice is one reading. A reading with `>>>` lines is also read as
        // a transcript, beside itself: a session pasted from a console is one, but a complete function whose
        // docstring shows `>>>` examples is not (read as a transcript it would be only its example calls).
        // The choice below prefers the reading that defines the entry point, so the function wins over its
        // examples, and a real transcript wins over its own unparseable text.
        let mut add = |what: String, body: &str| {
            let body = dedent(body);
            if !body.trim().is_empty() && !out.iter().any(|c| c.text == body) {
                out.push(Candidate { what, text: body });
            }
        };
        add(what.clone(), &body);
        if body.lines().any(|l| l.trim_start().starts_with(">>>")) {
            add(format!("{what}, as a >>> transcript"), &repl_to_code(&body));
        }
    };
    // [PYTHON] … [/PYTHON]
    if text.contains("[PYTHON]") {
        let tagged = tagged_blocks(text);
        let n = tagged.len();
        for (i, b) in tagged.iter().enumerate() {
            push(
                if n == 1 { "the [PYTHON] block".into() } else { format!("[PYTHON] block {} of {n}", i + 1) },
                b.clone(),
            );
        }
        if n > 1 {
            push("all [PYTHON] blocks joined".into(), tagged.join("\n\n"));
        }
    }
    let lines: Vec<&str> = text.lines().collect();
    let fences: Vec<usize> = lines.iter().enumerate().filter(|(_, l)| is_fence(l)).map(|(i, _)| i).collect();
    if !fences.is_empty() {
        let slice = |a: usize, b: usize| lines[a..b].join("\n");
        // Balanced blocks, pairing fences in order.
        let mut blocks: Vec<(String, String)> = Vec::new();
        for pair in fences.chunks(2) {
            if let [open, close] = pair {
                blocks.push((fence_tag(lines[*open]), slice(open + 1, *close)));
            }
        }
        let python: Vec<&(String, String)> =
            blocks.iter().filter(|(tag, _)| PYTHON_TAGS.contains(&tag.as_str())).collect();
        let shown: Vec<&(String, String)> = if python.is_empty() { blocks.iter().collect() } else { python };
        let n = shown.len();
        for (i, (_, b)) in shown.iter().enumerate() {
            push(if n == 1 { "the fenced block".into() } else { format!("fenced block {} of {n}", i + 1) }, b.clone());
        }
        if n > 1 {
            push(
                "all Python blocks joined".into(),
                shown.iter().map(|(_, b)| b.as_str()).collect::<Vec<_>>().join("\n\n"),
            );
        }
        // An answer that starts with code and closes a fence the prompt had opened.
        push("code before the first fence".into(), slice(0, fences[0]));
        if fences.len() % 2 == 1 {
            // The last fence opens a block the answer never closed (cut at the token limit).
            let last = *fences.last().expect("non-empty");
            push("code after an unclosed fence".into(), slice(last + 1, lines.len()));
            // Or the first fence closed the prompt's block: pair the rest from the second fence on.
            for (i, pair) in fences[1..].chunks(2).enumerate() {
                if let [open, close] = pair {
                    if PYTHON_TAGS.contains(&fence_tag(lines[*open]).as_str()) {
                        push(format!("fenced block {} after the first fence", i + 1), slice(open + 1, *close));
                    }
                }
            }
        }
    }
    push("the answer with prose removed".into(), strip_prose(text));
    push("the whole answer".into(), text.to_owned());
    out
}

fn tagged_blocks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("[PYTHON]") {
        let after = &rest[start + "[PYTHON]".len()..];
        match after.find("[/PYTHON]") {
            Some(end) => {
                out.push(after[..end].to_owned());
                rest = &after[end + "[/PYTHON]".len()..];
            }
            None => {
                out.push(after.to_owned());
                break;
            }
        }
    }
    out
}

fn repl_to_code(block: &str) -> String {
    block
        .lines()
        .filter_map(|l| {
            let t = l.trim_start();
            t.strip_prefix(">>> ")
                .or_else(|| t.strip_prefix(">>>"))
                .or_else(|| t.strip_prefix("... "))
                .or_else(|| (t == "...").then_some(""))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn first_word(line: &str) -> &str {
    let end = line.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(line.len());
    &line[..end]
}

/// Whether a line at indent 0 reads as Python rather than prose.
fn looks_like_code(line: &str) -> bool {
    let t = line.trim_end();
    if t.is_empty() {
        return true;
    }
    if is_fence(t) {
        return false;
    }
    let c = t.chars().next().unwrap_or(' ');
    if c.is_ascii_digit() {
        // "1. First, …" and "2) Then …" are numbered prose; "10 ** 9" is code.
        let after = t.trim_start_matches(|c: char| c.is_ascii_digit());
        return !(after.starts_with(". ") || after.starts_with(") "));
    }
    if matches!(c, '#' | '@' | '"' | '\'' | '(' | '[' | '{' | ')' | ']' | '}') {
        return true;
    }
    if !(c.is_alphabetic() || c == '_') {
        return false; // bullets, numbered lists, markdown headings
    }
    let word = first_word(t);
    if KEYWORDS.contains(&word) {
        // "If the list is empty, …" is prose; "if x:" is code. Prose keywords are capitalised.
        return !word.chars().next().is_some_and(|c| c.is_uppercase()) || matches!(word, "None" | "True" | "False");
    }
    if PROSE_LABELS.contains(&word.to_ascii_lowercase().as_str())
        && t[word.len()..].trim_start().starts_with([':', ' '])
    {
        // `result = f(x)` is code even though "result" is a prose label.
        let rest = t[word.len()..].trim_start();
        return rest.starts_with('=') && !rest.starts_with("==") || rest.starts_with('(') || rest.starts_with('.');
    }
    // An identifier path (a.b[c]) followed by what only code has after it.
    let mut rest = &t[word.len()..];
    loop {
        if let Some(r) = rest.strip_prefix('.') {
            let w = first_word(r);
            if w.is_empty() {
                break;
            }
            rest = &r[w.len()..];
        } else if rest.starts_with('[') {
            match rest.find(']') {
                Some(end) => rest = &rest[end + 1..],
                None => break,
            }
        } else {
            break;
        }
    }
    let rest = rest.trim_start();
    rest.is_empty()
        || rest.starts_with('(')
        || rest.starts_with(',')
        || rest.starts_with('=') && !rest.starts_with("==")
        || ["+=", "-=", "*=", "/=", "//=", "%=", "**=", "|=", "&=", "^=", ">>=", "<<="]
            .iter()
            .any(|op| rest.starts_with(op))
        || rest.starts_with(':') && rest.len() > 1 && !rest[1..].trim().contains(' ')
}

/// The lines that read as code: unindented prose lines are dropped, indented lines and the inside of
/// brackets and triple-quoted strings are kept.
fn strip_prose(block: &str) -> String {
    let mut kept = Vec::new();
    let mut in_string: Option<&str> = None;
    let mut depth: i32 = 0;
    for line in block.lines() {
        let indented = line.starts_with([' ', '\t']);
        if in_string.is_some() || depth > 0 || (indented && !is_fence(line)) || looks_like_code(line) {
            kept.push(line);
            update_state(line, &mut in_string, &mut depth);
        }
    }
    kept.join("\n")
}

/// Tracks open brackets and triple-quoted strings across lines, skipping strings and comments.
fn update_state<'a>(line: &'a str, in_string: &mut Option<&'a str>, depth: &mut i32) {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        // Byte-wise throughout: a step can land inside a multi-byte character (`Σ` in a docstring), where a
        // `str` slice would panic.
        if let Some(q) = *in_string {
            if b[i..].starts_with(q.as_bytes()) {
                *in_string = None;
                i += 3;
            } else if b[i] == b'\\' {
                i += 2;
            } else {
                i += 1;
            }
            continue;
        }
        match b[i] {
            b'#' => return,
            b'"' | b'\'' => {
                let triple = if b[i] == b'"' { "\"\"\"" } else { "'''" };
                if b[i..].starts_with(triple.as_bytes()) {
                    *in_string = Some(triple);
                    i += 3;
                } else {
                    let q = b[i];
                    i += 1;
                    while i < b.len() && b[i] != q {
                        if b[i] == b'\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                    i += 1;
                }
                continue;
            }
            b'(' | b'[' | b'{' => *depth += 1,
            b')' | b']' | b'}' => *depth = (*depth - 1).max(0),
            _ => {}
        }
        i += 1;
    }
}

/// Removes indentation shared by every non-blank line.
fn dedent(block: &str) -> String {
    let indent = block
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    let out = if indent == 0 {
        block.to_owned()
    } else {
        block
            .lines()
            // Every line with text has `indent` ASCII blanks in front; a blank line may have fewer, or other
            // (Unicode) blanks, so it is only cut where that is a character boundary.
            .map(|l| match l.get(indent..) {
                Some(rest) if l.as_bytes()[..indent].iter().all(|b| matches!(b, b' ' | b'\t')) => rest,
                _ => l.trim_start(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    out.trim_matches('\n').to_owned()
}

// ---------------------------------------------------------------------------------------------------------
// Parsing, repair, and the definitions a reading holds

/// The first line of a statement, for `kept` and `dropped`.
fn summary(text: &str) -> String {
    let first = text.lines().next().unwrap_or("").trim_end();
    if first.chars().count() > 72 {
        first.chars().take(71).collect::<String>() + "…"
    } else {
        first.to_owned()
    }
}

/// A definition's node inside a decorated definition.
fn definition(node: Node) -> Node {
    if node.kind() == "decorated_definition" {
        node.child_by_field_name("definition").unwrap_or(node)
    } else {
        node
    }
}

fn defined_name<'a>(node: Node, src: &'a str) -> Option<&'a str> {
    let d = definition(node);
    matches!(d.kind(), "function_definition" | "class_definition")
        .then(|| d.child_by_field_name("name").and_then(|n| n.utf8_text(src.as_bytes()).ok()))
        .flatten()
}

/// Parses a reading; a tail cut at the token limit (the last top-level statements broken) loses those
/// statements instead of failing the whole answer.
fn repair(c: Candidate, entry: Option<&str>) -> Parsed {
    let mut code = c.text;
    let mut dropped = Vec::new();
    let mut tree = parse(&code);
    for _ in 0..3 {
        // Only a broken tail is cut: an error in the middle is the answer's own syntax error.
        let cut = {
            let root = tree.root_node();
            if !root.has_error() {
                break;
            }
            let mut cursor = root.walk();
            let tops: Vec<Node> = root.children(&mut cursor).collect();
            let Some(last) = tops.iter().rev().find(|n| n.kind() != "comment") else { break };
            if !(last.has_error() || last.is_error() || last.is_missing()) {
                break;
            }
            last.start_byte()
        };
        let cut = floor_boundary(&code, cut);
        if code[..cut].trim().is_empty() {
            break;
        }
        dropped.push(format!(
            "{} — cut off at the end (does not parse: a statement cut short, or prose)",
            summary(&code[cut..])
        ));
        code.truncate(cut);
        let trimmed = code.trim_end().len();
        code.truncate(trimmed);
        tree = parse(&code);
    }
    let root = tree.root_node();
    let mut cursor = root.walk();
    let tops: Vec<Node> = root.children(&mut cursor).collect();
    let functions: Vec<&str> = tops.iter().filter_map(|n| defined_name(*n, &code)).collect();
    let defines_entry =
        entry.is_some_and(|e| functions.contains(&e) || tops.iter().any(|n| assigned_names(*n, &code).contains(&e)));
    let defines_function = !functions.is_empty();
    drop(cursor);
    Parsed { what: c.what, defines_entry, defines_function, dropped, tree, code }
}

/// Every identifier a subtree mentions.
fn identifiers<'a>(node: Node, src: &'a str, out: &mut HashSet<&'a str>) {
    for n in descendants(node).filter(|n| n.kind() == "identifier") {
        if let Ok(t) = n.utf8_text(src.as_bytes()) {
            out.insert(t);
        }
    }
}

/// The names an assignment statement binds (`x = …`, `a, b = …`, `x += …`, `x: int = …`).
fn assigned_names<'a>(node: Node, src: &'a str) -> Vec<&'a str> {
    if node.kind() != "expression_statement" {
        return Vec::new();
    }
    let Some(inner) = node.named_child(0) else { return Vec::new() };
    if !matches!(inner.kind(), "assignment" | "augmented_assignment") {
        return Vec::new();
    }
    let mut out = HashSet::new();
    if let Some(left) = inner.child_by_field_name("left") {
        identifiers(left, src, &mut out);
    }
    out.into_iter().collect()
}

/// The function called by an expression statement, when it is a plain call (`f(…)`, `obj.m(…)` → `obj.m`).
fn called<'a>(node: Node, src: &'a str) -> Option<&'a str> {
    let inner = if node.kind() == "expression_statement" { node.named_child(0)? } else { node };
    (inner.kind() == "call").then(|| inner.child_by_field_name("function")?.utf8_text(src.as_bytes()).ok()).flatten()
}

/// Whether a subtree calls one of `names` (or `print`/`input`).
fn calls_any(node: Node, src: &str, names: &HashSet<&str>) -> bool {
    descendants(node).any(|n| match n.kind() {
        "print_statement" => true,
        "call" => n
            .child_by_field_name("function")
            .and_then(|f| f.utf8_text(src.as_bytes()).ok())
            .is_some_and(|f| names.contains(f) || f == "print" || f == "input"),
        _ => false,
    })
}

fn is_main_guard(node: Node, src: &str) -> bool {
    node.kind() == "if_statement"
        && node
            .child_by_field_name("condition")
            .and_then(|c| c.utf8_text(src.as_bytes()).ok())
            .is_some_and(|c| c.contains("__name__") && c.contains("__main__"))
}

// ---------------------------------------------------------------------------------------------------------
// Keeping what the task needs

fn sanitize(p: &Parsed, entry: Option<&str>, needed: &HashSet<String>) -> Extracted {
    let src = p.code.as_str();
    let root = p.tree.root_node();
    let mut cursor = root.walk();
    let tops: Vec<Node> = root.children(&mut cursor).collect();
    let mut dropped = p.dropped.clone();

    // Statements with the comments right above them (a comment travels with what it describes).
    let mut stmts: Vec<(Option<usize>, Node)> = Vec::new(); // (index of the first leading comment, statement)
    let mut pending: Option<usize> = None;
    for (i, n) in tops.iter().enumerate() {
        if n.kind() == "comment" {
            pending.get_or_insert(i);
        } else {
            stmts.push((pending.take(), *n));
        }
    }

    // A definition repeated later: the first complete one stays.
    let mut first_def: HashMap<&str, usize> = HashMap::new();
    let mut repeated: HashSet<usize> = HashSet::new();
    for (i, (_, n)) in stmts.iter().enumerate() {
        if let Some(name) = defined_name(*n, src) {
            match first_def.get(name) {
                Some(&j) if !stmts[j].1.has_error() || n.has_error() => {
                    repeated.insert(i);
                }
                Some(&j) => {
                    repeated.insert(j);
                    first_def.insert(name, i);
                }
                None => {
                    first_def.insert(name, i);
                }
            }
        }
    }

    // What each statement defines, and what each mentions.
    let defines: Vec<Vec<&str>> = stmts
        .iter()
        .map(|(_, n)| match defined_name(*n, src) {
            Some(name) => vec![name],
            None => assigned_names(*n, src),
        })
        .collect();
    // The answer's own callables: functions, classes, and names bound by assignment (`add = lambda …`).
    let functions: HashSet<&str> = stmts
        .iter()
        .enumerate()
        .filter(|(i, _)| !repeated.contains(i))
        .flat_map(|(i, (_, n))| defined_name(*n, src).map(|d| vec![d]).unwrap_or_else(|| defines[i].clone()))
        .collect();

    // Reachable from the entry point: definitions and assignments its body (transitively) names.
    let entry_defined = entry.is_some_and(|e| functions.contains(e));
    let mut reachable: HashSet<usize> = HashSet::new();
    if let Some(e) = entry.filter(|_| entry_defined) {
        let mut want: Vec<&str> = vec![e];
        want.extend(needed.iter().map(String::as_str));
        let mut seen: HashSet<&str> = HashSet::new();
        while let Some(name) = want.pop() {
            if !seen.insert(name) {
                continue;
            }
            for (i, d) in defines.iter().enumerate() {
                if repeated.contains(&i) || !d.contains(&name) {
                    continue;
                }
                if reachable.insert(i) {
                    let mut ids = HashSet::new();
                    identifiers(stmts[i].1, src, &mut ids);
                    want.extend(ids.into_iter().filter(|id| !seen.contains(id)));
                }
            }
        }
    }

    let mut code = String::new();
    let mut kept = Vec::new();
    for (i, (comment, n)) in stmts.iter().enumerate() {
        let start = comment.map(|c| tops[c].start_byte()).unwrap_or(n.start_byte());
        let text = span(src, start, n.end_byte());
        // The blank lines the answer had after this statement (one line break at least).
        let next = tops.iter().map(|t| t.start_byte()).find(|&b| b >= n.end_byte()).unwrap_or(src.len());
        let gap = span(src, n.end_byte(), next);
        let newlines = gap.matches('\n').count().clamp(1, 2);
        let own = span(src, n.start_byte(), n.end_byte());
        let why: Option<&str> = if repeated.contains(&i) {
            Some("a repeated definition (the first complete one is kept)")
        } else {
            match n.kind() {
                "import_statement" | "import_from_statement" | "future_import_statement" => None,
                "assert_statement" => Some("the answer's own assert"),
                "print_statement" => Some("an example print"),
                _ if is_main_guard(*n, src) => Some("a __main__ block"),
                _ if defined_name(*n, src).is_some() => {
                    (entry_defined && !reachable.contains(&i)).then_some("not used by the entry point")
                }
                _ if !defines[i].is_empty() => {
                    if entry_defined && !reachable.contains(&i) {
                        Some("an assignment the entry point does not use")
                    } else if calls_any(*n, src, &HashSet::from(["input"])) {
                        Some("reads input()")
                    } else {
                        None
                    }
                }
                "expression_statement" => match called(*n, src) {
                    Some("print") => Some("an example print"),
                    Some("input") => Some("reads input()"),
                    Some(f) if functions.contains(f) => Some("an example call"),
                    Some(_) => None, // set-up such as sys.setrecursionlimit(…)
                    None if n.named_child(0).is_some_and(|c| c.kind() == "string") => Some("a bare string"),
                    None => Some("an expression with no effect"),
                },
                "ERROR" => Some("not Python"),
                _ if calls_any(*n, src, &functions) => Some("example usage"),
                _ => None,
            }
        };
        match why {
            Some(w) => dropped.push(format!("{} — {w}", summary(own))),
            None => {
                kept.push(summary(own));
                code.push_str(text);
                code.push_str(&"\n".repeat(newlines));
            }
        }
    }
    let code = code.trim_matches('\n').to_owned();
    Extracted {
        code: if code.is_empty() { code } else { code + "\n" },
        extraction: Extraction { candidate: p.what.clone(), kept, dropped },
    }
}

#[cfg(test)]
mod tests;
