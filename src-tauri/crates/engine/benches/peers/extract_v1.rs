//! The extractor before tree-sitter (commit 9e4db77), kept only as the peer of `benches/extract.rs`.

//! Answer → code: the runnable Python inside a raw model answer.
//!
//! Handled shapes: Markdown fences (any or no language tag; non-Python blocks such as `bash` or `text` are
//! skipped; an unclosed fence runs to the end), prose before, between and after the code, several blocks
//! (kept when they define something — functions, classes, imports, assignments — and dropped when they only
//! use the code), Code Llama's `[PYTHON]…[/PYTHON]` tags (a `[TESTS]` section is ignored), `>>>` REPL
//! transcripts (prompts kept, printed results dropped) and a uniformly indented answer.
//!
//! **Usage code at top level is removed, by decision:** the answer's own `assert` statements, bare calls of the
//! entry point, `print(…)` and `input(…)` statements, and `if __name__ == "__main__":` blocks. A model's own
//! example or test with a wrong expected value (or one that waits for stdin) must not crash a correct answer,
//! and removing usage code can never make a wrong answer pass: only the task's asserts decide. Other top-level
//! statements (`sys.setrecursionlimit(…)`, `memo = {}`, `result = f(3)`) are kept, since the solution may
//! depend on them.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extracted {
    pub code: String,
    /// What was done to the answer, for the UI's "extracted code" view.
    pub notes: Vec<String>,
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

