//! Chat: every prompt classified and routed (or sent to the tier the user picked), the decision shown before
//! the answer streams, the answer stored with its tokens, cost and the amount saved against the top tier.

use complexitynet_classifier::artifact::{self, Classifier};
use complexitynet_engine::chat::{self, ChatError, ChatMessage, Conversation, Totals};
use complexitynet_engine::tiers::table;
use complexitynet_engine::tiers::{CancellationToken, GenParams, Message, Request, Role};
use serde::Serialize;
use std::sync::Arc;
use tauri::ipc::Channel;
use tauri::State;

use crate::cli_route::{decide_from, Decision};
use crate::cli_tiers::tier_err;
use crate::commands::models::provider_for_tier;
use crate::error::AppError;
use crate::state::AppState;

fn chat_err(e: ChatError) -> AppError {
    AppError { code: e.code(), message: e.to_string() }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ChatEvent {
    /// Before any text: where the prompt goes and why.
    Routed {
        decision: Decision,
    },
    Piece {
        text: String,
    },
    /// The verified cascade (a prompt with `assert` lines): one tier's answer run against them.
    Step {
        tier: String,
        model: String,
        verdict: String,
        passed: bool,
    },
}

#[tauri::command]
pub async fn chat_conversations(state: State<'_, AppState>) -> Result<Vec<Conversation>, AppError> {
    state.with_store(|s| chat::list(s).map_err(chat_err)).await
}

#[tauri::command]
pub async fn chat_messages(state: State<'_, AppState>, conversation: i64) -> Result<Vec<ChatMessage>, AppError> {
    state.with_store(move |s| chat::messages(s, conversation).map_err(chat_err)).await
}

#[tauri::command]
pub async fn chat_delete(state: State<'_, AppState>, conversation: i64) -> Result<(), AppError> {
    state.with_store(move |s| chat::delete(s, conversation).map_err(chat_err)).await
}

#[tauri::command]
pub async fn chat_feedback(state: State<'_, AppState>, message: i64, feedback: Option<String>) -> Result<(), AppError> {
    state.with_store(move |s| chat::set_feedback(s, message, feedback.as_deref()).map_err(chat_err)).await
}

#[derive(Debug, Serialize)]
pub struct ChatTotals {
    pub today: Totals,
    pub month: Totals,
}

#[tauri::command]
pub async fn chat_totals(state: State<'_, AppState>) -> Result<ChatTotals, AppError> {
    state.with_store(|s| chat::totals(s).map(|(today, month)| ChatTotals { today, month }).map_err(chat_err)).await
}

/// The conversation as `markdown` or `json` text (the page saves it).
#[tauri::command]
pub async fn chat_export(state: State<'_, AppState>, conversation: i64, format: String) -> Result<String, AppError> {
    state
        .with_store(move |s| match format.as_str() {
            "markdown" => chat::markdown(s, conversation).map_err(chat_err),
            "json" => {
                let m = chat::messages(s, conversation).map_err(chat_err)?;
                Ok(serde_json::to_string_pretty(&serde_json::json!({"conversation": conversation, "messages": m}))
                    .expect("serialises"))
            }
            other => Err(AppError {
                code: complexitynet_engine::ErrorCode::InvalidArguments,
                message: format!("unknown export format {other:?} (markdown or json)"),
            }),
        })
        .await
}

/// The active classifier, loaded once and kept (reloaded when another one is activated).
async fn classifier(state: &AppState) -> Result<Arc<Classifier>, AppError> {
    let active = state.with_store(|s| artifact::active_id(s).map_err(crate::cli_classify::cls_err)).await?;
    if let Some(c) = state.classifier.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        if c.meta.id == active {
            return Ok(c.clone());
        }
    }
    let data_dir = state.data_dir.clone();
    let c = tauri::async_runtime::spawn_blocking(move || {
        let store = crate::cli::open(&data_dir)?;
        crate::cli_classify::load(&store, &data_dir, Some(&active), None)
    })
    .await
    .map_err(|e| AppError::internal(format!("loading the classifier failed: {e}")))??;
    let c = Arc::new(c);
    *state.classifier.lock().unwrap_or_else(|e| e.into_inner()) = Some(c.clone());
    Ok(c)
}

