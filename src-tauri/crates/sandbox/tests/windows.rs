//! The Windows back end (a Job Object per check, one fresh CPython per check) with real spawns of a Windows
//! CPython. Built for x86_64-pc-windows-gnu; CI runs it under Wine with the embeddable CPython from PyPI
//! (`scripts/test-windows-sandbox.sh`). What a Job Object cannot confine (the network, file reads) is not
//! claimed here; SECURITY.md says so.
#![cfg(windows)]

mod common;

use common::{check, expect, hostile_check, ADD, ADD_ASSERTS, WRONG_ADD};
use complexitynet_sandbox::{Outcome, Verdict, Verifier};
use std::sync::OnceLock;

fn verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| {
        assert_eq!(
            std::env::var("COMPLEXITYNET_SANDBOX").as_deref(),
            Ok("job-object"),
            "these tests run with the opt-in set"
        );
        Verifier::new()
    })
}

fn run(code: &str, asserts: &[&str], timeout_ms: u64) -> Verdict {
    verifier().verify(&check(code, asserts, timeout_ms))
}

fn hostile(prelude: &str, body: &str, timeout_ms: u64) -> Verdict {
    verifier().verify(&hostile_check(prelude, body, timeout_ms))
}

#[test]
fn doctor_reports_the_job_object_mode() {
    let status = verifier().status();
    assert_eq!(status.mode, "job-object", "{status:?}");
    assert!(status.detail.contains("NOT confined"), "the weaker isolation is stated: {status:?}");
}

#[test]
fn a_correct_answer_passes_and_a_wrong_one_fails_at_its_assert() {
    let v = run(ADD, &ADD_ASSERTS, 10_000);
    expect(&v, "passed");
    assert_eq!((v.asserts_passed, v.asserts_total), (3, 3));
    let v = run("def add(a, b):\n    return a * b + 1\n", &ADD_ASSERTS, 10_000);
    assert_eq!(v.outcome, Outcome::Failed { assert_index: 2, message: String::new() }, "{v:?}");
}

#[test]
fn an_exception_reports_its_type_and_line() {
    let v = run("def add(a, b):\n    x = 1\n    return a + b + undefined_name\n", &ADD_ASSERTS, 10_000);
    assert!(matches!(&v.outcome, Outcome::Error { exception, line: Some(3), .. } if exception == "NameError"), "{v:?}");
}

#[test]
fn an_infinite_loop_and_a_long_c_level_call_time_out() {
    expect(&hostile("while True:\n    pass", ADD, 1500), "timed_out");
    expect(&hostile("sum(range(10**12))", ADD, 1500), "timed_out");
}

#[test]
fn a_failed_allocation_is_memory_exceeded() {
    // 100 GB fails everywhere. (The job's 1 GiB limit makes smaller bombs fail the same way on Windows; Wine 8
    // does not enforce job memory limits — observed: a 2 GiB bytearray passed — so that part is not run here.)
    expect(&hostile("x = bytearray(10**11)", ADD, 10_000), "memory_exceeded");
}

#[test]
fn a_one_gigabyte_print_hits_the_output_cap_early() {
    let v = hostile("for _ in range(10**5):\n    print('x' * 10**4)", ADD, 30_000);
    expect(&v, "output_limit");
    assert!(v.duration_ms < 15_000.0, "the cap must stop the check early, took {} ms", v.duration_ms);
}

