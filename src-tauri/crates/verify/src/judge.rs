//! Judging an answer: the code it means (extracted for the checks' entry point and whatever the checks name),
//! run after the prompt's prelude and with the checks in the sandbox. One path for the label run, the verified
//! cascade and `verify`, so an answer gets the same verdict wherever it is judged.
//!
//! An answer can never stop a run: one that trips a defect in the extraction (a panic) becomes that answer's
//! `error` verdict (phase `harness`, exception `InternalError`) and the run goes on; checks that are empty give
//! `unchecked`, not a pass or a fail.

use serde::{Deserialize, Serialize};

use crate::checks::{py_str, CheckItem, Checks, PROGRAM_OUTPUT};
use crate::extract::{extract_for_tests, extract_program, Extraction};
use crate::{Check, Limits, Outcome, Phase, Verdict, Verifier};

/// One tier's verified answer, as an answer's record shows it (the chat, `ask --json`, the server).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct VerifiedStep {
    pub tier: String,
    pub model: String,
    /// The verdict in words (`passed (3/3 asserts passed)`, `failed at assert 2 …`).
    pub verdict: String,
    pub passed: bool,
    pub cost_usd: f64,
}

/// What the sandbox said of an answer whose prompt carried checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Verification {
    /// The answer passed its checks. False: no tier's answer did, and the last one is returned, marked failing.
    pub passed: bool,
    /// How many checks the answer ran against.
    pub tests: usize,
    /// The checks, with where each came from.
    #[serde(default)]
    pub checks: Vec<CheckItem>,
    pub steps: Vec<VerifiedStep>,
    /// What the answer's pass is worth: the chance an answer that passed this many checks from this tier's model
    /// is right (router::trust, measured on MBPP+ with models held out). None: it did not pass, or nothing is
    /// known of the model.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub trust: Option<f64>,
}

/// An answer's verdict, with what of it ran.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judged {
    pub verdict: Verdict,
    /// The answer's code as run (without the prelude).
    pub code: String,
    pub extraction: Extraction,
}

/// What judging an answer needs: a sandbox run, or nothing more (the verdict is known without one).
#[derive(Debug, Clone)]
pub enum Prepared {
    Run { check: Box<Check>, code: String, extraction: Extraction },
    Known(Judged),
}

fn verdict(outcome: Outcome, total: usize) -> Verdict {
    Verdict { outcome, asserts_passed: 0, asserts_total: total, duration_ms: 0.0 }
}

/// The sandbox check for an answer (see the module docs).
pub fn prepare(answer: &str, checks: &Checks, limits: Limits) -> Prepared {
    let total = checks.len();
    if checks.is_empty() {
        return Prepared::Known(Judged {
            verdict: verdict(
                Outcome::Unchecked {
                    reason: "no checks: the prompt shows no examples to run the answer against".into(),
                },
                0,
            ),
            code: String::new(),
            extraction: Extraction::default(),
        });
    }
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build(answer, checks, limits)));
    match built {
        Ok(p) => p,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            tracing::error!(panic = %what, "reading an answer failed; it is judged an error and the run goes on");
            Prepared::Known(Judged {
                verdict: verdict(
                    Outcome::Error {
                        exception: "InternalError".into(),
                        message: format!("the answer could not be read ({what}); this is a defect, please report it"),
                        line: None,
                        phase: Phase::Harness,
                        assert_index: None,
                    },
                    total,
                ),
                code: String::new(),
                extraction: Extraction::default(),
            })
        }
    }
}

