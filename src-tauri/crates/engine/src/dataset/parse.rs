//! Parsing dataset files into tasks. Every problem is reported as `file:line: problem` and aborts the whole file:
//! the caller imports either every task or none.

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::Path;

use super::{DatasetError, Format};
use complexitynet_verify::entry_point::{derive_entry_point, named_entry_point};
use complexitynet_verify::python;
use complexitynet_verify::Task;

type Obj = Map<String, Value>;

struct Ctx<'a> {
    file: &'a Path,
    line: usize,
}

impl Ctx<'_> {
    fn err(&self, problem: impl Into<String>) -> DatasetError {
        DatasetError::Malformed { file: self.file.to_owned(), line: self.line, problem: problem.into() }
    }

    fn string(&self, obj: &Obj, key: &str) -> Result<String, DatasetError> {
        match obj.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(self.err(format!("field {key:?} must be a string, found {}", kind(other)))),
            None => Err(self.err(format!("missing field {key:?}"))),
        }
    }

    fn opt_string(&self, obj: &Obj, key: &str) -> Result<Option<String>, DatasetError> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.string(obj, key).map(Some),
        }
    }

    /// A task id may be a JSON string or integer (MBPP uses integers).
    fn id(&self, obj: &Obj, key: &str) -> Result<String, DatasetError> {
        match obj.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
            Some(Value::String(_)) => Err(self.err(format!("field {key:?} is empty"))),
            Some(other) => Err(self.err(format!("field {key:?} must be a string or integer, found {}", kind(other)))),
            None => Err(self.err(format!("missing field {key:?}"))),
        }
    }

    fn string_list(&self, obj: &Obj, key: &str, required: bool) -> Result<Vec<String>, DatasetError> {
        match obj.get(key) {
            None | Some(Value::Null) if !required => Ok(Vec::new()),
            None => Err(self.err(format!("missing field {key:?}"))),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(self.err(format!("{key}[{i}] must be a string, found {}", kind(other)))),
                })
                .collect(),
            Some(other) => Err(self.err(format!("field {key:?} must be a list of strings, found {}", kind(other)))),
        }
    }

    /// Checks a list of asserts: non-empty when required, each one an `assert` statement.
    fn asserts(&self, key: &str, tests: Vec<String>, required: bool) -> Result<Vec<String>, DatasetError> {
        let tests: Vec<String> = tests.into_iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
        if required && tests.is_empty() {
            return Err(self.err(format!("{key} is empty: a task needs at least one assert statement")));
        }
        for (i, t) in tests.iter().enumerate() {
            if !(t.starts_with("assert ") || t.starts_with("assert(")) {
                let first = t.lines().next().unwrap_or_default();
                return Err(self.err(format!("{key}[{i}] is not an assert statement: {first:?}")));
            }
        }
        Ok(tests)
    }

    fn entry_point(&self, asserts: &[String], reference: Option<&str>) -> Result<super::EntryPoint, DatasetError> {
        derive_entry_point(asserts, reference)
            .map_err(|e| self.err(format!("cannot tell which function the asserts test: {e}")))
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Reads and parses a dataset file; `format` None means detect it from the extension and the first record.
pub fn parse_file(file: &Path, format: Option<Format>) -> Result<(Format, Vec<Task>), DatasetError> {
    let bytes = std::fs::read(file).map_err(|source| DatasetError::Unreadable { file: file.to_owned(), source })?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            return Err(DatasetError::Malformed {
                file: file.to_owned(),
                line,
                problem: "the file is not valid UTF-8".into(),
            });
        }
    };
    let format = match format {
        Some(f) => f,
        None => detect_format(file, &text)?,
    };
    let tasks = parse_str(file, &text, format)?;
    Ok((format, tasks))
}

