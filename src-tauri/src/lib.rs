//! The ComplexityNet desktop app: the shell over the application core (`complexitynet_core`). Given a
//! subcommand the same binary runs headless (see [`cli`]); given none it opens the window, whose commands
//! ([`commands`]) and local server ([`server`]) are transports over the same `App`.

pub mod cli;
pub mod commands;
pub mod logging;
pub mod server;

use complexitynet_core::types::DataDir;
use complexitynet_core::types::Keychain;
use complexitynet_core::App;
use std::sync::Arc;

pub use complexitynet_core::AppError;

/// The app's builder: plugins, state and every command. Shared by [`run`] and tests.
pub fn builder(app: Arc<App>) -> tauri::Builder<tauri::Wry> {
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(app)
        .manage(commands::server::ServerSlot::default())
        .invoke_handler(tauri::generate_handler![
            commands::app::app_info,
            commands::app::app_ready,
            commands::app::jobs_list,
            commands::app::job_cancel,
            commands::datasets::dataset_list,
            commands::datasets::dataset_import,
            commands::datasets::dataset_catalog,
            commands::datasets::dataset_download,
            commands::datasets::dataset_tasks,
            commands::datasets::dataset_task,
            commands::datasets::dataset_delete,
            commands::models::tiers_list,
            commands::models::tier_set,
            commands::models::tier_presets,
            commands::models::tier_preset_apply,
            commands::models::cost_mode_set,
            commands::models::provider_set,
            commands::models::keys_list,
            commands::models::key_set,
            commands::models::key_delete,
            commands::models::models_list,
            commands::models::models_catalog,
            commands::models::model_add,
            commands::models::model_download,
            commands::models::model_load,
            commands::models::model_unload,
            commands::models::ask_tier,
            commands::labeling::label_estimate,
            commands::labeling::label_start,
            commands::labeling::label_paper_replay,
            commands::labeling::label_runs,
            commands::labeling::label_trials,
            commands::labeling::calibrate_tiers,
            commands::classifier::classifier_list,
            commands::classifier::classifier_activate,
            commands::classifier::classifier_remove,
            commands::classifier::classifier_train,
            commands::classifier::classify_prompt,
            commands::classifier::encoder_status,
            commands::chat::chat_conversations,
            commands::chat::chat_messages,
            commands::chat::chat_delete,
            commands::chat::chat_feedback,
            commands::chat::chat_totals,
            commands::chat::chat_export,
            commands::chat::chat_send,
            commands::models::local_status,
            commands::chat::prompt_checks,
            commands::chat::propose_checks,
            commands::evaluate::eval_run,
            commands::server::server_status,
            commands::server::server_start,
            commands::server::server_stop,
            commands::server::route_policy_get,
            commands::server::route_policy_set,
            commands::server::dial_curve,
            commands::server::budget_status,
            commands::server::server_settings_get,
            commands::server::usage,
            commands::server::server_settings_set,
        ])
}

/// Opens the window and runs until it is closed. The OS keychain is the app's one secret store.
pub fn run(data_dir: DataDir) -> Result<(), tauri::Error> {
    let _ = commands::app::STARTED.set(std::time::Instant::now());
    let _log_guard = logging::init_app(&data_dir.logs());
    tracing::info!(version = complexitynet_core::types::VERSION, data_dir = %data_dir.root.display(), "starting the app");
    builder(Arc::new(App::open(data_dir, Arc::new(Keychain::open())))).run(tauri::generate_context!())
}
