//! What the app keeps between commands: the data dir and the open store.
//!
//! A store that failed to open (say, a database from a newer version) does not stop the window from opening:
//! every command then answers that error, so the user sees why instead of a window that never appears.

use complexitynet_engine::paths::DataDir;
use complexitynet_engine::store::Store;
use std::sync::{Arc, Mutex};

use crate::error::AppError;

pub struct AppState {
    pub data_dir: DataDir,
    store: Result<Arc<Mutex<Store>>, AppError>,
    /// The OS keychain (chosen once: it sets the process-wide keyring store).
    pub keychain: Arc<complexitynet_engine::keys::Keychain>,
    /// Local models kept loaded between requests, by name.
    pub loaded: Mutex<std::collections::HashMap<String, Arc<complexitynet_llm_local::LocalModel>>>,
    /// Cancel tokens of running generations and downloads, by the id the page gave them.
    pub jobs: Mutex<std::collections::HashMap<String, complexitynet_engine::tiers::CancellationToken>>,
    /// The active classifier, loaded on the first chat prompt and kept.
    pub classifier: Mutex<Option<Arc<complexitynet_classifier::artifact::Classifier>>>,
    /// The local OpenAI-compatible server when started from Settings: its stop token, URL, and whether it
    /// requires a key.
    pub server: Mutex<Option<(complexitynet_engine::tiers::CancellationToken, String, bool)>>,
}

impl AppState {
    pub fn open(data_dir: DataDir) -> AppState {
        let store = Store::open(&data_dir.database()).map(|s| Arc::new(Mutex::new(s))).map_err(|e| {
            tracing::error!(error = %e, "cannot open the database");
            AppError::from(e)
        });
        AppState {
            data_dir,
            store,
            keychain: Arc::new(complexitynet_engine::keys::Keychain::open()),
            loaded: Mutex::new(Default::default()),
            jobs: Mutex::new(Default::default()),
            classifier: Mutex::new(None),
            server: Mutex::new(None),
        }
    }

    /// Runs blocking store work off the async runtime's workers (SQLite calls block).
    pub async fn with_store<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, AppError> + Send + 'static,
    {
        let store = self.store.clone()?;
        tauri::async_runtime::spawn_blocking(move || {
            // A panic in an earlier command poisons the lock; the connection itself is still consistent
            // (every write is a transaction), so carry on with it.
            let mut guard = store.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| AppError::internal(format!("a background task failed: {e}")))?
    }
}
