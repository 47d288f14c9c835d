//! Settings → the local OpenAI-compatible server, started from the app: the same router as
//! `complexitynet serve`, on 127.0.0.1, stopped by the switch or when the app quits.

use complexitynet_engine::tiers::CancellationToken;
use serde::Serialize;
use tauri::State;

use crate::cli_route::PolicyArgs;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize)]
pub struct ServerStatus {
    pub running: bool,
    pub url: Option<String>,
    pub auth: bool,
}

fn status(state: &AppState) -> ServerStatus {
    match state.server.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        Some((_, url, auth)) => ServerStatus { running: true, url: Some(url.clone()), auth: *auth },
        None => ServerStatus { running: false, url: None, auth: false },
    }
}

#[tauri::command]
pub fn server_status(state: State<'_, AppState>) -> ServerStatus {
    status(&state)
}

/// Starts the server on `port` (0: any free port); `api_key` (kept in memory only) requires a bearer key.
#[tauri::command]
pub async fn server_start(
    state: State<'_, AppState>,
    port: u16,
    api_key: Option<String>,
) -> Result<ServerStatus, AppError> {
    if status(&state).running {
        return Ok(status(&state));
    }
    let data_dir = state.data_dir.clone();
    let key = api_key.filter(|k| !k.is_empty());
    let auth = key.is_some();
    let serve_state = tauri::async_runtime::spawn_blocking(move || {
        let policy = crate::cli_route::stored(&crate::cli::open(&data_dir)?);
        crate::serve::state(&data_dir, key, &policy)
    })
    .await
    .map_err(|e| AppError::internal(format!("starting the server failed: {e}")))??;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| AppError::internal(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    let addr = listener.local_addr().map_err(|e| AppError::internal(e.to_string()))?;
    let url = format!("http://{addr}/v1");
    let stop = CancellationToken::new();
    let s2 = stop.clone();
    tauri::async_runtime::spawn(async move {
        let r = axum::serve(listener, crate::serve::router(serve_state))
            .with_graceful_shutdown(async move { s2.cancelled().await })
            .await;
        if let Err(e) = r {
            tracing::error!(error = %e, "the local server stopped");
        }
    });
    tracing::info!(%url, "local OpenAI-compatible server started from the app");
    *state.server.lock().unwrap_or_else(|e| e.into_inner()) = Some((stop, url, auth));
    Ok(status(&state))
}

#[tauri::command]
pub fn server_stop(state: State<'_, AppState>) -> ServerStatus {
    if let Some((stop, _, _)) = state.server.lock().unwrap_or_else(|e| e.into_inner()).take() {
        stop.cancel();
    }
    status(&state)
}

/// The routing policy the chat, `ask`, `route` and the server use.
#[tauri::command]
pub async fn route_policy_get(state: State<'_, AppState>) -> Result<PolicyArgs, AppError> {
    state.with_store(|s| Ok(crate::cli_route::stored(s))).await
}

#[tauri::command]
pub async fn route_policy_set(state: State<'_, AppState>, policy: PolicyArgs) -> Result<PolicyArgs, AppError> {
    state
        .with_store(move |s| {
            crate::cli_route::save(s, &policy)?;
            Ok(crate::cli_route::stored(s))
        })
        .await
}
