//! The verified cascade: when a prompt carries tests (`assert` lines or doctest `>>>` examples in the message, a
//! `tests` list given to the server, or a dataset task), each tier's answer is run against them in the sandbox and
//! the prompt climbs to the next tier while it fails, up to the highest tier allowed. Every step is reported and
//! recorded (tier, verdict, cost), so the user sees why it cost what it did. [`App::ask`] takes this path by
//! default whenever there are tests, for `ask`, the chat and the server alike.

use complexitynet_engine::dataset::{self, derive_entry_point};
use complexitynet_engine::tiers::table::{self, TierRow};
use complexitynet_engine::tiers::{CancellationToken, Completion, GenParams, Message, Request};
use complexitynet_engine::verify::extract::{extract_for_tests, is_valid_python, Extraction};
use complexitynet_engine::verify::{Check, Limits, Verdict, Verifier};
use serde::Serialize;
use tracing::Instrument;

use crate::ask::{AskEvent, Attempt};
use crate::{App, AppError, Result};

/// The tests an answer must pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Tests {
    pub setup: String,
    pub asserts: Vec<String>,
    /// The function the asserts call (guides the extraction of the code from the answer).
    pub entry_point: Option<String>,
}

impl Tests {
    /// The tests a prompt carries, if any: its `assert` lines, and its doctest examples (`>>> f(x)` followed by
    /// the expected value on the next line becomes `assert f(x) == value`).
    pub fn from_prompt(prompt: &str) -> Option<Tests> {
        let lines: Vec<&str> = prompt.lines().map(str::trim).collect();
        let mut asserts = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with("assert ") && is_valid_python(line) {
                asserts.push((*line).to_owned());
            } else if let Some(expr) = line.strip_prefix(">>> ") {
                // An example whose next line is its printed value; one with no value (a statement, or a value
                // the prompt does not show) checks nothing and is left out.
                let Some(want) = lines.get(i + 1).filter(|w| !w.is_empty() && !w.starts_with(">>>")) else {
                    continue;
                };
                if want.starts_with("...") || want.starts_with("Traceback") || expr.trim().is_empty() {
                    continue;
                }
                if let Some(assert) = doctest_assert(expr.trim(), want) {
                    asserts.push(assert);
                }
            }
        }
        Tests::from_asserts(asserts)
    }

    /// Tests from a list of `assert` statements (what the server's `complexitynet.tests` carries); None when
    /// the list is empty.
    pub fn from_asserts(asserts: Vec<String>) -> Option<Tests> {
        if asserts.is_empty() {
            return None;
        }
        let entry_point = derive_entry_point(&asserts, None).ok().map(|e| e.name);
        Some(Tests { setup: String::new(), asserts, entry_point })
    }
}

/// A doctest example as an assert: a printed line compares as text (`str`), a shown value as a value. None when
/// the expected text is neither (a bare word that is no Python value): a test that can never pass would climb
/// every tier and pay for each.
fn doctest_assert(expr: &str, want: &str) -> Option<String> {
    let assert = match expr.strip_prefix("print(").and_then(|e| e.strip_suffix(')')) {
        Some(args) => {
            let literal = format!("'{}'", want.replace('\\', "\\\\").replace('\'', "\\'"));
            format!("assert ' '.join(map(str, [{args}])) == {literal}")
        }
        None => {
            let word = want.chars().all(|c| c.is_alphanumeric() || c == '_')
                && !want.starts_with(|c: char| c.is_ascii_digit())
                && !["True", "False", "None"].contains(&want);
            if word {
                return None;
            }
            format!("assert ({expr}) == ({want})")
        }
    };
    is_valid_python(&assert).then_some(assert)
}

/// One tier's verified answer.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub tier: String,
    pub provider: String,
    pub verdict: Verdict,
    pub completion: Completion,
    /// The code that ran, and which reading of the answer it came from.
    pub code: String,
    pub extraction: Extraction,
}

/// A cascade's steps, in order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CascadeRun {
    /// The tiers that answered, each answer verified.
    pub steps: Vec<Step>,
    /// Every tier tried, in order, with why it gave no answer (no key, no model, a provider error) if it did not.
    pub attempts: Vec<Attempt>,
}

impl CascadeRun {
    /// The step whose answer passed, if one did (the last step: the cascade stops there).
    pub fn passed(&self) -> Option<&Step> {
        self.steps.last().filter(|s| s.verdict.passed())
    }
}

impl App {
    /// The tests of a dataset task (its asserts and setup).
    pub fn task_tests(&self, dataset: &str, task: &str) -> Result<Tests> {
        let t = self.with_store(|s| Ok(dataset::get_task(s, dataset, task)?))?;
        Ok(Tests { setup: t.setup, asserts: t.asserts, entry_point: Some(t.entry_point.name) })
    }

