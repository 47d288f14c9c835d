//! The verification sandbox with real spawns: the hostile corpus, once, for every back end that confines code
//! (Linux: bubblewrap, run twice — the warm zygote and one process per check, the protocol Windows uses; macOS:
//! sandbox-exec with the warm zygote, compiled and linted in CI, run on a Mac). Every program must produce its
//! expected verdict with zero escapes and zero false passes, and leave no side effect behind.
//!
//! None of these tests depends on the machine's speed: a check that must pass gets a limit no busy machine
//! reaches ([`AMPLE_MS`]); a check that must time out is one that never ends, so a short limit is safe; and
//! "stopped early" is shown by the verdict (the output cap, not the clock, ended it), never by a duration.
#![cfg(any(target_os = "linux", target_os = "macos"))]

mod common;

use common::{check, expect, hostile_check, ADD, ADD_ASSERTS, WRONG_ADD};
use complexitynet_sandbox::{Check, Limits, Outcome, Verdict, Verifier};
use std::path::PathBuf;

/// The limit for checks that must finish: far beyond what a loaded 2-core machine needs (seconds).
const AMPLE_MS: u64 = 120_000;
/// The limit for programs that never end on their own (a loop, a stopped process): how soon they are stopped.
const NEVER_ENDS_MS: u64 = 500;

fn unique(tag: &str) -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).unwrap();
    format!("cn-{tag}-{}", hex::encode(b))
}

fn home() -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
}

/// Processes on the host whose command line contains `marker`.
#[cfg(target_os = "linux")]
fn host_processes_with(marker: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().chars().all(|c| c.is_ascii_digit()))
        .filter(|e| std::fs::read(e.path().join("cmdline")).is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker)))
        .count()
}

