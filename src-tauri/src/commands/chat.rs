//! Chat tab: every prompt classified and routed (or sent to the tier the user picked), the decision shown
//! before the answer streams, the answer stored with its tokens, cost and savings. `job_cancel("chat")` stops
//! the answer being generated (what arrived is kept).

use complexitynet_core::ask::AskEvent;
use complexitynet_core::chat::{ChatTotals, ExportFormat};
use complexitynet_core::types::{ChatMessage, Conversation};
use complexitynet_core::types::{CheckItem, Checks};
use tauri::ipc::Channel;

use super::{forward, AppError, AppState};

#[tauri::command(rename_all = "snake_case")]
pub async fn chat_conversations(app: AppState<'_>) -> Result<Vec<Conversation>, AppError> {
    app.blocking(|a| a.conversations()).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn chat_messages(app: AppState<'_>, conversation: i64) -> Result<Vec<ChatMessage>, AppError> {
    app.blocking(move |a| a.conversation(conversation)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn chat_delete(app: AppState<'_>, conversation: i64) -> Result<(), AppError> {
    app.blocking(move |a| a.delete_conversation(conversation)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn chat_feedback(app: AppState<'_>, message: i64, feedback: Option<String>) -> Result<(), AppError> {
    app.blocking(move |a| a.set_feedback(message, feedback.as_deref())).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn chat_totals(app: AppState<'_>) -> Result<ChatTotals, AppError> {
    app.blocking(|a| a.chat_totals()).await
}

/// The conversation as Markdown or JSON text (the page saves it).
#[tauri::command(rename_all = "snake_case")]
pub async fn chat_export(app: AppState<'_>, conversation: i64, format: ExportFormat) -> Result<String, AppError> {
    app.blocking(move |a| a.export_conversation(conversation, format)).await
}

/// Sends a prompt: streams the decision, the checks, each hand-over or cascade step, then the pieces; resolves
/// with the stored answer. `max_tier`: the highest tier this chat may use; `checks`: the ones the user settled on
/// (replacing the prompt's own; an empty list turns verification off).
#[tauri::command(rename_all = "snake_case")]
pub async fn chat_send(
    app: AppState<'_>,
    conversation: Option<i64>,
    prompt: String,
    tier: Option<String>,
    max_tier: Option<String>,
    checks: Option<Vec<CheckItem>>,
    on_event: Channel<AskEvent>,
) -> Result<ChatMessage, AppError> {
    app.chat_send(conversation, &prompt, tier, max_tier, checks, &forward(on_event)).await
}

/// The checks a prompt shows (the message box shows them as the user types).
#[tauri::command(rename_all = "snake_case")]
pub async fn prompt_checks(app: AppState<'_>, prompt: String) -> Result<Checks, AppError> {
    app.blocking(move |a| Ok(a.prompt_checks(&prompt))).await
}

/// Checks a tier proposes from the prompt alone ("Add checks"), for the user to edit and accept.
#[tauri::command(rename_all = "snake_case")]
pub async fn propose_checks(
    app: AppState<'_>,
    prompt: String,
    tier: Option<String>,
) -> Result<Vec<CheckItem>, AppError> {
    app.propose_checks(&prompt, tier.as_deref()).await
}
