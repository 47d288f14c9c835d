//! A table of the forms prompts show examples in, each with the checks it must give: asserts, doctests (with
//! sessions, tracebacks, continuation lines), calls with their result after every separator seen in public
//! prompts (HumanEval's, MBPP-style one-liners, chat prompts), results followed by explanations, bound
//! parameters in prose, `Input:`/`Output:` blocks, programs reading stdin, pytest functions, multi-line calls,
//! a misnamed function, and what is deliberately not a check (schematics, recurrences, contradictions).

use super::*;

#[track_caller]
fn gives(prompt: &str, expected: &[&str]) {
    let c = Checks::from_prompt(prompt);
    let got: Vec<&str> = c.items.iter().map(|i| i.code.as_str()).collect();
    assert_eq!(got, expected, "prompt:\n{prompt}\nchecks: {:#?}", c.items);
}

#[track_caller]
fn kinds(prompt: &str) -> Vec<CheckKind> {
    Checks::from_prompt(prompt).items.iter().map(|i| i.kind).collect()
}

const STUB: &str = "def f(x):\n    \"\"\"Doubles x.\n";

fn doc(examples: &str) -> String {
    format!("{STUB}{examples}\n    \"\"\"\n")
}

#[test]
fn c01_assert_lines() {
    gives(
        "Write add(a, b).\nassert add(1, 2) == 3\nassert add(0, 0) == 0",
        &["assert add(1, 2) == 3", "assert add(0, 0) == 0"],
    );
    assert_eq!(kinds("Write add.\nassert add(1, 2) == 3"), vec![CheckKind::Assert]);
}

#[test]
fn c02_an_assert_over_several_lines() {
    gives("Write f.\nassert f([\n    1,\n    2,\n]) == 3", &["assert f([\n    1,\n    2,\n]) == 3"]);
}

#[test]
fn c03_prose_starting_with_assert_is_not_a_check() {
    gives("Write f(x).\nassert that the input is positive", &[]);
}

#[test]
fn c04_a_doctest_with_its_value() {
    gives(&doc("    >>> f(3)\n    6\n    >>> f(-2)\n    -4"), &["assert (f(3)) == (6)", "assert (f(-2)) == (-4)"]);
}

#[test]
fn c05_a_doctest_that_prints_compares_text() {
    gives(&doc("    >>> print(f(2))\n    4"), &["assert ' '.join(map(str, [f(2)])) == '4'"]);
}

#[test]
fn c06_a_doctest_session_carries_its_statements() {
    gives(&doc("    >>> x = 5\n    >>> f(x)\n    10"), &["x = 5\nassert (f(x)) == (10)"]);
}

#[test]
fn c07_a_doctest_traceback_is_a_raises_check() {
    gives(
        &doc("    >>> f('a')\n    Traceback (most recent call last):\n      ...\n    TypeError: bad"),
        &["try:\n    f('a')\nexcept TypeError:\n    pass\nelse:\n    raise AssertionError('expected TypeError')"],
    );
}

#[test]
fn c08_a_doctest_with_continuation_lines() {
    gives(&doc("    >>> f([1,\n    ...    2])\n    [2, 4]"), &["assert (f([1,\n   2])) == ([2, 4])"]);
}

#[test]
fn c09_a_doctest_value_over_several_lines() {
    gives(&doc("    >>> f([1, 2])\n    [2,\n     4]"), &["assert (f([1, 2])) == ([2,\n 4])"]);
}

#[test]
fn c10_a_comment_on_the_doctest_line_is_not_part_of_it() {
    gives(&doc("    >>> round(f(0.25), 2) # half of one\n    0.5"), &["assert (round(f(0.25), 2)) == (0.5)"]);
}

#[test]
fn c11_a_doctest_without_a_shown_value_checks_nothing() {
    gives(&doc("    >>> f(0)\n\n    >>> greet()\n    hello"), &[]);
}

#[test]
fn c12_call_double_equals_value() {
    gives(
        "def search(lst):\n    '''\n    Examples:\n        search([4, 1, 2, 2, 3, 1]) == 2\n    '''\n",
        &["assert search([4, 1, 2, 2, 3, 1]) == 2"],
    );
}

#[test]
fn c13_call_equals_value() {
    gives("def choose_num(x, y):\n    \"\"\"For example:\n    choose_num(12, 15) = 14\n    choose_num(13, 12) = -1\n    \"\"\"\n", &["assert choose_num(12, 15) == 14", "assert choose_num(13, 12) == -1"]);
}

