//! Fine-tune tab: train a classifier with live per-epoch progress and cloud job events, list and compare the
//! trained ones, activate one, classify a prompt. The work is the CLI's (`cli_classify`), run off the async
//! workers.

use complexitynet_classifier::artifact::{self, Meta, Prediction};
use complexitynet_classifier::bert;
use complexitynet_classifier::train::Event;
use complexitynet_engine::tiers::CancellationToken;
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use crate::cli_classify::{cls_err, encoder_dir, train_request, TrainRequest};
use crate::error::AppError;
use crate::state::AppState;

#[tauri::command]
pub async fn classifier_list(state: State<'_, AppState>) -> Result<Vec<Meta>, AppError> {
    state.with_store(|s| artifact::list(s).map_err(cls_err)).await
}

#[tauri::command]
pub async fn classifier_activate(state: State<'_, AppState>, id: String) -> Result<Meta, AppError> {
    state.with_store(move |s| artifact::activate(s, &id).map_err(cls_err)).await
}

#[tauri::command]
pub async fn classifier_remove(state: State<'_, AppState>, id: String) -> Result<(), AppError> {
    state.with_store(move |s| artifact::remove(s, &id).map_err(cls_err)).await
}

#[derive(Debug, Serialize)]
pub struct EncoderStatus {
    pub id: &'static str,
    pub dir: String,
    pub present: bool,
}

#[tauri::command]
pub fn encoder_status(state: State<'_, AppState>) -> EncoderStatus {
    let dir = encoder_dir(&state.data_dir, None);
    EncoderStatus { id: bert::ENCODER_ID, present: bert::present(&dir), dir: dir.display().to_string() }
}

/// Trains and evaluates; streams rounds, epochs and cloud job updates; resolves with the stored classifier.
/// `job_cancel("train")` stops it (a cloud job is cancelled on the provider's side too).
#[tauri::command]
pub async fn classifier_train(
    state: State<'_, AppState>,
    request: TrainRequest,
    on_event: Channel<Event>,
) -> Result<Meta, AppError> {
    let cancel = CancellationToken::new();
    state.jobs.lock().unwrap_or_else(|e| e.into_inner()).insert("train".into(), cancel.clone());
    let data_dir = state.data_dir.clone();
    let c = cancel.clone();
    let result = tauri::async_runtime::spawn_blocking(move || {
        let _span = tracing::info_span!("ui_train", method = %request.method, labels = %request.labels).entered();
        train_request(&data_dir, &request, &move |e| drop(on_event.send(e)), &c)
    })
    .await
    .map_err(|e| AppError::internal(format!("the training task failed: {e}")));
    state.jobs.lock().unwrap_or_else(|e| e.into_inner()).remove("train");
    result?
}

#[tauri::command]
pub async fn classify_prompt(
    state: State<'_, AppState>,
    prompt: String,
    classifier: Option<String>,
) -> Result<Prediction, AppError> {
    let data_dir = state.data_dir.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let store = crate::cli::open(&data_dir)?;
        let c = crate::cli_classify::load(&store, &data_dir, classifier.as_deref(), None)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| AppError::internal(e.to_string()))?;
        rt.block_on(c.classify(&prompt, &CancellationToken::new())).map_err(cls_err)
    })
    .await
    .map_err(|e| AppError::internal(format!("the classify task failed: {e}")))?
}
