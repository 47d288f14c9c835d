//! `ask`: the one path from a prompt to an answer, shared by `complexitynet ask`, the Chat tab and the server.
//!
//! A prompt with checks (the examples it shows — `assert` lines, doctests, calls with their results, `Input:`/
//! `Output:` blocks — or checks given with the request) takes the verified cascade (see [`crate::cascade`]): from
//! the cheapest tier up to the highest allowed, each answer judged against the checks, stopping at the first that
//! passes. Otherwise: route (unless a tier is named) → generate,
//! streaming → on a failure that another tier would not share (its rate limit, an outage, the network, a rejected
//! key or an empty quota), and only if no text was streamed yet, fall through to the next tier that can answer.
//! Either way every call, answered or failed, is recorded in the calls log, and the front end hears each step
//! (the decision before any text, each hand-over or verified step, each piece).

use complexitynet_engine::ledger::Entry;
use complexitynet_engine::tiers::{self as table, CostMode, ProviderRow, TierRow};
use complexitynet_providers::{CancellationToken, Completion, GenParams, Message, ProviderError, Request, Role};
use complexitynet_router::Decision;
use complexitynet_verify::checks::Checks;
use complexitynet_verify::judge::{Verification, VerifiedStep};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing::Instrument;

pub use crate::events::{AskEvent, Attempt};
use crate::providers::Priced;
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
    /// Checks the answer must pass, given with the request (the server's `complexitynet.tests`, a dataset task,
    /// the ones the user accepted in the chat); they replace the prompt's own.
    pub checks: Option<Checks>,
    /// Verify against the checks the prompt itself shows (its examples) when there are some: the default; off
    /// asks one tier as if there were none.
    pub verify: bool,
    /// Where the request came from, for the ledger: `ask`, `chat` or `serve`.
    pub source: &'static str,
    /// An agent's request (it carries tools, or tool rounds): routed per human turn, never verified against the
    /// prompt's examples (the agent's own test runs are the evidence), climbing when they fail.
    pub agent: Option<Box<crate::agent::AgentAsk>>,
    /// The client as it names itself (its user agent's first word), for a request through the server: the ledger
    /// groups spend by it.
    pub client: Option<String>,
}

