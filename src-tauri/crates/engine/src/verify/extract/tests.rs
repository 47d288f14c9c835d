//! Realistic answer shapes (many modelled on the recorded answers of Code Llama, GPT-3.5 and GPT-4 on MBPP).

use super::*;

const ADD: &str = "def add(a, b):\n    return a + b\n";

fn code(answer: &str) -> String {
    extract_code(answer, Some("add")).code
}

#[track_caller]
fn same(answer: &str, expected: &str) {
    assert_eq!(code(answer), expected, "answer:\n{answer}");
}

#[test]
fn s01_bare_code_is_kept_as_is() {
    same(ADD, ADD);
}

#[test]
fn s02_leading_and_trailing_blank_lines_are_trimmed() {
    same(&format!("\n\n{ADD}\n\n"), ADD);
}

#[test]
fn s03_a_python_fence() {
    same(&format!("```python\n{ADD}```"), ADD);
}

#[test]
fn s04_a_fence_without_a_language_tag() {
    same(&format!("```\n{ADD}```\n"), ADD);
}

#[test]
fn s05_a_py_tag_and_prose_around_the_fence() {
    same(&format!("Here is the function:\n\n```py\n{ADD}```\n\nIt adds two numbers.\n"), ADD);
}

#[test]
fn s06_an_unclosed_fence_runs_to_the_end() {
    same(&format!("```python\n{ADD}"), ADD);
}

#[test]
fn s07_non_python_blocks_are_skipped() {
    let a = format!("Install nothing:\n```bash\npip install foo\n```\n```python\n{ADD}```\n```text\n3\n```\n");
    same(&a, ADD);
}

#[test]
fn s08_a_usage_block_after_the_solution_is_dropped() {
    let a = format!("```python\n{ADD}```\nExample:\n```python\nprint(add(1, 2))  # 3\n```\n");
    same(&a, ADD);
}

#[test]
fn s09_helpers_and_imports_in_separate_blocks_are_kept_in_order() {
    let a = "First a helper:\n```python\nimport math\n\ndef sq(x):\n    return x * x\n```\nThen:\n```python\ndef add(a, b):\n    return sq(a) + b - sq(a) + a\n```\n";
    let c = code(a);
    assert!(c.starts_with("import math\n\ndef sq(x):"), "{c}");
    assert!(c.contains("def add(a, b):"), "{c}");
}

#[test]
fn s10_code_llama_python_tags() {
    let a = format!("[PYTHON]\n{ADD}[/PYTHON]\n[TESTS]\n# Test case 1:\nassert add(1, 2) == 4\n[/TESTS]\n");
    same(&a, ADD);
}

#[test]
fn s11_an_unclosed_python_tag() {
    same(&format!("[PYTHON]\n{ADD}"), ADD);
}

#[test]
fn s12_a_repl_transcript_keeps_prompts_and_drops_results() {
    let a = ">>> def add(a, b):\n...     return a + b\n...\n>>> add(1, 2)\n3\n";
    same(a, ADD);
}

#[test]
fn s13_top_level_asserts_of_the_answer_are_dropped() {
    // A wrong expected value in the model's own test must not crash a correct answer.
    same(&format!("{ADD}\nassert add(1, 2) == 4\nassert add(0, 0) == 0\n"), ADD);
}

#[test]
fn s14_top_level_prints_and_example_calls_are_dropped() {
    same(&format!("{ADD}\nprint(add(1, 2))\nadd(3, 4)\n"), ADD);
}

#[test]
fn s15_input_calls_are_dropped() {
    same(&format!("{ADD}\nx = int(input())\nprint(add(x, 1))\n"), ADD);
}

#[test]
fn s16_a_main_guard_is_dropped() {
    same(&format!("{ADD}\nif __name__ == \"__main__\":\n    print(add(1, 2))\n"), ADD);
}

#[test]
fn s17_needed_top_level_calls_and_assignments_are_kept() {
    let a =
        "import sys\nsys.setrecursionlimit(10000)\nmemo = {}\ndef add(a, b):\n    return a + b\nresult = add(1, 2)\n";
    same(a, a);
}

#[test]
fn s18_trailing_explanation_without_a_fence_is_dropped() {
    let a = format!("{ADD}\nThis function takes two numbers and returns their sum.\nTime complexity: O(1).\n");
    same(&a, ADD);
}

