//! The Tauri commands: shims from IPC to the application core. Each deserializes its arguments (snake_case,
//! like every response), calls one use case, and forwards the core's events into the page's `Channel`.
//! Blocking work goes through `App::blocking`; nothing here decides anything.

pub mod app;
pub mod bindings;
pub mod chat;
pub mod classifier;
pub mod datasets;
pub mod evaluate;
pub mod labeling;
pub mod models;
pub mod server;

/// The app as every command receives it.
pub type AppState<'a> = tauri::State<'a, std::sync::Arc<complexitynet_core::App>>;

/// The error every command rejects with.
pub use complexitynet_core::AppError;

/// Forwards events into a page channel (a closed page drops them).
pub fn forward<T: serde::Serialize + Clone + Send + Sync + 'static>(
    ch: tauri::ipc::Channel<T>,
) -> impl Fn(T) + Send + Sync + 'static {
    move |e| {
        let _ = ch.send(e);
    }
}