/// Sends a prompt: routed by the active classifier unless `tier` overrides it. Streams `routed` then the
/// pieces; resolves with the stored answer. `job_cancel("chat")` stops it (what arrived is kept).
#[tauri::command]
pub async fn chat_send(
    state: State<'_, AppState>,
    conversation: Option<i64>,
    prompt: String,
    tier: Option<String>,
    on_event: Channel<ChatEvent>,
) -> Result<ChatMessage, AppError> {
    if prompt.trim().is_empty() {
        return Err(AppError {
            code: complexitynet_engine::ErrorCode::InvalidArguments,
            message: "the prompt is empty".into(),
        });
    }
    let p = prompt.clone();
    let conversation = match conversation {
        Some(c) => c,
        None => state.with_store(move |s| chat::create(s, &p).map_err(chat_err)).await?,
    };
    // The decision: the classifier's level always (the UI shows it), the tier from the policy or the override.
    let c = classifier(&state).await?;
    let prediction = c.classify(&prompt, &CancellationToken::new()).await.map_err(crate::cli_classify::cls_err)?;
    let keychain = state.keychain.clone();
    let (meta, policy_tiers) = (c.meta.clone(), state.with_store(|s| table::tiers(s).map_err(tier_err)).await?);
    let saved = state.with_store(|s| Ok(crate::cli_route::stored(s))).await?;
    let policy = crate::cli_route::policy_of(&saved, &c, policy_tiers.len())?;
    let mut decision = state.with_store(move |s| decide_from(s, &meta, &policy, prediction, keychain.as_ref())).await?;
    if let Some(t) = &tier {
        let row = policy_tiers.iter().find(|r| &r.name == t).ok_or_else(|| AppError {
            code: complexitynet_engine::ErrorCode::UnknownTier,
            message: format!("no tier {t:?}"),
        })?;
        decision.reason = format!("{} chosen by you (the router chose {})", row.name, decision.tier);
        decision.tier = row.name.clone();
        decision.model = row.model.clone();
    }
    // The conversation so far, then the new prompt.
    let history = state.with_store(move |s| chat::messages(s, conversation).map_err(chat_err)).await?;
    let mut messages: Vec<Message> = history
        .iter()
        .map(|m| Message {
            role: if m.role == "user" { Role::User } else { Role::Assistant },
            content: m.content.clone(),
        })
        .collect();
    messages.push(Message::user(prompt.clone()));
    let (cid, pr) = (conversation, prompt.clone());
    state
        .with_store(move |s| {
            chat::add(s, &ChatMessage { conversation_id: cid, role: "user".into(), content: pr, ..Default::default() })
                .map_err(chat_err)
        })
        .await?;
    if let Some(tests) = crate::cli_cascade::prompt_tests(&prompt) {
        return cascade_answer(&state, conversation, &prompt, tests, decision, &policy_tiers, &on_event).await;
    }
    let cancel = CancellationToken::new();
    state.jobs.lock().unwrap_or_else(|e| e.into_inner()).insert("chat".into(), cancel.clone());
    // A tier that fails for a reason the next one would not share (rate limit, network, a rejected key) hands the
    // prompt on, as `ask` does; the page hears a new `routed` event for each hand-over. Nothing was streamed
    // from a failed attempt unless it failed mid-answer, which is reported, not retried.
    let mut failed = vec![false; policy_tiers.len()];
    let (tier_row, completion) = loop {
        let _ = on_event.send(ChatEvent::Routed { decision: decision.clone() });
        let spec = decision.tier.clone();
        let (tier_row, prov) = state.with_store(move |s| table::resolve(s, &spec).map_err(tier_err)).await?;
        let provider = provider_for_tier(&state, &tier_row, &prov).await?;
        let request = Request {
            model: tier_row.model.clone(),
            messages: messages.clone(),
            params: GenParams { temperature: 0.2, max_tokens: 512, ..GenParams::default() },
            stream: true,
            price: tier_row.price(),
        };
        let streamed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (events, flag) = (on_event.clone(), streamed.clone());
        let on_text = move |t: &str| {
            flag.store(true, std::sync::atomic::Ordering::Relaxed);
            let _ = events.send(ChatEvent::Piece { text: t.to_owned() });
        };
        match provider.generate(&request, &on_text, &cancel).await {
            Ok(c) => break (tier_row, c),
            Err(e)
                if !streamed.load(std::sync::atomic::Ordering::Relaxed)
                    && (e.kind.is_transient()
                        || matches!(
                            e.kind,
                            complexitynet_engine::tiers::ErrorKind::Auth
                                | complexitynet_engine::tiers::ErrorKind::Quota
                        )) =>
            {
                let idx = policy_tiers.iter().position(|t| t.name == decision.tier).unwrap_or(0);
                failed[idx] = true;
                let keychain = state.keychain.clone();
                let (tiers2, failed2) = (policy_tiers.clone(), failed.clone());
                let ok: Vec<bool> = state
                    .with_store(move |s| {
                        Ok(tiers2
                            .iter()
                            .enumerate()
                            .map(|(i, t)| !failed2[i] && crate::cli_route::available(s, keychain.as_ref(), t).0)
                            .collect())
                    })
                    .await?;
                let Some((next, flagged)) = complexitynet_engine::route::fall_through(idx, &ok) else {
                    state.jobs.lock().unwrap_or_else(|e| e.into_inner()).remove("chat");
                    return Err(AppError::from(complexitynet_engine::EngineError::from(e)));
                };
                decision.reason = format!(
                    "{}; {} failed ({}), so {} answers",
                    decision.reason, decision.tier, e.message, policy_tiers[next].name
                );
                decision.tier = policy_tiers[next].name.clone();
                decision.model = policy_tiers[next].model.clone();
                decision.flagged |= flagged;
            }
            Err(e) => {
                state.jobs.lock().unwrap_or_else(|e| e.into_inner()).remove("chat");
                return Err(AppError::from(complexitynet_engine::EngineError::from(e)));
            }
        }
    };
    state.jobs.lock().unwrap_or_else(|e| e.into_inner()).remove("chat");
    let top = policy_tiers.last().cloned();
    let saved = top.map(|t| (t.price().cost(completion.usage) - completion.cost_usd).max(0.0)).unwrap_or(0.0);
    let answer = ChatMessage {
        conversation_id: conversation,
        role: "assistant".into(),
        content: completion.text.clone(),
        tier: Some(tier_row.name.clone()),
        model: Some(completion.model.clone()),
        level: Some(decision.level),
        route: serde_json::to_value(&decision).ok(),
        prompt_tokens: completion.usage.prompt_tokens,
        completion_tokens: completion.usage.completion_tokens,
        cost_usd: completion.cost_usd,
        saved_usd: saved,
        ..Default::default()
    };
    let (tn, pn) = (tier_row.name.clone(), tier_row.provider.clone());
    state
        .with_store(move |s| {
            let _ = table::record_call(
                s,
                &table::CallRecord {
                    tier: &tn,
                    provider: &pn,
                    model: &completion.model,
                    prompt_tokens: completion.usage.prompt_tokens,
                    completion_tokens: completion.usage.completion_tokens,
                    cost_usd: completion.cost_usd,
                    latency_ms: completion.latency_ms,
                    finish_reason: "stop",
                    error_kind: None,
                    usage_estimated: completion.usage_estimated,
                },
            );
            chat::add(s, &answer).map_err(chat_err)
        })
        .await
}

