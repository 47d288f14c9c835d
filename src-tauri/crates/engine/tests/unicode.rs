//! No input makes a reader of model output or prompts panic: every extractor and example parser, over arbitrary
//! Unicode and over mixes of the shapes they look for (fences, `>>>`, docstrings, arrows, `Input:` blocks) with
//! arbitrary text between them. And the answers that once did: a docstring with `Σ` in it (a Llama 3 answer to
//! MBPP; HumanEval's own canonical solutions reached the same slice).

use complexitynet_engine::dataset::{parse_str, Format};
use complexitynet_verify::checks::{self, Checks};
use complexitynet_verify::derive_entry_point;
use complexitynet_verify::extract::{extract_code, extract_for_tests, extract_program};
use complexitynet_verify::judge::{self, Prepared};
use complexitynet_verify::python;
use complexitynet_verify::Limits;
use proptest::prelude::*;
use std::path::Path;

/// The pieces the readers look for, to be mixed with arbitrary text.
const SHAPES: &[&str] = &[
    "```python",
    "```",
    "```py\n",
    ">>> f(1)",
    ">>> ",
    "... ",
    "def f(x):",
    "def f(a, b=2, *c, **d) -> int:",
    "    \"\"\"",
    "\"\"\"",
    "'''",
    "    return x",
    "assert f(1) == 2",
    "assert (",
    "f(1) ➞ 3",
    "f([1, 2]) == [",
    "f(1) -> 19 - 5 - 6 = 8",
    "f('a') # returns 'b'",
    "For x = 1, y = 'Σ' the output should be 2",
    "Input: [1, 2]",
    "Input:",
    "Output: 3",
    "Output",
    "Explanation:",
    "Example 1:",
    "[PYTHON]",
    "[/PYTHON]",
    "Traceback (most recent call last):",
    "ValueError: Σ",
    "def test_f():",
    "    assert f(2) == 3",
    "from solution import f",
    "import math",
    "if __name__ == \"__main__\":",
    "print(f(1))",
    "B(n) = Σ (n-1 choose k) * k!",
    "\t",
    "\\",
    "\r\n",
    "\u{3000}",
    "\u{2003}",
    "é",
    "Σ",
    "💥",
    "(",
    ")",
    "[",
    "}",
    "=",
    "==>",
    "`",
];

fn mixed() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => proptest::sample::select(SHAPES).prop_map(str::to_owned),
        1 => any::<String>(),
        1 => "[ \t]{0,8}".prop_map(|s| s),
    ];
    proptest::collection::vec((piece, prop_oneof!["\n", " ", "", "\n    "]), 0..40)
        .prop_map(|v| v.into_iter().map(|(p, sep)| format!("{p}{sep}")).collect())
}

fn every_reader(text: &str, other: &str) {
    let _ = extract_code(text, Some("f"));
    let _ = extract_code(text, None);
    let _ = extract_for_tests(text, Some("f"), &[other, "assert f(1) == 2"]);
    let _ = extract_program(text);
    let c = Checks::from_prompt(text);
    let _ = checks::prelude(text, Some("f"));
    let _ = Checks::with_items(text, c.items.clone());
    let _ = judge::prepare(other, &c, Limits::default());
    let _ = judge::prepare(text, &Checks::from_prompt(other), Limits::default());
    let _ = derive_entry_point(&[text.to_owned()], Some(text));
    let _ = python::is_expression(text);
    let _ = python::rename(text, "f", "g");
    for format in [Format::Mbpp, Format::Humaneval, Format::Jsonl, Format::Csv] {
        let _ = parse_str(Path::new("x.jsonl"), text, format);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn no_reader_panics_on_arbitrary_unicode(text in any::<String>(), other in any::<String>()) {
        every_reader(&text, &other);
    }

    #[test]
    fn no_reader_panics_on_the_shapes_it_looks_for_mixed_with_anything(text in mixed(), other in mixed()) {
        every_reader(&text, &other);
    }

    #[test]
    fn a_humaneval_line_with_any_text_in_its_fields_imports_or_fails_cleanly(
        prompt in mixed(), test in mixed(), solution in any::<String>()
    ) {
        let line = serde_json::json!({
            "task_id": "HumanEval/0", "prompt": prompt, "canonical_solution": solution,
            "test": format!("def check(candidate):\n{test}"), "entry_point": "f"
        });
        let _ = parse_str(Path::new("he.jsonl"), &line.to_string(), Format::Humaneval);
    }
}

#[test]
fn a_docstring_with_a_greek_letter_is_read_not_a_panic() {
    // The shape of the Llama 3 answer that stopped `verify --answers` with "byte index 12 is not a char boundary".
    let answer = "```python\ndef bell_number(n):\n    \"\"\"\n    B(n) = Σ (n-1 choose k) * k! … for k in 0..n-1\n    \"\"\"\n    \
                  from math import comb\n    if n == 0:\n        return 1\n    return sum(comb(n - 1, k) * bell_number(k) for k in range(n))\n```\n";
    let e = extract_code(answer, Some("bell_number"));
    assert!(e.code.starts_with("def bell_number(n):") && e.code.contains("Σ"), "{}", e.code);
    match judge::prepare(
        answer,
        &Checks::from_asserts(&["assert bell_number(3) == 5".into()], checks::CheckKind::Dataset),
        Limits::default(),
    ) {
        Prepared::Run { code, .. } => assert!(code.contains("return sum(")),
        Prepared::Known(j) => panic!("the answer was read as {:?}", j.verdict),
    }
}

#[test]
fn a_string_that_ends_inside_a_multibyte_character_after_a_backslash_is_read() {
    // A backslash before a multi-byte character inside a triple-quoted string: the old scanner stepped two bytes
    // into the character.
    let answer = "def f(x):\n    \"\"\"a \\Σ b\n    é\"\"\"\n    return x\n";
    assert_eq!(extract_code(answer, Some("f")).code, answer);
}