#[test]
fn a_process_started_by_a_check_does_not_outlive_it() {
    // On Windows the job's active-process limit (1) refuses the child outright; Wine 8 does not enforce that
    // limit (observed), so what this asserts is the part both do: kill-on-close ends every process of the job,
    // even one that asked to break away from it or detached itself. The child writes a heartbeat file (file
    // writes are not confined on Windows); after the check it must stop.
    let beat = std::env::temp_dir().join(format!("cn-heartbeat-{}", std::process::id()));
    let _ = std::fs::remove_file(&beat);
    let child = format!(
        "import time\nwhile True:\n    open({:?}, 'w').write(str(time.time()))\n    time.sleep(0.05)",
        beat.display().to_string()
    );
    let code = format!(
        "import subprocess, sys\nargs = [sys.executable, '-c', {child:?}]\ntry:\n    \
         subprocess.Popen(args, creationflags=0x01000000 | 0x00000008 | 0x00000200)\nexcept OSError:\n    \
         subprocess.Popen(args, creationflags=0x00000008 | 0x00000200)\nimport time\ntime.sleep(1)"
    );
    let v = hostile(&code, ADD, 10_000);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let before = std::fs::read_to_string(&beat).ok();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let after = std::fs::read_to_string(&beat).ok();
    let _ = std::fs::remove_file(&beat);
    // Either the child was refused (Windows: the verdict is the OSError) or it ran — and then it must stop.
    let refused = matches!(&v.outcome, Outcome::Error { .. });
    assert!(refused || before.is_some(), "the child neither was refused nor ran: {v:?}");
    assert_eq!(before, after, "a process of the check is still running after it ({v:?})");
}

#[test]
fn exiting_before_the_asserts_is_not_a_pass() {
    let v = hostile("import sys\nsys.exit(0)", ADD, 10_000);
    assert!(matches!(&v.outcome, Outcome::Error { exception, .. } if exception == "SystemExit"), "{v:?}");
    let v = hostile("import os\nos._exit(0)", ADD, 10_000);
    assert!(matches!(&v.outcome, Outcome::Error { exception, .. } if exception == "EarlyExit"), "{v:?}");
}

#[test]
fn neutering_assert_does_not_make_a_wrong_answer_pass() {
    expect(&hostile("class AssertionError(Exception):\n    pass", WRONG_ADD, 10_000), "failed");
    assert!(!hostile("__builtins__ = {}", WRONG_ADD, 10_000).passed());
    let code = "import builtins\nbuiltins.AssertionError = type('Nope', (Exception,), {})";
    expect(&hostile(code, WRONG_ADD, 10_000), "failed");
}

#[test]
fn forging_the_completion_record_is_not_a_pass() {
    let code = "import os\nos.write(3, b'{\"ev\": \"ok\", \"index\": 0}\\n{\"ev\": \"done\", \"nonce\": \"0000\"}\\n')\nos._exit(0)";
    let v = hostile(code, WRONG_ADD, 10_000);
    assert!(matches!(&v.outcome, Outcome::Error { exception, .. } if exception == "UnprovenPass"), "{v:?}");
}

#[test]
fn the_apps_environment_is_not_visible_and_the_work_dir_is_private_and_removed() {
    let secret = format!("cn-env-{}", std::process::id());
    std::env::set_var("COMPLEXITYNET_TEST_SECRET", &secret);
    // The check looks at every variable, name and value, and reports the app's that it finds (a short list, so
    // no cap on the message can hide a leak).
    let v = hostile(
        "import os\nleaked = [k for k, v in os.environ.items() if 'COMPLEXITYNET' in k.upper() or 'cn-env-' in v]\n\
         raise Exception(repr(leaked) + ' ' + os.getcwd())",
        ADD,
        10_000,
    );
    let json = serde_json::to_string(&v).unwrap();
    assert!(!json.contains(&secret), "the environment leaked: {json}");
    let Outcome::Error { message, .. } = &v.outcome else { panic!("{v:?}") };
    assert!(message.starts_with("[] "), "the app's environment is visible to the check: {message}");
    let cwd = message.rsplit(' ').next().unwrap();
    assert!(cwd.contains("complexitynet-check-"), "the check runs in its private dir: {message}");
    let dir = std::path::Path::new(cwd).parent().unwrap();
    assert!(!dir.exists(), "the work dir {} outlived its check", dir.display());
}
