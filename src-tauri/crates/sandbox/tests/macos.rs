//! The macOS back end (sandbox-exec + the warm zygote) with real spawns: the hostile corpus as it applies to
//! Seatbelt. Runs with `cargo test -p complexitynet-sandbox` on a Mac; CI (Linux) only compiles and lints it
//! (`cargo clippy --target x86_64-apple-darwin --all-targets`), because no Mac is available there.
#![cfg(target_os = "macos")]

mod common;

use common::{check, expect, hostile_check, ADD, ADD_ASSERTS, WRONG_ADD};
use complexitynet_sandbox::{Outcome, Verdict, Verifier};
use std::path::PathBuf;
use std::sync::OnceLock;

fn verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(Verifier::new)
}

fn run(code: &str, asserts: &[&str], timeout_ms: u64) -> Verdict {
    verifier().verify(&check(code, asserts, timeout_ms))
}

fn unique(tag: &str) -> String {
    format!("cn-{tag}-{}-{}", std::process::id(), std::time::UNIX_EPOCH.elapsed().unwrap().as_nanos())
}

fn home() -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
}

fn hostile(prelude: &str, body: &str, timeout_ms: u64) -> Verdict {
    verifier().verify(&hostile_check(prelude, body, timeout_ms))
}

#[test]
fn doctor_reports_the_seatbelt_mode() {
    let status = verifier().status();
    assert_eq!(status.mode, "seatbelt", "{status:?}");
}

#[test]
fn a_correct_answer_passes_and_a_wrong_one_fails_at_its_assert() {
    let v = run(ADD, &ADD_ASSERTS, 5000);
    expect(&v, "passed");
    assert_eq!((v.asserts_passed, v.asserts_total), (3, 3));
    let v = run("def add(a, b):\n    return a * b + 1\n", &ADD_ASSERTS, 5000);
    assert_eq!(v.outcome, Outcome::Failed { assert_index: 2, message: String::new() }, "{v:?}");
}

#[test]
fn common_imports_work_inside_the_profile() {
    let code = "import re, math, heapq, collections, itertools, functools, decimal, fractions, datetime, json\n\
                import time, random, string, bisect, statistics, hashlib\n";
    let v = run(&format!("{code}{ADD}"), &["assert add(1, 2) == 3", "assert time.localtime().tm_year > 2000"], 5000);
    expect(&v, "passed");
}

#[test]
fn loops_and_long_c_calls_time_out() {
    expect(&hostile("while True:\n    pass", ADD, 1500), "timed_out");
    expect(&hostile("sum(range(10**12))", ADD, 1500), "timed_out");
}

#[test]
fn a_check_cannot_fork_or_start_a_process() {
    let v = hostile("import os\nos.fork()", ADD, 5000);
    assert!(matches!(&v.outcome, Outcome::Error { .. }), "{v:?}");
    let v = hostile("import subprocess\nsubprocess.Popen(['/bin/sleep', '1000'], start_new_session=True)", ADD, 5000);
    assert!(matches!(&v.outcome, Outcome::Error { .. }), "{v:?}");
    expect(&run(ADD, &ADD_ASSERTS, 5000), "passed");
}

#[test]
fn memory_bombs_exceed_the_memory_limit() {
    expect(&hostile("x = [0] * (10**10)", ADD, 10_000), "memory_exceeded");
    expect(&hostile("x = bytearray(b'x') * (4 << 30)", ADD, 10_000), "memory_exceeded");
}

#[test]
fn a_one_gigabyte_print_hits_the_output_cap_early() {
    let v = hostile("for _ in range(10**5):\n    print('x' * 10**4)", ADD, 20_000);
    expect(&v, "output_limit");
    assert!(v.duration_ms < 5000.0, "took {} ms", v.duration_ms);
}

#[test]
fn writes_outside_the_work_dir_fail_and_leave_nothing() {
    for dir in [home(), PathBuf::from("/tmp"), PathBuf::from("/private/tmp"), std::env::temp_dir()] {
        let target = dir.join(unique("write"));
        let v = hostile(&format!("open({:?}, 'w').write('pwned')", target.display().to_string()), ADD, 5000);
        assert!(!v.passed(), "{} is writable: {v:?}", target.display());
        assert!(!target.exists(), "the sandbox wrote {}", target.display());
    }
    expect(&hostile("open('scratch.txt', 'w').write('ok')", ADD, 5000), "passed");
    // its own work dir
}