#[test]
fn c14_fat_arrows() {
    gives("def digitSum(s):\n    \"\"\"Examples:\n        digitSum(\"\") => 0\n        digitSum(\"abAB\") ==> 131\n    \"\"\"\n", &["assert digitSum(\"\") == 0", "assert digitSum(\"abAB\") == 131"]);
}

#[test]
fn c15_thin_arrows_and_unicode_arrows() {
    gives(
        "def g(q, w):\n    '''\n    g([1, 2], 5) ➞ False\n    g([3], 5) → True\n    g([3, 2], 9) -> True\n    g([], 1) ⇒ False\n    '''\n",
        &["assert g([1, 2], 5) == False", "assert g([3], 5) == True", "assert g([3, 2], 9) == True", "assert g([], 1) == False"],
    );
}

#[test]
fn c16_a_comment_that_says_what_it_returns() {
    gives(
        "def decimal_to_binary(decimal):\n    \"\"\"Examples:\n    decimal_to_binary(15)   # returns \"db1111db\"\n    decimal_to_binary(32) # => 'db100000db' (with the extra characters)\n    \"\"\"\n",
        &["assert decimal_to_binary(15) == \"db1111db\"", "assert decimal_to_binary(32) == 'db100000db'"],
    );
}

#[test]
fn c17_should_return_in_words_with_a_full_stop() {
    gives(
        "def check(d):\n    \"\"\"\n    check({\"a\":\"apple\", \"b\":\"banana\"}) should return True.\n    check({\"a\":\"apple\", 8:\"banana\"}) should return False.\n    \"\"\"\n",
        &["assert check({\"a\":\"apple\", \"b\":\"banana\"}) == True", "assert check({\"a\":\"apple\", 8:\"banana\"}) == False"],
    );
}

#[test]
fn c18_returns_in_words() {
    gives(
        "def count_upper(s):\n    \"\"\"\n    count_upper('aBCdEf') returns 1\n    \"\"\"\n",
        &["assert count_upper('aBCdEf') == 1"],
    );
}

#[test]
fn c19_a_result_followed_by_its_explanation() {
    gives(
        "def fruit(s, n):\n    \"\"\"\n    fruit(\"5 apples and 6 oranges\", 19) ->19 - 5 - 6 = 8\n    \"\"\"\n",
        &["assert fruit(\"5 apples and 6 oranges\", 19) == 8"],
    );
    gives(
        "def dd(lst):\n    '''\n    dd([1, 3, 2, 0]) == 1 + 9 + 0 + 0 = 10\n    '''\n",
        &["assert dd([1, 3, 2, 0]) == 10"],
    );
}

#[test]
fn c20_a_leading_word_and_bullets() {
    gives(
        "def x_or_y(n, x, y):\n    \"\"\"Examples:\n    for x_or_y(7, 34, 12) == 34\n    * x_or_y(15, 8, 5) => 5\n    - x_or_y(2, 1, 0) => 1\n    \"\"\"\n",
        &["assert x_or_y(7, 34, 12) == 34", "assert x_or_y(15, 8, 5) == 5", "assert x_or_y(2, 1, 0) == 1"],
    );
}

#[test]
fn c21_lowercase_booleans_are_pythons() {
    gives(
        "def p(x, n):\n    \"\"\"\n    p(1, 4) => true\n    p(3, 2) => false\n    \"\"\"\n",
        &["assert p(1, 4) == True", "assert p(3, 2) == False"],
    );
}

#[test]
fn c22_for_a_parameter_the_output_should_be() {
    gives(
        "def sum_squares(lst):\n    \"\"\"Examples:\n    For lst = [1,2,3] the output should be 14\n    For lst = [1.4,4.2,0] the output should be 29\n    \"\"\"\n",
        &["assert sum_squares([1,2,3]) == 14", "assert sum_squares([1.4,4.2,0]) == 29"],
    );
}

#[test]
fn c23_several_parameters_bound_by_name_in_any_order() {
    gives(
        "def reverse_delete(s,c):\n    \"\"\"Example\n    For s = \"abcde\", c = \"ae\", the result should be ('bcd',False)\n    For c = \"b\", s = \"abcdef\" the result should be ('acdef',False)\n    \"\"\"\n",
        &["assert reverse_delete(\"abcde\", \"ae\") == ('bcd',False)", "assert reverse_delete(\"abcdef\", \"b\") == ('acdef',False)"],
    );
}

