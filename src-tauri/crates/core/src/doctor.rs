//! `doctor`: what this installation has and lacks — the engine's checks plus the local tier and the classifier.

use complexitynet_engine::doctor::{self, Report};

use crate::App;

impl App {
    pub fn doctor(&self) -> Report {
        let mut report = doctor::report(self.data_dir(), self.secrets());
        report.checks.push(self.local_runtime_check());
        report.checks.push(self.classifier_check());
        report
    }
}
