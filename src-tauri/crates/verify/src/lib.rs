//! Verification: a model's answer and a task's checks in, a verdict out — the trust core of the app.
//!
//! A false "pass" corrupts every label and every savings figure, so a pass is proven positively: the harness
//! writes a per-check random nonce only after the last assert ran, and nothing else (an exit status of 0
//! included) counts. This crate holds the whole stage: what a task is ([`task`], with its [`entry_point`]), the
//! checks an answer must pass ([`checks`]: a dataset's asserts or the examples a prompt shows), turning a raw
//! answer into the code the model meant ([`extract`], over the [`python`] syntax tree), and [`judge`]: answer +
//! checks → verdict, in the sandbox (the `complexitynet-sandbox` crate, re-exported as [`sandbox`]).
//!
//! It must not depend on SQL or HTTP: the store, the providers and the label runs use it, never the reverse.

pub mod answers;
pub mod checks;
pub mod entry_point;
pub mod extract;
pub mod judge;
pub mod python;
pub mod task;
/// Test support shared with the other crates' tests: where the shared data and the test models are.
#[doc(hidden)]
pub mod testing;

/// The sandbox lives in its own crate so it builds and is checked for macOS and Windows without C dependencies;
/// this path is how the rest of the app reaches it.
pub mod sandbox {
    pub use complexitynet_sandbox::*;
}

pub use answers::{read_answers, read_tests, Answer, VerifyError};
pub use complexitynet_sandbox::{Check, Limits, Outcome, Phase, SandboxError, SandboxStatus, Verdict, Verifier};
pub use entry_point::{derive_entry_point, EntryPoint};
pub use task::{Task, TaskView};
