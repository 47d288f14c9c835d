//! Agents through the server: a request that carries tools (Claude Code, Codex, opencode, Continue, Cline), from
//! any front door, routed per human turn and climbing on observed failure.
//!
//! - **The turn.** A turn is a human message and every request the agent makes until it answers (each carries
//!   the results of the tools the model called). The tier is chosen when the human message arrives — by the
//!   router, on that message — and the turn's continuation requests stay on it, so the provider's prompt cache
//!   stays warm and one model carries the plan. The conversation is recognised from the request itself (the
//!   client's session id where it sends one, else its first message): no client change.
//! - **What a tier can do.** A request with tools goes only to tiers that call tools (the local tier when its
//!   model's chat template declares tools: `complexitynet_llm_local::tools`); one whose prompt and answer do not
//!   fit a tier's context window skips it; images go only to tiers that read them. Each skip and its reason is
//!   part of the decision.
//! - **Climbing.** The tool results inside a turn are the evidence ([`complexitynet_router::agent`]): the
//!   project's tests failing again after the model worked on them, the same error coming back, many tool calls
//!   without progress. Any of those moves the rest of the turn one tier up, to the highest the user allows.
//! - **Side requests** (a title, a summary: a small model named, no tools) go to the cheapest tier that can.
//! - **The ledger.** Every request is recorded with its front door, client, conversation and turn, its cached
//!   tokens, and what always-top would have cost; the budget and the daily cap count it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use complexitynet_engine::ledger::{AgentCall, Entry};
use complexitynet_engine::tiers::{self as table, CostMode, ProviderKind, ProviderRow, TierRow};
use complexitynet_providers::{
    estimate_prompt_tokens, CancellationToken, ErrorKind, Message, ProviderError, Request, Role, ToolChoice, ToolDef,
};
use complexitynet_router::agent::{is_side_request, TurnEvidence};
use complexitynet_router::Decision;
use sha2::{Digest, Sha256};

use crate::ask::{AskEvent, AskOutcome, AskRequest, Attempt};
use crate::providers::Priced;
use crate::{lock, App, AppError, Result};

/// What an agent's request carries beyond a chat: its tools, and where it came from.
#[derive(Debug, Clone, Default)]
pub struct AgentAsk {
    pub tools: Vec<ToolDef>,
    pub tool_choice: ToolChoice,
    pub parallel_tool_calls: Option<bool>,
    /// `openai`, `anthropic` or `responses`.
    pub front_door: &'static str,
    /// The client as it names itself (its user agent's first word).
    pub client: String,
    /// The client's own session id, when it sends one.
    pub session: Option<String>,
    /// The model the client named.
    pub model: String,
    /// Tools the client offered that no tier can run, with why.
    pub not_offered: Vec<String>,
}

/// A turn in progress: the tier doing it, what its tool results showed, and the decision to report.
#[derive(Debug, Clone)]
pub(crate) struct TurnState {
    tier: String,
    evidence: TurnEvidence,
    /// Tool results of this turn already observed.
    seen: usize,
    decision: Decision,
    used: Instant,
}

/// Turns remembered at most (the oldest are forgotten: their next request routes afresh).
const TURNS: usize = 512;

/// The turn a request belongs to: its conversation's id, its number (the human messages so far) and the key the
/// turn's state is kept under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Turn {
    pub conversation: String,
    pub number: u32,
    key: String,
}

fn short_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..6])
}

/// The human messages of a conversation: user messages with something a person wrote (not only tool results).
fn human(messages: &[Message]) -> impl Iterator<Item = (usize, &Message)> {
    messages.iter().enumerate().filter(|(_, m)| m.is_human())
}

pub(crate) fn turn_of(messages: &[Message], front_door: &str, session: Option<&str>) -> Turn {
    let first = human(messages).next().map(|(_, m)| m.content.as_str()).unwrap_or_default();
    let conversation = match session.filter(|s| !s.trim().is_empty()) {
        Some(s) => short_hash(&[front_door, s]),
        None => short_hash(&[front_door, first]),
    };
    let number = human(messages).count() as u32;
    let last = human(messages).last().map(|(_, m)| m.content.as_str()).unwrap_or_default();
    let key = format!("{conversation}:{number}:{}", short_hash(&[last]));
    Turn { conversation, number, key }
}

