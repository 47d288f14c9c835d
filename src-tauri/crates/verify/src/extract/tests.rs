//! A table of answer shapes, each with the code that must be run: the formats models use (fences with and
//! without tags, unpaired fences, `[PYTHON]` tags, `>>>` transcripts, bare code), prose before, between and
//! after the code, several blocks of which only one holds the solution, helpers, classes, truncated tails,
//! repeated definitions, non-ASCII, CRLF, tabs, and answers with no code at all. Written for the general shapes,
//! not one model's habits; several are modelled on recorded answers of Code Llama, GPT-3.5, GPT-4, Llama 3 and
//! SmolLM2.

use super::*;

const ADD: &str = "def add(a, b):\n    return a + b\n";

fn code(answer: &str) -> String {
    extract_code(answer, Some("add")).code
}

#[track_caller]
fn same(answer: &str, expected: &str) {
    assert_eq!(code(answer), expected, "answer:\n{answer}");
}

#[track_caller]
fn candidate(answer: &str) -> String {
    extract_code(answer, Some("add")).extraction.candidate
}

#[test]
fn s01_bare_code_is_kept_as_is() {
    same(ADD, ADD);
    assert_eq!(candidate(ADD), "the answer with prose removed");
}

#[test]
fn s02_leading_and_trailing_blank_lines_are_trimmed() {
    same(&format!("\n\n{ADD}\n\n"), ADD);
}

#[test]
fn s03_a_python_fence() {
    same(&format!("```python\n{ADD}```"), ADD);
    assert_eq!(candidate(&format!("```python\n{ADD}```")), "the fenced block");
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
    same(&format!("Sure, here it is:\n```python\n{ADD}"), ADD);
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
    let e = extract_code(a, Some("add"));
    assert_eq!(
        e.code,
        "import math\n\ndef sq(x):\n    return x * x\n\ndef add(a, b):\n    return sq(a) + b - sq(a) + a\n"
    );
    assert_eq!(e.extraction.candidate, "all Python blocks joined");
}