/// Guesses the format: `.csv` by extension, JSONL by the keys of the first record.
pub fn detect_format(file: &Path, text: &str) -> Result<Format, DatasetError> {
    let unknown = |why: &str| DatasetError::UnknownFormat { file: file.to_owned(), why: why.to_owned() };
    if file.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
        return Ok(Format::Csv);
    }
    let Some((line_no, first)) = text.lines().enumerate().find(|(_, l)| !l.trim().is_empty()) else {
        return Err(DatasetError::Empty { file: file.to_owned() });
    };
    let first = first.trim_start_matches('\u{feff}');
    let value: Value = serde_json::from_str(first).map_err(|e| DatasetError::Malformed {
        file: file.to_owned(),
        line: line_no + 1,
        problem: format!("invalid JSON: {e}"),
    })?;
    let obj = value.as_object().ok_or_else(|| unknown("the first line is not a JSON object"))?;
    if obj.contains_key("test_list") && obj.contains_key("text") {
        Ok(Format::Mbpp)
    } else if obj.contains_key("canonical_solution") || obj.contains_key("entry_point") {
        Ok(Format::Humaneval)
    } else if obj.contains_key("tests") {
        Ok(Format::Jsonl)
    } else {
        Err(unknown("the first record has none of the keys test_list, canonical_solution or tests"))
    }
}

/// Parses file content in a known format. `file` only names the source in errors.
pub fn parse_str(file: &Path, text: &str, format: Format) -> Result<Vec<Task>, DatasetError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut tasks = match format {
        Format::Csv => parse_csv(file, text)?,
        _ => {
            let mut tasks = Vec::new();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let ctx = Ctx { file, line: i + 1 };
                let value: Value = serde_json::from_str(line).map_err(|e| ctx.err(format!("invalid JSON: {e}")))?;
                let Value::Object(obj) = value else {
                    return Err(ctx.err(format!("expected a JSON object, found {}", kind(&value))));
                };
                let task = match format {
                    Format::Mbpp => mbpp(&ctx, &obj)?,
                    Format::Humaneval => humaneval(&ctx, &obj)?,
                    _ => plain(&ctx, &obj)?,
                };
                tasks.push((i + 1, task));
            }
            tasks
        }
    };
    if tasks.is_empty() {
        return Err(DatasetError::Empty { file: file.to_owned() });
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (line, t) in &tasks {
        if let Some(first) = seen.insert(t.task_id.clone(), *line) {
            return Err(DatasetError::Malformed {
                file: file.to_owned(),
                line: *line,
                problem: format!("duplicate task id {:?} (first seen on line {first})", t.task_id),
            });
        }
    }
    Ok(tasks.drain(..).map(|(_, t)| t).collect())
}

fn mbpp(ctx: &Ctx, obj: &Obj) -> Result<Task, DatasetError> {
    let task_id = ctx.id(obj, "task_id")?;
    let prompt = ctx.string(obj, "text")?;
    let reference = ctx.string(obj, "code")?;
    let setup = ctx.opt_string(obj, "test_setup_code")?.unwrap_or_default();
    let asserts = ctx.asserts("test_list", ctx.string_list(obj, "test_list", true)?, true)?;
    let challenge = ctx.asserts("challenge_test_list", ctx.string_list(obj, "challenge_test_list", false)?, false)?;
    let entry_point = ctx.entry_point(&asserts, Some(&reference))?;
    Ok(Task { task_id, prompt, reference: Some(reference), setup, asserts, challenge_asserts: challenge, entry_point })
}

fn plain(ctx: &Ctx, obj: &Obj) -> Result<Task, DatasetError> {
    let task_id = ctx.id(obj, "id")?;
    let prompt = ctx.string(obj, "prompt")?;
    if prompt.trim().is_empty() {
        return Err(ctx.err("field \"prompt\" is empty"));
    }
    let reference = ctx.opt_string(obj, "solution")?;
    let setup = ctx.opt_string(obj, "setup")?.unwrap_or_default();
    let asserts = ctx.asserts("tests", ctx.string_list(obj, "tests", true)?, true)?;
    let entry_point = ctx.entry_point(&asserts, reference.as_deref())?;
    Ok(Task { task_id, prompt, reference, setup, asserts, challenge_asserts: Vec::new(), entry_point })
}

