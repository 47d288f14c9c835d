//! Logging: `tracing` to stderr for the CLI (warnings by default, so `--json` stdout stays clean), and for the
//! app to stderr plus a daily-rotated file in `DATA_DIR/logs` (7 files kept). `RUST_LOG` overrides the level.

use std::io::IsTerminal;
use std::path::Path;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default))
}

pub fn init_cli() {
    let _ = tracing_subscriber::registry()
        .with(fmt::layer().with_writer(std::io::stderr).with_target(false).with_ansi(std::io::stderr().is_terminal()))
        .with(filter("warn"))
        .try_init();
}

/// Returns the guard that flushes the file writer; keep it alive for the app's lifetime.
pub fn init_app(logs: &Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let appender = std::fs::create_dir_all(logs).ok().and_then(|_| {
        tracing_appender::rolling::RollingFileAppender::builder()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix("complexitynet")
            .filename_suffix("log")
            .max_log_files(7)
            .build(logs)
            .ok()
    });
    let (file_layer, guard) = match appender {
        Some(a) => {
            let (writer, guard) = tracing_appender::non_blocking(a);
            (Some(fmt::layer().with_writer(writer).with_ansi(false)), Some(guard))
        }
        None => (None, None),
    };
    let _ = tracing_subscriber::registry()
        .with(fmt::layer().with_writer(std::io::stderr).with_ansi(std::io::stderr().is_terminal()))
        .with(file_layer)
        .with(filter("info"))
        .try_init();
    if guard.is_none() {
        tracing::warn!(dir = %logs.display(), "cannot write log files there; logging to stderr only");
    }
    guard
}