#[test]
fn s10_code_llama_python_tags() {
    let a = format!("[PYTHON]\n{ADD}[/PYTHON]\n[TESTS]\n# Test case 1:\nassert add(1, 2) == 4\n[/TESTS]\n");
    same(&a, ADD);
    assert_eq!(candidate(&a), "the [PYTHON] block");
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
    let e = extract_code(&format!("{ADD}\nassert add(1, 2) == 4\nassert add(0, 0) == 0\n"), Some("add"));
    assert_eq!(e.code, ADD);
    assert_eq!(
        e.extraction.dropped,
        ["assert add(1, 2) == 4 — the answer's own assert", "assert add(0, 0) == 0 — the answer's own assert"]
    );
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
fn s17_set_up_calls_and_used_assignments_are_kept_example_results_are_not() {
    let a = "import sys\nsys.setrecursionlimit(10000)\nmemo = {}\ndef add(a, b):\n    return memo.get((a, b), a + b)\nresult = add(1, 2)\n";
    let e = extract_code(a, Some("add"));
    assert_eq!(
        e.code,
        "import sys\nsys.setrecursionlimit(10000)\nmemo = {}\ndef add(a, b):\n    return memo.get((a, b), a + b)\n"
    );
    assert_eq!(e.extraction.dropped, ["result = add(1, 2) — an assignment the entry point does not use"]);
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
    let a = "HELP = \"\"\"\nThis text looks like prose.\nOutput: nothing\n\"\"\"\ndef add(a, b):\n    return a + b + len(HELP) * 0\n";
    same(a, a);
}

#[test]
fn s24_an_answer_indented_as_a_whole_is_dedented() {
    same("    def add(a, b):\n        return a + b\n", ADD);
}

#[test]
fn s25_crlf_line_endings_become_lf() {
    same("def add(a, b):\r\n    return a + b\r\n", ADD);
    same("```python\r\ndef add(a, b):\r\n    return a + b\r\n```\r\nDone.\r\n", ADD);
}

#[test]
fn s26_an_empty_answer_gives_empty_code() {
    assert_eq!(code(""), "");
    assert_eq!(code("   \n"), "");
}

#[test]
fn s27_decorators_and_used_classes_are_kept_unused_ones_dropped() {
    let a = "from functools import lru_cache\n\n@lru_cache(maxsize=None)\ndef add(a, b):\n    return Pair(a, b).total()\n\nclass Pair:\n    def __init__(self, a, b):\n        self.a, self.b = a, b\n    def total(self):\n        return self.a + self.b\n\nclass Unused:\n    pass\n";
    let e = extract_code(a, Some("add"));
    assert!(
        e.code.contains("@lru_cache(maxsize=None)\ndef add(a, b):") && e.code.contains("class Pair:"),
        "{}",
        e.code
    );
    assert!(!e.code.contains("Unused"), "{}", e.code);
    assert_eq!(e.extraction.dropped, ["class Unused: — not used by the entry point"]);
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
    same(&a, ADD);
}

#[test]
fn s31_gpt4_style_commented_usage_is_dropped_with_its_comments() {
    let a = "\ndef add(a, b):\n    return a + b\n\n# Testing the function with a value\n# Uncomment the next line to use\n# print(add(3, 4)) # Example usage\n";
    same(a, ADD);
}

#[test]
fn s32_capitalised_prose_that_starts_with_a_keyword_is_prose() {
    same(&format!("{ADD}\nIf you call add(1, 2) you get 3.\nFor example, add(0, 0) is 0.\n"), ADD);
}

#[test]
fn s33_tuple_and_augmented_assignments_the_entry_uses_are_code() {
    let a = "a0, b0 = 1, 2\ntotal = 0\ntotal += a0\ndef add(a, b):\n    return a + b + total - a0\n";
    same(a, a);
}

#[test]
fn s34_a_pycon_fence_is_a_transcript() {
    let a = "```pycon\n>>> def add(a, b):\n...     return a + b\n>>> add(2, 2)\n4\n```";
    same(a, ADD);
}

#[test]
fn s35_an_assignment_named_like_a_prose_label_is_code() {
    let a = "result = 0\ndef add(a, b):\n    return a + b + result\n";
    same(a, a);
}

#[test]
fn s36_the_extraction_says_what_was_run() {
    let e = extract_code(&format!("Here you go:\n```python\n{ADD}print(add(1, 2))\n```"), Some("add"));
    assert_eq!(e.extraction.candidate, "the fenced block");
    assert_eq!(e.extraction.kept, ["def add(a, b):"]);
    assert_eq!(e.extraction.dropped, ["print(add(1, 2)) — an example print"]);
}

// ---- Shapes the earlier extractor got wrong -----------------------------------------------------------

#[test]
fn s37_code_then_a_fence_the_prompt_opened_then_prose() {
    // Llama 3 instruct models continue a prompt that ended in ```python: code first, then the closing fence,
    // then an explanation.
    let a = "def heap_sort(iterable):\n    import heapq\n    h = list(iterable)\n    heapq.heapify(h)\n    return [heapq.heappop(h) for _ in range(len(h))]\n```\n\nThis function sorts a list with a heap.\n";
    let e = extract_code(a, Some("heap_sort"));
    assert!(e.code.starts_with("def heap_sort(iterable):") && e.code.contains("heappop"), "{}", e.code);
    assert_eq!(e.extraction.candidate, "code before the first fence");
}

#[test]
fn s38_code_then_a_closing_fence_then_an_example_block() {
    let a = format!("{ADD}```\n\nExample:\n\n```python\nprint(add(2, 3))  # 5\n```\n");
    same(&a, ADD);
}

#[test]
fn s39_a_definition_cut_at_the_token_limit_is_dropped_not_fatal() {
    let a = format!("```python\n{ADD}\ndef sub(a, b):\n    return a -");
    let e = extract_code(&a, Some("add"));
    assert_eq!(e.code, ADD);
    assert!(
        e.extraction.dropped.iter().any(|d| d.contains("def sub(a, b):") && d.contains("cut off")),
        "{:?}",
        e.extraction
    );
}

#[test]
fn s40_a_definition_repeated_until_the_token_limit_keeps_the_first() {
    // SmolLM2 repeated a correct `add` until max_tokens; the last copy is cut mid-line.
    let a = format!("```python\n{}def add(a, b):\n    return a +", ADD.repeat(12));
    let e = extract_code(&a, Some("add"));
    assert_eq!(e.code, ADD);
    assert_eq!(e.extraction.dropped.iter().filter(|d| d.contains("repeated definition")).count(), 11);
    assert!(e.extraction.dropped.iter().any(|d| d.contains("cut off")), "{:?}", e.extraction.dropped);
}

#[test]
fn s41_of_several_blocks_the_one_defining_the_entry_point_is_run() {
    let a = "A class-based version:\n```python\nclass Adder:\n    def run(self, a, b):\n        return a + b\n```\nAnd the function you asked for:\n```python\ndef add(a, b):\n    return a + b\n```\n";
    same(a, ADD);
}

#[test]
fn s42_helpers_reachable_through_helpers_are_kept_others_dropped() {
    let a = "def inc(x):\n    return x + 1\n\ndef twice(f, x):\n    return f(f(x))\n\ndef unrelated():\n    return 42\n\ndef add(a, b):\n    return twice(inc, a) - 2 + b\n";
    let e = extract_code(a, Some("add"));
    assert!(e.code.contains("def inc") && e.code.contains("def twice") && !e.code.contains("unrelated"), "{}", e.code);
}

#[test]
fn s43_non_ascii_text_and_identifiers_survive() {
    let a = "Voici la fonction — elle additionne :\n```python\ndef add(a, b):\n    # somme « simple »\n    étiquette = \"réponse\"\n    return a + b\n```\n";
    same(a, "def add(a, b):\n    # somme « simple »\n    étiquette = \"réponse\"\n    return a + b\n");
}

#[test]
fn s44_tab_indentation_is_kept() {
    same("def add(a, b):\n\ts = a + b\n\treturn s\n", "def add(a, b):\n\ts = a + b\n\treturn s\n");
}

#[test]
fn s45_an_answer_that_is_only_prose_gives_no_code() {
    let e = extract_code("I am sorry, but I cannot help with that request.", Some("add"));
    assert_eq!(e.code, "");
}

#[test]
fn s46_a_block_with_a_syntax_error_loses_to_a_clean_one() {
    let a = "```python\ndef add(a, b)\n    return a + b\n```\nOops, fixed:\n```python\ndef add(a, b):\n    return a + b\n```\n";
    same(a, ADD);
}

#[test]
fn s47_a_python2_print_statement_at_top_level_is_dropped() {
    same(&format!("{ADD}\nprint add(1, 2)\n"), ADD);
}

#[test]
fn s48_an_entry_point_bound_by_assignment_counts() {
    same("add = lambda a, b: a + b\nprint(add(1, 2))\n", "add = lambda a, b: a + b\n");
}

#[test]
fn s49_a_capitalised_tag_and_an_indented_fence() {
    same(&format!("1. The code:\n   ```Python\n{ADD}   ```\n"), ADD);
}

#[test]
fn s50_an_empty_block_then_the_solution() {
    same(&format!("```\n```\n```python\n{ADD}```\n"), ADD);
}

#[test]
fn s51_without_a_known_entry_point_every_definition_stays() {
    let a = "def helper():\n    return 1\n\ndef solve(x):\n    return x + helper()\n\nprint(solve(1))\n";
    let e = extract_code(a, None);
    assert_eq!(e.code, "def helper():\n    return 1\n\ndef solve(x):\n    return x + helper()\n");
}

#[test]
fn s52_a_setup_loop_the_entry_uses_is_kept_a_usage_loop_is_not() {
    let a = "PRIMES = []\nfor i in range(2, 50):\n    if all(i % p for p in PRIMES):\n        PRIMES.append(i)\n\ndef add(a, b):\n    return a + b + 0 * len(PRIMES)\n\nfor x in range(3):\n    print(add(x, x))\n";
    let e = extract_code(a, Some("add"));
    assert!(e.code.contains("for i in range(2, 50):") && !e.code.contains("print"), "{}", e.code);
}

#[test]
fn s53_an_explanation_that_reads_like_code_leaves_only_the_code_before_the_fence() {
    let a = format!("{ADD}```\n\nadd(a, b) returns the sum of a and b.\n\n```python\nprint(add(2, 3))\n```\n");
    same(&a, ADD);
    assert_eq!(candidate(&a), "code before the first fence");
}

#[test]
fn s54_a_complete_function_whose_docstring_shows_doctest_examples_is_the_function() {
    // HumanEval answers keep the prompt's docstring; read as a `>>>` transcript they were only the example calls.
    let a = "```python\nfrom typing import List\n\n\ndef add(a: int, b: int) -> int:\n    \"\"\" Add two numbers.\n    >>> add(1, 2)\n    3\n    >>> add(-1, 1)\n    0\n    \"\"\"\n    return a + b\n```\n";
    let e = extract_code(a, Some("add"));
    assert!(e.code.contains("def add(a: int, b: int) -> int:") && e.code.contains("return a + b"), "{}", e.code);
    assert!(e.code.contains(">>> add(1, 2)"), "the docstring stays whole: {}", e.code);
    assert_eq!(e.extraction.candidate, "the fenced block");
}

#[test]
fn s55_a_docstring_with_example_blocks_and_arrows() {
    let a = "def add(a, b):\n    '''Adds.\n\n    Example:\n        add(1, 2) ➞ 3\n\n    Examples:\n    >>> add(2, 2)\n    4\n    '''\n    return a + b\n";
    same(a, a);
}

#[test]
fn s56_a_full_module_with_imports_helpers_and_a_doctest_main() {
    let a = "Here is a complete module:\n\n```python\nimport math\nfrom functools import lru_cache\n\n\n@lru_cache(maxsize=None)\ndef _square(x: int) -> int:\n    \"\"\"\n    >>> _square(3)\n    9\n    \"\"\"\n    return x * x\n\n\ndef add(a, b):\n    \"\"\"Sum, via squares.\n\n    >>> add(1, 2)\n    3\n    \"\"\"\n    return int(math.sqrt(_square(a + b)))\n\n\nif __name__ == \"__main__\":\n    import doctest\n    doctest.testmod()\n```\n";
    let e = extract_code(a, Some("add"));
    assert!(e.code.starts_with("import math\nfrom functools import lru_cache"), "{}", e.code);
    assert!(
        e.code.contains("@lru_cache(maxsize=None)\ndef _square") && e.code.contains("def add(a, b):"),
        "{}",
        e.code
    );
    assert!(!e.code.contains("__main__"), "{}", e.code);
}

#[test]
fn s57_a_real_transcript_is_still_read_as_one() {
    same(">>> def add(a, b):\n...     return a + b\n...\n>>> add(1, 2)\n3\n", "def add(a, b):\n    return a + b\n");
}

#[test]
fn s58_an_extraction_without_the_entry_point_never_beats_one_with_it() {
    // Every reading of this answer holds `>>>` lines; only the literal ones define `add`.
    let a = "Usage:\n>>> add(2, 3)\n5\n\n```python\ndef add(a, b):\n    \"\"\"\n    >>> add(2, 3)\n    5\n    \"\"\"\n    return a + b\n```\n";
    let e = extract_code(a, Some("add"));
    assert!(e.code.contains("def add(a, b):"), "{}", e.code);
}
