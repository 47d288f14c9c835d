//! A coding task with its executable checks: the unit every stage passes along (imported by the store, verified
//! here, labeled, routed). Plain data; no SQL.

use serde::{Deserialize, Serialize};

use crate::entry_point::EntryPoint;

/// One coding task with its executable checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub task_id: String,
    /// The natural-language task as the user (or the dataset) states it.
    pub prompt: String,
    /// A known-good solution, when the dataset has one.
    pub reference: Option<String>,
    /// Code run before the asserts (imports, fixtures). Often empty.
    pub setup: String,
    /// The `assert` statements that decide success.
    pub asserts: Vec<String>,
    /// Extra, harder asserts (MBPP's `challenge_test_list`); not used for labels by default.
    pub challenge_asserts: Vec<String>,
    pub entry_point: EntryPoint,
}

/// A task as the CLI's `--json` and the UI show it: the entry point flattened to `entry_point` (the function
/// name), `signature` and `arity`, and the dataset it belongs to.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct TaskView {
    pub dataset: String,
    pub task_id: String,
    pub prompt: String,
    pub reference: Option<String>,
    pub setup: String,
    pub asserts: Vec<String>,
    pub challenge_asserts: Vec<String>,
    pub entry_point: String,
    pub signature: String,
    pub arity: usize,
}

impl Task {
    pub fn view(self, dataset: &str) -> TaskView {
        TaskView {
            dataset: dataset.to_owned(),
            task_id: self.task_id,
            prompt: self.prompt,
            reference: self.reference,
            setup: self.setup,
            asserts: self.asserts,
            challenge_asserts: self.challenge_asserts,
            entry_point: self.entry_point.name,
            signature: self.entry_point.signature,
            arity: self.entry_point.arity,
        }
    }
}
