//! Checks: what an answer must pass, each with where it came from.
//!
//! One type for every source of checks — a dataset task's own asserts, the examples a prompt shows, what the
//! user typed or accepted — so the label run, the verified cascade and `verify` judge answers the same way
//! ([`super::judge`]). A check is Python run after the answer: an `assert …` (or a few statements ending in
//! one), with the text it came from, so the user can see why it exists and edit it.
//!
//! [`Checks::from_prompt`] reads the examples a prompt shows, deterministically (no model): `assert` lines;
//! doctest `>>>` examples (a session's statements carried into the examples after them, a `Traceback` as a
//! raises check); calls with their result in prose (`f(x) == y`, `f(x) = y`, `=>`, `->`, `➞`, `→`,
//! `# returns y`, "should return y", with or without "Examples:" headings, the result possibly followed by an
//! explanation such as `-> 19 - 5 - 6 = 8`); "For a = …, b = … the output should be y" bound to the parameters by
//! name; `Input: … Output: …` blocks bound to the parameters by name or position; stdin/stdout examples when the
//! task is a program reading its input; pytest-style `def test_…` functions in a fenced block. The entry point
//! and the parameter names come from the prompt's signature when it has one (the last `def` whose body is
//! still to be written, or "a function `name(a, b)`" in prose).
//!
//! What is *not* a check, by decision: an example whose arguments or result name something the prompt does not
//! define (`is_happy(a) => False`, `f(n) = n + 1`: a schematic, not a value); a result that calls the function
//! itself (`tri(3) = tri(2) + tri(1)`: a recurrence); the same call shown with two different results; and prose
//! examples of one function whose results disagree in type (`tri(1) = 3` in a definition beside
//! `tri(3) = [1, 3, 2, 8]`, the function's contract): the kind shown last in the prompt stays. A check that can
//! never pass would send every prompt up every tier and pay for each, so a doubtful example is left out rather
//! than guessed.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

use crate::python::{self, skip_string};

/// Where a check came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// An `assert` line in the prompt.
    Assert,
    /// A doctest `>>>` example with its shown result.
    Doctest,
    /// A call with its result in prose (`f(x) == y`, `f(x) ➞ y`, "should return y", "For a = 1 … should be y").
    Example,
    /// An `Input: … Output: …` block bound to the function's parameters.
    InputOutput,
    /// A program's input and its expected output (the answer runs as a program).
    Stdio,
    /// A pytest-style `def test_…` function from a fenced block.
    Pytest,
    /// The dataset's own tests.
    Dataset,
    /// Typed or edited by the user.
    User,
    /// Proposed by a tier from the prompt alone, accepted by the user.
    Proposed,
}

impl CheckKind {
    /// How the chat and the CLI name it.
    pub fn label(self) -> &'static str {
        match self {
            CheckKind::Assert => "assert",
            CheckKind::Doctest => "doctest",
            CheckKind::Example => "example",
            CheckKind::InputOutput => "input/output",
            CheckKind::Stdio => "stdin/stdout",
            CheckKind::Pytest => "pytest",
            CheckKind::Dataset => "dataset test",
            CheckKind::User => "yours",
            CheckKind::Proposed => "proposed",
        }
    }
}

/// One check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct CheckItem {
    pub kind: CheckKind,
    /// The text it came from (the prompt's line or lines, the dataset's assert, what the user typed).
    pub source: String,
    /// Python run after the answer: an `assert …`, or statements ending in one.
    pub code: String,
}

/// Everything an answer is judged against.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Checks {
    /// The function the checks call (guides the extraction of the code from the answer); None for a program
    /// judged by its output.
    pub entry_point: Option<String>,
    /// Code the prompt itself gives (its imports, helper functions and classes), run before the answer: an
    /// answer may use `List` or a given helper without repeating them, as it could in the prompt's file.
    #[serde(default)]
    pub prelude: String,
    /// Code run after the answer and before the checks (a dataset task's setup).
    #[serde(default)]
    pub setup: String,
    /// A prompt that is code ending in the entry point's unwritten body (HumanEval's form): an answer that is only
    /// that body (a completion) is judged as the prompt followed by it, as HumanEval does.
    #[serde(default)]
    pub stub: String,
    pub items: Vec<CheckItem>,
}

/// The name of the helper stdin/stdout checks call: the judge defines it, running the answer as a program.
pub const PROGRAM_OUTPUT: &str = "__program_output";

/// How much of a prompt is read for examples: more is pasted logs, not examples, and the scan stays linear.
const MAX_PROMPT: usize = 200_000;
/// The longest call or value an example may span.
const MAX_SPAN: usize = 4_000;

impl Checks {
    /// Checks from a list of asserts of one kind (the server's `complexitynet.tests`, a dataset's tests, the
    /// user's); the entry point is the function they call.
    pub fn from_asserts(asserts: &[String], kind: CheckKind) -> Checks {
        let items: Vec<CheckItem> = asserts
            .iter()
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
            .map(|a| CheckItem { kind, source: a.to_owned(), code: a.to_owned() })
            .collect();
        let codes: Vec<String> = items.iter().map(|i| i.code.clone()).collect();
        let entry_point = crate::entry_point::derive_entry_point(&codes, None).ok().map(|e| e.name);
        Checks { entry_point, items, ..Checks::default() }
    }

    /// A dataset task's own tests, with what its prompt gives (HumanEval's `from typing import List`, a helper
    /// such as `encode_shift`) as the prelude.
    pub fn from_task(task: &crate::task::Task) -> Checks {
        Checks {
            entry_point: Some(task.entry_point.name.clone()),
            prelude: prelude(&task.prompt, Some(&task.entry_point.name)),
            stub: stub(&task.prompt, &task.entry_point.name),
            setup: task.setup.clone(),
            items: task
                .asserts
                .iter()
                .map(|a| CheckItem { kind: CheckKind::Dataset, source: a.clone(), code: a.clone() })
                .collect(),
        }
    }

    /// The checks a prompt shows (see the module docs); empty `items` when it shows none.
    pub fn from_prompt(prompt: &str) -> Checks {
        let text = clip(prompt).replace("\r\n", "\n");
        Reader::new(&text).read()
    }

    /// The checks the user settled on for a prompt (edited, typed, or proposed and accepted): the prompt's entry
    /// point and prelude, with `items` in place of its own examples.
    pub fn with_items(prompt: &str, items: Vec<CheckItem>) -> Checks {
        let mut c = Checks::from_prompt(prompt);
        let codes: Vec<String> = items.iter().map(|i| i.code.clone()).collect();
        let called = crate::entry_point::derive_entry_point(&codes, None).ok().map(|e| e.name);
        c.entry_point = called.or(c.entry_point);
        c.items = items;
        c
    }

