"""Implementations and their adapters in serve mode: one process per worker
fed one case per line (importing torch takes seconds; a process per case
would dominate the run), restarted after a fault, given up after two
failures to start in a row."""
import collections
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time

from .compare import show
from .layout import ADAPTER, REFERENCES, ROOT


class Impl:
    """An implementation under test. `kind`: builtin (cpp, mmengine, mmcv
    through tools/adapter), release (a reference release of --matrix),
    external (NAME=COMMAND) or fixtures. `profile` set: runs only the cases
    of that profile (the references); None: every case."""

    def __init__(self, name, kind, argv=None, profile=None):
        self.name = name
        self.kind = kind
        self.argv = argv
        self.profile = profile

    @classmethod
    def builtin(cls, name, python=None):
        argv = [ADAPTER, name]
        if python and name in REFERENCES:
            argv += ["--python", python]
        return cls(name, "builtin", argv,
                   name if name in REFERENCES else None)

    def applies(self, case):
        return self.profile is None or case.profile == self.profile

    @property
    def is_reference(self):
        return self.kind in ("fixtures", "release") or (
            self.kind == "builtin" and self.name in REFERENCES)


class Worker:
    """One adapter process in serve mode; restarted after a fault."""

    def __init__(self, impl, timeout, sandbox=None):
        self.impl = impl
        self.timeout = timeout
        self.sandbox = sandbox
        self.proc = None
        self.lines = None
        self.stderr_tail = collections.deque(maxlen=20)
        self.answered = 0

    def start(self):
        argv = list(self.impl.argv) + ["serve"]
        if self.sandbox:
            # a fresh, empty directory per process start (the adapter puts
            # one subdirectory per case into it and leaves them there)
            os.makedirs(self.sandbox, exist_ok=True)
            argv += ["--sandbox", tempfile.mkdtemp(
                prefix="%s-" % self.impl.name, dir=self.sandbox)]
        self.stderr_tail.clear()
        self.answered = 0
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True)
        self.lines = queue.Queue()
        proc, lines, tail = self.proc, self.lines, self.stderr_tail

        def pump_out():
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        def pump_err():
            for line in proc.stderr:
                tail.append(line.decode("utf-8", "replace").rstrip("\n"))

        threading.Thread(target=pump_out, daemon=True).start()
        threading.Thread(target=pump_err, daemon=True).start()

    def stop(self, kill=False):
        p, self.proc = self.proc, None
        if p is None:
            return
        try:
            if not kill:
                p.stdin.close()
                p.wait(timeout=10)
                return
        except (OSError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def _reason(self, what):
        tail = [l for l in self.stderr_tail if l.strip()]
        return what + (": " + tail[-1].strip() if tail else "")

    def run(self, case):
        """-> (observation or None, error reason or None, startup_failure)"""
        try:
            if self.proc is None:
                self.start()
            self.proc.stdin.write(case.raw.encode("utf-8") + b"\n")
            self.proc.stdin.flush()
        except OSError as e:
            startup = self.answered == 0
            time.sleep(0.2)
            reason = self._reason("cannot send case (%s)" % e)
            self.stop(kill=True)
            return None, reason, startup
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                line = self.lines.get(
                    timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                self.stop(kill=True)
                return None, "timeout after %ds" % self.timeout, False
            if line is None:
                startup = self.answered == 0
                rc = self.proc.wait()
                time.sleep(0.1)
                reason = self._reason("adapter exited (status %s)" % rc)
                self.stop(kill=True)
                return None, reason, startup
            if not line.strip():
                continue
            break
        try:
            obs = json.loads(line.decode("utf-8"))
        except ValueError:
            self.stop(kill=True)
            return None, "unreadable output: %s" % show(
                line.decode("utf-8", "replace").strip(), 120), False
        self.answered += 1
        if not isinstance(obs, dict):
            return None, "observation is not a JSON object", False
        if "id" in obs and obs["id"] != case.id:
            return None, "observation id %r != case id" % obs["id"], False
        err = obs.get("error")
        if isinstance(err, dict) and err.get("type") == "AdapterError":
            # serve mode's answer to a malformed case or an adapter fault
            return None, "adapter: %s" % err.get("message"), False
        return obs, None, False


def run_impl(impl, cases, jobs, timeout, results, progress, sandbox_root):
    """Run `cases` through `impl` with `jobs` serve processes."""
    todo = queue.Queue()
    for c in cases:
        todo.put(c)
    dead = {"reason": None, "startup_failures": 0}
    lock = threading.Lock()

    def work(n):
        sandbox = None
        if sandbox_root:
            sandbox = os.path.abspath(sandbox_root)
        w = Worker(impl, timeout, sandbox)
        while True:
            try:
                c = todo.get_nowait()
            except queue.Empty:
                break
            with lock:
                broken = dead["reason"]
            if broken:
                results[(c.id, impl.name)] = (None, broken)
                progress(impl.name, c.id)
                continue
            t0 = time.monotonic()
            obs, err, startup = w.run(c)
            with lock:
                if startup:
                    dead["startup_failures"] += 1
                    if dead["startup_failures"] >= 2:
                        dead["reason"] = "adapter does not start (%s)" % err
                elif obs is not None:
                    dead["startup_failures"] = 0
            results[(c.id, impl.name)] = (obs, err)
            results[("time", c.id, impl.name)] = time.monotonic() - t0
            progress(impl.name, c.id)
        w.stop()

    threads = [threading.Thread(target=work, args=(n,), daemon=True)
               for n in range(max(1, jobs))]
    for t in threads:
        t.start()
    return threads


class Progress:
    """Progress on stderr: one rewritten line on a terminal, else a line
    every 5 seconds and at the end."""

    def __init__(self, total, quiet, label=None):
        self.total, self.done, self.quiet = total, 0, quiet
        self.label = label
        self.tty = sys.stderr.isatty()
        self.lock = threading.Lock()
        self.t0 = time.monotonic()
        self.last_print = 0

    def __call__(self, impl, case_id):
        with self.lock:
            self.done += 1
            if self.quiet:
                return
            el = time.monotonic() - self.t0
            msg = "%s[%*d/%d %5.1fs] %-9s %s" % (
                self.label + " " if self.label else "",
                len(str(self.total)), self.done, self.total, el, impl,
                case_id)
            if self.tty:
                sys.stderr.write("\r\033[K" + msg[:150])
                sys.stderr.flush()
            elif (self.done == self.total or el - self.last_print >= 5):
                self.last_print = el
                sys.stderr.write(msg + "\n")

    def finish(self):
        if self.tty and not self.quiet:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()



def execute(cases, impls, jobs=1, timeout=180, sandbox=None, quiet=False,
            label=None):
    """Runs every (case, impl) pair that applies; returns (results, seconds)
    where results[(case id, impl name)] = (observation or None, reason or
    None) and results[("time", case id, impl name)] = seconds. `label`
    prefixes the progress lines."""
    results = {}
    runnable = [c for c in cases if c.load_error is None]
    plans = {}
    for impl in impls:
        if impl.kind != "fixtures":
            plans[impl.name] = [c for c in runnable if impl.applies(c)]
    prog = Progress(sum(len(p) for p in plans.values()), quiet, label)
    threads = []
    t0 = time.monotonic()
    for impl in impls:
        if impl.kind != "fixtures" and plans[impl.name]:
            threads += run_impl(impl, plans[impl.name], jobs, timeout,
                                results, prog, sandbox)
    for t in threads:
        t.join()
    prog.finish()
    return results, time.monotonic() - t0


def about(impl, timeout=120):
    """`ADAPTER about` of a reference adapter: (dict, None) or (None, the
    one-line reason it gave)."""
    try:
        p = subprocess.run(list(impl.argv) + ["about"], cwd=ROOT,
                           capture_output=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, "cannot run %s: %s" % (impl.argv[0], e)
    lines = [l for l in p.stderr.decode("utf-8", "replace").splitlines()
             if l.strip()]
    if p.returncode != 0:
        return None, lines[-1].strip() if lines else \
            "exit status %d" % p.returncode
    try:
        return json.loads(p.stdout.decode("utf-8")), None
    except ValueError:
        return None, "unreadable about output"