#[test]
fn c24_the_last_result_phrase_on_the_line_wins() {
    gives(
        "def solve(N):\n    \"\"\"Example\n        For N = 1000, the sum of digits will be 1 the output should be \"1\".\n    \"\"\"\n",
        &["assert solve(1000) == \"1\""],
    );
}

#[test]
fn c25_input_output_blocks_by_position() {
    gives(
        "def pluck(arr):\n    \"\"\"\n    Example 1:\n        Input: [4,2,3]\n        Output: [2, 1]\n        Explanation: 2 has the smallest even value.\n\n    Example 2:\n        Input: []\n        Output: []\n    \"\"\"\n",
        &["assert pluck([4,2,3]) == [2, 1]", "assert pluck([]) == []"],
    );
    assert_eq!(
        kinds("def pluck(arr):\n    \"\"\"\n    Input: [4,2,3]\n    Output: [2, 1]\n    \"\"\"\n"),
        vec![CheckKind::InputOutput]
    );
}

#[test]
fn c26_input_output_with_named_parameters() {
    gives(
        "def maximum(arr, k):\n    \"\"\"\n    Example 1:\n\n        Input: arr = [-3, -4, 5], k = 3\n        Output: [-4, -3, 5]\n    \"\"\"\n",
        &["assert maximum([-3, -4, 5], 3) == [-4, -3, 5]"],
    );
}

#[test]
fn c27_input_on_several_lines_under_other_names_binds_by_position() {
    gives(
        "def max_fill(grid, capacity):\n    \"\"\"\n    Example 1:\n        Input: \n            grid : [[0,0,1,0], [0,1,0,0], [1,1,1,1]]\n            bucket_capacity : 1\n        Output: 6\n    \"\"\"\n",
        &["assert max_fill([[0,0,1,0], [0,1,0,0], [1,1,1,1]], 1) == 6"],
    );
}

#[test]
fn c28_an_output_with_a_comment() {
    gives(
        "def add_elements(arr, k):\n    \"\"\"\n        Input: arr = [111,21,3,4000,5,6,7,8,9], k = 4\n        Output: 24 # sum of 21 + 3\n    \"\"\"\n",
        &["assert add_elements([111,21,3,4000,5,6,7,8,9], 4) == 24"],
    );
}

#[test]
fn c29_a_program_reading_stdin_is_judged_by_its_output() {
    let prompt = "Write a program that reads two integers from standard input and prints their sum.\n\nExample\nInput:\n1 2\nOutput:\n3\n\nInput:\n10 -4\nOutput:\n6\n";
    gives(prompt, &["assert __program_output('1 2\\n') == '3'", "assert __program_output('10 -4\\n') == '6'"]);
    let c = Checks::from_prompt(prompt);
    assert!(c.is_program() && c.entry_point.is_none());
}

#[test]
fn c30_pytest_functions_in_a_fenced_block() {
    let prompt = "Implement slugify(text).\n\n```python\nimport re\nfrom solution import slugify\n\ndef test_spaces():\n    assert slugify('a b') == 'a-b'\n\ndef test_case():\n    assert slugify('A') == 'a'\n```\n";
    gives(
        prompt,
        &[
            "import re\ndef test_spaces():\n    assert slugify('a b') == 'a-b'\ntest_spaces()",
            "import re\ndef test_case():\n    assert slugify('A') == 'a'\ntest_case()",
        ],
    );
    assert_eq!(kinds(prompt), vec![CheckKind::Pytest, CheckKind::Pytest]);
}

#[test]
fn c31_a_call_over_several_lines() {
    gives(
        "def get_row(lst, x):\n    \"\"\"\n    Examples:\n    get_row([\n      [1,2,3],\n      [1,2,1]\n    ], 1) == [(0, 0), (1, 2), (1, 0)]\n    get_row([], 1) == []\n    \"\"\"\n",
        &["assert get_row([\n      [1,2,3],\n      [1,2,1]\n    ], 1) == [(0, 0), (1, 2), (1, 0)]", "assert get_row([], 1) == []"],
    );
}

#[test]
fn c32_a_value_over_several_lines() {
    gives(
        "def f(n):\n    \"\"\"\n    f(2) == [\n        1,\n        2,\n    ]\n    \"\"\"\n",
        &["assert f(2) == [\n        1,\n        2,\n    ]"],
    );
}