    /// Runs the cascade over `tiers` in order (the caller picks the range: from the start tier to the cap).
    /// `on_event` hears `Started` and `Step` for each tier tried.
    pub(crate) async fn cascade(
        &self,
        tiers: &[TierRow],
        messages: &[Message],
        tests: &Tests,
        params: &GenParams,
        on_event: &(dyn Fn(AskEvent) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<CascadeRun> {
        let span = tracing::info_span!("cascade", from = tiers.first().map(|t| t.name.as_str()).unwrap_or(""));
        self.cascade_inner(tiers, messages, tests, params, on_event, cancel).instrument(span).await
    }

    async fn cascade_inner(
        &self,
        tiers: &[TierRow],
        messages: &[Message],
        tests: &Tests,
        params: &GenParams,
        on_event: &(dyn Fn(AskEvent) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<CascadeRun> {
        let verifier = self.verifier();
        let mut run = CascadeRun::default();
        for tier in tiers {
            if cancel.is_cancelled() {
                break;
            }
            let mut skip = |why: String| {
                on_event(AskEvent::Step {
                    tier: tier.name.clone(),
                    model: String::new(),
                    verdict: format!("no answer: {why}"),
                    passed: false,
                });
                run.attempts.push(Attempt {
                    tier: tier.name.clone(),
                    model: tier.model.clone(),
                    error: Some(why),
                    cost_usd: 0.0,
                });
            };
            let avail = self.with_store(|s| Ok(complexitynet_engine::route::available(s, self.secrets(), tier)))?;
            if !avail.available {
                skip(avail.note);
                continue;
            }
            let step = match self.cascade_step(tier, messages, tests, params, &verifier, on_event, cancel).await? {
                Ok(step) => step,
                Err(why) => {
                    skip(why);
                    continue;
                }
            };
            tracing::info!(tier = %step.tier, verdict = step.verdict.name(), "cascade step");
            on_event(AskEvent::Step {
                tier: step.tier.clone(),
                model: step.completion.model.clone(),
                verdict: step.verdict.summary(),
                passed: step.verdict.passed(),
            });
            let passed = step.verdict.passed();
            run.attempts.push(Attempt {
                tier: step.tier.clone(),
                model: step.completion.model.clone(),
                error: None,
                cost_usd: step.completion.cost_usd,
            });
            run.steps.push(step);
            if passed {
                break;
            }
        }
        Ok(run)
    }

    /// One tier's answer, recorded and verified; `Err(why)` inside when the tier gave no answer.
    #[allow(clippy::too_many_arguments)] // the step's inputs, each used once
    async fn cascade_step(
        &self,
        tier: &TierRow,
        messages: &[Message],
        tests: &Tests,
        params: &GenParams,
        verifier: &std::sync::Arc<Verifier>,
        on_event: &(dyn Fn(AskEvent) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<std::result::Result<Step, String>> {
        let prov = self.with_store(|s| Ok(table::provider(s, &tier.provider)?))?;
        let provider = match self.provider(tier, &prov) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e.message)),
        };
        on_event(AskEvent::Started { tier: tier.name.clone(), provider: prov.name.clone(), model: tier.model.clone() });
        // The answer is code: a local model stops once its code block closes.
        let request = Request {
            model: tier.model.clone(),
            messages: messages.to_vec(),
            params: GenParams { code_answer: true, ..params.clone() },
            stream: false,
            price: tier.price(),
        };
        let result = provider.generate(&request, &|_| {}, cancel).await;
        self.record(tier, &prov, &result);
        let completion = match result {
            Ok(c) => c,
            // A tier that cannot answer is a skipped step, not the end of the cascade.
            Err(e) => return Ok(Err(e.message)),
        };
        let needed: Vec<&str> =
            std::iter::once(tests.setup.as_str()).chain(tests.asserts.iter().map(String::as_str)).collect();
        let extracted = extract_for_tests(&completion.text, tests.entry_point.as_deref(), &needed);
        let code = extracted.code;
        let check = Check {
            code: code.clone(),
            setup: tests.setup.clone(),
            asserts: tests.asserts.clone(),
            limits: Limits::default(),
        };
        let v = verifier.clone();
        let verdict = tokio::task::spawn_blocking(move || v.verify(&check))
            .await
            .map_err(|e| AppError::internal(format!("the sandbox check failed: {e}")))?;
        Ok(Ok(Step {
            tier: tier.name.clone(),
            provider: prov.name,
            verdict,
            completion,
            code,
            extraction: extracted.extraction,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prompts_assert_lines_are_its_tests() {
        let t = Tests::from_prompt("Write add(a, b).\n  assert add(1, 2) == 3\nassert add(0, 0) == 0").unwrap();
        assert_eq!(t.asserts, vec!["assert add(1, 2) == 3", "assert add(0, 0) == 0"]);
        assert_eq!(t.entry_point.as_deref(), Some("add"));
        assert!(Tests::from_prompt("Write add(a, b) that returns the sum.").is_none());
        // Prose that starts with "assert" is not a test.
        assert!(Tests::from_prompt("Write f.\nassert that the input is positive").is_none());
    }

    #[test]
    fn doctest_examples_with_a_value_are_tests_too() {
        let prompt =
            "def sq(x):\n    \"\"\"Square x.\n    >>> sq(3)\n    9\n    >>> sq(-2)\n    4\n    >>> sq(0)\n\n    \
                      >>> print(sq(2))\n    4\n    \"\"\"";
        let t = Tests::from_prompt(prompt).unwrap();
        // sq(0) shows no value; a printed line compares as text.
        assert_eq!(
            t.asserts,
            vec!["assert (sq(3)) == (9)", "assert (sq(-2)) == (4)", "assert ' '.join(map(str, [sq(2)])) == '4'"]
        );
        assert_eq!(t.entry_point.as_deref(), Some("sq"));
        let t = Tests::from_prompt(">>> words('a b')\n['a', 'b']").unwrap();
        assert_eq!(t.asserts, vec!["assert (words('a b')) == (['a', 'b'])"]);
        assert!(Tests::from_prompt(">>> x = 1\n>>> y = 2").is_none());
        // A bare word after an expression is output that no value equals.
        assert!(Tests::from_prompt(">>> greet()\nhello").is_none());
        assert_eq!(Tests::from_prompt(">>> ok()\nTrue").unwrap().asserts, vec!["assert (ok()) == (True)"]);
    }
}