/// HumanEval keeps its checks in `def check(candidate): assert candidate(…) == …`. When every top-level
/// statement of `check` is an assert, those become the task's asserts (with `candidate` → the entry point), so
/// partial credit is counted per assert as for MBPP. Otherwise (loops, locals inside `check`) the whole test
/// becomes setup code and the single assert `assert check(ENTRY) is None` runs it: correct, only coarser.
fn humaneval(ctx: &Ctx, obj: &Obj) -> Result<Task, DatasetError> {
    let task_id = ctx.id(obj, "task_id")?;
    let prompt = ctx.string(obj, "prompt")?;
    let solution = ctx.string(obj, "canonical_solution")?;
    let test = ctx.string(obj, "test")?;
    let entry = ctx.string(obj, "entry_point")?;
    if entry.trim().is_empty() {
        return Err(ctx.err("field \"entry_point\" is empty"));
    }
    let entry_point = named_entry_point(entry.trim(), &prompt);
    let (setup, asserts) = match split_check(&test) {
        Some(CheckBody { outside, statements, all_asserts: true }) => {
            let asserts = statements.iter().map(|s| python::rename(s, "candidate", &entry_point.name)).collect();
            (outside, asserts)
        }
        Some(_) => (test.clone(), vec![format!("assert check({}) is None", entry_point.name)]),
        None => return Err(ctx.err("field \"test\" has no `def check(candidate):` function")),
    };
    let asserts = ctx.asserts("test", asserts, true)?;
    Ok(Task {
        task_id,
        reference: Some(format!("{prompt}{solution}")),
        prompt,
        setup,
        asserts,
        challenge_asserts: Vec::new(),
        entry_point,
    })
}

/// HumanEval's test code split at its `check` function.
struct CheckBody {
    /// The code outside `check` (constants, helpers), run as setup.
    outside: String,
    /// The top-level statements of `check`'s body, each as written (a multi-line one keeps its lines).
    statements: Vec<String>,
    /// Every one of them is an `assert`.
    all_asserts: bool,
}

/// Splits HumanEval test code at `def check(…)` with a Python parser: statements are what Python says they are,
/// so a string literal holding unbalanced brackets (`assert not candidate("((()())))")`) is one statement, not
/// the start of a longer one.
fn split_check(test: &str) -> Option<CheckBody> {
    let tree = python::parse(test);
    let tops = python::top_level(&tree);
    let check = tops.iter().find(|n| {
        n.kind() == "function_definition"
            && n.child_by_field_name("name").is_some_and(|name| python::text(name, test) == "check")
    })?;
    let body = check.child_by_field_name("body")?;
    let mut cursor = body.walk();
    let stmts: Vec<_> = body.named_children(&mut cursor).filter(|n| n.kind() != "comment").collect();
    let statements: Vec<String> = stmts.iter().map(|n| python::text(*n, test).trim().to_owned()).collect();
    let all_asserts = !stmts.is_empty() && stmts.iter().all(|n| n.kind() == "assert_statement" && !n.has_error());
    let outside = format!(
        "{}\n{}",
        python::span(test, 0, check.start_byte()).trim(),
        python::span(test, check.end_byte(), test.len()).trim()
    );
    Some(CheckBody { outside: outside.trim().to_owned(), statements, all_asserts })
}

