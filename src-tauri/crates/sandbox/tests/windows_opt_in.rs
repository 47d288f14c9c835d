//! Windows verification is opt-in: without `COMPLEXITYNET_SANDBOX=job-object` nothing runs and every verdict
//! says why and how to opt in. (Its own test binary: it changes the process environment.)
#![cfg(windows)]

mod common;

use complexitynet_sandbox::{Outcome, Verifier};

#[test]
fn without_the_opt_in_every_check_is_sandbox_unavailable_with_the_fix() {
    std::env::remove_var("COMPLEXITYNET_SANDBOX");
    let verifier = Verifier::new();
    let v = verifier.verify(&common::check(common::ADD, &common::ADD_ASSERTS, 5000));
    match &v.outcome {
        Outcome::SandboxUnavailable { reason, fix } => {
            assert!(reason.contains("does not block the network"), "{reason}");
            assert!(fix.contains("COMPLEXITYNET_SANDBOX=job-object"), "{fix}");
        }
        other => panic!("a check ran without the opt-in: {other:?}"),
    }
    assert_eq!(verifier.status().mode, "unavailable");
}