#[test]
fn files_of_the_user_cannot_be_read_or_listed() {
    let secret = unique("secret");
    let path = home().join(format!("{}.txt", unique("planted")));
    std::fs::write(&path, &secret).unwrap();
    let v = hostile(&format!("raise Exception(open({:?}).read())", path.display().to_string()), ADD, 5000);
    let listing = hostile(
        &format!("raise Exception(repr(__import__('os').listdir({:?})))", home().display().to_string()),
        ADD,
        5000,
    );
    let _ = std::fs::remove_file(&path);
    for v in [&v, &listing] {
        let json = serde_json::to_string(v).unwrap();
        assert!(!json.contains(&secret) && !json.contains("planted"), "the home leaked: {json}");
        assert!(matches!(&v.outcome, Outcome::Error { exception, .. } if exception == "PermissionError"), "{v:?}");
    }
    for path in ["/etc/passwd", "/private/etc/master.passwd", "/Users"] {
        let v = hostile(
            &format!("import os\nos.listdir({path:?}) if os.path.isdir({path:?}) else open({path:?}).read()"),
            ADD,
            5000,
        );
        assert!(!v.passed(), "{path} is readable: {v:?}");
    }
}

#[test]
fn the_apps_environment_is_not_visible() {
    let secret = unique("env");
    std::env::set_var("COMPLEXITYNET_TEST_SECRET", &secret);
    let v = hostile("import os\nraise Exception(repr(dict(os.environ)))", ADD, 5000);
    let json = serde_json::to_string(&v).unwrap();
    assert!(!json.contains(&secret), "the environment leaked: {json}");
}

#[test]
fn no_network_neither_a_host_listener_nor_dns() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let v = hostile(&format!("import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)"), ADD, 5000);
    assert!(!v.passed(), "{v:?}");
    assert!(listener.accept().is_err(), "the listener saw a connection from the sandbox");
    assert!(!hostile("import socket\nsocket.gethostbyname('example.com')", ADD, 5000).passed());
}

#[test]
fn early_exits_neutered_asserts_and_forged_records_are_not_passes() {
    let v = hostile("import sys\nsys.exit(0)", ADD, 5000);
    assert!(matches!(&v.outcome, Outcome::Error { exception, .. } if exception == "SystemExit"), "{v:?}");
    let v = hostile("import os\nos._exit(0)", ADD, 5000);
    assert!(matches!(&v.outcome, Outcome::Error { exception, .. } if exception == "EarlyExit"), "{v:?}");
    expect(&hostile("class AssertionError(Exception):\n    pass", WRONG_ADD, 5000), "failed");
    assert!(!hostile("__builtins__ = {}", WRONG_ADD, 5000).passed());
    let code = "import os\nos.write(3, b'{\"ev\": \"ok\", \"index\": 0}\\n{\"ev\": \"done\", \"nonce\": \"0000\"}\\n')\nos._exit(0)";
    let v = hostile(code, WRONG_ADD, 5000);
    assert!(matches!(&v.outcome, Outcome::Error { exception, .. } if exception == "UnprovenPass"), "{v:?}");
}

#[test]
fn killing_the_harness_is_not_a_pass_and_the_next_check_works() {
    let v = hostile("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)", WRONG_ADD, 5000);
    assert!(!v.passed(), "{v:?}");
    expect(&run(ADD, &ADD_ASSERTS, 5000), "passed");
}

#[test]
fn nothing_written_in_one_check_is_visible_to_the_next() {
    expect(&hostile("open('leak', 'w').write('x')", ADD, 5000), "passed");
    let v = run(
        "import os\ndef siblings():\n    return os.listdir(os.path.dirname(os.getcwd()))\n",
        &["assert siblings() == [os.path.basename(os.getcwd())]"],
        5000,
    );
    expect(&v, "passed");
}
