"""tools/torture's command line: runs, kills, checks, the JSON summary."""
import argparse
import collections
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from . import checks, config as configs, trainer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DESCRIPTION = """\
SIGKILLs the Checkpointer's trainer (train-demo) from outside at random
moments, biased into save windows, resumes it (--resume auto), kills it
again, several times per run, then lets it finish, and checks after every
kill that no checkpoint was lost (issue 11):

  torn                  a checkpoint file that does not verify (zip, CRC-32)
  unverifiable_pointer  last_checkpoint names a file that does not verify/load
  lost                  no complete periodic checkpoint, once one was durable
  stray_temp            temporaries of an earlier process after a resume
  over_retention        safe ordering: more than max_keep_ckpts + 1 periodic files
  final_mismatch        safe ordering: files, their runtime info, the final
                        runtime info or model differ from an uninterrupted run
  reference_divergent   reference ordering: the same, expected (mmengine's
                        resume skips a validation the kill interrupted)

A kill is either immediate (after a delay uniform over the run) or, after
such a delay, at the next write/fsync/rename/unlink/openat system call
(strace fault injection; the writer thread included). Configurations: both
orderings x epoch/iteration hooks x background saves on/off x 1 and 3 ranks.

--preempt: the ckpt profile's preemption (X5) instead: each stop is a
SIGTERM to rank 0 at a random moment; every rank must save at its next hook
call and end by SIGTERM, and last_checkpoint must then name that
preemption save (else preempt_not_saved); half the time SIGKILL follows
within 300 ms, wherever the preemption save is. A preempted run must end
with the uninterrupted run's model and best score (its files may differ by
design: docs/spec/extensions.md, X5).
Progress goes to stderr; --json prints the summary on stdout. A long run
can be bounded by --minutes, or stopped with SIGINT/SIGTERM: either ends
after the run in progress and prints the summary of every kill checked so
far, with "stopped_early" saying why (a second SIGINT aborts)."""


def parse(argv):
    p = argparse.ArgumentParser(prog="tools/torture", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kills", type=int, default=100, help="stop once this many kills were checked (default 100)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: from the clock; printed)")
    p.add_argument("--configs", default="", help="only configurations whose name holds every part, e.g. 'safe,ranks=1'")
    p.add_argument("--ranks", default="1,3", help="rank counts to include (default 1,3)")
    p.add_argument("--trainer", default=os.path.join(ROOT, "build/default/bin/train-demo"), help="the trainer binary")
    p.add_argument("--inspect", default=os.path.join(ROOT, "build/default/bin/ckpt-inspect"), help="ckpt-inspect")
    p.add_argument("--dir", default=None, help="scratch directory (default: a new one under $TMPDIR, removed)")
    p.add_argument("--keep-failures", action="store_true", help="keep the work directories of failing runs")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.add_argument("--preempt", action="store_true", help="stop by SIGTERM (the ckpt profile's X5), not SIGKILL")
    p.add_argument("--minutes", type=float, default=None,
                   help="also stop after the run in progress once this much time has passed")
    a = p.parse_args(argv)
    if a.kills < 1:
        p.error(f"--kills must be at least 1, got {a.kills}")
    if a.minutes is not None and not a.minutes > 0:
        p.error(f"--minutes must be positive, got {a.minutes}")
    try:
        a.ranks = tuple(int(r) for r in a.ranks.split(","))
    except ValueError:
        p.error(f"--ranks takes numbers like 1,3, got '{a.ranks}'")
    for name, path in (("--trainer", a.trainer), ("--inspect", a.inspect)):
        if not os.access(path, os.X_OK):
            p.error(f"{name}: {path} is not an executable (build it: cmake --build --preset default)")
    return a


def say(msg):
    print(f"[torture] {msg}", file=sys.stderr, flush=True)


def uninterrupted(a, config, scratch, log):
    work = os.path.join(scratch, "baseline-" + config.name.replace("/", "-"))
    t0 = time.monotonic()
    run = trainer.start(a.trainer, config, work, log)
    ok = run.wait(600)
    duration = time.monotonic() - t0
    if not ok or run.procs[0].returncode != 0:
        raise SystemExit(f"tools/torture: the uninterrupted run of {config.name} failed "
                         f"(exit {run.procs[0].returncode}); its log: {log.name}")
    return checks.summary(a.inspect, work, "\n".join(run.lines)), duration


