//! The verification sandbox with real spawns: bubblewrap + Python. The hostile corpus must produce its expected
//! verdict with zero escapes and zero false passes, and leave no side effect behind. It runs twice: with the warm
//! zygote (Linux and macOS) and with one process per check (the protocol Windows uses, here inside bubblewrap).

use complexitynet_engine::verify::sandbox::Protocol;
use complexitynet_engine::verify::{Check, Limits, Outcome, Verdict, Verifier};
use std::path::PathBuf;

fn unique(tag: &str) -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).unwrap();
    format!("cn-{tag}-{}", hex::encode(b))
}

#[track_caller]
fn expect(v: &Verdict, name: &str) {
    assert_eq!(v.name(), name, "verdict: {v:?}");
}

fn home() -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
}

fn host_processes_with(marker: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().chars().all(|c| c.is_ascii_digit()))
        .filter(|e| std::fs::read(e.path().join("cmdline")).is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker)))
        .count()
}

macro_rules! corpus {
    ($module:ident, $protocol:expr) => {
mod $module {
use super::*;
use std::sync::OnceLock;

fn verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| Verifier::with_protocol($protocol))
}

fn limits(timeout_ms: u64) -> Limits {
    Limits { timeout_ms, ..Limits::default() }
}

const ADD: &str = "def add(a, b):\n    return a + b\n";
const ADD_ASSERTS: [&str; 3] = ["assert add(1, 2) == 3", "assert add(-1, 1) == 0", "assert add(2, 2) == 4"];

fn run(code: &str, asserts: &[&str], timeout_ms: u64) -> Verdict {
    let check = Check {
        code: code.into(),
        setup: String::new(),
        asserts: asserts.iter().map(|s| s.to_string()).collect(),
        limits: limits(timeout_ms),
    };
    verifier().verify(&check)
}

#[test]
fn a_correct_answer_passes_with_every_assert_counted() {
    let v = run(ADD, &ADD_ASSERTS, 5000);
    expect(&v, "passed");
    assert_eq!((v.asserts_passed, v.asserts_total), (3, 3));
}

#[test]
fn a_wrong_answer_fails_at_the_first_false_assert() {
    let v = run("def add(a, b):\n    return a * b + 1\n", &ADD_ASSERTS, 5000);
    // add(1, 2) and add(-1, 1) happen to hold for a * b + 1; add(2, 2) does not.
    assert_eq!(v.outcome, Outcome::Failed { assert_index: 2, message: String::new() }, "{v:?}");
    assert_eq!(v.asserts_passed, 2);
}

#[test]
fn an_exception_reports_its_type_message_and_line_in_the_answer() {
    let v = run("def add(a, b):\n    x = 1\n    return a + b + undefined_name\n", &ADD_ASSERTS, 5000);
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
    let v = run("def add(a, b)\n    return a + b\n", &ADD_ASSERTS, 5000);
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
        limits: limits(5000),
    };
    expect(&verifier().verify(&check), "passed");
}

// ---------------------------------------------------------------------------------------------------------
// The hostile corpus. Each program is followed by a correct `add`, so only the trick itself can fail the check
// (or, for the neutering tricks, a wrong `add`, so only the trick could make it pass).

const WRONG_ADD: &str = "def add(a, b):\n    return 0\n";

fn hostile(prelude: &str, body: &str, timeout_ms: u64) -> Verdict {
    run(&format!("{prelude}\n{body}"), &ADD_ASSERTS, timeout_ms)
}

#[test]
fn h01_an_infinite_loop_times_out() {
    expect(&hostile("while True:\n    pass", ADD, 1500), "timed_out");
}

#[test]
fn h02_a_long_c_level_call_times_out() {
    expect(&hostile("sum(range(10**12))", ADD, 1500), "timed_out");
}