impl AskRequest {
    /// Where this request's calls go in the ledger (the verified cascade's steps record it as they are).
    pub(crate) fn ledger(&self) -> crate::cascade::Origin<'_> {
        crate::cascade::Origin { source: self.source, client: self.client.as_deref() }
    }

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
            checks: None,
            verify: true,
            source: "ask",
            agent: None,
            client: None,
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
            checks: None,
            verify: true,
            source: "ask",
            agent: None,
            client: None,
        }
    }

    /// The checks this request's answer must pass, if any: the ones given, else (unless verification is off)
    /// the ones the prompt shows.
    pub fn checks(&self) -> Option<Checks> {
        let checks = match &self.checks {
            Some(c) => c.clone(),
            None if self.verify => Checks::from_prompt(self.prompt()),
            None => return None,
        };
        (!checks.is_empty()).then_some(checks)
    }

    /// The text the router classifies: the last user message.
    pub fn prompt(&self) -> &str {
        self.messages.iter().rev().find(|m| m.role == Role::User).map(|m| m.content.as_str()).unwrap_or_default()
    }
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
    /// The cost of every attempt in the cost mode (dollars, or the paper's units per call).
    pub cost: f64,
    /// Every attempt's dollars (a verified cascade pays for each tier it tried).
    pub cost_usd: f64,
    /// What the answer's tokens would have cost on the top tier, minus what every attempt cost (never negative);
    /// zero for an answer that failed its tests: savings are claimed only for answers that can be kept.
    pub saved_usd: f64,
    /// The checks' verdicts, when the prompt carried checks.
    pub verification: Option<Verification>,
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
        if let Some(agent) = &req.agent {
            return self.ask_agent(req, agent, on_event, cancel).await;
        }
        let prompt = req.prompt().to_owned();
        if prompt.trim().is_empty() {
            return Err(AppError::invalid("the prompt is empty"));
        }
        if let Some(checks) = req.checks() {
            return self.ask_verified(req, &checks, on_event, cancel).await;
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
                ..Default::default()
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
                    Err(ProviderError::new(complexitynet_providers::ErrorKind::BadRequest, &prov.name, e.message))
                }
            };
            let top_price = tiers.last().map(|t| (t.price(), t.paper_units));
            let entry = Entry {
                source: req.source,
                routed: req.tier.is_none(),
                units: tier.paper_units,
                top: result.as_ref().ok().zip(top_price).map(|(c, (p, u))| (p.cost(c.usage), u)),
                agent: None,
                client: req.client.as_deref(),
            };
            self.record(tier, prov, &result, entry);
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
                        cost_usd: completion.cost_usd,
                        provider: prov.name,
                        tier,
                        completion,
                        attempts,
                        cost_mode,
                        cost,
                        verification: None,
                    });
                }
                Err(e) => {
                    attempts.push(Attempt {
                        tier: tier.name.clone(),
                        model: tier.model.clone(),
                        error: Some(e.message.clone()),
                        cost_usd: 0.0,
                    });
                    if e.kind == complexitynet_providers::ErrorKind::Auth {
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

    /// A prompt with checks: the verified cascade from the cheapest tier (or the named one) up to the highest
    /// allowed. It starts at the cheapest rather than at the router's pick because, measured on the paper's
    /// recorded answers, a failed cheap attempt costs little and a skipped one loses the tasks only it solves:
    /// from L1, 100% pass at 19.1% of always-top's cost; from the dial's pick, 97.1% at 28.5%.
    async fn ask_verified(
        &self,
        req: &AskRequest,
        checks: &Checks,
        on_event: &(dyn Fn(AskEvent) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<AskOutcome> {
        let mut decision = self.decide(req.prompt(), &req.route, &[]).await?;
        let (tiers, cost_mode) = self.with_store(|s| Ok((table::tiers(s)?, table::cost_mode(s)?)))?;
        let index = |name: &str| tiers.iter().position(|t| t.name == name);
        let cap = match &req.route.max_tier {
            Some(c) => index(c).ok_or_else(|| AppError::invalid(format!("no tier {c:?} to cap at")))?,
            None => tiers.len() - 1,
        };
        let start = match &req.tier {
            None => 0,
            Some(spec) => {
                let (t, _) = self.with_store(|s| Ok(table::resolve(s, spec)?))?;
                index(&t.name).ok_or_else(|| {
                    AppError::invalid(format!(
                        "the verified cascade climbs the tier table and {spec} is not one of its tiers; ask it \
                         without verification, or name a tier"
                    ))
                })?
            }
        };
        if start > cap {
            return Err(AppError::invalid(format!(
                "{} is above {}, the highest tier allowed here",
                tiers[start].name, tiers[cap].name
            )));
        }
        // What a pass from each tier would be worth on this many checks: a tier whose pass could not end the
        // cascade is not asked first (unless the user named it), and a pass below the bar climbs on.
        let known = self.tier_abilities()?;
        let rated: Vec<(&str, Option<f64>)> = tiers[start..=cap]
            .iter()
            .map(|t| (t.name.as_str(), known.iter().find(|a| a.tier == t.name).and_then(|a| a.rate)))
            .collect();
        let bar = req.route.trust_bar.unwrap_or(complexitynet_router::trust::DEFAULT_TRUST);
        if !(0.0..=1.0).contains(&bar) {
            return Err(AppError::invalid(format!("the trust bar must be between 0 and 1, got {bar}")));
        }
        let trust = complexitynet_router::trust::plan(&rated, checks.len(), bar);
        // Never skip to where no tier can answer (no key, no model): then the cascade starts where it would. Only
        // asked when a tier would be skipped (the default bar skips none), and only until one tier can answer.
        let reachable = || -> Result<bool> {
            for t in &tiers[start + trust.start..=cap] {
                if self.with_store(|s| Ok(crate::decide::available(s, self.secrets(), t).available))? {
                    return Ok(true);
                }
            }
            Ok(false)
        };
        let skipped = if trust.start > 0 && req.tier.is_none() && reachable()? { trust.start } else { 0 };
        let (start, accepts) = (start + skipped, &trust.accepts[skipped..]);
        let names = |r: std::ops::RangeInclusive<usize>| tiers[r].iter().map(|t| t.name.as_str()).collect::<Vec<_>>();
        let source = if req.checks.is_some() { "given with the prompt" } else { "from the prompt's examples" };
        let summary = format!("{} {source}", checks.describe());
        let mut plan = format!("{summary}: verified cascade {}", names(start..=cap).join(" → "));
        if let (Some(why), true) = (&trust.why, skipped > 0) {
            plan = format!("{plan} ({why})");
        }
        decision.reason = match &req.tier {
            Some(t) => format!("{plan}, from {t} as you chose (the router chose {})", decision.tier),
            None => format!("{plan} (the router alone would pick {}: {})", decision.tier, decision.reason),
        };
        // Where the prompt goes first: the cascade's first tier (the reason says what the router alone would do).
        decision.tier = tiers[start].name.clone();
        decision.model = tiers[start].model.clone();
        on_event(AskEvent::Routed { decision: decision.clone() });
        on_event(AskEvent::Checks { summary, checks: checks.items.clone() });
        let run = self
            .cascade(&tiers[start..=cap], accepts, &req.messages, checks, &req.params, req.ledger(), on_event, cancel)
            .await?;
        let Some(last) = run.answer() else {
            let why: Vec<String> =
                run.attempts.iter().map(|a| format!("{}: {}", a.tier, a.error.as_deref().unwrap_or("?"))).collect();
            return Err(complexitynet_router::RouteError::NoTierAvailable(why.join("; ")).into());
        };
        let passed = last.verdict.passed();
        let (tier, prov) = self.with_store(|s| Ok(table::resolve(s, &last.tier)?))?;
        decision.tier = tier.name.clone();
        decision.model = tier.model.clone();
        decision.available = true;
        let trusted = |name: &str| rated.iter().position(|(n, _)| *n == name).and_then(|i| trust.trust[i]);
        let last_tried = run.steps.last().map(|s| s.tier.as_str()).unwrap_or_default();
        decision.reason = if passed && last_tried != tier.name {
            format!(
                "{plan}: {}'s answer passed, but a pass from it is weak evidence ({:.2} < {:.2}); no tier above \
                 passed, so it is the answer ({} tried)",
                tier.name,
                trusted(&tier.name).unwrap_or(0.0),
                bar,
                run.steps.len()
            )
        } else if passed {
            let worth = trusted(&tier.name)
                .map(|t| format!("; a pass like it is right about {:.0}% of the time", 100.0 * t))
                .unwrap_or_default();
            format!("{plan}: {}'s answer passed ({} tried{worth})", tier.name, run.steps.len())
        } else {
            format!("{plan}: no answer passed; {}'s, the last, is returned marked as failing", tier.name)
        };
        on_event(AskEvent::Routed { decision: decision.clone() });
        on_event(AskEvent::Piece { text: last.completion.text.clone() });
        let cost_usd: f64 = run.steps.iter().map(|s| s.completion.cost_usd).sum();
        let cost = match cost_mode {
            CostMode::Usd => cost_usd,
            CostMode::PaperUnits => {
                run.steps.iter().filter_map(|s| tiers.iter().find(|t| t.name == s.tier)).map(|t| t.paper_units).sum()
            }
        };
        let top = tiers.last().map(|t| t.price().cost(last.completion.usage)).unwrap_or(0.0);
        // The ledger: the answering call carries what always-top would have charged for the prompt.
        if let (Some(call), Some(t)) = (last.call, tiers.last()) {
            let r = self.with_store(|s| Ok(complexitynet_engine::ledger::set_top_cost(s, call, top, t.paper_units)?));
            if let Err(e) = r {
                tracing::warn!(error = %e, "could not record the prompt's always-top cost");
            }
        }
        let verification = Verification {
            passed,
            tests: checks.len(),
            checks: checks.items.clone(),
            steps: run
                .steps
                .iter()
                .map(|s| VerifiedStep {
                    tier: s.tier.clone(),
                    model: s.completion.model.clone(),
                    verdict: s.verdict.summary(),
                    passed: s.verdict.passed(),
                    cost_usd: s.completion.cost_usd,
                })
                .collect(),
            trust: if passed { trusted(&tier.name) } else { None },
        };
        Ok(AskOutcome {
            route: Some(decision),
            provider: prov.name,
            tier,
            completion: last.completion.clone(),
            attempts: run.attempts.clone(),
            cost_mode,
            cost,
            cost_usd,
            saved_usd: if passed { (top - cost_usd).max(0.0) } else { 0.0 },
            verification: Some(verification),
        })
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
        let (_, policy) = self.routing(&req.route)?;
        let p = complexitynet_classifier::artifact::Prediction {
            level: prev.level,
            probabilities: prev.probabilities.clone(),
            levels: prev.levels.clone(),
            classifier: prev.classifier.clone(),
            tier_pass: prev.tiers.iter().map(|t| t.expected.unwrap_or(0.0) as f32).collect(),
        };
        let skip = complexitynet_router::Skip {
            failed: failed.to_vec(),
            cap: req.route.max_tier.clone(),
            ..Default::default()
        };
        let mut d = self.decide_from(&policy, &p, &skip, self.live_budget(req.prompt())?)?;
        // A named tier that failed: the hand-over starts from it, not from the router's own choice.
        if req.tier.is_some() {
            let idx = tiers.iter().position(|t| t.name == from).unwrap_or(0);
            let ok: Vec<bool> = d.tiers.iter().map(|t| t.available).collect();
            let Some((t, flagged)) = complexitynet_router::fall_through(idx, &ok) else { return Ok(None) };
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

    /// Records one call in the ledger (one policy for every front end); returns its row. A failure to record is
    /// logged, not returned: the user's answer matters more than its bookkeeping.
    pub(crate) fn record(
        &self,
        tier: &TierRow,
        prov: &ProviderRow,
        result: &std::result::Result<Completion, ProviderError>,
        entry: Entry,
    ) -> Option<i64> {
        let r = self.with_store(|s| {
            Ok(crate::providers::record_result(s, &tier.name, &prov.name, &tier.model, result, entry)?)
        });
        match r {
            Ok(id) => Some(id),
            Err(e) => {
                tracing::warn!(error = %e, "could not record a call");
                None
            }
        }
    }

    /// The dial's budget for live traffic: what its routed prompts cost over the last 30 days against always-top,
    /// and this prompt's expected cost on the top tier (its tokens, and a typical answer's).
    pub fn live_budget(&self, prompt: &str) -> Result<complexitynet_router::Budget> {
        self.with_store(|s| {
            let mode = table::cost_mode(s)?;
            let spend = complexitynet_engine::ledger::routed_spend(s, 30, mode)?;
            let top = match (table::tiers(s)?.last(), mode) {
                (Some(t), CostMode::Usd) => t.price().cost(complexitynet_providers::Usage {
                    prompt_tokens: complexitynet_providers::http::estimate_tokens(prompt),
                    completion_tokens: complexitynet_engine::ledger::typical_completion_tokens(s)? as u32,
                    cached_tokens: 0,
                }),
                (Some(t), CostMode::PaperUnits) => t.paper_units,
                (None, _) => 1.0,
            };
            Ok(complexitynet_router::Budget { spend, top: if top > 0.0 { top } else { 1.0 } })
        })
    }
}