    /// What verification may see of a dataset task, as a user's prompt would show it: the examples its prompt
    /// shows (HumanEval's docstrings); for a prompt that shows none but a task with asserts (MBPP, whose prompt is
    /// one sentence and whose asserts are its whole test set), the first assert, as MBPP's own prompt format
    /// shows its tests. The answer is then *scored* by all of the task's tests, which verification never saw
    /// beyond this one: the honest cascade's protocol.
    pub fn shown(task: &crate::task::Task) -> Checks {
        let mut c = Checks::from_prompt(&task.prompt);
        if c.is_empty() {
            if let Some(first) = task.asserts.first() {
                c = Checks::from_prompt(&format!(
                    "{}

Your code should pass this test:
{first}",
                    task.prompt
                ));
            }
        }
        c.entry_point = Some(task.entry_point.name.clone());
        c.setup = task.setup.clone();
        c
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the answer runs as a program judged by its output (stdin/stdout checks).
    pub fn is_program(&self) -> bool {
        self.items.iter().any(|i| i.kind == CheckKind::Stdio)
    }

    /// The checks' code, in order (what the sandbox runs after the answer and the setup).
    pub fn codes(&self) -> Vec<String> {
        self.items.iter().map(|i| i.code.clone()).collect()
    }

    /// "3 checks from the prompt's examples" and the like.
    pub fn describe(&self) -> String {
        let n = self.items.len();
        let what = if n == 1 { "check" } else { "checks" };
        let mut kinds: Vec<&str> = Vec::new();
        for i in &self.items {
            if !kinds.contains(&i.kind.label()) {
                kinds.push(i.kind.label());
            }
        }
        format!("{n} {what} ({})", kinds.join(", "))
    }
}

fn clip(s: &str) -> &str {
    &s[..python::floor_boundary(s, MAX_PROMPT)]
}

// ---------------------------------------------------------------------------------------------------------
// Signatures

/// A function the prompt defines or names.
#[derive(Debug, Clone, PartialEq)]
struct Signature {
    name: String,
    /// Parameter names in order (without `self`, `*args`, `**kwargs`), each with whether it has a default.
    params: Vec<(String, bool)>,
    /// `def` with a body still to write (only a docstring, `pass` or `...`): the function the task asks for.
    stub: bool,
    /// Named in prose ("a function `add(a, b)`"), not defined.
    prose: bool,
}

impl Signature {
    fn required(&self) -> usize {
        self.params.iter().filter(|(_, d)| !d).count()
    }
    fn accepts(&self, n: usize) -> bool {
        self.required() <= n && n <= self.params.len()
    }
}

/// The parameters of a `def`'s parenthesised list (the text between the brackets).
fn parse_params(inner: &str) -> Option<Vec<(String, bool)>> {
    let mut out = Vec::new();
    for part in split_top(inner, b',') {
        let p = part.trim();
        if p.is_empty() || p == "/" || p == "*" || p.starts_with('*') {
            continue;
        }
        let (head, default) = match find_top(p, b'=') {
            Some(i) => (&p[..i], true),
            None => (p, false),
        };
        let name = head.split(':').next().unwrap_or("").trim();
        if name.is_empty() || !is_identifier(name) {
            return None;
        }
        if name == "self" || name == "cls" {
            continue;
        }
        out.push((name.to_owned(), default));
    }
    Some(out)
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// Every `def NAME(…)` in the text (in code or a fenced block), in order.
fn defined(text: &str) -> Vec<(usize, Signature)> {
    let mut out = Vec::new();
    let mut offset = 0;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    for (li, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let rest = trimmed.strip_prefix("async ").unwrap_or(trimmed);
        if let Some(after) = rest.strip_prefix("def ") {
            let name: String = after.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            let open = line.find('(').map(|p| offset + p);
            if let (false, Some(open)) = (name.is_empty(), open) {
                if let Some(close) = match_close(text, open) {
                    if let Some(params) = parse_params(&text[open + 1..close - 1]) {
                        let stub = body_is_stub(&lines[li..], indent);
                        out.push((offset, Signature { name, params, stub, prose: false }));
                    }
                }
            }
        }
        offset += line.len();
    }
    out
}

/// Whether the `def` starting the lines has a body still to write: after its header, only a docstring,
/// `pass`, `...` or comments before the next line at its indentation or less.
fn body_is_stub(lines: &[&str], indent: usize) -> bool {
    let mut end = 1;
    while end < lines.len() {
        let l = lines[end];
        if !l.trim().is_empty() && l.len() - l.trim_start().len() <= indent {
            break;
        }
        end += 1;
    }
    let block: String = lines[..end].concat();
    let block = dedent_by(&block, indent);
    let tree = python::parse(&block);
    let Some(def) = python::top_level(&tree).into_iter().find(|n| n.kind() == "function_definition") else {
        return false;
    };
    let Some(body) = def.child_by_field_name("body") else { return true };
    let mut cursor = body.walk();
    let stmts: Vec<_> = body.named_children(&mut cursor).collect();
    stmts.iter().all(|s| match s.kind() {
        "comment" | "pass_statement" => true,
        "expression_statement" => s.named_child(0).is_some_and(|e| matches!(e.kind(), "string" | "ellipsis")),
        // An `import` inside the stub (HumanEval/115 has `import math` above its docstring).
        "import_statement" | "import_from_statement" => true,
        _ => false,
    })
}

/// `block` without the indentation all its lines with text share.
fn dedent_common(block: &str) -> String {
    let indent = block
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.bytes().take_while(|b| *b == b' ' || *b == b'\t').count())
        .min()
        .unwrap_or(0);
    dedent_by(block, indent)
}

fn dedent_by(block: &str, indent: usize) -> String {
    block
        .split_inclusive('\n')
        .map(|l| {
            let cut = l.bytes().take(indent).take_while(|b| *b == b' ' || *b == b'\t').count();
            &l[cut..]
        })
        .collect()
}

/// "a function `add(a, b)`", "def add(a, b)" in prose, "method is_prime(n)".
fn named_in_prose(text: &str) -> Vec<Signature> {
    let mut out = Vec::new();
    for word in ["function ", "Function ", "method ", "Method ", "def "] {
        let mut from = 0;
        while let Some(p) = text[from..].find(word) {
            let start = from + p + word.len();
            from = start;
            let rest = text[start..].trim_start_matches(['`', ' ', '*']);
            let at = text.len() - rest.len();
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if name.is_empty() || !is_identifier(&name) {
                continue;
            }
            let after = at + name.len();
            if text.as_bytes().get(after) == Some(&b'(') {
                if let Some(close) = match_close(text, after) {
                    if let Some(params) = parse_params(&text[after + 1..close - 1]) {
                        if !out.iter().any(|s: &Signature| s.name == name) {
                            out.push(Signature { name, params, stub: false, prose: true });
                        }
                    }
                }
            }
        }
    }
    out
}

/// The prompt itself when it is Python whose last statement is `entry`'s definition with its body still to write
/// (a completion prompt, as HumanEval's); else empty.
pub fn stub(prompt: &str, entry: &str) -> String {
    let text = clip(prompt);
    if !python::is_valid_python(text) {
        return String::new();
    }
    let tree = python::parse(text);
    let last = python::top_level(&tree).into_iter().rev().find(|n| n.kind() != "comment");
    let is_entry_stub = last.is_some_and(|n| {
        n.kind() == "function_definition"
            && n.child_by_field_name("name").is_some_and(|x| python::text(x, text) == entry)
            && body_is_stub(&[python::text(n, text)], 0)
    });
    if is_entry_stub {
        text.to_owned()
    } else {
        String::new()
    }
}

/// The code a prompt gives that an answer may rely on: top-level imports, and functions and classes other than
/// the entry point, from the prompt when it is Python (HumanEval) or from its Python blocks.
pub fn prelude(prompt: &str, entry: Option<&str>) -> String {
    let text = clip(prompt).replace("\r\n", "\n");
    let mut sources: Vec<String> = Vec::new();
    if python::is_valid_python(&text) {
        sources.push(text.clone());
    } else {
        for block in fenced_blocks(&text) {
            if python::is_valid_python(&block.body) {
                sources.push(block.body);
            }
        }
    }
    let mut out: Vec<String> = Vec::new();
    for src in &sources {
        let tree = python::parse(src);
        for n in python::top_level(&tree) {
            let def = if n.kind() == "decorated_definition" { n.child_by_field_name("definition") } else { Some(n) };
            let keep = match def.map(|d| d.kind()) {
                Some("import_statement" | "import_from_statement" | "future_import_statement") => true,
                Some("function_definition" | "class_definition") => {
                    let name = def.and_then(|d| d.child_by_field_name("name")).map(|x| python::text(x, src));
                    name.is_some_and(|name| Some(name) != entry && !name.starts_with("test"))
                        && !body_is_stub(&[python::text(n, src)], 0)
                }
                _ => false,
            };
            if keep {
                let t = python::text(n, src).to_owned();
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
    }
    out.join("\n\n")
}

// ---------------------------------------------------------------------------------------------------------
// Scanning helpers (bytes; every index they return is on a character boundary: they stop only at ASCII)

/// The index past the bracket that closes the one at `open`, skipping strings; None when it does not close
/// within [`MAX_SPAN`] bytes.
fn match_close(s: &str, open: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut stack: Vec<u8> = Vec::new();
    let mut i = open;
    let end = (open + MAX_SPAN).min(b.len());
    while i < end {
        match b[i] {
            b'\'' | b'"' => {
                i = skip_string(b, i);
                continue;
            }
            c @ (b'(' | b'[' | b'{') => stack.push(c),
            c @ (b')' | b']' | b'}') => {
                let want = match c {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                if stack.pop() != Some(want) {
                    return None;
                }
                if stack.is_empty() {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Splits at `sep` outside brackets and strings.
fn split_top(s: &str, sep: u8) -> Vec<&str> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let (mut depth, mut start, mut i) = (0i32, 0, 0);
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' => {
                i = skip_string(b, i);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            c if c == sep && depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&s[start.min(s.len())..]);
    out
}

/// The first `sep` outside brackets and strings that is not part of `==`, `<=`, `>=`, `!=`.
fn find_top(s: &str, sep: u8) -> Option<usize> {
    let b = s.as_bytes();
    let (mut depth, mut i) = (0i32, 0);
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' => {
                i = skip_string(b, i);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            c if c == sep && depth == 0 => {
                let doubled = sep == b'='
                    && (b.get(i + 1) == Some(&b'=')
                        || i > 0 && matches!(b[i - 1], b'=' | b'<' | b'>' | b'!')
                        || b.get(i + 1) == Some(&b'>'));
                if !doubled {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The last top-level ` = ` (an explanation's final value: `19 - 5 - 6 = 8`).
fn last_top_equals(s: &str) -> Option<usize> {
    let mut at = None;
    let mut from = 0;
    while let Some(i) = find_top(&s[from..], b'=') {
        at = Some(from + i);
        from += i + 1;
    }
    at
}

// ---------------------------------------------------------------------------------------------------------
// Values

/// Names a value in an example may use besides literals: constructors and constants.
const VALUE_NAMES: &[&str] = &[
    "float",
    "int",
    "str",
    "list",
    "tuple",
    "set",
    "dict",
    "frozenset",
    "range",
    "complex",
    "bytes",
    "bytearray",
    "math",
    "inf",
    "nan",
    "True",
    "False",
    "None",
    "sorted",
    "len",
    "abs",
    "round",
    "chr",
    "ord",
];

/// Whether `code` is one expression made of literals (and constructors such as `float('inf')`): a value an
/// example can show, not a schematic naming things the prompt does not define.
fn is_value(code: &str) -> bool {
    if !python::is_expression(code) {
        return false;
    }
    let tree = python::parse(code.trim());
    let all_values = python::descendants(tree.root_node()).all(|n| match n.kind() {
        "identifier" => {
            let name = python::text(n, code.trim());
            // `math.pi`: the attribute's own name is not a free name.
            let is_attr = n.parent().is_some_and(|p| {
                p.kind() == "attribute" && p.child_by_field_name("attribute").is_some_and(|a| a.id() == n.id())
            });
            is_attr || VALUE_NAMES.contains(&name)
        }
        "lambda"
        | "await"
        | "yield"
        | "named_expression"
        | "list_comprehension"
        | "generator_expression"
        | "ellipsis" => false,
        _ => true,
    });
    all_values
}

/// Whether `code` is one comparison that calls a function (`f(x) == y`, `g(1) is None`).
fn is_comparison(code: &str) -> bool {
    let tree = python::parse(code.trim());
    let root = tree.root_node();
    let is = !root.has_error()
        && root.named_child_count() == 1
        && root
            .named_child(0)
            .and_then(|s| s.named_child(0))
            .is_some_and(|e| e.kind() == "comparison_operator" && python::descendants(e).any(|n| n.kind() == "call"));
    is
}

/// A value's type as far as the checks of one function must agree on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Shape {
    Number,
    Bool,
    Str,
    List,
    Tuple,
    Dict,
    Set,
    None,
    Other,
}

fn shape(value: &str) -> Shape {
    let tree = python::parse(value.trim());
    let mut node = tree.root_node();
    while let Some(c) = node.named_child(0).filter(|_| {
        matches!(node.kind(), "module" | "expression_statement" | "parenthesized_expression")
            && node.named_child_count() == 1
    }) {
        node = c;
    }
    match node.kind() {
        "integer" | "float" | "binary_operator" => Shape::Number,
        "unary_operator" => shape(python::text(node.named_child(0).unwrap_or(node), value.trim())),
        "true" | "false" => Shape::Bool,
        "string" | "concatenated_string" => Shape::Str,
        "list" => Shape::List,
        "tuple" => Shape::Tuple,
        "dictionary" => Shape::Dict,
        "set" => Shape::Set,
        "none" => Shape::None,
        _ => Shape::Other,
    }
}

/// What a value is written as in a check: `true`/`false` as Python's, a trailing full stop dropped.
fn normalise_value(v: &str) -> String {
    let v = v.trim();
    match v {
        "true" => "True".into(),
        "false" => "False".into(),
        "null" | "none" => "None".into(),
        _ => v.to_owned(),
    }
}

/// The value at the start of `text` (a result after `==`, `->`, "should return"), and how far it runs:
/// the whole text when it is a value; the final value of an explanation (`19 - 5 - 6 = 8`); else the longest
/// prefix that is a value and ends where prose starts (a space, or `.`/`,`/`;` then a space or the end).
fn leading_value(text: &str) -> Option<String> {
    leading_value_span(text).map(|(v, _)| v)
}

/// [`leading_value`] and the byte offset in `text` where the value ends, so that the rest of a sentence
/// ("…should return 6 and f(0) -> 0.") stays free for the examples it holds.
fn leading_value_span(text: &str) -> Option<(String, usize)> {
    // Offsets are taken from the slices' positions: every `t` below is a subslice of `text`.
    let end_of = |s: &str| s.as_ptr() as usize - text.as_ptr() as usize + s.len();
    let t = text.trim();
    let t = &t[..python::floor_boundary(t, MAX_SPAN)];
    let t = t.strip_prefix(':').unwrap_or(t).trim();
    let (t, inline_end) = match t.strip_prefix('`').and_then(|r| r.find('`').map(|e| (&r[..e], end_of(&r[..=e])))) {
        Some((inline, close)) => (inline.trim(), Some(close)),
        None => (t, None),
    };
    if t.is_empty() {
        return None;
    }
    let ends = |s: &str| inline_end.unwrap_or_else(|| end_of(s));
    let whole_text = t.trim_end_matches(['.', ',', ';']).trim();
    let whole = normalise_value(whole_text);
    if is_value(&whole) {
        return Some((whole, ends(t)));
    }
    if let Some(eq) = last_top_equals(t) {
        let last = normalise_value(t[eq + 1..].trim().trim_end_matches(['.', ',', ';']));
        if is_value(&last) && is_value(&normalise_value(&t[..eq])) {
            return Some((last, ends(t)));
        }
    }
    // Prefixes ending at a prose boundary, longest first; a bounded number of parses per value.
    let b = t.as_bytes();
    let mut cuts: Vec<usize> = Vec::new();
    for i in (1..b.len()).rev() {
        let boundary = b[i].is_ascii_whitespace()
            || matches!(b[i], b'.' | b',' | b';' | b'#') && b.get(i + 1).is_none_or(|c| c.is_ascii_whitespace());
        if boundary && t.is_char_boundary(i) {
            cuts.push(i);
            if cuts.len() >= 48 {
                break;
            }
        }
    }
    for cut in cuts {
        // A full stop before the space ends the sentence ("f(2) -> 4. f(0) -> 0."), as for the whole text.
        let prefix = t[..cut].trim_end_matches(['.', ',', ';']);
        let v = normalise_value(prefix);
        if is_value(&v) {
            return Some((v, ends(prefix)));
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------------------
// The reader

/// A fenced block of the prompt.
struct Block {
    tag: String,
    body: String,
    /// Byte range of the body in the text.
    start: usize,
    end: usize,
}

fn fenced_blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<(String, usize)> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with("```") {
            match open.take() {
                None => {
                    let tag = t.trim_start_matches('`').trim().to_ascii_lowercase();
                    open = Some((tag, offset + line.len()));
                }
                Some((tag, start)) => {
                    out.push(Block { tag, body: text[start..offset].to_owned(), start, end: offset });
                }
            }
        }
        offset += line.len();
    }
    out
}

/// A prose example's call: the function, the arguments' text and the expected value.
type Call = (String, String, String);

/// A check derived from an example block: its kind, its call (for prose examples) and its code.
type Derived = (CheckKind, Option<Call>, String);

/// A candidate check before the reader's final choices.
#[derive(Debug, Clone)]
struct Found {
    kind: CheckKind,
    source: String,
    /// Where it was found (its order in the prompt).
    at: usize,
    /// The function called, the arguments' text and the expected value, for prose examples (kept separate
    /// so the call can be re-bound to the entry point and compared with other examples of it).
    call: Option<Call>,
    code: String,
}

struct Reader<'a> {
    text: &'a str,
    signatures: Vec<Signature>,
    entry: Option<Signature>,
    /// Byte ranges already read as one kind of check (a doctest line is not also a prose example).
    used: Vec<(usize, usize)>,
    found: Vec<Found>,
    /// Statements of a doctest session (`>>> x = Foo()`), carried into the examples after them.
    session: Vec<String>,
}

/// Modules of Python's standard library a test file commonly imports.
const STDLIB: &[&str] = &[
    "re",
    "math",
    "cmath",
    "json",
    "itertools",
    "functools",
    "collections",
    "string",
    "random",
    "typing",
    "datetime",
    "decimal",
    "fractions",
    "heapq",
    "bisect",
    "statistics",
    "operator",
    "copy",
    "io",
    "sys",
    "os",
    "textwrap",
    "unicodedata",
    "struct",
    "array",
    "enum",
    "dataclasses",
    "hashlib",
    "base64",
    "time",
    "calendar",
];

/// Separators between a call and its result, longest first.
const ARROWS: &[&str] = &["==>", "-->", "=>", "->", "==", "➞", "→", "⇒", "⟹", "⟶", "="];
const WORDS: &[&str] = &[
    "should return",
    "should be",
    "should output",
    "will return",
    "must return",
    "returns",
    "return",
    "gives",
    "outputs",
    "yields",
    "evaluates to",
];
/// "…, the output should be y": the phrases that put a result after bound parameters.
const RESULT_PHRASES: &[&str] = &[
    "the output should be",
    "output should be",
    "the result should be",
    "result should be",
    "the answer should be",
    "should return",
    "should be",
    "the output is",
    "the result is",
    "the answer is",
    "output:",
    "returns",
    "return",
    "==>",
    "=>",
    "->",
    "➞",
    "→",
];

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Reader<'a> {
        // A test function (`def test_add():` in a pytest block) is a check, never the function to write.
        let mut signatures: Vec<Signature> =
            defined(text).into_iter().map(|(_, s)| s).filter(|s| !s.name.starts_with("test")).collect();
        for s in named_in_prose(text) {
            if !signatures.iter().any(|d| d.name == s.name) {
                signatures.push(s);
            }
        }
        let entry = signatures
            .iter()
            .rev()
            .find(|s| s.stub)
            .or_else(|| signatures.iter().rev().find(|s| !s.prose))
            .or_else(|| signatures.first())
            .cloned();
        Reader { text, signatures, entry, used: Vec::new(), found: Vec::new(), session: Vec::new() }
    }

    fn is_used(&self, a: usize, b: usize) -> bool {
        self.used.iter().any(|&(x, y)| a < y && x < b)
    }

    fn known(&self, name: &str) -> bool {
        self.signatures.iter().any(|s| s.name == name)
    }

    fn read(mut self) -> Checks {
        self.pytest();
        self.doctests();
        self.asserts();
        self.input_output();
        self.bound_examples();
        self.call_examples();
        self.finish()
    }

    // -- pytest ------------------------------------------------------------------------------------------

    fn pytest(&mut self) {
        for block in fenced_blocks(self.text) {
            if !(block.tag.is_empty() || block.tag.starts_with("py")) || !block.body.contains("def test") {
                continue;
            }
            let src = block.body.as_str();
            let tree = python::parse(src);
            let tops = python::top_level(&tree);
            let imports: Vec<&str> = tops
                .iter()
                .filter(|n| matches!(n.kind(), "import_statement" | "import_from_statement"))
                .map(|n| python::text(*n, src))
                // The answer is the module under test (`from solution import f` names it; the sandbox has no such
                // module), so only the standard library's imports are kept.
                .filter(|t| {
                    let module = t.split_whitespace().nth(1).unwrap_or("");
                    STDLIB.contains(&module.split('.').next().unwrap_or(""))
                })
                .collect();
            for n in &tops {
                if n.kind() != "function_definition" || n.has_error() {
                    continue;
                }
                let name = n.child_by_field_name("name").map(|x| python::text(x, src)).unwrap_or("");
                let no_params =
                    n.child_by_field_name("parameters").is_some_and(|p| python::text(p, src).trim() == "()");
                let body = python::text(*n, src);
                if !name.starts_with("test") || !no_params || body.contains("pytest") || body.contains("capsys") {
                    continue;
                }
                let mut code = imports.join("\n");
                if !code.is_empty() {
                    code.push('\n');
                }
                code.push_str(body);
                code.push('\n');
                code.push_str(&format!("{name}()"));
                let at = block.start + n.start_byte();
                self.found.push(Found { kind: CheckKind::Pytest, source: body.to_owned(), at, call: None, code });
                self.used.push((at, block.start + n.end_byte()));
            }
            if src.contains("def test") {
                self.used.push((block.start, block.end));
            }
        }
    }

    // -- doctest -----------------------------------------------------------------------------------------

    fn doctests(&mut self) {
        let lines = line_spans(self.text);
        let mut i = 0;
        while i < lines.len() {
            let (start, line) = lines[i];
            let t = line.trim_start();
            let indent = line.len() - t.len();
            let Some(first) = t.strip_prefix(">>>") else {
                i += 1;
                continue;
            };
            let mut stmt = vec![first.strip_prefix(' ').unwrap_or(first).to_owned()];
            let mut j = i + 1;
            while j < lines.len() {
                let l = lines[j].1.trim_start();
                match l.strip_prefix("...") {
                    Some(rest) if !rest.starts_with('.') || rest.is_empty() => {
                        stmt.push(rest.strip_prefix(' ').unwrap_or(rest).to_owned());
                        j += 1;
                    }
                    _ => break,
                }
            }
            let mut want: Vec<String> = Vec::new();
            while j < lines.len() {
                let l = lines[j].1;
                let lt = l.trim();
                if lt.is_empty() || lt.starts_with(">>>") || lt.starts_with("\"\"\"") || lt.starts_with("'''") {
                    break;
                }
                let cut = l.bytes().take(indent).take_while(|b| *b == b' ' || *b == b'\t').count();
                want.push(l[cut..].trim_end().to_owned());
                j += 1;
            }
            let end = lines.get(j).map(|l| l.0).unwrap_or(self.text.len());
            let source = dedent_by(self.text[start..end].trim_end(), indent);
            self.used.push((start, end));
            self.doctest(&stmt.join("\n"), &want, source, start);
            i = j.max(i + 1);
        }
    }

    fn doctest(&mut self, stmt: &str, want: &[String], source: String, at: usize) {
        // `>>> round(find_zero([1, 2]), 2) # f(x) = 1 + 2x`: the comment is not part of the example.
        let stripped: Vec<&str> = stmt.lines().map(|l| strip_comment(l).trim_end()).collect();
        let stmt = stripped.join("\n");
        let stmt = stmt.trim_end();
        if stmt.trim().is_empty() {
            return;
        }
        let prefix = |session: &[String], line: String| {
            if session.is_empty() {
                line
            } else {
                format!("{}\n{line}", session.join("\n"))
            }
        };
        if stmt.starts_with("assert ") && python::is_valid_python(stmt) {
            let code = prefix(&self.session, stmt.to_owned());
            self.found.push(Found { kind: CheckKind::Doctest, source, at, call: None, code });
            return;
        }
        if !python::is_expression(stmt) {
            // A statement (`x = Foo()`, `import math`) sets up the examples after it; one that imports or
            // defines the function under test would replace the answer, and is not carried.
            let names_function = self.signatures.iter().any(|s| {
                let tree = python::parse(stmt);
                python::descendants(tree.root_node())
                    .any(|n| n.kind() == "identifier" && python::text(n, stmt) == s.name)
                    && (stmt.starts_with("from ") || stmt.starts_with("import ") || stmt.starts_with("def "))
            });
            if want.is_empty() && python::is_valid_python(stmt) && !names_function {
                self.session.push(stmt.to_owned());
            }
            return;
        }
        if want.is_empty() {
            // `>>> f(x) == y` with nothing shown under it: the prompt states the comparison itself (HumanEval/108,
            // 128, 145, 156, 162 write their examples this way). Any other value it does not show checks nothing.
            if is_comparison(stmt) {
                let code = prefix(&self.session, format!("assert {stmt}"));
                self.found.push(Found { kind: CheckKind::Doctest, source, at, call: None, code });
            }
            return;
        }
        let shown = want.join("\n");
        let code = if want[0].starts_with("Traceback") {
            let last = want.iter().rev().find(|l| !l.trim().is_empty()).map(|l| l.trim()).unwrap_or("");
            let exc = last.split(':').next().unwrap_or("").rsplit('.').next().unwrap_or("").trim();
            if !is_identifier(exc) {
                return;
            }
            let body = stmt.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n");
            format!("try:\n{body}\nexcept {exc}:\n    pass\nelse:\n    raise AssertionError('expected {exc}')")
        } else if let Some(args) = stmt.strip_prefix("print(").and_then(|e| e.strip_suffix(')')) {
            if want.len() > 1 {
                return;
            }
            let literal = format!("'{}'", shown.replace('\\', "\\\\").replace('\'', "\\'"));
            format!("assert ' '.join(map(str, [{args}])) == {literal}")
        } else {
            let value = normalise_value(&shown);
            if !is_value(&value) {
                return; // printed output no value equals (`hello`, `<object at 0x…>`)
            }
            format!("assert ({stmt}) == ({value})")
        };
        let code = prefix(&self.session, code);
        if python::is_valid_python(&code) {
            self.found.push(Found { kind: CheckKind::Doctest, source, at, call: None, code });
        }
    }

    // -- assert lines ------------------------------------------------------------------------------------

    fn asserts(&mut self) {
        let b = self.text.as_bytes();
        for (start, line) in line_spans(self.text) {
            let t = line.trim_start();
            let indent = line.len() - t.len();
            if !(t.starts_with("assert ") || t.starts_with("assert(")) {
                continue;
            }
            let s = start + indent;
            // Through the brackets the statement opens, across lines.
            let mut end = s + t.trim_end().len();
            let mut i = s;
            while i < end.min(b.len()) {
                match b[i] {
                    b'\'' | b'"' => {
                        i = skip_string(b, i);
                        continue;
                    }
                    b'(' | b'[' | b'{' => {
                        if let Some(c) = match_close(self.text, i) {
                            if c > end {
                                end = self.text[c..].find('\n').map(|n| c + n).unwrap_or(self.text.len());
                            }
                            i = c;
                            continue;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            if self.is_used(s, end) {
                continue;
            }
            let code = self.text[s..end].trim_end().to_owned();
            // A test, not an invariant inside some code: it calls a function the prompt names (or, with no
            // signature at all, some function).
            let calls = crate::entry_point::calls(&code);
            let tests_something =
                if self.signatures.is_empty() { !calls.is_empty() } else { calls.iter().any(|c| self.known(&c.name)) };
            if python::is_valid_python(&code) && tests_something {
                self.used.push((s, end));
                self.found.push(Found { kind: CheckKind::Assert, source: code.clone(), at: s, call: None, code });
            }
        }
    }

    // -- Input: … Output: … --------------------------------------------------------------------------------

    fn input_output(&mut self) {
        let lines = line_spans(self.text);
        let program = self.entry.is_none() && reads_input(self.text);
        let mut i = 0;
        while i < lines.len() {
            let (start, line) = lines[i];
            let Some(first) = label_rest(line, &["sample input", "example input", "input"]) else {
                i += 1;
                continue;
            };
            // The input: the rest of the line and the lines up to "Output".
            let mut input = vec![first.to_owned()];
            let mut j = i + 1;
            let mut output: Option<(usize, String)> = None;
            while j < lines.len() && j < i + 60 {
                if let Some(rest) = label_rest(lines[j].1, &["sample output", "example output", "output"]) {
                    output = Some((j, rest.to_owned()));
                    break;
                }
                if label_rest(lines[j].1, &["sample input", "example input", "input"]).is_some() {
                    break;
                }
                input.push(lines[j].1.to_owned());
                j += 1;
            }
            let Some((oj, first_out)) = output else {
                i = j.max(i + 1);
                continue;
            };
            let mut out_lines = vec![first_out];
            let mut k = oj + 1;
            while k < lines.len() {
                let l = lines[k].1;
                let lt = l.trim();
                let stop = lt.is_empty()
                    || label_rest(l, &["explanation", "example", "input", "note", "constraints"]).is_some()
                    || lt.starts_with("\"\"\"")
                    || lt.starts_with("'''")
                    || lt.starts_with("```");
                if stop {
                    break;
                }
                out_lines.push(l.to_owned());
                k += 1;
            }
            let end = lines.get(k).map(|l| l.0).unwrap_or(self.text.len());
            let source = dedent_common(self.text[start..end].trim_end());
            let found = if program { stdio_check(&input, &out_lines) } else { self.io_check(&input, &out_lines) };
            if let Some((kind, call, code)) = found {
                self.used.push((start, end));
                self.found.push(Found { kind, source, at: start, call, code });
            }
            i = k.max(i + 1);
        }
    }

    /// An `Input:`/`Output:` pair as a call of the entry point.
    fn io_check(&self, input: &[String], output: &[String]) -> Option<Derived> {
        let sig = self.entry.as_ref()?;
        let input = input.iter().map(|l| l.trim()).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(", ");
        let args = bind(sig, &input)?;
        let out_text = output.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
        let out_text = strip_comment(&out_text);
        let value = leading_value(out_text)?;
        let code = example_code(&sig.name, &args, &value);
        Some((CheckKind::InputOutput, Some((sig.name.clone(), args, value)), code))
    }

    // -- "For a = …, b = … the output should be y" -----------------------------------------------------------

    fn bound_examples(&mut self) {
        let Some(sig) = self.entry.clone() else { return };
        if sig.params.is_empty() {
            return;
        }
        let lines = line_spans(self.text);
        for (li, &(start, line)) in lines.iter().enumerate() {
            let end = start + line.len();
            if self.is_used(start, end) || line.len() > MAX_SPAN {
                continue;
            }
            let lower = line.to_ascii_lowercase();
            // The last result phrase on the line: "the sum will be 1 the output should be "1"".
            let Some((p, phrase)) = RESULT_PHRASES
                .iter()
                .filter_map(|ph| lower.rfind(ph).map(|p| (p, *ph)))
                .filter(|(p, _)| line.is_char_boundary(*p))
                .max_by_key(|(p, ph)| (*p, ph.len()))
            else {
                self.binding_then_return(&sig, &lines, li);
                continue;
            };
            let (left, right) = (&line[..p], &line[p + phrase.len()..]);
            let Some(args) = bind_by_name(&sig, left) else { continue };
            let Some(value) = leading_value(strip_comment(right)) else { continue };
            let code = example_code(&sig.name, &args, &value);
            self.used.push((start, end));
            self.found.push(Found {
                kind: CheckKind::Example,
                source: line.trim().to_owned(),
                at: start,
                call: Some((sig.name.clone(), args, value)),
                code,
            });
        }
    }

    /// A line that only binds the parameters (`arr = [2, 1]`) and, before the next blank line, one that starts
    /// with `return` (`return ["Two", "One"]`, `return = ['One']`): HumanEval/105's way of showing examples.
    fn binding_then_return(&mut self, sig: &Signature, lines: &[(usize, &str)], li: usize) {
        let (start, line) = lines[li];
        let t = line.trim();
        let starts_with_param = sig
            .params
            .iter()
            .any(|(p, _)| t.strip_prefix(p.as_str()).is_some_and(|r| r.trim_start().starts_with(['=', ':'])));
        if !starts_with_param {
            return;
        }
        let Some(args) = bind_by_name(sig, t) else { return };
        for &(rs, r) in lines.iter().skip(li + 1).take(6) {
            let rt = r.trim();
            if rt.is_empty() {
                return;
            }
            let Some(rest) = strip_prefix_ci(rt, "returns").or_else(|| strip_prefix_ci(rt, "return")) else {
                continue;
            };
            let rest = rest.trim_start();
            let rest = rest.strip_prefix('=').filter(|r| !r.starts_with('=')).unwrap_or(rest);
            let Some(value) = leading_value(strip_comment(rest)) else { return };
            let end = rs + r.len();
            let code = example_code(&sig.name, &args, &value);
            self.used.push((start, end));
            self.found.push(Found {
                kind: CheckKind::Example,
                source: self.text[start..end].trim().to_owned(),
                at: start,
                call: Some((sig.name.clone(), args, value)),
                code,
            });
            return;
        }
    }

    // -- f(x) == y ---------------------------------------------------------------------------------------------

    fn call_examples(&mut self) {
        let text = self.text;
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if !(b[i].is_ascii_alphabetic() || b[i] == b'_')
                || i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b'.')
            {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let name = &text[start..i];
            let mut open = i;
            while open < b.len() && b[open] == b' ' {
                open += 1;
            }
            if open >= b.len() || b[open] != b'(' || is_keyword_or_builtin(name) || before_is_def(text, start) {
                continue;
            }
            let Some(close) = match_close(text, open) else { continue };
            let line_end = text[close..].find('\n').map(|n| close + n).unwrap_or(text.len());
            let rest = &text[close..line_end];
            let Some((sep_len, tail)) = separator(rest) else { continue };
            let _ = sep_len;
            // A result that opens a bracket runs through its close, across lines.
            let tail_start = line_end - tail.len();
            let tail_text = extend_brackets(text, tail_start, line_end);
            let tail_text = &tail_text[..python::floor_boundary(tail_text, MAX_SPAN)];
            let src_end = tail_start + tail_text.len();
            if self.is_used(start, src_end) {
                i = close;
                continue;
            }
            let args = text[open + 1..close - 1].to_owned();
            let Some((value, value_end)) = leading_value_span(strip_comment(tail_text)) else {
                i = close;
                continue;
            };
            // The example ends with its value: a second example later in the sentence is read on its own.
            let src_end = tail_start + value_end;
            if !args_are_values(&args) {
                i = close;
                continue;
            }
            let line_start = text[..start].rfind('\n').map(|n| n + 1).unwrap_or(0);
            let source = text[line_start..src_end].trim().to_owned();
            let code = example_code(name, &args, &value);
            self.used.push((start, src_end));
            self.found.push(Found {
                kind: CheckKind::Example,
                source,
                at: start,
                call: Some((name.to_owned(), args, value)),
                code,
            });
            i = src_end.max(close);
        }
    }

    // -- the final choices -------------------------------------------------------------------------------------

    fn finish(mut self) -> Checks {
        // The entry point: the prompt's stub, else the function its examples call most.
        let mut counts: HashMap<String, usize> = HashMap::new();
        for f in &self.found {
            for c in crate::entry_point::calls(&f.code) {
                if !is_keyword_or_builtin(&c.name) && !c.name.starts_with("test") && c.name != PROGRAM_OUTPUT {
                    *counts.entry(c.name).or_default() += 1;
                }
            }
        }
        let entry = self.entry.as_ref().map(|s| s.name.clone()).or_else(|| {
            counts.iter().max_by_key(|(n, c)| (**c, std::cmp::Reverse((*n).clone()))).map(|(n, _)| n.clone())
        });
        // Examples that call a name the prompt never defines, where no example calls the entry point, are
        // examples of it under another name (HumanEval/81 shows `grade_equation(…)` for
        // `numerical_letter_grade`); any other unknown callee is not this task's function.
        let calls_entry = entry.as_ref().is_some_and(|e| {
            self.found.iter().any(|f| crate::entry_point::calls(&f.code).iter().any(|c| &c.name == e))
        });
        let has_defs = !self.signatures.is_empty();
        let entry_sig = self.entry.clone();
        let mut found: Vec<Found> = Vec::new();
        for mut f in std::mem::take(&mut self.found) {
            if let Some((name, args, value)) = f.call.clone() {
                let known = self.known(&name) || !has_defs && entry.as_deref() == Some(name.as_str());
                if !known {
                    let arity = split_top(&args, b',').iter().filter(|a| !a.trim().is_empty()).count();
                    let rebind = !calls_entry && entry_sig.as_ref().is_some_and(|s| !s.prose && s.accepts(arity));
                    if !rebind {
                        continue;
                    }
                    let e = entry_sig.as_ref().map(|s| s.name.clone()).unwrap_or_default();
                    f.code = example_code(&e, &args, &value);
                    f.call = Some((e, args, value));
                }
            }
            found.push(f);
        }
        // The same call with two results: neither is trusted.
        let mut results: HashMap<(String, String), HashSet<String>> = HashMap::new();
        for f in &found {
            if let Some((n, a, v)) = &f.call {
                results.entry((n.clone(), a.split_whitespace().collect())).or_default().insert(v.clone());
            }
        }
        found.retain(|f| match &f.call {
            Some((n, a, _)) => results.get(&(n.clone(), a.split_whitespace().collect())).is_none_or(|v| v.len() == 1),
            None => true,
        });
        // Prose examples of one function whose results disagree in type: the kind shown last stays.
        let mut last_shape: HashMap<String, (usize, Shape)> = HashMap::new();
        for f in &found {
            if let Some((n, _, v)) = &f.call {
                let s = shape(v);
                if !matches!(s, Shape::None | Shape::Other) {
                    let e = last_shape.entry(n.clone()).or_insert((f.at, s));
                    if f.at >= e.0 {
                        *e = (f.at, s);
                    }
                }
            }
        }
        found.retain(|f| match &f.call {
            Some((n, _, v)) => {
                let s = shape(v);
                let keep = |want: Shape| {
                    s == want
                        || matches!(s, Shape::None | Shape::Other)
                        || (s == Shape::Number) && want == Shape::Number
                };
                last_shape.get(n).is_none_or(|(_, want)| keep(*want))
            }
            None => true,
        });
        found.sort_by_key(|f| f.at);
        let mut seen = HashSet::new();
        let items: Vec<CheckItem> = found
            .into_iter()
            .filter(|f| python::is_valid_python(&f.code) && seen.insert(f.code.clone()))
            .map(|f| CheckItem { kind: f.kind, source: f.source, code: f.code })
            .collect();
        let entry = if items.iter().any(|i| i.kind == CheckKind::Stdio) {
            None
        } else {
            entry.or_else(|| {
                let codes: Vec<String> = items.iter().map(|i| i.code.clone()).collect();
                crate::entry_point::derive_entry_point(&codes, None).ok().map(|e| e.name)
            })
        };
        Checks {
            prelude: prelude(self.text, entry.as_deref()),
            stub: entry.as_deref().map(|e| stub(self.text, e)).unwrap_or_default(),
            entry_point: entry,
            setup: String::new(),
            items,
        }
    }
}

/// `(start byte, line without its newline)` for every line.
fn line_spans(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for l in text.split_inclusive('\n') {
        out.push((offset, l.strip_suffix('\n').unwrap_or(l)));
        offset += l.len();
    }
    out
}

/// The rest of a line that starts with one of `labels` ("Input:", "  Example 1 Input -", "Output"), lowercase.
fn label_rest<'l>(line: &'l str, labels: &[&str]) -> Option<&'l str> {
    let t = line.trim_start().trim_start_matches(['*', '-', '•', '#', ' ']);
    let lower = t.to_ascii_lowercase();
    for l in labels {
        if lower.starts_with(l) {
            let rest = &t[l.len()..];
            let r = rest.trim_start();
            // "Input:" and "Input" alone; "Inputs:" too; never "input is a list …" (prose).
            let r = r.strip_prefix('s').unwrap_or(r);
            let r = r.trim_start();
            if let Some(r) = r.strip_prefix(':').or_else(|| r.strip_prefix('-')) {
                return Some(r);
            }
            if r.is_empty() {
                return Some(r);
            }
        }
    }
    None
}

/// Whether a prompt without a function describes a program that reads its input.
fn reads_input(text: &str) -> bool {
    let lower = text.to_lowercase();
    [
        "standard input",
        "stdin",
        "input()",
        "reads from the input",
        "first line contains",
        "first line of input",
        "read from input",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// An `Input`/`Output` pair of a program: its stdin and the stdout it must print.
fn stdio_check(input: &[String], output: &[String]) -> Option<Derived> {
    let block = |lines: &[String]| {
        let lines: Vec<&str> = lines.iter().map(|l| l.trim()).collect();
        let text = lines.join("\n");
        text.trim_matches('\n').to_owned()
    };
    let stdin = block(input);
    let stdout = block(output);
    if stdout.is_empty() {
        return None;
    }
    let code = format!("assert {PROGRAM_OUTPUT}({}) == {}", py_str(&format!("{stdin}\n")), py_str(&stdout));
    Some((CheckKind::Stdio, None, code))
}

/// A Python string literal for any text.
pub fn py_str(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The text before a `#` comment (outside strings).
fn strip_comment(s: &str) -> &str {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' => {
                i = skip_string(b, i);
                continue;
            }
            b'#' => return &s[..i],
            _ => {}
        }
        i += 1;
    }
    s
}

/// The arguments an input binds, in the function's parameter order (`arr = [1], k = 3`, `grid : [[0]]`, or
/// values by position), as call text.
fn bind(sig: &Signature, input: &str) -> Option<String> {
    if let Some(named) = bind_by_name(sig, input) {
        return Some(named);
    }
    // `name : value` pairs under other names (`bucket_capacity : 1` for `capacity`): by position.
    let parts: Vec<&str> = split_top(input, b',').into_iter().map(str::trim).filter(|p| !p.is_empty()).collect();
    let values: Vec<String> = parts
        .iter()
        .map(|p| match find_top(p, b':').or_else(|| find_top(p, b'=')) {
            Some(i) if is_identifier(p[..i].trim()) => normalise_value(&p[i + 1..]),
            _ => normalise_value(p),
        })
        .collect();
    if sig.accepts(values.len()) && values.iter().all(|v| is_value(v)) {
        return Some(values.join(", "));
    }
    // One parameter and a value with commas of its own at the top (`1, 2, 3` for a list) is ambiguous.
    let whole = normalise_value(input);
    (sig.params.len() == 1 && parts.len() == 1 && is_value(&whole)).then_some(whole)
}

/// Arguments bound by parameter name in prose: `For lst = [1, 2] and k = 3`, `s = "abc", c = "b"`.
fn bind_by_name(sig: &Signature, text: &str) -> Option<String> {
    let mut values: Vec<Option<String>> = vec![None; sig.params.len()];
    let b = text.as_bytes();
    for (pi, (name, _)) in sig.params.iter().enumerate() {
        let mut from = 0;
        while let Some(p) = text[from..].find(name.as_str()) {
            let s = from + p;
            from = s + name.len();
            let before_ok = s == 0 || !(b[s - 1].is_ascii_alphanumeric() || b[s - 1] == b'_');
            let mut j = s + name.len();
            if !before_ok || j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                continue;
            }
            while j < b.len() && b[j] == b' ' {
                j += 1;
            }
            if j >= b.len() || !matches!(b[j], b'=' | b':') || b.get(j + 1) == Some(&b'=') {
                continue;
            }
            let rest = &text[j + 1..];
            // The value runs to the next top-level comma, or to where prose starts.
            let piece = split_top(rest, b',').into_iter().next().unwrap_or("");
            let v = normalise_value(piece);
            let v = if is_value(&v) { Some(v) } else { leading_value(piece) };
            if let Some(v) = v {
                values[pi] = Some(v);
                break;
            }
        }
    }
    let bound = values.iter().filter(|v| v.is_some()).count();
    // Every parameter without a default is bound, in order; defaults only as a tail.
    let mut args = Vec::new();
    for (v, (_, default)) in values.iter().zip(&sig.params) {
        match v {
            Some(v) => args.push(v.clone()),
            None if *default => break,
            None => return None,
        }
    }
    (bound == args.len() && !args.is_empty()).then(|| args.join(", "))
}

/// Whether a call's arguments are values (positional, or `name=value`), so the example is a concrete call.
fn args_are_values(args: &str) -> bool {
    args.trim().is_empty()
        || split_top(args, b',').iter().enumerate().all(|(i, a)| {
            let a = a.trim();
            match find_top(a, b'=') {
                Some(eq) => is_identifier(a[..eq].trim()) && is_value(&a[eq + 1..]),
                // `f(1, 2,)`: a trailing comma is fine.
                None => is_value(a) || a.is_empty() && i > 0,
            }
        })
}

/// `assert f(args) == value`; a float compares within a tolerance.
fn example_code(name: &str, args: &str, value: &str) -> String {
    let call = format!("{name}({})", args.trim());
    if shape(value) == Shape::Number && value.contains('.') && !value.contains(['[', '(']) {
        return format!("assert abs({call} - ({value})) < 1e-6");
    }
    if value == "None" {
        return format!("assert {call} is None");
    }
    format!("assert {call} == {value}")
}

/// The separator after a call (`== y`, `➞ y`, `# returns y`, "should return y"): its length and the text after.
fn separator(rest: &str) -> Option<(usize, &str)> {
    // Markdown's inline code around the call and the result: "`f(2)` returns `4`".
    let t = rest.trim_start().trim_start_matches('`').trim_start();
    if let Some(c) = t.strip_prefix('#') {
        let c = c.trim_start();
        for w in ["returns", "return", "=>", "->", "→", "==", "=", "output:", "result:", "gives"] {
            if let Some(after) = strip_prefix_ci(c, w) {
                return Some((rest.len() - after.len(), after));
            }
        }
        // A bare `# 9` only when the comment is exactly a value.
        return is_value(&normalise_value(c)).then_some((rest.len() - c.len(), c));
    }
    for a in ARROWS {
        if let Some(after) = t.strip_prefix(a) {
            return Some((rest.len() - after.len(), after));
        }
    }
    for w in WORDS {
        if let Some(after) = strip_prefix_ci(t, w) {
            if after.starts_with([' ', ':', '\t']) {
                return Some((rest.len() - after.len(), after));
            }
        }
    }
    None
}

fn strip_prefix_ci<'s>(s: &'s str, p: &str) -> Option<&'s str> {
    (s.len() >= p.len() && s.is_char_boundary(p.len()) && s[..p.len()].eq_ignore_ascii_case(p)).then(|| &s[p.len()..])
}

/// The text from `from` to the line's end, extended through any bracket it leaves open (a multi-line value).
fn extend_brackets(text: &str, from: usize, line_end: usize) -> &str {
    let b = text.as_bytes();
    let mut end = line_end;
    let mut i = from;
    while i < end {
        match b[i] {
            b'\'' | b'"' => {
                i = skip_string(b, i);
                continue;
            }
            b'(' | b'[' | b'{' => {
                if let Some(c) = match_close(text, i) {
                    if c > end {
                        end = text[c..].find('\n').map(|n| c + n).unwrap_or(text.len());
                    }
                    i = c;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    &text[from..end]
}

fn before_is_def(text: &str, start: usize) -> bool {
    let before = text[..start].trim_end_matches([' ', '\t']);
    // `obj.f(…)` is a method; a full stop then a space ends a sentence ("f(2) -> 4. f(0) -> 0.").
    let method = before.len() == start && before.ends_with('.');
    before.ends_with("def") || before.ends_with("class") || before.ends_with("function") || method
}

/// Keywords, and builtins an example wraps around the call (`print(f(x))`, `sorted(f(x))`): never an example's
/// function.
fn is_keyword_or_builtin(name: &str) -> bool {
    const SKIP: &[&str] = &[
        "print",
        "assert",
        "if",
        "for",
        "while",
        "return",
        "def",
        "class",
        "lambda",
        "and",
        "or",
        "not",
        "in",
        "is",
        "len",
        "sorted",
        "set",
        "list",
        "tuple",
        "dict",
        "str",
        "int",
        "float",
        "abs",
        "sum",
        "max",
        "min",
        "range",
        "isinstance",
        "type",
        "round",
        "bool",
        "map",
        "filter",
        "zip",
        "enumerate",
        "all",
        "any",
        "repr",
        "chr",
        "ord",
        "input",
        "open",
        "super",
        "frozenset",
        "reversed",
        "math",
        "with",
        "elif",
        "else",
        "except",
        "yield",
        "raise",
        "import",
        "from",
        "e",
        "i",
        "eg",
        "ie",
    ];
    SKIP.contains(&name)
}

#[cfg(test)]
mod tests;
