//! The entry point of a task — the function the asserts call — derived from the asserts and, where there is one,
//! the reference solution. The paper prompts the local model with the description plus this signature, and every
//! cloud prompt asks for "the same function name and signature as the asserts use".
//!
//! This is a small lexer, not a Python parser: it skips strings and comments, finds `name(` calls that are not
//! attribute calls (`math.isclose(`) and not keywords, and counts top-level arguments.

use crate::python::skip_string;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryPoint {
    /// The function name, e.g. `similar_elements`.
    pub name: String,
    /// The call signature for prompts, e.g. `similar_elements(test_tup1, test_tup2)`: parameter names from the
    /// reference solution when it defines the function, else `arg1, arg2, …` placeholders.
    pub signature: String,
    /// How many arguments the asserts pass.
    pub arity: usize,
}

const KEYWORDS: &[&str] = &[
    "and", "as", "assert", "async", "await", "del", "elif", "else", "for", "from", "if", "import", "in", "is",
    "lambda", "not", "or", "return", "while", "with", "yield", "print", "None", "True", "False",
];

/// Builtins that asserts wrap around the real call (`set(f(x)) == …`, `sorted(f(x))`); never the entry point
/// unless the reference solution itself defines one of these names.
const BUILTINS: &[&str] = &[
    "abs",
    "all",
    "any",
    "bin",
    "bool",
    "bytes",
    "callable",
    "chr",
    "complex",
    "dict",
    "dir",
    "divmod",
    "enumerate",
    "eval",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "hasattr",
    "hash",
    "hex",
    "id",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "list",
    "map",
    "max",
    "min",
    "next",
    "object",
    "oct",
    "ord",
    "pow",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "slice",
    "sorted",
    "str",
    "sum",
    "tuple",
    "type",
    "zip",
];

/// A call found in source: name, argument count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Call {
    pub name: String,
    pub arity: usize,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn is_string_prefix(s: &str) -> bool {
    matches!(s.to_ascii_lowercase().as_str(), "r" | "b" | "u" | "f" | "rb" | "br" | "fr" | "rf")
}

/// Counts the top-level arguments of the call whose `(` is at `open`; returns (arity, index past `)`).
fn count_args(b: &[u8], open: usize) -> (usize, usize) {
    let (mut depth, mut commas, mut any, mut last_sig) = (0usize, 0usize, false, b'(');
    let mut i = open + 1;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\'' | b'"' => {
                i = skip_string(b, i);
                any = true;
                last_sig = b'x';
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' if depth > 0 => depth -= 1,
            b')' => {
                let arity = if !any {
                    0
                } else if last_sig == b',' {
                    commas
                } else {
                    commas + 1
                };
                return (arity, i + 1);
            }
            b',' if depth == 0 => commas += 1,
            _ => {}
        }
        if !c.is_ascii_whitespace() {
            any = true;
            last_sig = if depth == 0 { c } else { b'x' };
        }
        i += 1;
    }
    (if any { commas + 1 } else { 0 }, b.len())
}

/// Every plain (non-attribute, non-keyword) call in `src`, in order of appearance.
pub(crate) fn calls(src: &str) -> Vec<Call> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'\'' || c == b'"' {
            i = skip_string(b, i);
        } else if c.is_ascii_digit() {
            while i < b.len() && (is_ident_char(b[i]) || b[i] == b'.') {
                i += 1;
            }
        } else if is_ident_start(c) {
            let start = i;
            while i < b.len() && is_ident_char(b[i]) {
                i += 1;
            }
            let ident = &src[start..i];
            if i < b.len() && (b[i] == b'\'' || b[i] == b'"') && is_string_prefix(ident) {
                i = skip_string(b, i);
                continue;
            }
            let prev = b[..start].iter().rev().find(|c| !c.is_ascii_whitespace());
            let mut j = i;
            while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                j += 1;
            }
            if j < b.len() && b[j] == b'(' && prev != Some(&b'.') && !KEYWORDS.contains(&ident) {
                let (arity, _) = count_args(b, j);
                out.push(Call { name: ident.to_owned(), arity });
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Functions defined by `def NAME(PARAMS)` in `src`: (name, normalised params, top level?).
fn defs(src: &str) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in src.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let top = trimmed.len() == line.len();
        let rest = trimmed.strip_prefix("async ").unwrap_or(trimmed);
        if let Some(rest) = rest.strip_prefix("def ") {
            let name: String = rest.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if let Some(paren) = line.find('(') {
                let b = src.as_bytes();
                let open = offset + paren;
                let (_, close) = count_args(b, open);
                let inner = &src[open + 1..close.saturating_sub(1).max(open + 1)];
                let params = inner.split_whitespace().collect::<Vec<_>>().join(" ");
                let params = params.trim_end_matches(',').trim().replace("( ", "(").replace(" )", ")");
                if !name.is_empty() {
                    out.push((name, params, top));
                }
            }
        }
        offset += line.len();
    }
    out
}