fn build(answer: &str, checks: &Checks, limits: Limits) -> Prepared {
    // The seam for the test below: a defect, on demand (compiled into this crate's unit tests only).
    #[cfg(test)]
    if answer.contains("\u{1}a defect\u{1}") {
        panic!("a defect in reading this answer");
    }
    if checks.is_program() {
        let e = extract_program(answer);
        let code = program_harness(&e.code);
        let check = Check { code, setup: checks.setup.clone(), asserts: checks.codes(), limits };
        return Prepared::Run { check: Box::new(check), code: e.code, extraction: e.extraction };
    }
    let mut needed: Vec<&str> = vec![checks.setup.as_str()];
    needed.extend(checks.items.iter().map(|i| i.code.as_str()));
    let mut e = extract_for_tests(answer, checks.entry_point.as_deref(), &needed);
    // An answer that is only the body of a completion prompt's function: the prompt followed by the answer.
    if let (Some(entry), false) = (checks.entry_point.as_deref(), checks.stub.is_empty()) {
        if !defines(&e.extraction, entry) {
            let completed = extract_for_tests(&format!("{}{answer}", checks.stub), Some(entry), &needed);
            if defines(&completed.extraction, entry) {
                e = completed;
                e.extraction.candidate = format!("the prompt completed by the answer ({})", e.extraction.candidate);
            }
        }
    }
    let run = with_prelude(&checks.prelude, &e.code);
    let check = Check { code: run, setup: checks.setup.clone(), asserts: checks.codes(), limits };
    Prepared::Run { check: Box::new(check), code: e.code, extraction: e.extraction }
}

/// Whether an extraction kept a definition of `entry`.
fn defines(e: &Extraction, entry: &str) -> bool {
    e.kept.iter().any(|k| {
        let k = k.trim_start_matches("async ");
        k.strip_prefix("def ").is_some_and(|r| r.starts_with(entry) && r[entry.len()..].trim_start().starts_with('('))
            || k.strip_prefix(entry).is_some_and(|r| r.trim_start().starts_with('='))
    })
}

/// The prelude, then the answer (whose own definitions win); `from __future__` imports stay first, as Python
/// requires.
fn with_prelude(prelude: &str, code: &str) -> String {
    if prelude.trim().is_empty() {
        return code.to_owned();
    }
    let (future, rest): (Vec<&str>, Vec<&str>) = code.lines().partition(|l| l.starts_with("from __future__ import"));
    let mut out = String::new();
    for f in future {
        out.push_str(f);
        out.push('\n');
    }
    out.push_str(prelude);
    out.push_str("\n\n");
    out.push_str(&rest.join("\n"));
    out.push('\n');
    out
}

/// A program judged by its output: the checks call [`PROGRAM_OUTPUT`] with an input, which runs the program as
/// `__main__` on that stdin and returns what it printed, each line stripped.
fn program_harness(program: &str) -> String {
    format!(
        "def {PROGRAM_OUTPUT}(stdin):\n    import contextlib, io, sys\n    out = io.StringIO()\n    saved = sys.stdin\n    \
         sys.stdin = io.StringIO(stdin)\n    try:\n        with contextlib.redirect_stdout(out):\n            try:\n                \
         exec(compile({}, '<answer>', 'exec'), {{'__name__': '__main__'}})\n            except SystemExit:\n                \
         pass\n    finally:\n        sys.stdin = saved\n    return '\\n'.join(l.strip() for l in out.getvalue().strip().split('\\n'))\n",
        py_str(program)
    )
}

/// Judges one answer.
pub fn judge(verifier: &Verifier, answer: &str, checks: &Checks, limits: Limits) -> Judged {
    match prepare(answer, checks, limits) {
        Prepared::Known(j) => j,
        Prepared::Run { check, code, extraction } => Judged { verdict: verifier.verify(&check), code, extraction },
    }
}