#[test]
fn s19_leading_prose_without_a_fence_is_dropped() {
    same(&format!("Sure! Here's a Python function that adds two numbers:\n\n{ADD}"), ADD);
}

#[test]
fn s20_output_labels_are_prose() {
    same(&format!("{ADD}\nprint(add(2, 3))\nOutput: 5\n"), ADD);
}

#[test]
fn s21_numbered_and_bulleted_explanations_are_dropped() {
    let a = format!("{ADD}\nExplanation:\n1. We add a and b.\n- The result is returned.\n");
    same(&a, ADD);
}

#[test]
fn s22_comments_and_docstrings_stay() {
    let a = "# adds numbers\ndef add(a, b):\n    \"\"\"Return a + b.\n\n    Works for ints.\n    \"\"\"\n    return a + b\n";
    same(a, a);
}

#[test]
fn s23_a_multiline_string_with_prose_inside_is_not_touched() {
    let a = "HELP = \"\"\"\nThis text looks like prose.\nOutput: nothing\n\"\"\"\ndef add(a, b):\n    return a + b\n";
    same(a, a);
}

#[test]
fn s24_an_answer_indented_as_a_whole_is_dedented() {
    same("    def add(a, b):\n        return a + b\n", ADD);
}

#[test]
fn s25_crlf_line_endings_become_lf() {
    same("def add(a, b):\r\n    return a + b\r\n", ADD);
}

#[test]
fn s26_an_empty_answer_gives_empty_code() {
    assert_eq!(code(""), "");
    assert_eq!(code("   \n"), "");
}

#[test]
fn s27_decorators_and_classes_are_kept() {
    let a = "from functools import lru_cache\n\n@lru_cache(maxsize=None)\ndef add(a, b):\n    return a + b\n\nclass Pair:\n    pass\n";
    same(a, a);
}

#[test]
fn s28_if_else_at_top_level_stays_one_statement() {
    let a = "import sys\nif sys.version_info >= (3, 8):\n    def add(a, b):\n        return a + b\nelse:\n    def add(a, b):\n        return b + a\n";
    same(a, a);
}

#[test]
fn s29_multi_line_asserts_of_the_answer_are_dropped_whole() {
    same(&format!("{ADD}\nassert add(\n    1,\n    2,\n) == 3\n"), ADD);
}

#[test]
fn s30_a_fence_with_test_calls_inside_keeps_only_the_solution() {
    let a = format!("```python\n{ADD}\n# Test the function\nprint(add(1, 2))  # Output: 3\nassert add(2, 2) == 4\n```");
    same(&a, &format!("{ADD}\n# Test the function\n"));
}

#[test]
fn s31_gpt4_style_commented_usage_stays_commented() {
    let a = "\ndef add(a, b):\n    return a + b\n\n# Testing the function with a value\n# Uncomment the next line to use\n# print(add(3, 4)) # Example usage\n";
    let c = code(a);
    assert!(c.starts_with(ADD), "{c}");
    assert!(c.lines().skip(2).all(|l| l.is_empty() || l.starts_with('#')), "{c}");
}

#[test]
fn s32_capitalised_prose_that_starts_with_a_keyword_is_prose() {
    same(&format!("{ADD}\nIf you call add(1, 2) you get 3.\nFor example, add(0, 0) is 0.\n"), ADD);
}

#[test]
fn s33_tuple_assignment_and_augmented_assignment_are_code() {
    let a = "a, b = 1, 2\ntotal = 0\ntotal += a\ndef add(a, b):\n    return a + b\n";
    same(a, a);
}

#[test]
fn s34_a_pycon_fence_is_a_transcript() {
    let a = "```pycon\n>>> def add(a, b):\n...     return a + b\n>>> add(2, 2)\n4\n```";
    same(a, ADD);
}

#[test]
fn s35_an_assignment_named_like_a_prose_label_is_code() {
    let a = "result = 0\ndef add(a, b):\n    return a + b\n";
    same(a, a);
}

#[test]
fn s36_notes_say_what_was_done() {
    let e = extract_code(&format!("Here you go:\n```python\n{ADD}print(add(1, 2))\n```"), Some("add"));
    assert!(e.notes.iter().any(|n| n.contains("fenced")), "{:?}", e.notes);
    assert!(e.notes.iter().any(|n| n.contains("usage")), "{:?}", e.notes);
}
