//! Settings → the local OpenAI-compatible server, started from the app (the same router as `complexitynet
//! serve`, on 127.0.0.1, stopped by the switch or when the app quits), and the routing policy.

use complexitynet_core::routing::{BudgetStatus, DialCurve};
use complexitynet_core::serving::{new_key, ServerSettings};
use complexitynet_core::types::{RouteSettings, UsageBy, UsageRow};
use complexitynet_core::AppError;
use serde::Serialize;
use std::sync::Mutex;
use tauri::State;

use super::AppState;
use crate::server::{start, Running, ServerConfig};

/// The running server, if any. Transport state: it lives with the window, not in the core.
#[derive(Default)]
pub struct ServerSlot(Mutex<Option<Running>>);

#[derive(Clone, Serialize, ts_rs::TS)]
pub struct ServerStatus {
    pub running: bool,
    pub url: Option<String>,
    /// This start's bearer key, for the page to show and copy (it lives in memory only); None when the server
    /// runs without one (the user's explicit choice) or is stopped.
    pub key: Option<String>,
}

impl ServerSlot {
    fn status(&self) -> ServerStatus {
        match self.0.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            Some(r) => ServerStatus { running: true, url: Some(r.url.clone()), key: r.key.clone() },
            None => ServerStatus { running: false, url: None, key: None },
        }
    }
}

#[tauri::command(rename_all = "snake_case")]
pub fn server_status(slot: State<'_, ServerSlot>) -> ServerStatus {
    slot.status()
}

/// Starts the server on `port` (0: any free port) with a fresh random key unless `no_key` (the explicit choice
/// to let any local program call it), and the saved origins, hosts and daily cap.
#[tauri::command(rename_all = "snake_case")]
pub async fn server_start(
    app: AppState<'_>,
    slot: State<'_, ServerSlot>,
    port: u16,
    no_key: bool,
) -> Result<ServerStatus, AppError> {
    if !slot.status().running {
        let settings = app.blocking(|a| a.server_settings()).await?;
        let api_key = (!no_key).then(new_key);
        let config = ServerConfig { api_key, route: Default::default(), settings };
        let running = start(app.inner().clone(), port, config).await?;
        *slot.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(running);
    }
    Ok(slot.status())
}

/// Spend and savings from the ledger, grouped (the window's view of what `complexitynet usage` prints: the
/// agents' requests through the server by client and conversation).
#[tauri::command(rename_all = "snake_case")]
pub async fn usage(app: AppState<'_>, by: UsageBy, days: u32) -> Result<Vec<UsageRow>, AppError> {
    app.blocking(move |a| a.usage(by, days)).await
}

/// The server's allowed origins and hosts and its daily spend cap (applied at the next start).
#[tauri::command(rename_all = "snake_case")]
pub async fn server_settings_get(app: AppState<'_>) -> Result<ServerSettings, AppError> {
    app.blocking(|a| a.server_settings()).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn server_settings_set(app: AppState<'_>, settings: ServerSettings) -> Result<ServerSettings, AppError> {
    app.blocking(move |a| a.set_server_settings(&settings)).await
}

#[tauri::command(rename_all = "snake_case")]
pub fn server_stop(slot: State<'_, ServerSlot>) -> ServerStatus {
    if let Some(r) = slot.0.lock().unwrap_or_else(|e| e.into_inner()).take() {
        r.stop.cancel();
    }
    slot.status()
}

/// The routing policy the chat, `ask`, `route` and the server use.
#[tauri::command(rename_all = "snake_case")]
pub async fn route_policy_get(app: AppState<'_>) -> Result<RouteSettings, AppError> {
    app.blocking(|a| a.route_settings()).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn route_policy_set(app: AppState<'_>, policy: RouteSettings) -> Result<RouteSettings, AppError> {
    app.blocking(move |a| a.set_route_settings(&policy)).await
}

/// The cost dial's curve (expected pass rate by cost share) with the saved setting's operating point.
#[tauri::command(rename_all = "snake_case")]
pub async fn dial_curve(app: AppState<'_>) -> Result<DialCurve, AppError> {
    app.blocking(|a| a.dial_curve()).await
}

/// The dial's budget: its target, what routed prompts realized, and which router decides and why.
#[tauri::command(rename_all = "snake_case")]
pub async fn budget_status(app: AppState<'_>) -> Result<BudgetStatus, AppError> {
    app.blocking(|a| a.budget_status()).await
}
