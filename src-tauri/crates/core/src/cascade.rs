//! The verified cascade: when a prompt carries checks (its `assert` lines, doctest examples, calls with their
//! results in prose, `Input:`/`Output:` blocks, pytest functions — see [`Checks::from_prompt`] — or checks given
//! with the request: the server's `tests`, a dataset task's, ones the user added in the chat), each tier's answer
//! is judged against them in the sandbox ([`judge`]) and the prompt climbs to the next tier while it fails, up to
//! the highest tier allowed. Every step is reported and recorded (tier, verdict, cost), so the user sees why it
//! cost what it did. [`App::ask`] takes this path by default whenever there are checks, for `ask`, the chat and
//! the server alike.

use complexitynet_engine::dataset;
use complexitynet_engine::ledger::Entry;
use complexitynet_engine::tiers::{self as table, TierRow};
use complexitynet_providers::{CancellationToken, Completion, GenParams, Message, Request};
use complexitynet_verify::checks::Checks;
use complexitynet_verify::extract::Extraction;
use complexitynet_verify::judge::{self, Judged};
use complexitynet_verify::{Limits, Verdict, Verifier};
use serde::Serialize;
use tracing::Instrument;

use crate::events::{AskEvent, Attempt};
use crate::providers::Priced;
use crate::{App, AppError, Result};

/// Where a cascade's calls come from, for the ledger: the front end (`ask`, `chat`, `serve`) and, through the
/// server, the client.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin<'a> {
    pub source: &'static str,
    pub client: Option<&'a str>,
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
    /// The call's row in the ledger.
    #[serde(skip)]
    pub call: Option<i64>,
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
    /// The answer the cascade gives: the last step if it passed (a trusted pass ends the cascade), else the highest
    /// step that passed (a pass too weak to end it, which nothing above bettered), else the last step.
    pub fn answer(&self) -> Option<&Step> {
        let last = self.steps.last()?;
        if last.verdict.passed() {
            return Some(last);
        }
        Some(self.steps.iter().rev().find(|s| s.verdict.passed()).unwrap_or(last))
    }

    /// The step whose answer passed, if one did.
    pub fn passed(&self) -> Option<&Step> {
        self.answer().filter(|s| s.verdict.passed())
    }
}

impl App {
    /// The checks of a dataset task (its asserts and setup, and what its prompt gives).
    pub fn task_checks(&self, dataset: &str, task: &str) -> Result<Checks> {
        let t = self.with_store(|s| Ok(dataset::get_task(s, dataset, task)?))?;
        Ok(Checks::from_task(&t))
    }

    /// Runs the cascade over `tiers` in order (the caller picks the range: from the start tier to the cap).
    /// A pass ends it where `accepts` says that tier's pass is trusted ([`complexitynet_router::trust`]); a
    /// distrusted pass is kept while the cascade climbs. `on_event` hears `Started` and `Step` for each tier tried.
    #[allow(clippy::too_many_arguments)] // the cascade's inputs and where its calls are booked, each used once
    pub(crate) async fn cascade(
        &self,
        tiers: &[TierRow],
        accepts: &[bool],
        messages: &[Message],
        checks: &Checks,
        params: &GenParams,
        origin: Origin<'_>,
        on_event: &(dyn Fn(AskEvent) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<CascadeRun> {
        let span = tracing::info_span!("cascade", from = tiers.first().map(|t| t.name.as_str()).unwrap_or(""));
        self.cascade_inner(tiers, accepts, messages, checks, params, origin, on_event, cancel).instrument(span).await
    }

    #[allow(clippy::too_many_arguments)] // as `cascade`
    async fn cascade_inner(
        &self,
        tiers: &[TierRow],
        accepts: &[bool],
        messages: &[Message],
        checks: &Checks,
        params: &GenParams,
        origin: Origin<'_>,
        on_event: &(dyn Fn(AskEvent) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<CascadeRun> {
        let verifier = self.verifier();
        let mut run = CascadeRun::default();
        for (i, tier) in tiers.iter().enumerate() {
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
            let avail = self.with_store(|s| Ok(crate::decide::available(s, self.secrets(), tier)))?;
            if !avail.available {
                skip(avail.note);
                continue;
            }
            let step =
                match self.cascade_step(tier, messages, checks, params, origin, &verifier, on_event, cancel).await? {
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
            if passed && accepts.get(i).copied().unwrap_or(true) {
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
        checks: &Checks,
        params: &GenParams,
        origin: Origin<'_>,
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
            ..Default::default()
        };
        let result = provider.generate(&request, &|_| {}, cancel).await;
        let entry = Entry {
            source: origin.source,
            routed: false,
            units: tier.paper_units,
            top: None,
            agent: None,
            client: origin.client,
        };
        let call = self.record(tier, &prov, &result, entry);
        let completion = match result {
            Ok(c) => c,
            // A tier that cannot answer is a skipped step, not the end of the cascade.
            Err(e) => return Ok(Err(e.message)),
        };
        let (v, answer, checks) = (verifier.clone(), completion.text.clone(), checks.clone());
        let Judged { verdict, code, extraction } =
            tokio::task::spawn_blocking(move || judge::judge(&v, &answer, &checks, Limits::default()))
                .await
                .map_err(|e| AppError::internal(format!("the sandbox check failed: {e}")))?;
        Ok(Ok(Step { tier: tier.name.clone(), provider: prov.name, verdict, completion, code, extraction, call }))
    }
}
