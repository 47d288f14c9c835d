# ComplexityNet verification harness (runs INSIDE the sandbox; see SECURITY.md).
#
# Usage (by the app only): python -s -S -B -c HARNESS MODE [WORKROOT]
#
# MODE "ns" (Linux, inside bubblewrap) and "seatbelt" (macOS, inside sandbox-exec): a warm "zygote". It reads one
# JSON request per line on stdin and answers one JSON line per check on stdout. For each check it forks a fresh
# child that runs the answer, the setup code and the asserts under rlimits, in its own session and its own empty
# work dir. The zygote itself never runs answer code. After every check it kills what the check left running
# ("ns": every other process in the sandbox's PID namespace; "seatbelt": the check's process group, and the
# check could not fork in the first place) and wipes the work root, so nothing leaks from one check to the next.
#
# MODE "single" (Windows inside a Job Object, where there is no fork; and Linux tests of that protocol): the
# process runs exactly one check itself, writing its records one per line on fd 3 as they happen, and exits.
# The host enforces the wall clock and the output cap by killing it, and starts a fresh process for the next.
#
# A pass must be proven: the child writes the per-check nonce only after the last assert ran, and the host
# accepts a pass only with that nonce. An exit status of 0 proves nothing (sys.exit / os._exit before the
# asserts are failures).
import json
import os

try:
    import resource  # loaded here, once: a child importing it would pay a shared-library load per check
except ImportError:  # Windows: the Job Object holds the limits
    resource = None
import select
import signal
import sys
import time

_SIGNAMES = {getattr(signal, n): n for n in dir(signal) if n.startswith("SIG") and not n.startswith("SIG_")}


def _no_dumps():
    # The answer runs as the same uid as this zygote: make this process non-dumpable so the answer cannot
    # ptrace it or read its memory through /proc. Best effort: ctypes may be absent.
    try:
        import ctypes

        if sys.platform == "darwin":
            ctypes.CDLL(None).ptrace(31, 0, None, 0)  # PT_DENY_ATTACH
        else:
            ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:
        pass


class _Footprint:
    """macOS only: the physical footprint of a process, from libproc. macOS does not enforce RLIMIT_AS or
    RLIMIT_DATA, so the zygote watches the check's footprint and kills it past the memory limit."""

    def __init__(self):
        import ctypes

        self._buf = ctypes.create_string_buffer(16 + 8 * 10)  # struct rusage_info_v0
        self._lib = ctypes.CDLL("/usr/lib/libproc.dylib")
        self._lib.proc_pid_rusage.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
        self._ctypes = ctypes

    def of(self, pid):
        if self._lib.proc_pid_rusage(pid, 0, self._buf) != 0:  # RUSAGE_INFO_V0
            return 0
        # ri_uuid[16], then ri_user_time, ri_system_time, ri_pkg_idle_wkups, ri_interrupt_wkups, ri_pageins,
        # ri_wired_size, ri_resident_size, ri_phys_footprint: the eighth uint64.
        return self._ctypes.c_uint64.from_buffer(self._buf, 16 + 8 * 7).value


def _sandboxed_by_seatbelt():
    """True only if this process is confined by a Seatbelt profile (sandbox_check with no operation)."""
    try:
        import ctypes

        lib = ctypes.CDLL("/usr/lib/libSystem.B.dylib")
        return lib.sandbox_check(os.getpid(), None, 0) == 1
    except Exception:
        return False


def _wipe(path, keep_root=True):
    try:
        entries = os.listdir(path)
    except OSError:
        return
    for name in entries:
        p = os.path.join(path, name)
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                _wipe(p, keep_root=False)
            else:
                os.unlink(p)
        except OSError:
            pass
    if not keep_root:
        try:
            os.chmod(path, 0o700)
            os.rmdir(path)
        except OSError:
            pass


def _kill_others():
    """Kills every process started after us in this PID namespace (all of them are the checks' processes),
    until none is left. main() has made sure we are the sandbox's first process, so this never touches a host.
    Only in MODE "ns": outside a PID namespace the same scan would find the host's processes."""
    assert MODE == "ns"
    me = os.getpid()
    for _ in range(50):
        others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) > me]
        if not others:
            return True
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        # Reap our own children; orphans are reaped by the namespace's init.
        deadline = time.monotonic() + 0.2
        while time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.002)
    return False


