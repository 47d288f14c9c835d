//! Agents: what a coding agent's tool results say about the tier doing the work, and when the turn climbs.
//!
//! An agent's turn is the human's message and every request the agent makes until it answers (each one carries
//! the results of the tools the model called). The tier is chosen once per turn; inside it, the tool results
//! are the evidence: the project's tests failing again after the model worked on them, the same error coming
//! back, or many tool calls without a passing run. Any of those climbs the turn one tier — the verified
//! cascade's idea, applied to the agent's own test runs.

/// A test run's summary, as the common runners print it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestRun {
    pub passed: u32,
    pub failed: u32,
}

impl TestRun {
    pub fn ok(&self) -> bool {
        self.failed == 0
    }
}

/// The number just before `word` at `i` (`3 passed`), skipping spaces.
fn number_before(s: &str, i: usize) -> Option<u32> {
    let head = s[..i].trim_end();
    let digits: String = head.chars().rev().take_while(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() {
        return None;
    }
    digits.chars().rev().collect::<String>().parse().ok()
}

/// Sums `N word` over the text (`2 failed`, `1 error`): the runners that count this way (pytest, cargo test,
/// jest, vitest, mocha).
fn count(s: &str, words: &[&str]) -> Option<u32> {
    let mut total = None;
    for w in words {
        let mut from = 0;
        while let Some(off) = s[from..].find(w) {
            let at = from + off;
            from = at + w.len();
            // The word must end there (`failed`, not `failedness`).
            if s[from..].chars().next().is_some_and(|c| c.is_alphanumeric()) {
                continue;
            }
            if let Some(n) = number_before(s, at) {
                *total.get_or_insert(0) += n;
            }
        }
    }
    total
}

/// What a tool's output says about a test run, if it is one: pytest (`2 failed, 3 passed`), unittest (`Ran 5
/// tests` … `OK` / `FAILED (failures=1, errors=1)`), cargo test (`test result: FAILED. 3 passed; 1 failed`), go
/// test (`--- FAIL`, `ok  \tpkg`), jest and vitest (`Tests: 1 failed, 2 passed`), npm (`Test failed`). Output that
/// is not a test run is None. Reads only the last 4,000 characters: runners print their summary last, and a long
/// log may quote other runs.
pub fn read_test_run(output: &str) -> Option<TestRun> {
    let tail: &str = {
        let n = output.len();
        let mut start = n.saturating_sub(4000);
        while !output.is_char_boundary(start) {
            start += 1;
        }
        &output[start..]
    };
    let lower = tail.to_ascii_lowercase();
    // unittest: "Ran N tests" then "OK" or "FAILED (failures=…, errors=…)".
    if let Some(i) = lower.find("ran ") {
        let rest = &lower[i + 4..];
        let ran: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if let (Ok(ran), true) = (ran.parse::<u32>(), rest[ran.len()..].trim_start().starts_with("test")) {
            let mut failed = 0;
            for key in ["failures=", "errors="] {
                if let Some(j) = lower.rfind(key) {
                    let n: String = lower[j + key.len()..].chars().take_while(|c| c.is_ascii_digit()).collect();
                    failed += n.parse::<u32>().unwrap_or(0);
                }
            }
            if failed > 0 || lower.contains("\nok") || lower.trim_end().ends_with("ok") {
                return Some(TestRun { passed: ran.saturating_sub(failed), failed });
            }
        }
    }
    let failed = count(&lower, &["failed", "failing", "errors", "error"]);
    let passed = count(&lower, &["passed", "passing"]);
    if failed.is_some() || passed.is_some() {
        // "0 failed" alone (cargo test's ok line) is a pass.
        return Some(TestRun { passed: passed.unwrap_or(0), failed: failed.unwrap_or(0) });
    }
    // go test: per-test "--- FAIL:" lines and a package line "FAIL\tpkg" / "ok  \tpkg".
    let fails =
        tail.matches("--- FAIL").count() as u32 + tail.lines().filter(|l| l.starts_with("FAIL\t")).count() as u32;
    let oks = tail.matches("--- PASS").count() as u32 + tail.lines().filter(|l| l.starts_with("ok  \t")).count() as u32;
    if fails + oks > 0 {
        return Some(TestRun { passed: oks, failed: fails });
    }
    if lower.contains("npm err! test failed") || lower.contains("npm error test failed") {
        return Some(TestRun { passed: 0, failed: 1 });
    }
    None
}

/// How many tool results without a passing test run before the turn climbs anyway.
pub const STALL_RESULTS: u32 = 25;

/// What the tool results of one turn have shown so far, on the tier that is doing it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TurnEvidence {
    /// Failing test runs since the tier last changed.
    failing_runs: u32,
    /// Error outputs seen since the tier last changed (normalised), to spot one coming back.
    errors: Vec<String>,
    /// Tool results since the last passing run (or the tier's change).
    results: u32,
}

/// Why a turn climbs a tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Climb {
    TestsFailAgain(TestRun),
    SameError,
    NoProgress(u32),
}