#[test]
fn c33_examples_under_another_name_are_examples_of_the_function() {
    gives(
        "def numerical_letter_grade(grades):\n    \"\"\"Example:\n    grade_equation([4.0, 3, 1.7, 2, 3.5]) ==> ['A+', 'B', 'C-', 'C', 'A-']\n    \"\"\"\n",
        &["assert numerical_letter_grade([4.0, 3, 1.7, 2, 3.5]) == ['A+', 'B', 'C-', 'C', 'A-']"],
    );
    // …but not when the function's own name is used too: then the other name is something else.
    gives("def f(x):\n    \"\"\"\n    f(1) == 2\n    g(1) == 3\n    \"\"\"\n", &["assert f(1) == 2"]);
}

#[test]
fn c34_a_schematic_with_free_names_is_not_a_check() {
    gives("def is_happy(s):\n    \"\"\"\n    is_happy(a) => False\n    is_happy(abcd) => True\n    \"\"\"\n", &[]);
    gives("def f(n):\n    \"\"\"f(n) = n + 1 for every n\"\"\"\n", &[]);
}

#[test]
fn c35_a_recurrence_and_a_definition_lose_to_the_functions_contract() {
    gives(
        "def tri(n):\n    \"\"\"Tribonacci is defined by the recurrence:\n    tri(1) = 3\n    tri(n) = 1 + n / 2, if n is even.\n    For example:\n    tri(2) = 1 + (2 / 2) = 2\n    tri(3) = tri(2) + tri(1) + tri(4)\n           = 2 + 3 + 3 = 8\n    Examples:\n    tri(3) = [1, 3, 2, 8]\n    \"\"\"\n",
        &["assert tri(3) == [1, 3, 2, 8]"],
    );
}

#[test]
fn c36_one_call_with_two_results_is_no_check() {
    gives("def f(x):\n    \"\"\"\n    f(1) == 2\n    f(1) == 3\n    f(2) == 4\n    \"\"\"\n", &["assert f(2) == 4"]);
}

#[test]
fn c37_a_float_result_compares_within_a_tolerance() {
    gives(
        "def area(a, b, c):\n    '''\n    area(3, 4, 5) == 6.00\n    '''\n",
        &["assert abs(area(3, 4, 5) - (6.00)) < 1e-6"],
    );
}

#[test]
fn c38_none_compares_by_identity() {
    gives("def nxt(lst):\n    \"\"\"\n    nxt([]) == None\n    \"\"\"\n", &["assert nxt([]) is None"]);
}

#[test]
fn c39_a_signature_named_in_prose() {
    let c = Checks::from_prompt("Write a function `add(a, b)` that returns the sum.\nExample: add(2, 3) -> 5");
    assert_eq!(c.entry_point.as_deref(), Some("add"));
    assert_eq!(c.codes(), vec!["assert add(2, 3) == 5"]);
}

#[test]
fn c40_without_a_signature_the_examples_name_the_function() {
    let c = Checks::from_prompt("Check whether a number is prime.\n\nis_prime(7) → True\nis_prime(8) → False\n");
    assert_eq!(c.entry_point.as_deref(), Some("is_prime"));
    assert_eq!(c.codes(), vec!["assert is_prime(7) == True", "assert is_prime(8) == False"]);
}

#[test]
fn c41_a_prompt_without_examples_gives_none_but_its_entry_point() {
    let c = Checks::from_prompt(
        "def starts_one_ends(n):\n    \"\"\"Count the n-digit numbers that start or end with 1.\"\"\"\n",
    );
    assert!(c.is_empty());
    assert_eq!(c.entry_point.as_deref(), Some("starts_one_ends"));
    assert!(Checks::from_prompt("Write a function to reverse a string.").is_empty());
}

#[test]
fn c42_non_ascii_text_and_values() {
    gives(
        "def lower(s):\n    \"\"\"Lowercases Greek: Σ → σ.\n    lower(\"ΣΑ\") == \"σα\"\n    lower(\"É\") ➞ \"é\"\n    \"\"\"\n",
        &["assert lower(\"ΣΑ\") == \"σα\"", "assert lower(\"É\") == \"é\""],
    );
}

#[test]
fn c43_keyword_arguments() {
    gives("Write pad(s, width=4).\n\npad('a', width=3) == '  a'\n", &["assert pad('a', width=3) == '  a'"]);
}

