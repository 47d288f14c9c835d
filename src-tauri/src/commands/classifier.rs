//! Fine-tune tab: train a classifier with live per-epoch progress and cloud job events (`job_cancel("train")`
//! stops it), list the trained ones, activate or remove one, classify a prompt.

use complexitynet_core::training::{EncoderStatus, TrainRequest};
use complexitynet_core::types::Event;
use complexitynet_core::types::{Meta, Prediction};
use std::sync::Arc;
use tauri::ipc::Channel;

use super::{forward, AppError, AppState};

#[tauri::command(rename_all = "snake_case")]
pub async fn classifier_list(app: AppState<'_>) -> Result<Vec<Meta>, AppError> {
    app.blocking(|a| a.classifiers()).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn classifier_activate(app: AppState<'_>, id: String) -> Result<Meta, AppError> {
    app.blocking(move |a| a.activate_classifier(&id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn classifier_remove(app: AppState<'_>, id: String) -> Result<(), AppError> {
    app.blocking(move |a| a.remove_classifier(&id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub fn encoder_status(app: AppState<'_>) -> EncoderStatus {
    app.encoder_status()
}

/// Trains and evaluates; streams rounds, epochs and cloud job updates; resolves with the stored classifier.
#[tauri::command(rename_all = "snake_case")]
pub async fn classifier_train(
    app: AppState<'_>,
    request: TrainRequest,
    on_event: Channel<Event>,
) -> Result<Meta, AppError> {
    app.train_job(request, Arc::new(forward(on_event))).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn classify_prompt(
    app: AppState<'_>,
    prompt: String,
    classifier: Option<String>,
) -> Result<Prediction, AppError> {
    let app = app.inner().clone();
    app.blocking(move |a| complexitynet_core::runtime()?.block_on(a.classify(&prompt, classifier.as_deref(), None)))
        .await
}