#[test]
fn h03_a_fork_bomb_is_contained_and_leaves_no_process() {
    let marker = unique("fork");
    let code = format!(
        "import os\ntag = {marker:?}\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    );
    let v = hostile(&code, ADD, 2000);
    assert!(!v.passed(), "{v:?}");
    // The bomb is gone: the next check runs normally.
    expect(&run(ADD, &ADD_ASSERTS, 5000), "passed");
}

#[test]
fn h04_a_memory_bomb_exceeds_the_memory_limit() {
    expect(&hostile("x = bytearray(10**11)", ADD, 5000), "memory_exceeded");
    expect(&hostile("x = [0] * (10**10)", ADD, 5000), "memory_exceeded");
}

#[test]
fn h05_a_one_gigabyte_print_hits_the_output_cap_early() {
    let v = hostile("for _ in range(10**5):\n    print('x' * 10**4)", ADD, 20_000);
    expect(&v, "output_limit");
    assert!(v.duration_ms < 5000.0, "the cap must stop the child early, took {} ms", v.duration_ms);
}

#[test]
fn h06_a_write_to_home_fails_and_leaves_nothing() {
    let target = home().join(unique("home-write"));
    let v = hostile(&format!("open({:?}, 'w').write('pwned')", target.display().to_string()), ADD, 5000);
    assert!(matches!(&v.outcome, Outcome::Error { exception, .. } if exception.ends_with("Error")), "{v:?}");
    assert!(!target.exists(), "the sandbox wrote into the user's home");
}

#[test]
fn h07_writes_to_tmp_stay_in_the_sandbox_and_other_paths_are_read_only() {
    let name = unique("tmp-write");
    let v = hostile(&format!("open('/tmp/{name}', 'w').write('x')"), ADD, 5000);
    expect(&v, "passed"); // allowed: /tmp is the sandbox's private tmpfs
    assert!(!PathBuf::from("/tmp").join(&name).exists(), "a sandbox write reached the host's /tmp");
    let v = hostile(&format!("open('/var/tmp/{name}', 'w').write('x')"), ADD, 5000);
    assert!(!v.passed(), "{v:?}");
    let v = hostile(&format!("open('/usr/{name}', 'w').write('x')"), ADD, 5000);
    assert!(!v.passed(), "{v:?}");
    assert!(!PathBuf::from("/var/tmp").join(&name).exists() && !PathBuf::from("/usr").join(&name).exists());
}

#[test]
fn h08_a_file_planted_in_home_cannot_be_read() {
    let secret = unique("secret");
    let path = home().join(format!("{}.txt", unique("planted")));
    std::fs::write(&path, &secret).unwrap();
    let v = hostile(&format!("raise Exception(open({:?}).read())", path.display().to_string()), ADD, 5000);
    let _ = std::fs::remove_file(&path);
    assert!(!v.passed());
    let json = serde_json::to_string(&v).unwrap();
    assert!(!json.contains(&secret), "the secret leaked into the verdict: {json}");
    assert!(matches!(&v.outcome, Outcome::Error { exception, .. } if exception == "FileNotFoundError"), "{v:?}");
}

#[test]
fn h09_the_apps_environment_is_not_visible() {
    // The variable is set in this test process, which spawns the sandbox; the sandbox must not inherit it.
    let secret = unique("env");
    std::env::set_var("COMPLEXITYNET_TEST_SECRET", &secret);
    let v = hostile("import os\nraise Exception(repr(dict(os.environ)))", ADD, 5000);
    let json = serde_json::to_string(&v).unwrap();
    assert!(!json.contains(&secret), "the environment leaked: {json}");
    assert!(json.contains("PATH"), "the allowlisted variables are there: {json}");
}

#[test]
fn h10_a_socket_connect_to_a_host_listener_gets_nowhere() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let v = hostile(&format!("import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)"), ADD, 5000);
    assert!(!v.passed(), "{v:?}");
    assert!(listener.accept().is_err(), "the listener saw a connection from the sandbox");
}

#[test]
fn h11_a_dns_lookup_fails() {
    let v = hostile("import socket\nsocket.gethostbyname('example.com')", ADD, 5000);
    assert!(matches!(&v.outcome, Outcome::Error { exception, .. } if exception == "gaierror"), "{v:?}");
}

#[test]
fn h12_a_child_that_outlives_its_parent_is_gone_afterwards() {
    let secs = 900_000 + (std::process::id() % 9999);
    let code = format!("import subprocess\nsubprocess.Popen(['sleep', '{secs}'], start_new_session=True)");
    let v = hostile(&code, ADD, 5000);
    expect(&v, "passed");
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(host_processes_with(&format!("sleep\0{secs}")), 0, "the detached child survived the check");
}

#[test]
fn h13_sys_exit_before_the_asserts_is_not_a_pass() {
    let v = hostile("import sys\nsys.exit(0)", ADD, 5000);
    assert!(matches!(&v.outcome, Outcome::Error { exception, .. } if exception == "SystemExit"), "{v:?}");
}

#[test]
fn h14_os_exit_before_the_asserts_is_not_a_pass() {
    let v = hostile("import os\nos._exit(0)", ADD, 5000);
    assert!(matches!(&v.outcome, Outcome::Error { exception, .. } if exception == "EarlyExit"), "{v:?}");
}

