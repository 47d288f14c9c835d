//! Chat tab: every prompt classified and routed (or sent to the tier the user picked), the decision shown
//! before the answer streams, the answer stored with its tokens, cost and savings. `job_cancel("chat")` stops
//! the answer being generated (what arrived is kept).

use complexitynet_core::ask::AskEvent;
use complexitynet_core::chat::{ChatTotals, ExportFormat};
use complexitynet_engine::chat::{ChatMessage, Conversation};
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

/// Sends a prompt: streams the decision, each hand-over or cascade step, then the pieces; resolves with the
/// stored answer. `max_tier`: the highest tier this chat may use.
#[tauri::command(rename_all = "snake_case")]
pub async fn chat_send(
    app: AppState<'_>,
    conversation: Option<i64>,
    prompt: String,
    tier: Option<String>,
    max_tier: Option<String>,
    on_event: Channel<AskEvent>,
) -> Result<ChatMessage, AppError> {
    app.chat_send(conversation, &prompt, tier, max_tier, &forward(on_event)).await
}