def _child(req, res_fd, workdir):
    """Runs in the forked child. Never returns."""
    write = os.write
    dumps = json.dumps
    nonce = req.pop("nonce")
    asserts = req["asserts"]

    # Captured before the answer runs: the answer may rebind any of these names, in builtins or elsewhere.
    import builtins

    pristine = dict(builtins.__dict__)
    AssertionError_ = AssertionError
    MemoryError_ = MemoryError
    BaseException_ = BaseException
    exit_ = os._exit
    settrace, setprofile = sys.settrace, sys.setprofile

    def emit(**rec):
        write(res_fd, (dumps(rec) + "\n").encode())

    def where(exc, filename):
        tb, line = exc.__traceback__, None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == filename:
                line = tb.tb_lineno
            tb = tb.tb_next
        return line

    def report(phase, exc, filename, index=None):
        if isinstance(exc, MemoryError_):
            emit(ev="memory", phase=phase)
        else:
            try:
                msg = str(exc)
            except BaseException_:
                msg = "<unprintable>"
            emit(ev="error", phase=phase, type=type(exc).__name__, message=msg[:2000],
                 line=where(exc, filename), index=index)
        exit_(0)

    ns = {"__name__": "solution", "__builtins__": builtins}
    for phase, src, filename in (("code", req["code"], "<answer>"), ("setup", req.get("setup") or "", "<setup>")):
        try:
            compiled = compile(src, filename, "exec")
        except SyntaxError as e:
            emit(ev="error", phase=phase, type="SyntaxError", message=str(e.msg), line=e.lineno, index=None)
            exit_(0)
        except BaseException_ as e:
            report(phase, e, filename)
        try:
            exec(compiled, ns)
        except BaseException_ as e:  # SystemExit included: exiting before the asserts is a failure
            report(phase, e, filename)

    # The asserts see the answer's names but pristine builtins, and no trace or profile hooks.
    settrace(None)
    setprofile(None)
    scope = dict(ns)
    scope["__builtins__"] = pristine
    for i, src in enumerate(asserts):
        filename = "<assert %d>" % i
        try:
            exec(compile(src, filename, "exec"), scope)
        except AssertionError_ as e:
            emit(ev="fail", index=i, message=str(e)[:2000])
            exit_(0)
        except BaseException_ as e:
            report("assert", e, "<answer>", index=i)
        emit(ev="ok", index=i)
    emit(ev="done", nonce=nonce)
    exit_(0)


