//! The Tauri commands: thin glue from IPC to the engine. Each one validates nothing the engine already
//! validates; it only moves work off the UI thread and maps errors to [`AppError`].

pub mod app;
pub mod chat;
pub mod classifier;
pub mod datasets;
pub mod evaluate;
pub mod labeling;
pub mod models;
pub mod server;