/// The tool results since the turn's human message, in order: (output, is_error).
fn turn_results(messages: &[Message]) -> Vec<(String, bool)> {
    let from = human(messages).last().map(|(i, _)| i + 1).unwrap_or(0);
    messages[from..]
        .iter()
        .flat_map(|m| m.tool_results().map(|(_, c, e)| (c.to_owned(), e)).collect::<Vec<_>>())
        .collect()
}

/// Why a tier cannot take this request, if it cannot.
fn cannot(tier: &TierRow, kind: ProviderKind, needs: &Needs, local_ctx: u32, local_tools: bool) -> Option<String> {
    if needs.tools && kind == ProviderKind::Local && !local_tools {
        return Some(format!("{}'s chat template declares no tool calls", tier.model));
    }
    if needs.images && !tier.vision {
        return Some(format!("{} does not read images", tier.model));
    }
    let window = if kind == ProviderKind::Local { Some(local_ctx) } else { tier.context_window };
    if let Some(w) = window {
        let answer = tier.max_output.map_or(needs.max_tokens, |m| needs.max_tokens.min(m));
        // The local tier's answer is whatever room the window leaves; it needs the prompt to fit with some.
        let need = if kind == ProviderKind::Local { needs.prompt_tokens + 256 } else { needs.prompt_tokens + answer };
        if need > w {
            return Some(format!(
                "the prompt (~{} tokens) and its answer do not fit {}'s context window ({w} tokens)",
                needs.prompt_tokens, tier.model
            ));
        }
    }
    None
}

/// Whether a registered local model's chat template declares tool calls (crate `complexitynet_llm_local::tools`).
fn local_calls_tools(store: &complexitynet_engine::store::Store, model: &str) -> bool {
    use complexitynet_engine::local_models as models;
    models::get(store, model)
        .ok()
        .and_then(|row| models::gguf::read(std::path::Path::new(&row.path)).ok())
        .and_then(|info| info.chat_template)
        .is_some_and(|t| complexitynet_llm_local::tools::declares_tools(&t))
}

/// What a request needs of a tier.
struct Needs {
    tools: bool,
    images: bool,
    prompt_tokens: u32,
    max_tokens: u32,
}