def one_run(a, rng, config, baseline, duration, work, log, totals):
    """Kills a run 2-5 times, then lets it finish; adds to `totals`."""
    history = checks.History()
    windows = [None] + (list(trainer.WINDOWS) if trainer.strace_available() and not config.preempt else [])
    notes = []
    for _ in range(rng.randint(2, 5)):
        run = trainer.start(a.trainer, config, work, log)
        history.pids.append(run.pid)
        window = rng.choice(windows)
        span = 0.2 if config.preempt else 1.0 if window is None else 0.9  # preempt: from the start of training
        outcome = trainer.kill_later(run, rng.uniform(0, duration * span), window, rng, config.preempt)
        if outcome == "completed":
            break
        if outcome not in ("killed", "preempted"):
            notes.append(f"the trainer {outcome} (not killed): see {log.name}")
            totals["failed_starts"] += 1
            break
        totals["kills"] += 1
        totals["kills_by_window"][("sigterm" if outcome == "preempted" else "sigterm+kill") if config.preempt
                                  else window or "immediate"] += 1
        # Before training started (no handler yet, or before_train) and after
        # it ended (every save durable) SIGTERM has nothing to save.
        training = run.started.is_set() and not any(x.startswith("fingerprint") for x in run.lines)
        if outcome == "preempted" and training:
            totals["preempted"] += 1
            saved, why = checks.preempt_saved(a.inspect, work, config.max_iters)
            if not saved:
                totals["preempt_not_saved"] += 1
                notes.append(why)
        found, why, mid_write = checks.after_kill(a.inspect, config, work, history, run.pid, run.started.is_set())
        totals["kills_mid_write"] += mid_write
        for k, v in found.items():
            totals[k] += v
        notes += why
    run = trainer.start(a.trainer, config, work, log)
    if not run.wait(600) or run.procs[0].returncode != 0:
        notes.append(f"the final run failed (exit {run.procs[0].returncode}): see {log.name}")
        totals["failed_starts"] += 1
        return notes
    left = checks.temporaries(work)
    totals["stray_temp"] += len(left)
    if left:
        notes.append(f"temporaries after the final run: {left}")
    compare = checks.preempt_differences if config.preempt else checks.differences
    diff = compare(checks.summary(a.inspect, work, "\n".join(run.lines)), baseline)
    if diff:
        totals["final_mismatch" if config.ordering == "safe" else "reference_divergent"] += 1
        notes += [("" if config.ordering == "safe" else "(reference, expected) ") + d for d in diff]
    return notes


class Stop:
    """Why the loop should end early, set from a signal handler: the run in
    progress finishes and is checked, then the summary is printed."""
    def __init__(self):
        self.reason = None
        for s in (signal.SIGINT, signal.SIGTERM):  # for the process's life: main() is its whole run
            signal.signal(s, self._note)

    def _note(self, signum, frame):
        if self.reason is not None and signum == signal.SIGINT:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        self.reason = signal.Signals(signum).name
        say(f"{self.reason}: stopping after the run in progress (SIGINT again aborts)")


def main(argv):
    a = parse(argv)
    stop = Stop()
    seed = a.seed if a.seed is not None else int(time.time())
    rng = random.Random(seed)
    random.seed(seed)
    selected = configs.select(configs.all_configs(a.ranks, a.preempt), a.configs)
    if not selected:
        raise SystemExit(f"tools/torture: --configs '{a.configs}' selects no configuration")
    if not trainer.strace_available():
        say("strace not found: every kill is immediate (tools/setup installs strace)")
    scratch = a.dir or tempfile.mkdtemp(prefix="ckpt-torture-")
    os.makedirs(scratch, exist_ok=True)
    totals = collections.Counter(kills_by_window=collections.Counter())
    totals["kills_by_window"] = collections.Counter()
    t0 = time.monotonic()
    baselines = {}
    problems = []
    say(f"seed {seed}, {len(selected)} configurations, until {a.kills} kills; scratch {scratch}")
    with open(os.path.join(scratch, "trainer.log"), "w") as log:
        n = 0
        order = []
        while totals["kills"] < a.kills and stop.reason is None:
            if a.minutes is not None and time.monotonic() - t0 > a.minutes * 60:
                stop.reason = "--minutes"
                break
            if not order:  # every configuration once per cycle, in a seeded order: a short run still mixes them
                order = rng.sample(selected, len(selected))
            config = order.pop()
            if config not in baselines:
                baselines[config] = uninterrupted(a, config, scratch, log)
            work = os.path.join(scratch, f"run-{n}")
            notes = one_run(a, rng, config, *baselines[config], work, log, totals)
            totals["runs"] += 1
            if notes:
                problems.append({"run": n, "config": config.name, "work_dir": work, "notes": notes})
                expected = all(x.startswith("(reference, expected)") for x in notes)
                say(f"run {n} {config.name}: {'; '.join(notes[:4])}")
                if not expected and a.keep_failures:
                    say(f"kept {work}")
                else:
                    shutil.rmtree(work, ignore_errors=True)
            else:
                shutil.rmtree(work, ignore_errors=True)
            n += 1
            say(f"run {n} {config.name}: {totals['kills']}/{a.kills} kills, {time.monotonic() - t0:.0f} s")
    if a.dir is None and not (a.keep_failures and problems):
        shutil.rmtree(scratch, ignore_errors=True)
    fields = ("runs", "kills", "lost", "torn", "unverifiable_pointer", "stray_temp", "final_mismatch",
              "over_retention", "reference_divergent", "failed_starts", "kills_mid_write", "preempted",
              "preempt_not_saved")
    result = {k: totals[k] for k in fields}
    if stop.reason is not None:
        result["stopped_early"] = stop.reason
    result.update(seconds=round(time.monotonic() - t0, 1), seed=seed, configs=[c.name for c in selected],
                  kills_by_window=dict(totals["kills_by_window"]),
                  problems=[p for p in problems if not all(x.startswith("(reference") for x in p["notes"])][:20])
    if a.json:
        print(json.dumps(result, indent=1))
    bad = sum(result[k] for k in ("lost", "torn", "unverifiable_pointer", "stray_temp", "final_mismatch",
                                   "over_retention", "failed_starts", "preempt_not_saved"))
    say(f"{result['kills']} kills in {result['runs']} runs, {result['seconds']} s"
        + (f" (stopped early: {stop.reason})" if stop.reason else "") + ": "
        + ("all zero" if bad == 0 else f"{bad} findings"))
    return 1 if bad else 0