/// Extracts runnable code from a model answer. `entry` is the task's function name, when known.
pub fn extract_code(answer: &str, entry: Option<&str>) -> Extracted {
    let mut notes = Vec::new();
    let text = answer.replace("\r\n", "\n");
    let blocks: Vec<String> = if text.contains("[PYTHON]") {
        notes.push("took the code between [PYTHON] tags".into());
        tagged_blocks(&text)
    } else if let Some(blocks) = fenced_blocks(&text) {
        notes.push(format!("took {} fenced code block(s)", blocks.len()));
        blocks
    } else {
        vec![text.clone()]
    };

    let blocks: Vec<String> = blocks
        .into_iter()
        .map(|b| {
            if b.lines().any(|l| l.trim_start().starts_with(">>>")) {
                notes.push("converted a >>> transcript".into());
                repl_to_code(&b)
            } else {
                strip_prose(&b, &mut notes)
            }
        })
        .map(|b| dedent(&b))
        .collect();

    // Several blocks: keep those that define something; a block of calls/prints/asserts only shows usage.
    let kept: Vec<&String> = if blocks.len() > 1 {
        let defining: Vec<&String> = blocks.iter().filter(|b| defines_something(b)).collect();
        if defining.len() < blocks.len() {
            notes.push(format!("dropped {} usage-only block(s)", blocks.len() - defining.len()));
        }
        if defining.is_empty() {
            blocks.iter().collect()
        } else {
            defining
        }
    } else {
        blocks.iter().collect()
    };
    let joined = kept.iter().map(|b| b.trim_matches('\n')).collect::<Vec<_>>().join("\n\n");
    let code = drop_usage(&joined, entry, &mut notes);
    let code = code.trim_matches('\n').to_owned();
    Extracted { code: if code.is_empty() { code } else { code + "\n" }, notes }
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

/// Markdown fenced blocks that hold Python, or None when the answer has no fences at all.
fn fenced_blocks(text: &str) -> Option<Vec<String>> {
    let mut all: Vec<(String, String)> = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in text.lines() {
        let t = line.trim_start();
        let fence = t.starts_with("```") && line.len() - t.len() <= 3;
        match (&mut current, fence) {
            (None, true) => current = Some((t.trim_start_matches('`').trim().to_ascii_lowercase(), Vec::new())),
            (Some(_), true) => {
                let (tag, lines) = current.take().expect("inside a block");
                all.push((tag, lines.join("\n")));
            }
            (Some((_, lines)), false) => lines.push(line),
            (None, false) => {}
        }
    }
    if let Some((tag, lines)) = current {
        all.push((tag, lines.join("\n"))); // an unclosed fence (a truncated answer) runs to the end
    }
    if all.is_empty() {
        return None;
    }
    let python: Vec<String> = all
        .iter()
        .filter(|(tag, _)| PYTHON_TAGS.contains(&tag.split_whitespace().next().unwrap_or("")))
        .map(|(_, b)| b.clone())
        .collect();
    Some(if python.is_empty() { all.into_iter().map(|(_, b)| b).collect() } else { python })
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

/// Drops prose lines: before the first code line, after the last, and unindented prose lines in between.
fn strip_prose(block: &str, notes: &mut Vec<String>) -> String {
    let lines: Vec<&str> = block.lines().collect();
    let mut kept = Vec::with_capacity(lines.len());
    let mut dropped = 0;
    let mut in_string: Option<&str> = None; // inside a top-level triple-quoted string: keep verbatim
    let mut depth: i32 = 0;
    for line in &lines {
        let indented = line.starts_with([' ', '\t']);
        let keep = in_string.is_some() || depth > 0 || indented || looks_like_code(line);
        if keep {
            kept.push(*line);
            update_state(line, &mut in_string, &mut depth);
        } else {
            dropped += 1;
        }
    }
    // Indented lines after a dropped prose line can still be prose (a wrapped paragraph or an indented output
    // listing) only when nothing before them opened a block; such leftovers fail to compile and are reported.
    while kept.last().is_some_and(|l| l.trim().is_empty()) {
        kept.pop();
    }
    if dropped > 0 {
        notes.push(format!("dropped {dropped} line(s) of prose"));
    }
    kept.join("\n")
}

/// Tracks open brackets and triple-quoted strings across lines, skipping strings and comments.
fn update_state<'a>(line: &'a str, in_string: &mut Option<&'a str>, depth: &mut i32) {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if let Some(q) = *in_string {
            if line[i..].starts_with(q) {
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
                if line[i..].starts_with(triple) {
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

/// Splits code into top-level statements (each a run of lines).
fn statements(code: &str) -> Vec<Vec<&str>> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    let mut in_string = None;
    let mut depth = 0;
    let mut continued = false;
    for line in code.lines() {
        let t = line.trim_start();
        let top = !line.starts_with([' ', '\t']) && !t.is_empty();
        let clause = ["else", "elif", "except", "finally", "case"].contains(&first_word(t));
        let starts_new = top && in_string.is_none() && depth == 0 && !continued && !clause;
        if starts_new || out.is_empty() {
            out.push(vec![line]);
        } else {
            out.last_mut().expect("non-empty").push(line);
        }
        let was_in_string = in_string.is_some();
        update_state(line, &mut in_string, &mut depth);
        continued = !was_in_string && in_string.is_none() && line.trim_end().ends_with('\\');
    }
    out
}

fn defines_something(block: &str) -> bool {
    statements(block).iter().any(|st| {
        let first = st[0].trim_start();
        let w = first_word(first);
        matches!(w, "def" | "class" | "import" | "from" | "async") || first.starts_with('@') || {
            let rest = first[w.len()..].trim_start();
            !w.is_empty() && rest.starts_with('=') && !rest.starts_with("==")
        }
    })
}

/// Removes top-level usage code (see the module docs for the rule and why).
fn drop_usage(code: &str, entry: Option<&str>, notes: &mut Vec<String>) -> String {
    let mut kept: Vec<String> = Vec::new();
    let mut dropped = 0;
    for st in statements(code) {
        let first = st[0].trim_start();
        let w = first_word(first);
        let rest = first[w.len()..].trim_start();
        let usage = (w == "assert" && (rest.is_empty() || !rest.starts_with('=')))
            || (matches!(w, "print" | "input") && rest.starts_with('('))
            || reads_stdin(first)
            || (entry.is_some_and(|e| e == w) && rest.starts_with('('))
            || (w == "if" && first.contains("__name__") && first.contains("__main__"));
        if usage && !st[0].starts_with([' ', '\t']) {
            dropped += 1;
        } else {
            kept.push(st.join("\n"));
        }
    }
    if dropped > 0 {
        notes
            .push(format!("dropped {dropped} top-level usage statement(s) (asserts, prints, example calls, __main__)"));
    }
    kept.join("\n")
}

/// A top-level statement that calls `input(` waits for a user who is not there (stdin is empty in the sandbox).
fn reads_stdin(line: &str) -> bool {
    line.match_indices("input(")
        .any(|(i, _)| line[..i].chars().last().is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.')))
}

/// Removes indentation shared by every non-blank line.
fn dedent(block: &str) -> String {
    let indent = block
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    if indent == 0 {
        return block.to_owned();
    }
    block.lines().map(|l| if l.len() >= indent { &l[indent..] } else { l.trim_start() }).collect::<Vec<_>>().join("\n")
}
