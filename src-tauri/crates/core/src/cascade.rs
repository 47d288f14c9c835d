//! The verified cascade: when a prompt carries tests (`assert` lines in the message, or a dataset task), the
//! answer of the starting tier is run against them in the sandbox, and the prompt climbs to the next tier
//! while it fails. Every step is reported and recorded (tier, verdict, cost), so the user sees why it cost
//! what it did. Shared by `ask --cascade` and the chat.

use complexitynet_engine::dataset::{self, derive_entry_point};
use complexitynet_engine::tiers::table::{self, TierRow};
use complexitynet_engine::tiers::{CancellationToken, GenParams, Message, Request, Usage};
use complexitynet_engine::verify::extract::{extract_for_tests, Extraction};
use complexitynet_engine::verify::{Check, Limits, Verdict, Verifier};
use complexitynet_engine::ErrorCode;
use serde::Serialize;
use tracing::Instrument;

use crate::ask::AskEvent;
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
    /// The `assert` lines a prompt carries, if any.
    pub fn from_prompt(prompt: &str) -> Option<Tests> {
        let asserts: Vec<String> =
            prompt.lines().map(str::trim).filter(|l| l.starts_with("assert ")).map(str::to_owned).collect();
        if asserts.is_empty() {
            return None;
        }
        let entry_point = derive_entry_point(&asserts, None).ok().map(|e| e.name);
        Some(Tests { setup: String::new(), asserts, entry_point })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub tier: String,
    pub model: String,
    pub verdict: Verdict,
    pub cost_usd: f64,
    pub usage: Usage,
    pub answer: String,
    /// The code that ran, and which reading of the answer it came from.
    pub code: String,
    pub extraction: Extraction,
}

#[derive(Debug, Clone, Serialize)]
pub struct CascadeOutcome {
    pub steps: Vec<Step>,
    /// The tier whose answer passed, if any.
    pub passed_on: Option<String>,
    /// The passing answer, else the last one.
    pub answer: String,
    /// Every attempt's cost together.
    pub cost_usd: f64,
}

impl App {
    /// The tests of a dataset task (its asserts and setup).
    pub fn task_tests(&self, dataset: &str, task: &str) -> Result<Tests> {
        let t = self.with_store(|s| Ok(dataset::get_task(s, dataset, task)?))?;
        Ok(Tests { setup: t.setup, asserts: t.asserts, entry_point: Some(t.entry_point.name) })
    }

    /// Runs the cascade from tier `start` (a name) upwards. `on_event` hears a `Step` per tier tried.
    pub async fn cascade(
        &self,
        start: &str,
        messages: &[Message],
        tests: &Tests,
        params: GenParams,
        on_event: &(dyn Fn(AskEvent) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<CascadeOutcome> {
        let span = tracing::info_span!("cascade", start);
        self.cascade_inner(start, messages, tests, params, on_event, cancel).instrument(span).await
    }

    async fn cascade_inner(
        &self,
        start: &str,
        messages: &[Message],
        tests: &Tests,
        params: GenParams,
        on_event: &(dyn Fn(AskEvent) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<CascadeOutcome> {
        let tiers = self.with_store(|s| Ok(table::tiers(s)?))?;
        let first = tiers.iter().position(|t| t.name == start).ok_or_else(|| {
            AppError::new(ErrorCode::UnknownTier, format!("no tier {start:?} (the cascade climbs the tier table)"))
        })?;
        let verifier = self.verifier();
        let mut steps = Vec::new();
        let mut passed_on = None;
        for tier in &tiers[first..] {
            if cancel.is_cancelled() {
                break;
            }
            let skip = |why: &str| {
                on_event(AskEvent::Step {
                    tier: tier.name.clone(),
                    model: String::new(),
                    verdict: format!("no answer: {why}"),
                    passed: false,
                })
            };
            let avail = self.with_store(|s| Ok(complexitynet_engine::route::available(s, self.secrets(), tier)))?;
            if !avail.available {
                skip(&avail.note);
                continue;
            }
            let Some(step) = self.cascade_step(tier, messages, tests, &params, &verifier, cancel, &skip).await? else {
                continue;
            };
            on_event(AskEvent::Step {
                tier: step.tier.clone(),
                model: step.model.clone(),
                verdict: step.verdict.summary(),
                passed: step.verdict.passed(),
            });
            let passed = step.verdict.passed();
            steps.push(step);
            if passed {
                passed_on = Some(tier.name.clone());
                break;
            }
        }
        let answer = steps.last().map(|s| s.answer.clone()).unwrap_or_default();
        Ok(CascadeOutcome { cost_usd: steps.iter().map(|s| s.cost_usd).sum(), passed_on, answer, steps })
    }

    /// One tier's answer, recorded and verified; None when the tier gave no answer (said through `skip`).
    #[allow(clippy::too_many_arguments)] // the step's inputs, each used once
    async fn cascade_step(
        &self,
        tier: &TierRow,
        messages: &[Message],
        tests: &Tests,
        params: &GenParams,
        verifier: &std::sync::Arc<Verifier>,
        cancel: &CancellationToken,
        skip: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<Option<Step>> {
        let prov = self.with_store(|s| Ok(table::provider(s, &tier.provider)?))?;
        let provider = match self.provider(tier, &prov) {
            Ok(p) => p,
            Err(e) => {
                skip(&e.message);
                return Ok(None);
            }
        };
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
            Err(e) => {
                // A tier that cannot answer is a skipped step, not the end of the cascade.
                skip(&e.message);
                return Ok(None);
            }
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
        Ok(Some(Step {
            tier: tier.name.clone(),
            model: completion.model.clone(),
            verdict,
            cost_usd: completion.cost_usd,
            usage: completion.usage,
            answer: completion.text,
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
    }
}
