//! What the platform test files (hostile.rs, windows.rs) share: the `add` answers and how a check is built.
#![allow(dead_code)] // each test binary uses its own subset

use complexitynet_sandbox::{Check, Limits, Verdict};

pub const ADD: &str = "def add(a, b):\n    return a + b\n";
pub const WRONG_ADD: &str = "def add(a, b):\n    return 0\n";
pub const ADD_ASSERTS: [&str; 3] = ["assert add(1, 2) == 3", "assert add(-1, 1) == 0", "assert add(2, 2) == 4"];

pub fn check(code: &str, asserts: &[&str], timeout_ms: u64) -> Check {
    Check {
        code: code.into(),
        setup: String::new(),
        asserts: asserts.iter().map(|s| s.to_string()).collect(),
        limits: Limits { timeout_ms, ..Limits::default() },
    }
}

/// A hostile prelude followed by `body` (a correct or a wrong `add`), checked against the `add` asserts.
pub fn hostile_check(prelude: &str, body: &str, timeout_ms: u64) -> Check {
    check(&format!("{prelude}\n{body}"), &ADD_ASSERTS, timeout_ms)
}

#[track_caller]
pub fn expect(v: &Verdict, name: &str) {
    assert_eq!(v.name(), name, "verdict: {v:?}");
}
