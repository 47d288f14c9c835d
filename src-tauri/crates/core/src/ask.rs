//! `ask`: the one path from a prompt to an answer, shared by `complexitynet ask`, the Chat tab and the server.
//!
//! route (unless a tier is named) → generate, streaming → on a failure that another tier would not share (its
//! rate limit, an outage, the network, a rejected key or an empty quota), and only if no text was streamed yet,
//! fall through to the next tier that can answer → record every call, answered or failed, in the calls log →
//! events for the front end at each step (the decision before any text, each hand-over, each piece).

use complexitynet_engine::route::Decision;
use complexitynet_engine::tiers::table::{self, CostMode, ProviderRow, TierRow};
use complexitynet_engine::tiers::{CancellationToken, Completion, GenParams, Message, ProviderError, Request, Role};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing::Instrument;

use crate::routing::RouteOverrides;
use crate::{App, AppError, Result};

/// What to ask.
#[derive(Debug, Clone)]
pub struct AskRequest {
    /// The conversation: an optional system message, earlier turns, and the new user message last.
    pub messages: Vec<Message>,
    /// A tier by name (`local`, `mid`, `top`, …) or `PROVIDER:MODEL`; None routes the prompt.
    pub tier: Option<String>,
    /// With a named tier, still classify the prompt (the chat shows the level of every prompt).
    pub classify_named: bool,
    /// Hand the prompt to the next tier when one fails in a way another would not. Routed prompts do; a
    /// named tier in the CLI or the server does not (the caller asked for that tier).
    pub fall_through: bool,
    pub params: GenParams,
    pub stream: bool,
    pub route: RouteOverrides,
}

impl AskRequest {
    /// A single user prompt, routed, falling through.
    pub fn routed(prompt: impl Into<String>, params: GenParams) -> AskRequest {
        AskRequest {
            messages: vec![Message::user(prompt)],
            tier: None,
            classify_named: false,
            fall_through: true,
            params,
            stream: true,
            route: RouteOverrides::default(),
        }
    }

    /// Messages to a named tier, no routing, no fall-through (the caller asked for that tier).
    pub fn to_tier(tier: impl Into<String>, messages: Vec<Message>, params: GenParams) -> AskRequest {
        AskRequest {
            messages,
            tier: Some(tier.into()),
            classify_named: false,
            fall_through: false,
            params,
            stream: true,
            route: RouteOverrides::default(),
        }
    }

    /// The text the router classifies: the last user message.
    pub fn prompt(&self) -> &str {
        self.messages.iter().rev().find(|m| m.role == Role::User).map(|m| m.content.as_str()).unwrap_or_default()
    }
}

/// What a front end hears while an answer is made.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AskEvent {
    /// Where the prompt goes and why: before any text, and again after each hand-over.
    Routed { decision: Decision },
    /// A tier starts answering.
    Started { tier: String, provider: String, model: String },
    /// A piece of the answer as it streams.
    Piece { text: String },
    /// A tier failed before answering and the next one takes the prompt.
    FellThrough { from: String, to: String, error: String },
    /// The verified cascade ran one tier's answer against the prompt's tests (or the tier gave no answer).
    Step { tier: String, model: String, verdict: String, passed: bool },
}

/// One call to a tier, as the answer's record shows it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Attempt {
    pub tier: String,
    pub model: String,
    /// None when it answered; else the failure.
    pub error: Option<String>,
    pub cost_usd: f64,
}

/// The answer and how it came about.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct AskOutcome {
    /// The routing decision (None for a named tier the prompt was not classified for), updated by each
    /// hand-over.
    pub route: Option<Decision>,
    pub tier: TierRow,
    pub provider: String,
    pub completion: Completion,
    /// Every call made, the failed ones first.
    pub attempts: Vec<Attempt>,
    pub cost_mode: CostMode,
    /// The cost in the cost mode (dollars, or the paper's units per call).
    pub cost: f64,
    /// What the same tokens would have cost on the top tier, minus what they cost (never negative).
    pub saved_usd: f64,
}