impl App {
    /// An agent's request; see the module docs.
    pub(crate) async fn ask_agent(
        &self,
        req: &AskRequest,
        agent: &AgentAsk,
        on_event: &(dyn Fn(AskEvent) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<AskOutcome> {
        let (tiers, providers, cost_mode, local) = self.with_store(|s| {
            Ok((table::tiers(s)?, table::providers(s)?, table::cost_mode(s)?, table::local_settings(s)?))
        })?;
        if tiers.is_empty() {
            return Err(AppError::invalid("no tiers are configured (complexitynet tiers list)"));
        }
        let local_ctx = crate::providers::runtime_settings(local).n_ctx;
        let kind =
            |t: &TierRow| providers.iter().find(|p| p.name == t.provider).map_or(ProviderKind::Openai, |p| p.kind);
        let needs = Needs {
            tools: !agent.tools.is_empty()
                || req.messages.iter().any(|m| m.tool_calls().next().is_some() || m.tool_results().next().is_some()),
            images: req.messages.iter().any(Message::has_images),
            prompt_tokens: estimate_prompt_tokens(&req.messages, &agent.tools),
            max_tokens: req.params.max_tokens,
        };
        // The local model calls tools when its GGUF's chat template declares them (read only for a request with
        // tools; the file's header, not the model).
        let local_tools = needs.tools
            && tiers
                .iter()
                .filter(|t| kind(t) == ProviderKind::Local)
                .all(|t| self.with_store(|s| Ok(local_calls_tools(s, &t.model))).unwrap_or(false));
        let cap = match &req.route.max_tier {
            Some(c) => tiers
                .iter()
                .position(|t| &t.name == c)
                .ok_or_else(|| AppError::invalid(format!("no tier {c:?} to cap at")))?,
            None => tiers.len() - 1,
        };
        let cannot_list: Vec<(String, String)> = tiers
            .iter()
            .filter_map(|t| cannot(t, kind(t), &needs, local_ctx, local_tools).map(|why| (t.name.clone(), why)))
            .collect();
        let turn = turn_of(&req.messages, agent.front_door, agent.session.as_deref());
        let results = turn_results(&req.messages);
        let prior = lock(&self.turns).get(&turn.key).cloned();
        let index = |name: &str| tiers.iter().position(|t| t.name == name);
        let can = |i: usize| i <= cap && !cannot_list.iter().any(|(n, _)| *n == tiers[i].name);

        // The tier for this request, and the decision that says why.
        let (mut state, mut decision) = match prior {
            Some(mut st) => {
                // A continuation: the turn keeps its tier unless its new tool results say it is failing.
                let mut note = None;
                for (output, is_error) in results.iter().skip(st.seen) {
                    if let Some(climb) = st.evidence.observe(output, *is_error) {
                        let from = index(&st.tier).unwrap_or(0);
                        match (from + 1..tiers.len()).find(|&i| can(i)) {
                            Some(up) => {
                                note = Some(format!(
                                    "climbed from {} to {}: {}",
                                    st.tier,
                                    tiers[up].name,
                                    climb.describe()
                                ));
                                // What the lower tier spent on this turn answered nothing kept: no savings on it.
                                let (conv, n, from_tier) = (turn.conversation.clone(), turn.number, st.tier.clone());
                                if let Err(e) = self.with_store(|s| {
                                    Ok(complexitynet_engine::ledger::unclaim_turn(s, &conv, n, &from_tier)?)
                                }) {
                                    tracing::warn!(error = %e, "could not withdraw the turn's savings");
                                }
                                st.tier = tiers[up].name.clone();
                            }
                            None => {
                                note =
                                    Some(format!("{}, but {} is the highest tier allowed", climb.describe(), st.tier))
                            }
                        }
                    }
                }
                st.seen = results.len();
                let mut d = st.decision.clone();
                d.reason = match &note {
                    Some(n) => format!("turn {} of conversation {}: {n}", turn.number, turn.conversation),
                    None => format!(
                        "turn {} of conversation {}: stays on {}, the turn's tier (its tool results show no failure \
                         to climb on)",
                        turn.number, turn.conversation, st.tier
                    ),
                };
                if let Some(n) = note {
                    st.decision.reason = format!("{}; {n}", st.decision.reason);
                }
                let d_tier = st.tier.clone();
                (st, Decision { tier: d_tier, ..d })
            }
            None => {
                let mut d = if let Some(pinned) = &req.tier {
                    let mut d = self.decide(human_prompt(&req.messages), &req.route, &[]).await?;
                    d.reason = format!("{pinned} named by the client (the router would pick {})", d.tier);
                    d.tier = pinned.clone();
                    d
                } else if is_side_request(&agent.model, needs.tools) {
                    let mut d = self.decide_cannot(human_prompt(&req.messages), &req.route, &cannot_list).await?;
                    if let Some(i) = (0..tiers.len()).find(|&i| can(i) && d.tiers.get(i).is_some_and(|t| t.available)) {
                        d.tier = tiers[i].name.clone();
                        d.reason = format!(
                            "a side request ({} named, no tools): the cheapest tier that can answer",
                            agent.model
                        );
                    }
                    d
                } else {
                    self.decide_cannot(human_prompt(&req.messages), &req.route, &cannot_list).await?
                };
                if !d.available && req.tier.is_none() {
                    return Err(d.unavailable_error().into());
                }
                d.reason = format!("turn {} of conversation {}: {}", turn.number, turn.conversation, d.reason);
                let st = TurnState {
                    tier: d.tier.clone(),
                    evidence: TurnEvidence::default(),
                    seen: results.len(),
                    decision: d.clone(),
                    used: Instant::now(),
                };
                (st, d)
            }
        };
        if !agent.not_offered.is_empty() {
            decision
                .reason
                .push_str(&format!("; not offered to the tier: {} (no tier runs them)", agent.not_offered.join(", ")));
        }
        for (t, why) in &cannot_list {
            if let Some(s) = decision.tiers.iter_mut().find(|s| &s.tier == t) {
                s.available = false;
                s.note = why.clone();
            }
        }

        // Generate on the turn's tier; a tier that fails in a way another would not hands the request up.
        let mut failed: Vec<String> = Vec::new();
        let mut attempts = Vec::new();
        let top_price = tiers.last().map(|t| (t.price(), t.paper_units));
        let client = agent.client.clone();
        loop {
            let (mut tier, prov): (TierRow, ProviderRow) = self.with_store(|s| Ok(table::resolve(s, &state.tier)?))?;
            if tier.position == 0 {
                // A model passed straight through (not a tier): priced as the top tier, whose provider serves it.
                if let Some(top) = tiers.last() {
                    (tier.input_per_1k, tier.output_per_1k, tier.paper_units) =
                        (top.input_per_1k, top.output_per_1k, top.paper_units);
                }
            }
            if cannot_list.iter().any(|(n, _)| *n == tier.name) && req.tier.is_some() {
                let why = cannot_list.iter().find(|(n, _)| *n == tier.name).map(|(_, w)| w.clone()).unwrap_or_default();
                return Err(AppError::invalid(format!("{} cannot take this request: {why}", tier.name)));
            }
            decision.tier = tier.name.clone();
            decision.model = tier.model.clone();
            on_event(AskEvent::Routed { decision: decision.clone() });
            on_event(AskEvent::Started {
                tier: tier.name.clone(),
                provider: prov.name.clone(),
                model: tier.model.clone(),
            });
            let mut params = req.params.clone();
            if let Some(m) = tier.max_output {
                params.max_tokens = params.max_tokens.min(m);
            }
            let request = Request {
                model: tier.model.clone(),
                messages: req.messages.clone(),
                params,
                stream: req.stream,
                price: tier.price(),
                tools: agent.tools.clone(),
                tool_choice: agent.tool_choice.clone(),
                parallel_tool_calls: agent.parallel_tool_calls,
            };
            let streamed = AtomicBool::new(false);
            let on_text = |t: &str| {
                streamed.store(true, Ordering::Relaxed);
                on_event(AskEvent::Piece { text: t.to_owned() });
            };
            let result = match self.provider(&tier, &prov) {
                Ok(p) => p.generate(&request, &on_text, cancel).await,
                Err(e) => Err(ProviderError::new(ErrorKind::BadRequest, &prov.name, e.message)),
            };
            let call = AgentCall {
                front_door: agent.front_door,
                client: &client,
                conversation: &turn.conversation,
                turn: turn.number,
            };
            let entry = Entry {
                source: req.source,
                routed: req.tier.is_none(),
                units: tier.paper_units,
                top: result.as_ref().ok().zip(top_price).map(|(c, (p, u))| (p.cost(c.usage), u)),
                agent: Some(call),
                client: None,
            };
            self.record(&tier, &prov, &result, entry);
            // Tool calls whose arguments are not a JSON object would break the client's tools: that is this
            // tier's failure (it was paid for, and recorded), and the request goes to the next tier.
            let result = result.and_then(|c| match c.tool_calls.iter().find(|t| !valid_arguments(&t.arguments)) {
                Some(t) => Err(ProviderError::new(
                    ErrorKind::Server,
                    &prov.name,
                    format!("{} returned a call to {} whose arguments are not a JSON object", tier.name, t.name),
                )),
                None => Ok(c),
            });
            match result {
                Ok(completion) => {
                    attempts.push(Attempt {
                        tier: tier.name.clone(),
                        model: completion.model.clone(),
                        error: None,
                        cost_usd: completion.cost_usd,
                    });
                    let top = top_price.map(|(p, _)| p.cost(completion.usage)).unwrap_or(0.0);
                    let cost = match cost_mode {
                        CostMode::Usd => completion.cost_usd,
                        CostMode::PaperUnits => tier.paper_units,
                    };
                    state.used = Instant::now();
                    self.remember_turn(&turn, state);
                    return Ok(AskOutcome {
                        route: Some(decision),
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
                    if e.kind == ErrorKind::Auth {
                        self.forget_providers();
                    }
                    let may_fall = req.fall_through
                        && e.kind.may_succeed_elsewhere()
                        && !streamed.load(Ordering::Relaxed)
                        && !cancel.is_cancelled();
                    failed.push(tier.name.clone());
                    let from = index(&tier.name).unwrap_or(0);
                    let next = (from + 1..tiers.len())
                        .chain((0..from).rev())
                        .find(|&i| can(i) && !failed.contains(&tiers[i].name));
                    let (true, Some(next)) = (may_fall, next) else { return Err(e.into()) };
                    tracing::warn!(from = %tier.name, to = %tiers[next].name, error = %e, "agent request falls through");
                    on_event(AskEvent::FellThrough {
                        from: tier.name.clone(),
                        to: tiers[next].name.clone(),
                        error: e.message.clone(),
                    });
                    decision.reason = format!(
                        "{}; {} failed ({}), so {} answers",
                        decision.reason,
                        tier.name,
                        e.kind.as_str(),
                        tiers[next].name
                    );
                    state.tier = tiers[next].name.clone();
                }
            }
        }
    }

    /// The tier a client's model name pins: a tier's name, or the model a tier serves. None: the name routes
    /// (`auto`, a name no tier serves, a client's own default such as `claude-opus-4-8` or `gpt-5-codex`).
    /// With `pass_through`, a name no tier serves is sent to the top tier's provider under that name
    /// (`PROVIDER:MODEL`, priced as the top tier).
    pub fn pinned_tier(&self, model: &str, pass_through: bool) -> Result<Option<String>> {
        let tiers = self.with_store(|s| Ok(table::tiers(s)?))?;
        if model.is_empty() || model == "auto" {
            return Ok(None);
        }
        let known = tiers.iter().find(|t| t.name == model).or_else(|| tiers.iter().find(|t| t.model == model));
        Ok(match (known, tiers.last()) {
            (Some(t), _) => Some(t.name.clone()),
            (None, Some(top)) if pass_through => Some(format!("{}:{model}", top.provider)),
            (None, _) => None,
        })
    }

    /// The input tokens of an Anthropic Messages request, counted by the highest Anthropic tier's own endpoint
    /// (so the count is that model's tokenizer's). Without an Anthropic tier there is no honest count, and the
    /// error says so.
    pub async fn count_tokens(&self, body: &serde_json::Value) -> Result<u32> {
        let (tiers, providers) = self.with_store(|s| Ok((table::tiers(s)?, table::providers(s)?)))?;
        let found = tiers.iter().rev().find_map(|t| {
            providers.iter().find(|p| p.name == t.provider && p.kind == ProviderKind::Anthropic).map(|p| (t, p))
        });
        let Some((tier, prov)) = found else {
            return Err(AppError::invalid(
                "counting tokens needs an Anthropic tier (each model counts with its own tokenizer, and no tier here                  is Anthropic's); the request itself is still answered",
            ));
        };
        let key = self.secrets().get(&prov.name)?;
        let config = complexitynet_providers::http::CloudConfig::new(&prov.name, &prov.base_url, key);
        let mut body = body.clone();
        body["model"] = serde_json::json!(tier.model);
        Ok(complexitynet_providers::anthropic::count_tokens(config, &body, &CancellationToken::new()).await?)
    }

    fn remember_turn(&self, turn: &Turn, state: TurnState) {
        let mut turns = lock(&self.turns);
        if turns.len() >= TURNS && !turns.contains_key(&turn.key) {
            if let Some(oldest) = turns.iter().min_by_key(|(_, s)| s.used).map(|(k, _)| k.clone()) {
                turns.remove(&oldest);
            }
        }
        turns.insert(turn.key.clone(), state);
    }
}

fn valid_arguments(args: &str) -> bool {
    args.trim().is_empty() || serde_json::from_str::<serde_json::Value>(args).is_ok_and(|v| v.is_object())
}

/// The state of the turns in progress, kept by the app.
pub(crate) type Turns = std::sync::Mutex<HashMap<String, TurnState>>;

/// The human text of a request (what the router reads for an agent's turn): the last human message.
pub(crate) fn human_prompt(messages: &[Message]) -> &str {
    messages.iter().rev().find(|m| m.is_human()).map(|m| m.content.as_str()).unwrap_or_else(|| {
        messages.iter().rev().find(|m| m.role == Role::User).map(|m| m.content.as_str()).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use complexitynet_providers::{Part, ToolCall};

    fn result(id: &str, text: &str) -> Message {
        Message {
            role: Role::Tool,
            content: String::new(),
            parts: vec![Part::ToolResult { call_id: id.into(), content: text.into(), is_error: false }],
        }
    }

    fn call(id: &str) -> Message {
        Message {
            role: Role::Assistant,
            content: String::new(),
            parts: vec![Part::ToolCall(ToolCall { id: id.into(), name: "Bash".into(), arguments: "{}".into() })],
        }
    }

    #[test]
    fn a_turn_is_the_human_message_and_the_tool_rounds_after_it() {
        let mut conv = vec![Message::system("You are an agent."), Message::user("fix the tests")];
        let first = turn_of(&conv, "anthropic", None);
        conv.extend([call("1"), result("1", "2 failed")]);
        let cont = turn_of(&conv, "anthropic", None);
        assert_eq!(first, cont, "tool rounds stay in the turn");
        assert_eq!(turn_results(&conv), vec![("2 failed".to_owned(), false)]);
        conv.extend([Message::assistant("done"), Message::user("now add a README")]);
        let next = turn_of(&conv, "anthropic", None);
        assert_eq!((next.conversation.as_str(), next.number), (first.conversation.as_str(), 2));
        assert_ne!(next.key, first.key);
        assert!(turn_results(&conv).is_empty(), "a new turn starts with no evidence");
        assert_eq!(human_prompt(&conv), "now add a README");
        // Another session with the same first message is another conversation when the client names it.
        assert_ne!(
            turn_of(&conv, "anthropic", Some("a")).conversation,
            turn_of(&conv, "anthropic", Some("b")).conversation
        );
    }

    #[test]
    fn a_tier_that_cannot_take_the_request_says_why() {
        let tier = |ctx: Option<u32>, out: Option<u32>, vision: bool| TierRow {
            name: "mid".into(),
            position: 2,
            provider: "p".into(),
            model: "m".into(),
            input_per_1k: 0.0,
            output_per_1k: 0.0,
            paper_units: 10.0,
            context_window: ctx,
            max_output: out,
            vision,
        };
        let needs = |tools, images, prompt_tokens, max_tokens| Needs { tools, images, prompt_tokens, max_tokens };
        let cloud = ProviderKind::Openai;
        assert_eq!(cannot(&tier(None, None, false), cloud, &needs(true, false, 50_000, 64_000), 4096, false), None);
        let local = cannot(&tier(None, None, false), ProviderKind::Local, &needs(true, false, 100, 100), 4096, false);
        assert!(local.unwrap().contains("declares no tool calls"));
        let local = cannot(&tier(None, None, false), ProviderKind::Local, &needs(true, false, 100, 100), 4096, true);
        assert_eq!(local, None, "a model whose template declares tools takes them");
        assert!(cannot(&tier(None, None, false), cloud, &needs(false, true, 10, 10), 0, false)
            .unwrap()
            .contains("images"));
        assert_eq!(cannot(&tier(None, None, true), cloud, &needs(false, true, 10, 10), 0, false), None);
        // 120k of prompt and 64k asked: fits a 200k window, not a 128k one; a 16k cap on the answer makes it fit.
        let big = needs(true, false, 120_000, 64_000);
        assert_eq!(cannot(&tier(Some(200_000), None, false), cloud, &big, 0, false), None);
        assert!(cannot(&tier(Some(128_000), None, false), cloud, &big, 0, false).unwrap().contains("context window"));
        let small = needs(true, false, 100_000, 64_000);
        assert_eq!(cannot(&tier(Some(128_000), Some(16_384), false), cloud, &small, 0, false), None);
        assert!(cannot(&tier(None, None, false), ProviderKind::Local, &needs(false, false, 5000, 10), 4096, false)
            .is_some());
    }
}