/// Derives the entry point from the asserts (and the reference solution where there is one).
pub fn derive_entry_point(asserts: &[String], reference: Option<&str>) -> Result<EntryPoint, String> {
    let defined = reference.map(defs).unwrap_or_default();
    let per_assert: Vec<Vec<Call>> = asserts.iter().map(|a| calls(a)).collect();
    let all: Vec<&Call> = per_assert.iter().flatten().collect();
    let not_builtin = |c: &Call| !BUILTINS.contains(&c.name.as_str());
    let in_every = |c: &Call| per_assert.iter().all(|calls| calls.iter().any(|x| x.name == c.name));

    let chosen = all
        .iter()
        .find(|c| defined.iter().any(|(n, _, top)| *top && *n == c.name))
        .or_else(|| all.iter().find(|c| defined.iter().any(|(n, _, _)| *n == c.name)))
        .or_else(|| all.iter().find(|c| not_builtin(c) && in_every(c)))
        .or_else(|| all.iter().find(|c| not_builtin(c)))
        .copied();

    let Some(call) = chosen else {
        return Err(if asserts.is_empty() {
            "no asserts to derive the entry point from".to_owned()
        } else {
            format!("no function call found in the asserts (first: {})", asserts[0].trim())
        });
    };
    let signature = match defined.iter().find(|(n, _, _)| *n == call.name) {
        Some((name, params, _)) => format!("{name}({params})"),
        None => {
            let args: Vec<String> = (1..=call.arity).map(|i| format!("arg{i}")).collect();
            format!("{}({})", call.name, args.join(", "))
        }
    };
    Ok(EntryPoint { name: call.name.clone(), signature, arity: call.arity })
}

/// The entry point when the dataset names the function itself (HumanEval): signature from its `def`.
pub fn named_entry_point(name: &str, code: &str) -> EntryPoint {
    match defs(code).into_iter().find(|(n, _, _)| n == name) {
        Some((name, params, _)) => {
            let arity = if params.is_empty() { 0 } else { count_args(format!("({params})").as_bytes(), 0).0 };
            EntryPoint { signature: format!("{name}({params})"), name, arity }
        }
        None => EntryPoint { name: name.to_owned(), signature: format!("{name}(...)"), arity: 0 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(asserts: &[&str], reference: Option<&str>) -> EntryPoint {
        let asserts: Vec<String> = asserts.iter().map(|s| s.to_string()).collect();
        derive_entry_point(&asserts, reference).unwrap()
    }

    #[test]
    fn mbpp_task_2_takes_name_and_params_from_the_reference() {
        let e = ep(
            &["assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)"],
            Some("def similar_elements(test_tup1, test_tup2):\r\n  res = tuple(set(test_tup1) & set(test_tup2))\r\n  return (res) "),
        );
        assert_eq!(
            e,
            EntryPoint {
                name: "similar_elements".into(),
                signature: "similar_elements(test_tup1, test_tup2)".into(),
                arity: 2
            }
        );
    }

    #[test]
    fn wrapping_builtins_and_attribute_calls_are_skipped() {
        let e = ep(&["assert set(common(x, [1, 2])) == set([1])", "assert math.isclose(common(a, b), 0.5)"], None);
        assert_eq!(e.name, "common");
        assert_eq!(e.signature, "common(arg1, arg2)");
        assert_eq!(e.arity, 2);
    }

    #[test]
    fn strings_with_parentheses_and_commas_do_not_confuse_the_argument_count() {
        let e = ep(&[r#"assert text_match("a(b, c) 'q'") == 'Found a match!'"#], None);
        assert_eq!((e.name.as_str(), e.arity), ("text_match", 1));
        let e = ep(&["assert f('fake(call)', [1, (2, 3)], {'k': g(1)},) == 1"], None);
        assert_eq!((e.name.as_str(), e.arity), ("f", 3));
    }

    #[test]
    fn a_helper_class_in_the_asserts_loses_to_the_function_the_reference_defines_at_top_level() {
        let reference = "class Pair(object):\n\tdef __init__(self, a, b):\n\t\tself.a = a\n\t\tself.b = b\ndef max_chain_length(arr, n):\n\treturn 1";
        let e = ep(&["assert max_chain_length([Pair(5, 24), Pair(15, 25)], 4) == 3"], Some(reference));
        assert_eq!(e.signature, "max_chain_length(arr, n)");
    }

    #[test]
    fn zero_argument_calls_and_keyword_arguments_count_correctly() {
        assert_eq!(ep(&["assert answer() == 42"], None).arity, 0);
        assert_eq!(ep(&["assert f(1, b=2) == 3"], None).arity, 2);
    }

    #[test]
    fn asserts_without_any_call_are_an_error_not_a_guess() {
        let err = derive_entry_point(&["assert x == 1".to_string()], None).unwrap_err();
        assert!(err.contains("no function call"), "{err}");
    }

    #[test]
    fn humaneval_style_names_read_the_signature_from_the_prompt() {
        let e = named_entry_point("has_close_elements", "from typing import List\n\n\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n    \"\"\" doc \"\"\"\n");
        assert_eq!(e.signature, "has_close_elements(numbers: List[float], threshold: float)");
        assert_eq!(e.arity, 2);
    }
}
