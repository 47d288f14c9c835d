//! What a front end hears while an answer is made, and the record of each call: shared by [`crate::ask`] and
//! [`crate::cascade`] (so neither imports the other's types).

use complexitynet_router::Decision;
use complexitynet_verify::checks::CheckItem;
use serde::Serialize;

/// What a front end hears while an answer is made.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AskEvent {
    /// Where the prompt goes and why: before any text, and again after each hand-over.
    Routed { decision: Decision },
    /// The checks the answer will be verified against, before any tier answers ("3 checks from the prompt's
    /// examples"), with where each came from.
    Checks { summary: String, checks: Vec<CheckItem> },
    /// A tier starts answering.
    Started { tier: String, provider: String, model: String },
    /// A piece of the answer as it streams.
    Piece { text: String },
    /// A tier failed before answering and the next one takes the prompt.
    FellThrough { from: String, to: String, error: String },
    /// The verified cascade ran one tier's answer against the checks (or the tier gave no answer).
    Step { tier: String, model: String, verdict: String, passed: bool },
}

/// One call to a tier, as the answer's record shows it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Attempt {
    pub tier: String,
    pub model: String,
    /// None when it answered; else the failure.
    pub error: Option<String>,
    pub cost_usd: f64,
}
