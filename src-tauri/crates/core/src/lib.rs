//! ComplexityNet's application core: the app's state ([`App`]) and every use case, below all three front ends.
//!
//! The CLI (clap + rendering), the window (Tauri commands that forward events into channels) and the local
//! OpenAI-compatible server (the wire format) only translate: each calls the same method here. So "ask a tier,
//! fall through to the next on a rate limit, record the call" exists once ([`ask`]), and a behaviour of the
//! chat is a behaviour of the server too. This crate has no Tauri, clap or axum dependency.
//!
//! Seams are injected once: the secret store (the OS keychain in the app, an in-memory one in tests) is chosen
//! when the [`App`] is built, never probed per call.

pub mod abilities;
pub mod agent;
pub mod ask;
pub mod calibrate;
pub mod cascade;
pub mod chat;
pub mod checks;
pub mod datasets;
pub mod decide;
pub mod doctor;
pub mod error;
pub mod events;
pub mod jobs;
pub mod keys;
pub mod label;
pub mod models;
pub mod providers;
pub mod routing;
pub mod serving;
pub mod training;
pub mod usage;
pub mod verify;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use complexitynet_classifier::artifact::Classifier;
use complexitynet_engine::paths::DataDir;
use complexitynet_engine::store::Store;
use complexitynet_llm_local::LocalModel;
use complexitynet_providers::keys::SecretStore;
use complexitynet_providers::Provider;
use complexitynet_verify::Verifier;

pub use error::AppError;
pub use jobs::{JobGuard, JobKind, Jobs};

/// The result of every use case.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// The app: its data dir, its database, the secret store, loaded local models, cached providers and the
/// classifier, and the jobs in flight. One per process; front ends hold it in an `Arc`.
pub struct App {
    data_dir: DataDir,
    /// Opened once. A store that failed to open (a database from a newer version, say) does not stop the app:
    /// every use case that needs it answers the error, so the window can show why.
    store: std::result::Result<Mutex<Store>, AppError>,
    secrets: Arc<dyn SecretStore>,
    /// Local models kept loaded between requests, by registered name.
    pub(crate) models: Mutex<HashMap<String, Arc<LocalModel>>>,
    /// Providers built once per tier configuration (the HTTP client's connection pool is reused); dropped when
    /// a key changes or the provider rejects its key.
    pub(crate) providers: Mutex<HashMap<String, Arc<dyn Provider>>>,
    /// The active classifier, loaded on the first routed prompt and kept until another one is activated.
    pub(crate) classifier: Mutex<Option<Arc<Classifier>>>,
    /// The cost dial's calibration, recomputed when the settings change and every minute (the user's own
    /// prompts join its pool as they accumulate).
    pub(crate) dial: Mutex<Option<routing::DialCache>>,
    /// The sandbox, started on the first check and kept warm.
    verifier: std::sync::OnceLock<Arc<Verifier>>,
    /// Agents' turns in progress (the tier each is on, what its tool results showed), by turn.
    pub(crate) turns: agent::Turns,
    jobs: Jobs,
}

/// Locks a mutex, carrying on after a panic elsewhere: every write to the state is a single insert or remove,
/// and every database write is a transaction, so a poisoned lock holds consistent data.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl App {
    /// Opens the app over `data_dir` with `secrets` as the only place API keys are read from and written to.
    pub fn open(data_dir: DataDir, secrets: Arc<dyn SecretStore>) -> App {
        let store = complexitynet_engine::open(&data_dir.database()).map(Mutex::new).map_err(|e| {
            tracing::error!(error = %e, "cannot open the database");
            AppError::from(e)
        });
        App {
            data_dir,
            store,
            secrets,
            models: Mutex::new(HashMap::new()),
            providers: Mutex::new(HashMap::new()),
            classifier: Mutex::new(None),
            dial: Mutex::new(None),
            verifier: std::sync::OnceLock::new(),
            turns: Mutex::new(HashMap::new()),
            jobs: Jobs::default(),
        }
    }

    pub fn data_dir(&self) -> &DataDir {
        &self.data_dir
    }

    pub fn secrets(&self) -> &dyn SecretStore {
        self.secrets.as_ref()
    }

    /// The verification sandbox (started once, kept warm between checks).
    pub fn verifier(&self) -> Arc<Verifier> {
        self.verifier.get_or_init(|| Arc::new(Verifier::new())).clone()
    }

    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    /// The database, locked for the duration of `f`. Keep `f` short: other front-end calls wait on it.
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        let store = self.store.as_ref().map_err(Clone::clone)?;
        f(&mut lock(store))
    }

    /// Runs blocking work (SQLite, the sandbox, file parsing) off the async runtime's workers.
    pub async fn blocking<T, F>(self: &Arc<Self>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&App) -> Result<T> + Send + 'static,
    {
        let app = self.clone();
        tokio::task::spawn_blocking(move || f(&app))
            .await
            .map_err(|e| AppError::internal(format!("a background task failed: {e}")))?
    }
}

/// The runtime for the CLI's one-shot async calls (two workers: a label run overlaps generation and checks).
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| AppError::internal(format!("cannot start the async runtime: {e}")))
}

/// The types of the crates below that the front ends name: the shell (CLI, window, server) reaches the engine,
/// the providers, verification, the router and the classifier only through the core.
pub mod types {
    pub use complexitynet_classifier::artifact::{Meta, Prediction};
    pub use complexitynet_classifier::bert;
    pub use complexitynet_classifier::metrics::Metrics;
    pub use complexitynet_classifier::train::Event;
    pub use complexitynet_engine::conversations::{ChatMessage, ChatRoute, Conversation};
    pub use complexitynet_engine::dataset::{DatasetSummary, Format, ImportOutcome, ImportStatus, TaskPage};
    pub use complexitynet_engine::ledger::{UsageBy, UsageRow};
    pub use complexitynet_engine::local_models::{ModelRow, PublishedScore};
    pub use complexitynet_engine::money::usd;
    pub use complexitynet_engine::paths::DataDir;
    pub use complexitynet_engine::runs::{RunSummary, TrialView};
    pub use complexitynet_engine::tiers::{
        CostMode, LocalRuntimeSettings, Preset, ProviderKind, ProviderRow, TierError, TierRow,
    };
    pub use complexitynet_engine::{ErrorCode, VERSION};
    pub use complexitynet_providers::download::DownloadProgress;
    pub use complexitynet_providers::formats;
    pub use complexitynet_providers::keys::Keychain;
    pub use complexitynet_providers::{CancellationToken, Completion, FinishReason, GenParams, Message, Role};
    pub use complexitynet_router::{Decision, PolicyKind, RouteSettings};
    pub use complexitynet_verify::checks::{CheckItem, CheckKind, Checks};
    pub use complexitynet_verify::extract::is_valid_python;
    pub use complexitynet_verify::judge::Verification;
    pub use complexitynet_verify::sandbox::default_parallelism;
    pub use complexitynet_verify::{read_tests, Limits, TaskView};
}