fn parse_csv(file: &Path, text: &str) -> Result<Vec<(usize, Task)>, DatasetError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let header_err = |problem: String| DatasetError::Malformed { file: file.to_owned(), line: 1, problem };
    let headers = reader.headers().map_err(|e| header_err(format!("invalid CSV header: {e}")))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let (Some(id_col), Some(prompt_col), Some(tests_col)) = (col("id"), col("prompt"), col("tests")) else {
        return Err(header_err(format!(
            "the header must have the columns id, prompt and tests (found: {})",
            headers.iter().collect::<Vec<_>>().join(", ")
        )));
    };
    let (solution_col, setup_col) = (col("solution"), col("setup"));
    let mut tasks = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
            DatasetError::Malformed { file: file.to_owned(), line, problem: format!("invalid CSV: {e}") }
        })?;
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        let ctx = Ctx { file, line };
        let get = |i: Option<usize>| i.and_then(|i| record.get(i)).map(str::to_owned).filter(|s| !s.is_empty());
        let task_id = get(Some(id_col)).map(|s| s.trim().to_owned()).ok_or_else(|| ctx.err("the id is empty"))?;
        let prompt = get(Some(prompt_col)).ok_or_else(|| ctx.err("the prompt is empty"))?;
        let raw_tests = get(Some(tests_col)).unwrap_or_default();
        // A JSON array keeps multi-line asserts intact; otherwise one assert per line, as users type them.
        let tests: Vec<String> = if raw_tests.trim_start().starts_with('[') {
            serde_json::from_str(&raw_tests)
                .map_err(|e| ctx.err(format!("tests is not a JSON list of strings: {e}")))?
        } else {
            raw_tests.lines().map(str::to_owned).collect()
        };
        let asserts = ctx.asserts("tests", tests, true)?;
        let reference = get(solution_col);
        let entry_point = ctx.entry_point(&asserts, reference.as_deref())?;
        tasks.push((
            line,
            Task {
                task_id,
                prompt,
                reference,
                setup: get(setup_col).unwrap_or_default(),
                asserts,
                challenge_asserts: Vec::new(),
                entry_point,
            },
        ));
    }
    Ok(tasks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, format: Format) -> Result<Vec<Task>, DatasetError> {
        parse_str(Path::new("t.jsonl"), text, format)
    }

    fn problem(r: Result<Vec<Task>, DatasetError>) -> (usize, String) {
        match r {
            Err(DatasetError::Malformed { line, problem, .. }) => (line, problem),
            other => panic!("expected a malformed-line error, got {other:?}"),
        }
    }

    const MBPP_LINE: &str = r#"{"text": "Write a function to find the similar elements from the given two tuple lists.", "code": "def similar_elements(test_tup1, test_tup2):\r\n  res = tuple(set(test_tup1) & set(test_tup2))\r\n  return (res) ", "task_id": 2, "test_setup_code": "", "test_list": ["assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)", "assert similar_elements((1, 2, 3, 4),(5, 4, 3, 7)) == (3, 4)", "assert similar_elements((11, 12, 14, 13),(17, 15, 14, 13)) == (13, 14)"], "challenge_test_list": []}"#;

    #[test]
    fn an_mbpp_line_becomes_a_task_with_its_three_asserts() {
        let tasks = parse(MBPP_LINE, Format::Mbpp).unwrap();
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].task_id, "2");
        assert_eq!(tasks[0].asserts.len(), 3);
        assert_eq!(tasks[0].entry_point.name, "similar_elements");
    }

    #[test]
    fn bad_json_is_reported_with_its_line() {
        let text = format!("{MBPP_LINE}\n\n{{\"text\": oops}}\n");
        let (line, p) = problem(parse(&text, Format::Mbpp));
        assert_eq!(line, 3);
        assert!(p.starts_with("invalid JSON"), "{p}");
    }

    #[test]
    fn a_missing_field_is_named() {
        let (line, p) = problem(parse(r#"{"id": 1, "tests": ["assert f(1) == 1"]}"#, Format::Jsonl));
        assert_eq!(line, 1);
        assert_eq!(p, "missing field \"prompt\"");
    }

    #[test]
    fn an_empty_test_list_is_rejected() {
        let (_, p) = problem(parse(r#"{"id": "a", "prompt": "p", "tests": []}"#, Format::Jsonl));
        assert!(p.contains("tests is empty"), "{p}");
    }

    #[test]
    fn a_test_that_is_not_an_assert_is_rejected() {
        let (_, p) = problem(parse(r#"{"id": "a", "prompt": "p", "tests": ["print(f(1))"]}"#, Format::Jsonl));
        assert!(p.contains("is not an assert statement"), "{p}");
    }

    #[test]
    fn duplicate_ids_name_both_lines() {
        let line = r#"{"id": "a", "prompt": "p", "tests": ["assert f(1) == 1"]}"#;
        let (l, p) = problem(parse(&format!("{line}\n{line}\n"), Format::Jsonl));
        assert_eq!(l, 2);
        assert!(p.contains("duplicate task id \"a\" (first seen on line 1)"), "{p}");
    }

    #[test]
    fn csv_accepts_one_assert_per_line_or_a_json_list() {
        let csv = "id,prompt,tests\nt1,Add two numbers,\"assert add(1, 2) == 3\nassert add(0, 0) == 0\"\nt2,Negate,\"[\"\"assert neg(1) == -1\"\"]\"\n";
        let tasks = parse_str(Path::new("x.csv"), csv, Format::Csv).unwrap();
        assert_eq!(tasks.len(), 2);
        assert_eq!(tasks[0].asserts.len(), 2);
        assert_eq!(tasks[1].entry_point.name, "neg");
    }

    #[test]
    fn csv_errors_name_the_line_the_record_starts_on() {
        let csv = "id,prompt,tests\nt1,ok,assert f(1) == 1\nt2,,assert f(2) == 2\n";
        let err = parse_str(Path::new("x.csv"), csv, Format::Csv).unwrap_err();
        assert_eq!(err.to_string(), "x.csv:3: the prompt is empty");
        let err = parse_str(Path::new("x.csv"), "name,prompt\n", Format::Csv).unwrap_err();
        assert!(err.to_string().starts_with("x.csv:1: the header must have"), "{err}");
    }

    #[test]
    fn humaneval_asserts_are_lifted_out_of_check() {
        let line = serde_json::json!({
            "task_id": "HumanEval/0",
            "prompt": "def add(a: int, b: int) -> int:\n    \"\"\"Add.\"\"\"\n",
            "canonical_solution": "    return a + b\n",
            "test": "\n\nMETADATA = {}\n\n\ndef check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(\n        0, 0) == 0\n",
            "entry_point": "add"
        });
        let tasks = parse(&line.to_string(), Format::Humaneval).unwrap();
        assert_eq!(tasks[0].asserts, vec!["assert add(1, 2) == 3", "assert add(\n        0, 0) == 0"]);
        assert_eq!(tasks[0].setup, "METADATA = {}");
        assert_eq!(tasks[0].entry_point.signature, "add(a: int, b: int)");
    }

    #[test]
    fn humaneval_asserts_holding_unbalanced_brackets_in_strings_stay_whole() {
        // HumanEval/61, 119 and 132: counting brackets joined the next assert into this one.
        let line = serde_json::json!({
            "task_id": "HumanEval/61", "prompt": "def correct_bracketing(brackets: str):\n", "canonical_solution": "    return True\n",
            "test": "\n\nMETADATA = {}\n\n\ndef check(candidate):\n    assert candidate(\"()\")\n    assert not candidate(\"((()())))\")\n    assert not candidate(\")(()\")\n\n",
            "entry_point": "correct_bracketing"
        });
        let tasks = parse(&line.to_string(), Format::Humaneval).unwrap();
        assert_eq!(
            tasks[0].asserts,
            vec![
                "assert correct_bracketing(\"()\")",
                "assert not correct_bracketing(\"((()())))\")",
                "assert not correct_bracketing(\")(()\")"
            ]
        );
    }

    #[test]
    fn humaneval_checks_with_loops_run_whole() {
        let line = serde_json::json!({
            "task_id": "HumanEval/9", "prompt": "def f(x):\n", "canonical_solution": "    return x\n",
            "test": "def check(candidate):\n    for x in range(3):\n        assert candidate(x) == x\n",
            "entry_point": "f"
        });
        let tasks = parse(&line.to_string(), Format::Humaneval).unwrap();
        assert_eq!(tasks[0].asserts, vec!["assert check(f) is None"]);
        assert!(tasks[0].setup.contains("def check(candidate)"));
    }

    #[test]
    fn the_format_is_detected_from_the_first_record() {
        assert_eq!(detect_format(Path::new("a.jsonl"), MBPP_LINE).unwrap(), Format::Mbpp);
        assert_eq!(detect_format(Path::new("a.jsonl"), r#"{"id":1,"tests":[]}"#).unwrap(), Format::Jsonl);
        assert_eq!(detect_format(Path::new("a.CSV"), "").unwrap(), Format::Csv);
        assert!(matches!(detect_format(Path::new("a.jsonl"), "{\"x\":1}"), Err(DatasetError::UnknownFormat { .. })));
    }
}
