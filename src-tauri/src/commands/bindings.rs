//! The UI's IPC types (`ui/src/ipc/bindings.ts`), generated from the Rust types every command takes, returns
//! or streams, so the two sides cannot drift. A test (`tests/cli/ipc_bindings.rs`) regenerates the text and fails
//! when the committed file differs; `UPDATE_BINDINGS=1 cargo test -p complexitynet ipc_bindings` rewrites it.

use std::collections::BTreeMap;
use ts_rs::{Config, TypeVisitor, TS};

/// Collects a type's declaration and, recursively, those of every type it names.
struct Collect<'a> {
    cfg: &'a Config,
    decls: BTreeMap<String, String>,
}

impl TypeVisitor for Collect<'_> {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        if T::output_path().is_none() {
            return; // a primitive, or a wrapper whose inner type is visited on its own
        }
        let name = T::ident(self.cfg);
        if self.decls.contains_key(&name) {
            return;
        }
        let doc = T::docs().unwrap_or_default();
        self.decls.insert(name, format!("{doc}export {}", T::decl(self.cfg)));
        T::visit_dependencies(self);
        T::visit_generics(self);
    }
}

/// The file's text: every type the commands use, sorted by name.
pub fn generate() -> String {
    // Large integers cross as JSON numbers (counts, bytes, seeds: all far below 2^53).
    let cfg = Config::new().with_large_int("number");
    let mut c = Collect { cfg: &cfg, decls: BTreeMap::new() };
    macro_rules! roots {
        ($($t:ty),* $(,)?) => { $( c.visit::<$t>(); )* };
    }
    use complexitynet_core as core;
    use complexitynet_core::types;
    roots!(
        core::AppError,
        types::ErrorCode,
        super::app::AppInfo,
        core::jobs::JobInfo,
        core::jobs::DownloadEvent,
        types::DatasetSummary,
        types::ImportOutcome,
        types::TaskPage,
        types::TaskView,
        types::Format,
        core::datasets::CatalogEntry,
        core::keys::TierTable,
        core::keys::TierFields,
        core::keys::ProviderUpdate,
        core::keys::KeyTable,
        types::ProviderRow,
        types::TierRow,
        types::Preset,
        types::ModelRow,
        core::models::ModelView,
        core::models::CatalogModelView,
        core::models::LocalStatus,
        types::PublishedScore,
        core::ask::AskEvent,
        core::ask::Attempt,
        core::ask::AskOutcome,
        types::Completion,
        core::label::LabelRequest,
        core::label::Estimate,
        core::label::LabelEvent,
        core::calibrate::CalibrateRequest,
        core::calibrate::Calibration,
        types::RunSummary,
        types::TrialView,
        types::Meta,
        types::Prediction,
        types::Event,
        core::training::TrainRequest,
        core::training::EncoderStatus,
        types::Conversation,
        types::ChatMessage,
        core::chat::ChatTotals,
        core::chat::ExportFormat,
        core::routing::Evaluation,
        core::routing::RouteOverrides,
        core::routing::DialCurve,
        core::routing::BudgetStatus,
        types::Verification,
        types::Checks,
        types::CheckItem,
        types::ChatRoute,
        types::RouteSettings,
        types::Decision,
        super::server::ServerStatus,
        core::serving::ServerSettings,
        types::UsageBy,
        types::UsageRow,
    );
    let mut s = String::from(
        "// Generated from the Rust types by `UPDATE_BINDINGS=1 cargo test -p complexitynet ipc_bindings`\n\
         // (src-tauri/src/commands/bindings.rs). Do not edit: a test fails when this file and the Rust types differ.\n\n",
    );
    for decl in c.decls.values() {
        s.push_str(decl);
        s.push_str("\n\n");
    }
    s.truncate(s.trim_end().len());
    s.push('\n');
    s
}