def _set_limits(lim):
    cpu = int(lim["cpu_s"])
    # SIGXCPU at the limit ends the check as a time-out. A check that ignores SIGXCPU is left to the wall clock,
    # which then reports it as one too; the hard limit (SIGKILL) only backs that up, so it lies past the wall's.
    wall_s = -(-int(lim["wall_ms"]) // 1000)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, max(cpu, wall_s) + 1))
    mem = int(lim["memory_bytes"])
    if MODE == "seatbelt":
        # Not enforced by macOS (the zygote watches the footprint instead); set where the kernel accepts it.
        try:
            resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        except (ValueError, OSError):
            pass
    else:
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(lim["file_bytes"]),) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (int(lim["open_files"]),) * 2)
    if MODE == "seatbelt":
        # Without a PID namespace nothing could find a process that left the check's group, so a check may not
        # start any: RLIMIT_NPROC counts all of the user's processes, which are already more than one, so every
        # fork() in the check fails with EAGAIN. (main() refuses to run as root, which the limit would not bind.)
        resource.setrlimit(resource.RLIMIT_NPROC, (1, 1))
    else:
        resource.setrlimit(resource.RLIMIT_NPROC, (int(lim["processes"]),) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _nproc_unbound():
    """True where RLIMIT_NPROC binds nothing: the sandbox's user is root outside it (the app run as root, as in a
    container or on a CI runner). The kernel exempts processes whose real user is the initial namespace's root from
    the limit, so a fork bomb would multiply into thousands of processes, freezing the host until the time limit.
    """
    try:
        with open("/proc/self/uid_map") as f:
            fields = f.readline().split()
    except OSError:
        return False
    # Only as the first process of a fresh PID namespace (bwrap's init is 1), where /proc lists the sandbox's own
    # processes and nothing of the host's.
    return MODE in ("ns", "single") and os.getpid() <= 3 and len(fields) == 3 and fields[1] == "0"


def _processes():
    """The check's processes: every process in this PID namespace but its init (bwrap) and us."""
    return sum(1 for p in os.listdir("/proc") if p.isdigit()) - 2


def run_check(req, seq):
    lim = req["limits"]
    workdir = os.path.join(WORKROOT, "check-%d" % seq)
    os.mkdir(workdir, 0o700)
    r_res, w_res = os.pipe()
    r_out, w_out = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            os.close(r_res)
            os.close(r_out)
            devnull = os.open("/dev/null", os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(w_out, 1)
            os.dup2(w_out, 2)
            os.dup2(w_res, 3)
            os.closerange(4, 65536)
            os.chdir(workdir)
            os.environ["HOME"] = workdir
            os.environ["TMPDIR"] = workdir
            _set_limits(lim)
            _child(req, 3, workdir)
        except BaseException:
            pass
        os._exit(70)

    os.close(w_res)
    os.close(w_out)
    # The time limit itself is CPU time (RLIMIT_CPU above: SIGXCPU); this wall clock only ends a check that
    # waits instead of computing, so it is the host's multiple of the limit.
    deadline = time.monotonic() + lim["wall_ms"] / 1000.0
    cap = int(lim["output_bytes"])
    out_bytes, out_tail, res_buf = 0, b"", b""
    status, timed_out, over_output, over_memory, over_processes = None, False, False, False, False
    max_procs = int(lim["processes"])
    mem_cap = int(lim["memory_bytes"])
    open_fds = {r_res, r_out}
    # A pidfd turns "the child exited" into a readable fd, so one select waits for output, reports and exit
    # alike, without polling. (Linux 5.3+; without it, poll waitpid between short selects.)
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    while status is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        fds = list(open_fds) + ([pidfd] if pidfd is not None else [])
        wait = remaining if pidfd is not None else min(remaining, 0.002)
        if NPROC_UNBOUND:
            # The kernel does not hold this check to RLIMIT_NPROC (see _nproc_unbound): count its processes
            # ourselves, often enough that a fork bomb is stopped at hundreds of processes, not thousands.
            if _processes() > max_procs:
                over_processes = True
                break
            wait = min(wait, 0.005)
        if FOOTPRINT is not None and FOOTPRINT.of(pid) > mem_cap:
            over_memory = True
            break
        ready = select.select(fds, [], [], wait)[0] if fds else []
        if not fds:
            time.sleep(min(remaining, 0.002))
        for fd in ready:
            if fd == pidfd:
                continue
            data = os.read(fd, 65536)
            if not data:
                open_fds.discard(fd)
            elif fd == r_res:
                res_buf += data
                if len(res_buf) > 1 << 20:  # a flood on the result pipe is not a report
                    over_output = True
            else:
                out_bytes += len(data)
                out_tail = (out_tail + data)[-2000:]
                if out_bytes > cap:
                    over_output = True
        if over_output:
            break
        if pidfd is None or pidfd in ready:
            got, st = os.waitpid(pid, os.WNOHANG)
            if got == pid:
                status = st
    if pidfd is not None:
        os.close(pidfd)
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    if status is None:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            status = None
    # Drain what is already in the pipes (non-blocking), then close them.
    for fd in list(open_fds):
        os.set_blocking(fd, False)
        budget = 2 << 20  # a leftover process still writing must not keep us here
        try:
            while budget > 0:
                data = os.read(fd, 65536)
                budget -= len(data)
                if not data:
                    break
                if fd == r_res and len(res_buf) <= 1 << 20:
                    res_buf += data
        except BlockingIOError:
            pass
    os.close(r_res)
    os.close(r_out)
    if MODE == "ns":
        clean = _kill_others()
        _wipe("/dev/shm")
    else:
        # The check could not fork, so its process group held only itself, killed above; confirm it is empty.
        try:
            os.killpg(pid, 0)
            clean = False
        except OSError:
            clean = True
    _wipe(WORKROOT)

    records = []
    for line in res_buf.split(b"\n"):
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError:
                records.append({"ev": "garbage"})
    result = {
        "id": req["id"],
        "records": records,
        "timed_out": timed_out,
        "output_limit": over_output and out_bytes > cap,
        "result_flood": over_output and out_bytes <= cap,
        "output_bytes": out_bytes,
        "output_tail": out_tail.decode("utf-8", "replace"),
        "memory_exceeded": over_memory,
        "processes_exceeded": over_processes,
        "clean": clean,
    }
    if status is not None:
        if os.WIFSIGNALED(status):
            result["signal"] = _SIGNAMES.get(os.WTERMSIG(status), str(os.WTERMSIG(status)))
        elif os.WIFEXITED(status):
            result["exit_code"] = os.WEXITSTATUS(status)
    return result


# Modules that answers commonly import, loaded once here so that every forked check finds them in sys.modules
# instead of importing them again (an import of `re` costs a check more than running it). A child's changes to
# them die with the child.
PRELOAD = (
    "re", "math", "cmath", "heapq", "collections", "itertools", "functools", "operator", "bisect", "string",
    "array", "fractions", "decimal", "datetime", "copy", "statistics", "typing", "struct", "unicodedata",
    "textwrap", "calendar",
)


def _preload():
    for name in PRELOAD:
        try:
            __import__(name)
        except Exception:
            pass


def _refuse(why):
    sys.stderr.write("harness.py: %s\n" % why)
    sys.exit(2)


def serve_single():
    """MODE "single": one check in this process. Records go to fd 3 as they happen (the host reads them on our
    original stdout); the answer's stdout and stderr both go to our stderr, which the host caps."""
    os.dup2(1, 3)
    os.dup2(2, 1)
    os.write(3, (json.dumps({"ready": True, "python": sys.version.split()[0]}) + "\n").encode())
    req = json.loads(sys.stdin.readline())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    workdir = os.path.join(WORKROOT, "check-1")
    os.mkdir(workdir, 0o700)
    os.chdir(workdir)
    for name in ("HOME", "TMPDIR", "TEMP", "TMP", "USERPROFILE"):
        os.environ[name] = workdir
    if sys.platform != "win32":
        # On Windows the Job Object holds the limits; elsewhere (tests of this protocol) the rlimits do.
        _set_limits(req["limits"])
    if NPROC_UNBOUND:
        import threading

        threading.Thread(target=_watch_processes, args=(int(req["limits"]["processes"]),), daemon=True).start()
    _child(req, 3, workdir)


def _watch_processes(limit, listdir=os.listdir, kill=os.kill, sigkill=getattr(signal, "SIGKILL", None), write=os.write,
                     exit_=os._exit, sleep=time.sleep):
    """MODE "single" where RLIMIT_NPROC binds nothing (_nproc_unbound): the check runs in this very process, so a
    thread counts its processes and ends the check past the limit. Everything it calls is bound here, before the
    answer runs and can rebind it (SIGKILL through getattr: this module is also the Windows harness, which has none
    and never starts this thread)."""
    me = os.getpid()
    while True:
        sleep(0.005)
        pids = [int(p) for p in listdir("/proc") if p.isdigit()]
        if len(pids) - 2 > limit:
            for pid in pids:
                if pid not in (1, me):
                    try:
                        kill(pid, sigkill)
                    except OSError:
                        pass
            write(3, b'{"ev": "processes"}\n')
            exit_(0)


def main():
    if MODE == "ns":
        # Refuse to run anywhere but as the first process of a fresh PID namespace (bwrap's init is 1, we are
        # 2): the clean-up between checks kills every later process, which outside a sandbox would be the host's.
        if os.getpid() > 3:
            _refuse("mode ns must run inside the ComplexityNet sandbox (a fresh PID namespace)")
    elif MODE == "seatbelt":
        if not _sandboxed_by_seatbelt():
            _refuse("mode seatbelt must run under the ComplexityNet sandbox-exec profile")
        if os.getuid() == 0:
            _refuse("refusing to verify as root on macOS: the no-fork limit (RLIMIT_NPROC) does not bind root")
    elif MODE == "single":
        _preload()
        serve_single()
        return
    else:
        _refuse("unknown mode %r" % MODE)
    if not WORKROOT or not os.path.isdir(WORKROOT):
        _refuse("no work root")
    _no_dumps()
    _preload()
    # Everything the zygote holds now is shared with every forked check. Moving it out of the collector's
    # reach means a collection in the child does not touch (and so copy) those pages.
    import gc

    gc.freeze()
    out = os.fdopen(os.dup(1), "w")
    # Our own stdout/stderr are not for answers: they are never inherited (the child redirects them).
    seq = 0
    out.write(json.dumps({"ready": True, "python": sys.version.split()[0]}) + "\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        seq += 1
        req = json.loads(line)
        try:
            res = run_check(req, seq)
        except Exception as e:  # a harness bug: report it rather than hang the host
            res = {"id": req.get("id"), "harness_error": "%s: %s" % (type(e).__name__, e)}
        out.write(json.dumps(res) + "\n")
        out.flush()


MODE = sys.argv[1] if len(sys.argv) > 1 else ""
WORKROOT = sys.argv[2] if len(sys.argv) > 2 else ("/tmp" if MODE == "ns" else "")
FOOTPRINT = _Footprint() if MODE == "seatbelt" else None
NPROC_UNBOUND = _nproc_unbound()
main()