#[test]
fn h15_redefining_assertion_error_does_not_neuter_asserts() {
    let v = hostile("class AssertionError(Exception):\n    pass", WRONG_ADD, 5000);
    expect(&v, "failed");
}

#[test]
fn h16_replacing_dunder_builtins_does_not_neuter_asserts() {
    let v = hostile("__builtins__ = {}", WRONG_ADD, 5000);
    assert!(!v.passed(), "{v:?}");
}

#[test]
fn h17_patching_builtins_does_not_neuter_asserts() {
    let code = "import builtins\nbuiltins.AssertionError = type('Nope', (Exception,), {})\nbuiltins.abs = lambda x: 0";
    expect(&hostile(code, WRONG_ADD, 5000), "failed");
    let v = run(
        "import builtins\nbuiltins.len = lambda x: 3\ndef f(x):\n    return x\n",
        &["assert len(f([1])) == 3"],
        5000,
    );
    expect(&v, "failed");
}

#[test]
fn h18_ignoring_signals_does_not_escape_the_time_limit() {
    let code = "import signal\nfor s in (signal.SIGTERM, signal.SIGALRM, signal.SIGXCPU, signal.SIGINT):\n    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass";
    expect(&hostile(code, ADD, 1500), "timed_out");
    expect(&hostile("import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)", ADD, 1500), "timed_out");
}

#[test]
fn h19_killing_the_parent_process_is_not_a_pass_and_the_next_check_works() {
    // A wrong answer, so that only the trick could turn it into a pass. (Under the zygote the parent is the
    // harness, which dies; per check it is the namespace's init, which ignores the signal.)
    let v = hostile("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)", WRONG_ADD, 5000);
    assert!(!v.passed(), "{v:?}");
    expect(&run(ADD, &ADD_ASSERTS, 5000), "passed");
}

#[test]
fn h20_forging_the_completion_record_is_not_a_pass() {
    let code = "import os\nos.write(3, b'{\"ev\": \"ok\", \"index\": 0}\\n{\"ev\": \"done\", \"nonce\": \"0000\"}\\n')\nos._exit(0)";
    let v = hostile(code, WRONG_ADD, 5000);
    assert!(matches!(&v.outcome, Outcome::Error { exception, .. } if exception == "UnprovenPass"), "{v:?}");
}

#[test]
fn h21_a_huge_file_is_stopped_by_the_file_size_limit() {
    let v = hostile("open('big', 'wb').write(b'x' * (64 << 20))", ADD, 5000);
    assert!(matches!(&v.outcome, Outcome::Error { .. }), "{v:?}");
}

#[test]
fn h22_secrets_of_the_system_are_not_mounted() {
    for path in ["/etc/shadow", "/etc/passwd", "/root/.bash_history", "/home"] {
        let v = hostile(
            &format!("import os\nos.listdir({path:?}) if os.path.isdir({path:?}) else open({path:?}).read()"),
            ADD,
            5000,
        );
        assert!(!v.passed(), "{path} is readable in the sandbox: {v:?}");
    }
}

#[test]
fn h23_a_raw_flood_on_stdout_hits_the_cap() {
    expect(&hostile("import os\nwhile True:\n    os.write(1, b'y' * 65536)", ADD, 10_000), "output_limit");
}

#[test]
fn h24_nothing_written_in_one_check_is_visible_to_the_next() {
    // Sequential checks reuse the warm worker; the zygote wipes /tmp and /dev/shm in between.
    let v = hostile("open('/tmp/leak', 'w').write('x')\nopen('/dev/shm/leak', 'w').write('x')", ADD, 5000);
    expect(&v, "passed");
    let v = run(
        "import os\ndef leftovers():\n    return [p for p in ('/tmp/leak', '/dev/shm/leak') if os.path.exists(p)]\n",
        &["assert leftovers() == []", "assert os.listdir('/tmp') == [os.path.basename(os.getcwd())]"],
        5000,
    );
    expect(&v, "passed");
}
}
    };
}

corpus!(zygote, Protocol::Zygote);
corpus!(per_check, Protocol::PerCheck);

#[test]
fn each_corpus_runs_the_protocol_it_names() {
    // Inside bubblewrap's PID namespace the harness is pid 2: per check it runs the answer itself; the zygote
    // forks a child for it.
    let check = |protocol| {
        let check = Check {
            code: "import os\ndef pid():\n    return os.getpid()\n".into(),
            setup: String::new(),
            asserts: vec!["assert pid() == 2".into()],
            limits: Limits::default(),
        };
        Verifier::with_protocol(protocol).verify(&check)
    };
    expect(&check(Protocol::PerCheck), "passed");
    expect(&check(Protocol::Zygote), "failed");
}