macro_rules! corpus {
    ($module:ident, $verifier:expr) => {
mod $module {
use super::*;
use std::sync::OnceLock;

fn verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| $verifier)
}

fn run(code: &str, asserts: &[&str], timeout_ms: u64) -> Verdict {
    verifier().verify(&check(code, asserts, timeout_ms))
}

fn hostile(prelude: &str, body: &str, timeout_ms: u64) -> Verdict {
    verifier().verify(&hostile_check(prelude, body, timeout_ms))
}

#[test]
fn a_correct_answer_passes_with_every_assert_counted() {
    let v = run(ADD, &ADD_ASSERTS, AMPLE_MS);
    expect(&v, "passed");
    assert_eq!((v.asserts_passed, v.asserts_total), (3, 3));
}

#[test]
fn a_wrong_answer_fails_at_the_first_false_assert() {
    let v = run("def add(a, b):\n    return a * b + 1\n", &ADD_ASSERTS, AMPLE_MS);
    // add(1, 2) and add(-1, 1) happen to hold for a * b + 1; add(2, 2) does not.
    assert_eq!(v.outcome, Outcome::Failed { assert_index: 2, message: String::new() }, "{v:?}");
    assert_eq!(v.asserts_passed, 2);
}

#[test]
fn an_exception_reports_its_type_message_and_line_in_the_answer() {
    let v = run("def add(a, b):\n    x = 1\n    return a + b + undefined_name\n", &ADD_ASSERTS, AMPLE_MS);
    match &v.outcome {
        Outcome::Error { exception, message, line, assert_index, .. } => {
            assert_eq!(exception, "NameError");
            assert!(message.contains("undefined_name"), "{message}");
            assert_eq!(*line, Some(3));
            assert_eq!(*assert_index, Some(0));
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn a_syntax_error_is_an_error_with_its_line() {
    let v = run("def add(a, b)\n    return a + b\n", &ADD_ASSERTS, AMPLE_MS);
    assert!(
        matches!(&v.outcome, Outcome::Error { exception, line: Some(1), .. } if exception == "SyntaxError"),
        "{v:?}"
    );
}

#[test]
fn setup_code_runs_before_the_asserts() {
    let check = Check {
        code: "def area(r):\n    return math.pi * r * r\n".into(),
        setup: "import math".into(),
        asserts: vec!["assert abs(area(1) - 3.14159) < 1e-4".into()],
        limits: Limits { timeout_ms: AMPLE_MS, ..Limits::default() },
    };
    expect(&verifier().verify(&check), "passed");
}

#[test]
fn common_imports_work_inside_the_sandbox() {
    let code = "import re, math, heapq, collections, itertools, functools, decimal, fractions, datetime, json\n\
                import time, random, string, bisect, statistics, hashlib\n";
    let v = run(&format!("{code}{ADD}"), &["assert add(1, 2) == 3", "assert time.localtime().tm_year > 2000"], AMPLE_MS);
    expect(&v, "passed");
}

// ---------------------------------------------------------------------------------------------------------
// The hostile corpus. Each program is followed by a correct `add`, so only the trick itself can fail the check
// (or, for the neutering tricks, a wrong `add`, so only the trick could make it pass).

#[test]
fn h01_an_infinite_loop_times_out() {
    expect(&hostile("while True:\n    pass", ADD, NEVER_ENDS_MS), "timed_out");
}

#[test]
fn h02_a_long_c_level_call_times_out() {
    expect(&hostile("sum(range(10**12))", ADD, NEVER_ENDS_MS), "timed_out");
}

#[test]
#[cfg(target_os = "linux")]
fn h03_a_fork_bomb_is_contained_and_the_next_check_runs() {
    let code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass";
    let v = hostile(code, ADD, 2000);
    assert!(!v.passed(), "{v:?}");
    // Past the process limit a check cannot fork (RLIMIT_NPROC) or, where the kernel exempts the sandbox's user
    // from that limit (root outside the sandbox: a container, a CI runner), the harness counts the processes and
    // ends the check. Either way the verdict names it, with a limit no machine reaches: not the clock.
    let spawner = "import os, time\nfor _ in range(200):\n    if os.fork() == 0:\n        time.sleep(600)\n        os._exit(0)";
    let v = hostile(spawner, ADD, AMPLE_MS);
    let named = |e: &str| e == "ProcessLimit" || e == "BlockingIOError";
    assert!(matches!(&v.outcome, Outcome::Error { exception, .. } if named(exception)), "{v:?}");
    // The bomb is gone: the next check passes (its limit leaves any busy machine time to finish it).
    expect(&run(ADD, &ADD_ASSERTS, AMPLE_MS), "passed");
}

#[test]
#[cfg(target_os = "macos")]
fn h03_a_check_cannot_fork_or_start_a_process() {
    // No PID namespace on macOS: each check runs with RLIMIT_NPROC = 1.
    let v = hostile("import os\nos.fork()", ADD, AMPLE_MS);
    assert!(matches!(&v.outcome, Outcome::Error { .. }), "{v:?}");
    let v = hostile("import subprocess\nsubprocess.Popen(['/bin/sleep', '1000'], start_new_session=True)", ADD, AMPLE_MS);
    assert!(matches!(&v.outcome, Outcome::Error { .. }), "{v:?}");
    expect(&run(ADD, &ADD_ASSERTS, AMPLE_MS), "passed");
}

#[test]
fn h04_a_memory_bomb_exceeds_the_memory_limit() {
    expect(&hostile("x = [0] * (10**10)", ADD, AMPLE_MS), "memory_exceeded");
    // Linux caps the address space (an impossible allocation fails at once); macOS ignores that limit, so the
    // zygote watches the footprint of an allocation that succeeds and grows past it.
    let second = if cfg!(target_os = "linux") { "x = bytearray(10**11)" } else { "x = bytearray(b'x') * (4 << 30)" };
    expect(&hostile(second, ADD, AMPLE_MS), "memory_exceeded");
}

#[test]
fn h05_a_one_gigabyte_print_is_stopped_by_the_output_cap() {
    // Printing a gigabyte takes seconds to minutes; with a limit no machine reaches, only the output cap can
    // end it before the asserts — so the verdict alone shows the cap stopped it early.
    let v = hostile("for _ in range(10**5):\n    print('x' * 10**4)", ADD, AMPLE_MS * 5);
    expect(&v, "output_limit");
}

#[test]
fn h06_a_write_to_home_fails_and_leaves_nothing() {
    let target = home().join(unique("home-write"));
    let v = hostile(&format!("open({:?}, 'w').write('pwned')", target.display().to_string()), ADD, AMPLE_MS);
    assert!(matches!(&v.outcome, Outcome::Error { exception, .. } if exception.ends_with("Error")), "{v:?}");
    assert!(!target.exists(), "the sandbox wrote into the user's home");
}

#[test]
#[cfg(target_os = "linux")]
fn h07_writes_to_tmp_stay_in_the_sandbox_and_other_paths_are_read_only() {
    let name = unique("tmp-write");
    let v = hostile(&format!("open('/tmp/{name}', 'w').write('x')"), ADD, AMPLE_MS);
    expect(&v, "passed"); // allowed: /tmp is the sandbox's private tmpfs
    assert!(!PathBuf::from("/tmp").join(&name).exists(), "a sandbox write reached the host's /tmp");
    let v = hostile(&format!("open('/var/tmp/{name}', 'w').write('x')"), ADD, AMPLE_MS);
    assert!(!v.passed(), "{v:?}");
    let v = hostile(&format!("open('/usr/{name}', 'w').write('x')"), ADD, AMPLE_MS);
    assert!(!v.passed(), "{v:?}");
    assert!(!PathBuf::from("/var/tmp").join(&name).exists() && !PathBuf::from("/usr").join(&name).exists());
}

#[test]
#[cfg(target_os = "macos")]
fn h07_writes_outside_the_work_dir_fail_and_leave_nothing() {
    for dir in [home(), PathBuf::from("/tmp"), PathBuf::from("/private/tmp"), std::env::temp_dir()] {
        let target = dir.join(unique("write"));
        let v = hostile(&format!("open({:?}, 'w').write('pwned')", target.display().to_string()), ADD, AMPLE_MS);
        assert!(!v.passed(), "{} is writable: {v:?}", target.display());
        assert!(!target.exists(), "the sandbox wrote {}", target.display());
    }
    expect(&hostile("open('scratch.txt', 'w').write('ok')", ADD, AMPLE_MS), "passed"); // its own work dir
}

#[test]
fn h08_a_file_planted_in_home_cannot_be_read() {
    let secret = unique("secret");
    let path = home().join(format!("{}.txt", unique("planted")));
    std::fs::write(&path, &secret).unwrap();
    let v = hostile(&format!("raise Exception(open({:?}).read())", path.display().to_string()), ADD, AMPLE_MS);
    let listing = hostile(
        &format!("raise Exception(repr(__import__('os').listdir({:?})))", home().display().to_string()),
        ADD,
        AMPLE_MS,
    );
    let _ = std::fs::remove_file(&path);
    for v in [&v, &listing] {
        let json = serde_json::to_string(v).unwrap();
        assert!(!json.contains(&secret), "the file's content leaked: {json}");
        assert!(!v.passed(), "{v:?}");
    }
    let listed = serde_json::to_string(&listing).unwrap();
    assert!(!listed.contains("planted"), "the home's listing leaked: {listed}");
    // Linux mounts no home at all; Seatbelt denies reading it.
    let want = if cfg!(target_os = "linux") { "FileNotFoundError" } else { "PermissionError" };
    assert!(matches!(&v.outcome, Outcome::Error { exception, .. } if exception == want), "{v:?}");
}

#[test]
fn h09_the_apps_environment_is_not_visible() {
    // The variable is set in this test process, which spawns the sandbox; the sandbox must not inherit it.
    let secret = unique("env");
    std::env::set_var("COMPLEXITYNET_TEST_SECRET", &secret);
    let v = hostile("import os\nraise Exception(repr(dict(os.environ)))", ADD, AMPLE_MS);
    let json = serde_json::to_string(&v).unwrap();
    assert!(!json.contains(&secret), "the environment leaked: {json}");
    #[cfg(target_os = "linux")]
    assert!(json.contains("PATH"), "the allowlisted variables are there: {json}");
}

#[test]
fn h10_a_socket_connect_to_a_host_listener_gets_nowhere() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let v = hostile(&format!("import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)"), ADD, AMPLE_MS);
    assert!(!v.passed(), "{v:?}");
    assert!(listener.accept().is_err(), "the listener saw a connection from the sandbox");
}

#[test]
fn h11_a_dns_lookup_fails() {
    let v = hostile("import socket\nsocket.gethostbyname('example.com')", ADD, AMPLE_MS);
    assert!(!v.passed(), "{v:?}");
    #[cfg(target_os = "linux")]
    assert!(matches!(&v.outcome, Outcome::Error { exception, .. } if exception == "gaierror"), "{v:?}");
}

#[test]
#[cfg(target_os = "linux")]
fn h12_a_child_that_outlives_its_parent_is_gone_afterwards() {
    let secs = 900_000 + (std::process::id() % 9999);
    let code = format!("import subprocess\nsubprocess.Popen(['sleep', '{secs}'], start_new_session=True)");
    let v = hostile(&code, ADD, AMPLE_MS);
    expect(&v, "passed");
    // The check's process tree is gone when its verdict is returned (the namespace's init died with it).
    let marker = format!("sleep\0{secs}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while host_processes_with(&marker) > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(host_processes_with(&marker), 0, "the detached child survived the check");
}

#[test]
fn h13_sys_exit_before_the_asserts_is_not_a_pass() {
    let v = hostile("import sys\nsys.exit(0)", ADD, AMPLE_MS);
    assert!(matches!(&v.outcome, Outcome::Error { exception, .. } if exception == "SystemExit"), "{v:?}");
}

#[test]
fn h14_os_exit_before_the_asserts_is_not_a_pass() {
    let v = hostile("import os\nos._exit(0)", ADD, AMPLE_MS);
    assert!(matches!(&v.outcome, Outcome::Error { exception, .. } if exception == "EarlyExit"), "{v:?}");
}

#[test]
fn h15_redefining_assertion_error_does_not_neuter_asserts() {
    let v = hostile("class AssertionError(Exception):\n    pass", WRONG_ADD, AMPLE_MS);
    expect(&v, "failed");
}

#[test]
fn h16_replacing_dunder_builtins_does_not_neuter_asserts() {
    let v = hostile("__builtins__ = {}", WRONG_ADD, AMPLE_MS);
    assert!(!v.passed(), "{v:?}");
}

#[test]
fn h17_patching_builtins_does_not_neuter_asserts() {
    let code = "import builtins\nbuiltins.AssertionError = type('Nope', (Exception,), {})\nbuiltins.abs = lambda x: 0";
    expect(&hostile(code, WRONG_ADD, AMPLE_MS), "failed");
    let v = run(
        "import builtins\nbuiltins.len = lambda x: 3\ndef f(x):\n    return x\n",
        &["assert len(f([1])) == 3"],
        AMPLE_MS,
    );
    expect(&v, "failed");
}

#[test]
fn h18_ignoring_signals_does_not_escape_the_time_limit() {
    let code = "import signal\nfor s in (signal.SIGTERM, signal.SIGALRM, signal.SIGXCPU, signal.SIGINT):\n    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass";
    expect(&hostile(code, ADD, NEVER_ENDS_MS), "timed_out");
    expect(&hostile("import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)", ADD, NEVER_ENDS_MS), "timed_out");
}

#[test]
fn h19_killing_the_parent_process_is_not_a_pass_and_the_next_check_works() {
    // A wrong answer, so that only the trick could turn it into a pass. (Under the zygote the parent is the
    // harness, which dies; per check it is the namespace's init, which ignores the signal.)
    let v = hostile("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)", WRONG_ADD, AMPLE_MS);
    assert!(!v.passed(), "{v:?}");
    expect(&run(ADD, &ADD_ASSERTS, AMPLE_MS), "passed");
}

#[test]
fn h20_forging_the_completion_record_is_not_a_pass() {
    let code = "import os\nos.write(3, b'{\"ev\": \"ok\", \"index\": 0}\\n{\"ev\": \"done\", \"nonce\": \"0000\"}\\n')\nos._exit(0)";
    let v = hostile(code, WRONG_ADD, AMPLE_MS);
    assert!(matches!(&v.outcome, Outcome::Error { exception, .. } if exception == "UnprovenPass"), "{v:?}");
}

#[test]
#[cfg(target_os = "linux")]
fn h21_a_huge_file_is_stopped_by_the_file_size_limit() {
    let v = hostile("open('big', 'wb').write(b'x' * (64 << 20))", ADD, AMPLE_MS);
    // RLIMIT_FSIZE (Python ignores SIGXFSZ, so the write fails with EFBIG): not a memory, disk-space or other error.
    assert!(
        matches!(&v.outcome, Outcome::Error { exception, message, .. } if exception == "OSError" && message.contains("File too large")),
        "{v:?}"
    );
}

#[test]
fn h22_secrets_of_the_system_are_not_readable() {
    let paths: &[&str] = if cfg!(target_os = "linux") {
        &["/etc/shadow", "/etc/passwd", "/root/.bash_history", "/home"]
    } else {
        &["/etc/passwd", "/private/etc/master.passwd", "/Users"]
    };
    for path in paths {
        let v = hostile(
            &format!("import os\nos.listdir({path:?}) if os.path.isdir({path:?}) else open({path:?}).read()"),
            ADD,
            AMPLE_MS,
        );
        assert!(!v.passed(), "{path} is readable in the sandbox: {v:?}");
    }
}

#[test]
fn h23_a_raw_flood_on_stdout_hits_the_cap() {
    expect(&hostile("import os\nwhile True:\n    os.write(1, b'y' * 65536)", ADD, AMPLE_MS), "output_limit");
}

#[test]
fn h25_the_time_limit_counts_cpu_time_so_time_spent_not_running_does_not_time_out_a_right_answer() {
    // Time a check spends not running — waiting for a core on a busy machine, or asleep — is not CPU time. A
    // right answer that is off the CPU for longer than its limit passes (judged by the wall clock it would time
    // out); sleeping stands in for the busy machine because, unlike load, its length does not depend on the
    // scheduler.
    let code = "import time\ndef slow_add(a, b):\n    time.sleep(2.5)\n    return a + b\n";
    expect(&run(code, &["assert slow_add(1, 2) == 3"], 2_000), "passed");
    // What the wall clock is still for: a check that waits for ever (a multiple of the limit ends it).
    expect(&hostile("import time\ntime.sleep(3600)", ADD, NEVER_ENDS_MS), "timed_out");
}

#[test]
fn h24_nothing_written_in_one_check_is_visible_to_the_next() {
    // Sequential checks reuse the warm worker; it wipes the check's scratch space in between.
    let v = hostile("open('leak', 'w').write('x')", ADD, AMPLE_MS);
    expect(&v, "passed");
    let v = run(
        "import os\ndef siblings():\n    return os.listdir(os.path.dirname(os.getcwd()))\n",
        &["assert os.path.exists('leak') is False", "assert siblings() == [os.path.basename(os.getcwd())]"],
        AMPLE_MS,
    );
    expect(&v, "passed");
    #[cfg(target_os = "linux")]
    {
        let v = hostile("open('/tmp/leak', 'w').write('x')\nopen('/dev/shm/leak', 'w').write('x')", ADD, AMPLE_MS);
        expect(&v, "passed");
        let v = run(
            "import os\ndef leftovers():\n    return [p for p in ('/tmp/leak', '/dev/shm/leak') if os.path.exists(p)]\n",
            &["assert leftovers() == []", "assert os.listdir('/tmp') == [os.path.basename(os.getcwd())]"],
            AMPLE_MS,
        );
        expect(&v, "passed");
    }
}
}
    };
}

#[cfg(target_os = "linux")]
corpus!(zygote, Verifier::with_protocol(complexitynet_sandbox::Protocol::Zygote));
#[cfg(target_os = "linux")]
corpus!(per_check, Verifier::with_protocol(complexitynet_sandbox::Protocol::PerCheck));
#[cfg(target_os = "macos")]
corpus!(seatbelt, Verifier::new());

#[test]
#[cfg(target_os = "linux")]
fn each_linux_corpus_runs_the_protocol_it_names() {
    use complexitynet_sandbox::Protocol;
    // Inside bubblewrap's PID namespace the harness is pid 2: per check it runs the answer itself; the zygote
    // forks a child for it.
    let check = |protocol| {
        Verifier::with_protocol(protocol).verify(&check(
            "import os\ndef pid():\n    return os.getpid()\n",
            &["assert pid() == 2"],
            AMPLE_MS,
        ))
    };
    expect(&check(Protocol::PerCheck), "passed");
    expect(&check(Protocol::Zygote), "failed");
}

#[test]
fn doctor_reports_the_platforms_confinement() {
    let status = Verifier::new().status();
    let want = if cfg!(target_os = "linux") { "bubblewrap" } else { "seatbelt" };
    assert_eq!(status.mode, want, "{status:?}");
}