/// Judges many answers on `parallel` workers, each against its own checks; results in input order.
/// `on_done(i)` is called as each finishes.
pub fn judge_all(
    verifier: &Verifier,
    answers: &[(&str, &Checks)],
    limits: Limits,
    parallel: usize,
    on_done: &(dyn Fn(usize) + Sync),
) -> Vec<Judged> {
    let prepared: Vec<Prepared> = answers.iter().map(|(a, c)| prepare(a, c, limits)).collect();
    let runs: Vec<(usize, Check)> = prepared
        .iter()
        .enumerate()
        .filter_map(|(i, p)| match p {
            Prepared::Run { check, .. } => Some((i, (**check).clone())),
            Prepared::Known(_) => None,
        })
        .collect();
    let checks: Vec<Check> = runs.iter().map(|(_, c)| c.clone()).collect();
    for (i, p) in prepared.iter().enumerate() {
        if matches!(p, Prepared::Known(_)) {
            on_done(i);
        }
    }
    let verdicts = verifier.verify_all(&checks, parallel, &|k, _| on_done(runs[k].0));
    let mut verdicts = verdicts.into_iter();
    prepared
        .into_iter()
        .map(|p| match p {
            Prepared::Known(j) => j,
            Prepared::Run { code, extraction, .. } => {
                Judged { verdict: verdicts.next().expect("one verdict per run"), code, extraction }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CheckKind;

    #[test]
    fn no_checks_is_unchecked_not_a_verdict_on_the_answer() {
        match prepare("def f(): return 1", &Checks::default(), Limits::default()) {
            Prepared::Known(j) => assert_eq!(j.verdict.name(), "unchecked"),
            Prepared::Run { .. } => panic!("nothing to run"),
        }
    }

    #[test]
    fn an_answer_that_trips_a_defect_is_its_own_error_verdict_and_the_rest_are_judged() {
        let checks = Checks::from_asserts(&["assert f(1) == 1".into()], CheckKind::Dataset);
        let prepared: Vec<Prepared> = ["def f(x):\n    return x\n", "\u{1}a defect\u{1}", "def f(x): return x"]
            .iter()
            .map(|a| prepare(a, &checks, Limits::default()))
            .collect();
        assert!(matches!(prepared[0], Prepared::Run { .. }) && matches!(prepared[2], Prepared::Run { .. }));
        match &prepared[1] {
            Prepared::Known(j) => {
                assert_eq!(j.verdict.name(), "error");
                assert!(j.verdict.summary().contains("InternalError") && j.verdict.summary().contains("a defect"));
            }
            Prepared::Run { .. } => panic!("the defect was not caught"),
        }
    }

    #[test]
    fn a_completion_of_a_humaneval_style_prompt_is_the_prompt_and_the_body() {
        let prompt = "from typing import List\n\n\ndef total(xs: List[int]) -> int:\n    \"\"\"Sum.\n    >>> total([1, 2])\n    3\n    \"\"\"\n";
        let checks = Checks::from_prompt(prompt);
        assert_eq!(checks.stub, prompt);
        match prepare("    return sum(xs)\n", &checks, Limits::default()) {
            Prepared::Run { code, extraction, .. } => {
                assert!(code.contains("def total(xs: List[int]) -> int:") && code.contains("return sum(xs)"), "{code}");
                assert!(extraction.candidate.starts_with("the prompt completed by the answer"), "{extraction:?}");
            }
            Prepared::Known(j) => panic!("{j:?}"),
        }
        // A complete answer is taken as it is.
        match prepare("def total(xs):\n    return sum(xs)\n", &checks, Limits::default()) {
            Prepared::Run { code, .. } => assert_eq!(code, "def total(xs):\n    return sum(xs)\n"),
            Prepared::Known(j) => panic!("{j:?}"),
        }
    }

    #[test]
    fn the_prelude_runs_before_the_answer_and_future_imports_stay_first() {
        let code = with_prelude(
            "from typing import List",
            "from __future__ import annotations\ndef f(x: List[int]):\n    return x\n",
        );
        assert!(code.starts_with("from __future__ import annotations\nfrom typing import List\n"), "{code}");
    }

    #[test]
    fn a_program_check_runs_the_answer_whole() {
        let checks = Checks {
            items: vec![CheckItem {
                kind: CheckKind::Stdio,
                source: "Input: 1 2\nOutput: 3".into(),
                code: "assert __program_output('1 2\\n') == '3'".into(),
            }],
            ..Checks::default()
        };
        match prepare("```python\na, b = map(int, input().split())\nprint(a + b)\n```", &checks, Limits::default()) {
            Prepared::Run { check, code, .. } => {
                assert!(code.contains("input()") && code.contains("print(a + b)"), "{code}");
                assert!(check.code.contains("def __program_output(stdin)"), "{}", check.code);
                assert!(crate::python::is_valid_python(&check.code), "{}", check.code);
            }
            Prepared::Known(j) => panic!("{j:?}"),
        }
    }
}