/// A prompt that carries tests: the routed tier's answer is verified in the sandbox and the prompt climbs the
/// tiers until an answer passes; each step is shown, the passing (or last) answer is stored.
async fn cascade_answer(
    state: &AppState,
    conversation: i64,
    prompt: &str,
    tests: (String, Vec<String>, Option<String>),
    decision: Decision,
    tiers: &[table::TierRow],
    on_event: &Channel<ChatEvent>,
) -> Result<ChatMessage, AppError> {
    let _ = on_event.send(ChatEvent::Routed { decision: decision.clone() });
    let (data_dir, start, p, ev, ev2) =
        (state.data_dir.clone(), decision.tier.clone(), prompt.to_owned(), on_event.clone(), on_event.clone());
    let outcome = tauri::async_runtime::spawn_blocking(move || {
        let store = crate::cli::open(&data_dir)?;
        let on_step = move |s: &crate::cli_cascade::Step| {
            let _ = ev.send(ChatEvent::Step {
                tier: s.tier.clone(),
                model: s.model.clone(),
                verdict: s.verdict.summary(),
                passed: s.verdict.passed(),
            });
        };
        let on_skip = move |tier: &str, why: &str| {
            let _ = ev2.send(ChatEvent::Step {
                tier: tier.to_owned(),
                model: String::new(),
                verdict: format!("no answer: {why}"),
                passed: false,
            });
        };
        let params = GenParams { temperature: 0.2, max_tokens: 512, ..GenParams::default() };
        crate::cli_cascade::cascade(&store, &start, &p, &tests, params, &on_step, &on_skip)
    })
    .await
    .map_err(|e| AppError::internal(format!("the cascade failed: {e}")))??;
    let Some(last) = outcome.steps.last() else {
        return Err(AppError {
            code: complexitynet_engine::ErrorCode::ProviderNetwork,
            message: "no tier answered".into(),
        });
    };
    let _ = on_event.send(ChatEvent::Piece { text: last.answer.clone() });
    let (pt, ct) =
        outcome.steps.iter().fold((0, 0), |(a, b), s| (a + s.usage.prompt_tokens, b + s.usage.completion_tokens));
    let top_cost = tiers.last().map(|t| t.price().cost(last.usage)).unwrap_or(0.0);
    let mut route = serde_json::to_value(&decision).unwrap_or_default();
    route["cascade"] = serde_json::json!(outcome
        .steps
        .iter()
        .map(|s| serde_json::json!({"tier": s.tier, "model": s.model, "verdict": s.verdict.summary(), "passed": s.verdict.passed()}))
        .collect::<Vec<_>>());
    let answer = ChatMessage {
        conversation_id: conversation,
        role: "assistant".into(),
        content: last.answer.clone(),
        tier: Some(last.tier.clone()),
        model: Some(last.model.clone()),
        level: Some(decision.level),
        route: Some(route),
        prompt_tokens: pt,
        completion_tokens: ct,
        cost_usd: outcome.cost_usd,
        saved_usd: (top_cost - outcome.cost_usd).max(0.0),
        ..Default::default()
    };
    state.with_store(move |s| chat::add(s, &answer).map_err(chat_err)).await
}