impl Climb {
    /// In words, for the decision.
    pub fn describe(&self) -> String {
        match self {
            Climb::TestsFailAgain(r) => {
                format!("the project's tests failed again after the model worked on them ({} failed)", r.failed)
            }
            Climb::SameError => "the same error came back".into(),
            Climb::NoProgress(n) => format!("{n} tool calls without a passing test run"),
        }
    }
}

fn normalise(error: &str) -> String {
    // Line numbers, addresses and timings change between two runs of the same failure.
    let t: String = error.chars().filter(|c| !c.is_ascii_digit()).collect();
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    t.chars().rev().take(400).collect::<String>().chars().rev().collect()
}

impl TurnEvidence {
    /// Takes one tool result (its output and whether the client flagged it as an error); says whether the turn
    /// should climb now. After a climb the evidence starts over for the new tier.
    pub fn observe(&mut self, output: &str, is_error: bool) -> Option<Climb> {
        self.results += 1;
        let climb = match read_test_run(output) {
            Some(run) if run.ok() => {
                *self = TurnEvidence::default();
                None
            }
            Some(run) => {
                self.failing_runs += 1;
                (self.failing_runs >= 2).then_some(Climb::TestsFailAgain(run))
            }
            None if is_error && !output.trim().is_empty() => {
                let e = normalise(output);
                if self.errors.contains(&e) {
                    Some(Climb::SameError)
                } else {
                    self.errors.push(e);
                    None
                }
            }
            None => None,
        };
        let climb = climb.or_else(|| (self.results >= STALL_RESULTS).then_some(Climb::NoProgress(self.results)));
        if climb.is_some() {
            *self = TurnEvidence::default();
        }
        climb
    }
}

/// Requests an agent makes beside the work (a title for the session, a summary): a client that names a small
/// model for them and offers no tools. They go to the cheapest tier that can answer.
pub fn is_side_request(model: &str, has_tools: bool) -> bool {
    let m = model.to_ascii_lowercase();
    !has_tools && ["haiku", "mini", "nano", "flash", "small"].iter().any(|s| m.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_runners_summaries_are_read() {
        let cases: &[(&str, Option<(u32, u32)>)] = &[
            ("====== 2 failed, 3 passed in 0.12s ======", Some((3, 2))),
            ("========== 5 passed in 0.03s ==========", Some((5, 0))),
            ("E   AssertionError\n=== 1 failed, 1 error in 0.2s ===", Some((0, 2))),
            ("test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured", Some((3, 1))),
            ("test result: ok. 12 passed; 0 failed; 0 ignored", Some((12, 0))),
            ("Ran 4 tests in 0.001s\n\nFAILED (failures=1, errors=1)", Some((2, 2))),
            ("Ran 4 tests in 0.001s\n\nOK", Some((4, 0))),
            ("--- FAIL: TestAdd (0.00s)\nFAIL\nFAIL\texample.com/m\t0.002s", Some((0, 2))),
            ("=== RUN   TestAdd\n--- PASS: TestAdd (0.00s)\nPASS\nok  \texample.com/m\t0.002s", Some((2, 0))),
            ("Tests:       1 failed, 2 passed, 3 total", Some((2, 1))),
            (" Tests  2 failed | 5 passed (7)", Some((5, 2))),
            ("npm error Test failed.  See above for more details.", Some((0, 1))),
            ("  3 passing (12ms)\n  1 failing", Some((3, 1))),
            ("total 12\n-rw-r--r-- 1 root root 30 add.py", None),
            ("", None),
        ];
        for (text, want) in cases {
            let got = read_test_run(text).map(|r| (r.passed, r.failed));
            assert_eq!(got, *want, "{text:?}");
        }
    }

    #[test]
    fn failing_again_the_same_error_or_no_progress_climbs_and_a_pass_resets() {
        let mut t = TurnEvidence::default();
        assert_eq!(t.observe("1 failed in 0.1s", false), None, "one failure is the model's first try");
        assert_eq!(t.observe("wrote add.py", false), None);
        assert!(matches!(t.observe("2 failed in 0.1s", false), Some(Climb::TestsFailAgain(_))));
        // The evidence starts over on the new tier.
        assert_eq!(t.observe("1 failed", false), None);
        assert_eq!(t.observe("3 passed", false), None);
        assert_eq!(t.observe("1 failed", false), None, "a pass in between resets the count");
        let mut t = TurnEvidence::default();
        assert_eq!(t.observe("Error: no such file x.py (line 3)", true), None);
        assert_eq!(t.observe("Error: no such file x.py (line 7)", true), Some(Climb::SameError));
        let mut t = TurnEvidence::default();
        let climbs: Vec<_> = (0..STALL_RESULTS).filter_map(|_| t.observe("listed 3 files", false)).collect();
        assert_eq!(climbs, vec![Climb::NoProgress(STALL_RESULTS)]);
    }

    #[test]
    fn a_side_request_is_a_small_model_without_tools() {
        assert!(is_side_request("claude-haiku-4-5-20251001", false));
        assert!(!is_side_request("claude-haiku-4-5", true));
        assert!(!is_side_request("claude-opus-4-8", false));
    }
}
