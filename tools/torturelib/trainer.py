"""Starting the trainer (one process per rank), killing it from outside:
after a random delay, either at once (SIGKILL) or, through strace's
fault injection, at the next system call of a save window (write, fsync,
rename, unlink): mid-write, between fsync and rename, mid-eviction,
mid-publish, in the background saver's thread alike."""
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

# strace syscall sets for the save windows, and how a kill there is named
WINDOWS = {
    "write": "write,pwrite64",
    "fsync": "fsync,fdatasync",
    "rename": "rename,renameat,renameat2",
    "unlink": "unlink,unlinkat",
    "open": "openat",
}


def strace_available():
    return shutil.which("strace") is not None


class Started:
    """The processes of one start, and rank 0's stdout as it arrives."""

    def __init__(self, procs):
        self.procs = procs
        self.lines = []
        self.started = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.procs[0].stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("start epoch"):
                self.started.set()

    @property
    def pid(self):
        return self.procs[0].pid

    def kill_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
        for p in self.procs:
            p.wait()
        self.reader.join(timeout=5)

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.kill_all()
                return False
        self.reader.join(timeout=5)
        return True


def free_port():
    """A port nothing listens on or connects from now: a random one in the
    ephemeral range sometimes was, and rank 0's rendezvous then aborted
    (2 of 668 runs of a 1,000-kill torture reported as failed starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, config, work_dir, log):
    port = free_port()
    procs = []
    for rank in range(config.ranks):
        args = [binary] + config.trainer_args(work_dir)
        if config.ranks > 1:
            args += ["--rank", str(rank), "--world-size", str(config.ranks), "--master-port", str(port)]
        procs.append(subprocess.Popen(args, stdout=subprocess.PIPE if rank == 0 else subprocess.DEVNULL,
                                      stderr=log, text=True))
    return Started(procs)


def kill_later(run, delay, window, rng, preempt=False):
    """Kills rank 0 after `delay` s: at once (window None) or at the next
    call of that window's syscalls; then the other ranks. Returns how rank
    0 ended: "killed", "completed", or "failed <code>".

    preempt: SIGTERM to rank 0 instead, as a scheduler's notice (X5: every
    rank saves at the next hook call, then ends by the signal: "preempted");
    half the time the grace period runs out after 0-300 ms, and SIGKILL
    lands wherever the preemption save is ("killed"). Four times in five
    the delay counts from the moment training started (the trainer printed
    `start epoch`): startup is most of a short run, and a signal there has
    nothing to save."""
    if preempt and rng.random() < 0.8:
        run.started.wait(timeout=60)
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline and run.procs[0].poll() is None:
        time.sleep(min(0.005, max(0.0, deadline - time.monotonic())))
    tracer = None
    if preempt and run.procs[0].poll() is None:
        run.procs[0].send_signal(signal.SIGTERM)
        grace = rng.uniform(0, 0.3) if rng.random() < 0.5 else 60
        try:
            code = run.procs[0].wait(timeout=grace)
        except subprocess.TimeoutExpired:
            run.procs[0].send_signal(signal.SIGKILL)
            code = run.procs[0].wait()
        if code == -signal.SIGKILL:
            run.kill_all()
            return "killed"
        # The other ranks end by the agreed signal, once training started
        # (before, rank 0 had no handler yet and simply died).
        deadline = time.monotonic() + (60 if run.started.is_set() else 0)
        for p in run.procs[1:]:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        others = [p.returncode for p in run.procs[1:]]
        run.kill_all()
        finished = any(line.startswith("fingerprint") for line in run.lines)  # rank 0 alone had it, after training
        if code == -signal.SIGTERM:
            agreed = all(c == -signal.SIGTERM for c in others) or not run.started.is_set() or finished
            return "preempted" if agreed else f"failed ranks {others}"
        return "completed" if code == 0 else f"failed {code}"
    if run.procs[0].poll() is None:
        if window is None:
            run.procs[0].send_signal(signal.SIGKILL)
        else:
            when = rng.randint(1, 3)
            tracer = subprocess.Popen(
                ["strace", "-f", "-qq", "-o", "/dev/null", "-e", f"trace={WINDOWS[window]}",
                 "-e", f"inject={WINDOWS[window]}:signal=KILL:when={when}", "-p", str(run.pid)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        code = run.procs[0].wait(timeout=60)
    except subprocess.TimeoutExpired:
        run.procs[0].send_signal(signal.SIGKILL)
        code = run.procs[0].wait()
    if tracer:
        try:
            tracer.wait(timeout=10)
        except subprocess.TimeoutExpired:
            tracer.kill()
            tracer.wait()
    run.kill_all()
    if code == -signal.SIGKILL:
        return "killed"
    return "completed" if code == 0 else f"failed {code}"