impl App {
    /// Answers a prompt; see the module docs. `on_event` hears the decision, each hand-over and each piece;
    /// `cancel` stops the generation (what streamed is kept, the call is recorded as cancelled).
    pub async fn ask(
        &self,
        req: &AskRequest,
        on_event: &(dyn Fn(AskEvent) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<AskOutcome> {
        let span = tracing::info_span!("ask", tier = req.tier.as_deref().unwrap_or("auto"));
        self.ask_inner(req, on_event, cancel).instrument(span).await
    }

    async fn ask_inner(
        &self,
        req: &AskRequest,
        on_event: &(dyn Fn(AskEvent) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<AskOutcome> {
        let prompt = req.prompt().to_owned();
        if prompt.trim().is_empty() {
            return Err(AppError::invalid("the prompt is empty"));
        }
        let mut route = match (&req.tier, req.classify_named) {
            (None, _) | (Some(_), true) => Some(self.decide(&prompt, &req.route, &[]).await?),
            (Some(_), false) => None,
        };
        let (tiers, cost_mode) = self.with_store(|s| Ok((table::tiers(s)?, table::cost_mode(s)?)))?;
        let mut current: (TierRow, ProviderRow) = match &req.tier {
            Some(spec) => {
                let resolved = self.with_store(|s| Ok(table::resolve(s, spec)?))?;
                if let Some(d) = route.as_mut() {
                    d.reason = format!("{} chosen by you (the router chose {})", resolved.0.name, d.tier);
                    d.tier = resolved.0.name.clone();
                    d.model = resolved.0.model.clone();
                }
                resolved
            }
            None => {
                let d = route.as_ref().expect("routed prompts have a decision");
                if !d.available {
                    return Err(d.unavailable_error().into());
                }
                self.with_store(|s| Ok(table::resolve(s, &d.tier)?))?
            }
        };
        let mut failed: Vec<String> = Vec::new();
        let mut attempts = Vec::new();
        loop {
            let (tier, prov) = &current;
            if let Some(d) = &route {
                on_event(AskEvent::Routed { decision: d.clone() });
            }
            on_event(AskEvent::Started {
                tier: tier.name.clone(),
                provider: prov.name.clone(),
                model: tier.model.clone(),
            });
            let request = Request {
                model: tier.model.clone(),
                messages: req.messages.clone(),
                params: req.params.clone(),
                stream: req.stream,
                price: tier.price(),
            };
            let streamed = AtomicBool::new(false);
            let on_text = |t: &str| {
                streamed.store(true, Ordering::Relaxed);
                on_event(AskEvent::Piece { text: t.to_owned() });
            };
            let result = match self.provider(tier, prov) {
                Ok(p) => p.generate(&request, &on_text, cancel).await,
                Err(e) => {
                    // A provider that cannot be built (a model file gone) is this tier's failure, not the end.
                    Err(ProviderError::new(complexitynet_engine::tiers::ErrorKind::BadRequest, &prov.name, e.message))
                }
            };
            self.record(tier, prov, &result);
            match result {
                Ok(completion) => {
                    attempts.push(Attempt {
                        tier: tier.name.clone(),
                        model: completion.model.clone(),
                        error: None,
                        cost_usd: completion.cost_usd,
                    });
                    let top = tiers.last().map(|t| t.price().cost(completion.usage)).unwrap_or(0.0);
                    let cost = match cost_mode {
                        CostMode::Usd => completion.cost_usd,
                        CostMode::PaperUnits => tier.paper_units,
                    };
                    let (tier, prov) = current;
                    return Ok(AskOutcome {
                        route,
                        saved_usd: (top - completion.cost_usd).max(0.0),
                        provider: prov.name,
                        tier,
                        completion,
                        attempts,
                        cost_mode,
                        cost,
                    });
                }
                Err(e) => {
                    attempts.push(Attempt {
                        tier: tier.name.clone(),
                        model: tier.model.clone(),
                        error: Some(e.message.clone()),
                        cost_usd: 0.0,
                    });
                    if e.kind == complexitynet_engine::tiers::ErrorKind::Auth {
                        // The key may be fixed before the next request; read it again then.
                        self.forget_providers();
                    }
                    let may_fall = req.fall_through
                        && e.kind.may_succeed_elsewhere()
                        && !streamed.load(Ordering::Relaxed)
                        && !cancel.is_cancelled();
                    if !may_fall {
                        return Err(e.into());
                    }
                    failed.push(tier.name.clone());
                    let next = self.next_tier(req, &mut route, &tiers, &failed)?;
                    let Some(next) = next else { return Err(e.into()) };
                    tracing::warn!(from = %tier.name, to = %next.0.name, error = %e, "falling through");
                    on_event(AskEvent::FellThrough {
                        from: tier.name.clone(),
                        to: next.0.name.clone(),
                        error: e.message.clone(),
                    });
                    current = next;
                }
            }
        }
    }

    /// [`App::ask`] as a job of the window (`job` names it for its Stop button).
    pub async fn ask_job(
        &self,
        job: &str,
        req: &AskRequest,
        on_event: &(dyn Fn(AskEvent) + Send + Sync),
    ) -> Result<AskOutcome> {
        let guard = self.jobs().start(crate::JobKind::Ask, job)?;
        self.ask(req, on_event, guard.token()).await
    }

    /// The tier after a failure: the router's next available choice (above first, then below, flagged).
    fn next_tier(
        &self,
        req: &AskRequest,
        route: &mut Option<Decision>,
        tiers: &[TierRow],
        failed: &[String],
    ) -> Result<Option<(TierRow, ProviderRow)>> {
        let from = failed.last().cloned().unwrap_or_default();
        // A prompt that was not classified has no router to ask.
        let Some(prev) = route.as_ref() else { return Ok(None) };
        // A routed prompt keeps its prediction; only availability changes.
        let (c, policy) = self.routing(&req.route)?;
        let p = complexitynet_classifier::artifact::Prediction {
            level: prev.level,
            probabilities: prev.probabilities.clone(),
            levels: prev.levels.clone(),
            classifier: prev.classifier.clone(),
        };
        let mut d = self.decide_from(&c, &policy, &p, failed)?;
        // A named tier that failed: the hand-over starts from it, not from the router's own choice.
        if req.tier.is_some() {
            let idx = tiers.iter().position(|t| t.name == from).unwrap_or(0);
            let ok: Vec<bool> = d.tiers.iter().map(|t| t.available).collect();
            let Some((t, flagged)) = complexitynet_engine::route::fall_through(idx, &ok) else { return Ok(None) };
            d.tier = tiers[t].name.clone();
            d.model = tiers[t].model.clone();
            d.flagged = flagged;
            d.available = true;
        }
        if !d.available {
            return Ok(None);
        }
        d.reason = format!("{}; {from} failed, so {} answers", prev.reason, d.tier);
        let next = self.with_store(|s| Ok(table::resolve(s, &d.tier)?))?;
        *route = Some(d);
        Ok(Some(next))
    }

    /// Records one call in the calls log (one policy for every front end). A failure to record is logged, not
    /// returned: the user's answer matters more than its bookkeeping.
    pub(crate) fn record(
        &self,
        tier: &TierRow,
        prov: &ProviderRow,
        result: &std::result::Result<Completion, ProviderError>,
    ) {
        let r = self.with_store(|s| Ok(table::record_result(s, &tier.name, &prov.name, &tier.model, result)?));
        if let Err(e) = r {
            tracing::warn!(error = %e, "could not record a call");
        }
    }
}
