//! ComplexityNet's headless engine.
//!
//! The paper's pipeline, one module per stage as it lands: `dataset` (tasks with executable checks) →
//! generate (tiers) → verify (sandbox) → label → train → route → evaluate. This crate has no Tauri, WebKit or
//! llama.cpp dependency, so the bulk of the test suite builds and runs without a display or a C++ model runtime.
//! The desktop shell and the CLI are thin layers over it.

pub mod catalog;
pub mod chat;
pub mod dataset;
pub mod error;
pub mod label;
pub mod models;
pub mod money;
pub mod paths;
pub mod settings;
pub mod store;
pub mod tiers;

pub use error::{EngineError, ErrorCode};

/// The engine's version, shown by `doctor` and stored with every database the engine writes.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