#[test]
fn c44_the_stub_is_the_entry_point_and_given_helpers_are_the_prelude() {
    let prompt = "from typing import List\n\n\ndef encode(s: str):\n    return s[::-1]\n\n\ndef decode(s: str):\n    \"\"\"Undo encode.\n    >>> decode('cba')\n    'abc'\n    \"\"\"\n";
    let c = Checks::from_prompt(prompt);
    assert_eq!(c.entry_point.as_deref(), Some("decode"));
    assert_eq!(c.codes(), vec!["assert (decode('cba')) == ('abc')"]);
    assert_eq!(c.prelude, "from typing import List\n\ndef encode(s: str):\n    return s[::-1]");
}

#[test]
fn c45_inline_code_in_markdown() {
    gives("Write `sq(x)`. For example, `sq(3)` returns `9`.", &["assert sq(3) == 9"]);
}

#[test]
fn c46_a_bare_comment_value_after_a_call() {
    gives("def f(x):\n    pass\n\n```python\nf(3)  # 6\nf(4)  # the fourth\n```\n", &["assert f(3) == 6"]);
}

#[test]
fn c47_mixed_result_types_keep_the_kind_shown_last() {
    gives(
        "def split_words(txt):\n    '''\n    split_words(\"Hello world!\") ➞ [\"Hello\", \"world!\"]\n    split_words(\"abcdef\") == 3\n    split_words(\"\") ➞ None\n    '''\n",
        &["assert split_words(\"abcdef\") == 3", "assert split_words(\"\") is None"],
    );
}

#[test]
fn c48_a_doctest_assert_and_its_imports_of_the_function() {
    gives(&doc("    >>> from solution import f\n    >>> assert f(2) == 4"), &["assert f(2) == 4"]);
}

#[test]
fn c49_code_inside_the_prompt_is_not_an_example() {
    gives(
        "def helper(x):\n    if helper_ok(x) == True:\n        return x\n    assert x >= 0\n    return -x\n\ndef f(x):\n    \"\"\"Uses helper.\"\"\"\n",
        &[],
    );
}

#[test]
fn c50_every_check_keeps_its_source_text() {
    let c = Checks::from_prompt("def p(x, n):\n    \"\"\"\n    p(1, 4) => true\n    \"\"\"\n");
    assert_eq!(c.items[0].source, "p(1, 4) => true");
    assert_eq!(c.items[0].kind, CheckKind::Example);
}

#[test]
fn a_prompt_of_deeply_nested_brackets_does_not_overflow_the_stack() {
    let deep = format!("def f(x):\n    pass\nf({}1{}) == 2\n", "(".repeat(20_000), ")".repeat(20_000));
    let _ = Checks::from_prompt(&deep);
}

#[test]
fn c51_a_doctest_that_states_its_comparison() {
    gives(&doc("    >>> f([]) == 0\n    >>> f([1, 1]) == 4"), &["assert f([]) == 0", "assert f([1, 1]) == 4"]);
}

#[test]
fn c52_parameters_bound_on_one_line_and_the_result_returned_on_a_later_one() {
    gives(
        "def by_length(arr):\n    \"\"\"\n    For example:\n      arr = [2, 1, 1]\n            -> sort arr -> [1, 1, 2]\n      return [\"Two\", \"One\", \"One\"]\n\n      arr = []\n      return []\n\n      arr = [1, -1 , 55]\n      return = ['One']\n    \"\"\"\n",
        &[
            "assert by_length([2, 1, 1]) == [\"Two\", \"One\", \"One\"]",
            "assert by_length([]) == []",
            "assert by_length([1, -1 , 55]) == ['One']",
        ],
    );
}

#[test]
fn c53_a_result_that_ends_the_sentence() {
    gives(
        "Write add_digits(n): add_digits(123) should return 6 and add_digits(0) -> 0.",
        &["assert add_digits(123) == 6", "assert add_digits(0) == 0"],
    );
    gives("def f(x):\n    \"\"\"f(2) -> 4. f(0) -> 0.\n    \"\"\"\n", &["assert f(2) == 4", "assert f(0) == 0"]);
    gives("Write g(s). For example g('ab') == 'ba'.", &["assert g('ab') == 'ba'"]);
    gives("Write h(x); h(1.5) returns 3.0.", &["assert abs(h(1.5) - (3.0)) < 1e-6"]);
    // A method call keeps its object: `s.f(1)` is not an example of `f`.
    gives("def f(x):\n    \"\"\"s.f(1) -> 2. f(3) -> 6.\n    \"\"\"\n", &["assert f(3) == 6"]);
}
