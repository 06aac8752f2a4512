#!/usr/bin/env python3
"""ctest train_demo.preempt: X5 through a real signal, end to end.

usage: train_demo_preempt_test.py TRAIN_DEMO   (run with the reference venv's
python; exit 77 when torch cannot be imported)

1. Run A trains uninterrupted with --profile ckpt.
2. Run B raises SIGTERM before a mid-epoch iteration: the Checkpointer saves
   at the next hook call, waits until the file is durable, and the process
   ends by SIGTERM. last_checkpoint names that file; it loads in Python
   with the completed counters and `preempted_after` in its meta.
3. B resumed (--resume auto) ends with A's model fingerprint, files and
   best score: the preemption lost nothing and redid nothing.
4. Run C gets SIGTERM from outside (kill), at once after it printed that
   training started; it ends by SIGTERM with a preemption save, or (when it
   was already done) normally; resumed, it ends as A.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile

HOOK = '{"interval": 1, "max_keep_ckpts": 2, "save_best": "acc"}'
EPOCHS = 4

try:
    import torch
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

checks = 0


def check(ok, what):
    global checks
    if not ok:
        sys.exit(f"FAIL {what}")
    checks += 1


def run(demo, work, *extra, expect=0):
    args = [demo, "--work-dir", work, "--epochs", str(EPOCHS), "--hook", HOOK, "--profile", "ckpt", "--quiet", *extra]
    p = subprocess.run(args, capture_output=True, text=True)
    check(p.returncode == expect, f"{' '.join(args)}: exit {p.returncode}, expected {expect}\n{p.stdout}\n{p.stderr}")
    return p.stdout + p.stderr


def ending(stdout, work):
    fp = re.search(r"^fingerprint (\S+)$", stdout, re.M).group(1)
    info = json.loads(re.search(r"^runtime_info (.*)$", stdout, re.M).group(1))
    return fp, json.loads(json.dumps(info).replace(work + "/", ""))


def files(work):
    return sorted(os.listdir(work))


def preempted_file(work):
    with open(os.path.join(work, "last_checkpoint")) as f:
        path = f.read()
    meta = torch.load(path, map_location="cpu")["meta"]
    return path, meta


def main():
    demo = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="ckpt-preempt-") as scratch:
        a = os.path.join(scratch, "a")
        fp_a, info_a = ending(run(demo, a), a)

        # B: SIGTERM before iteration 37 (epoch 3 of 4, 16 iterations an epoch)
        b = os.path.join(scratch, "b")
        out = run(demo, b, "--sigterm-at-iter", "37", expect=-signal.SIGTERM)
        check("raising signal" in out, f"B logs the re-raise:\n{out}")
        path, meta = preempted_file(b)
        check(os.path.basename(path) == "epoch_2.pth", f"B's preemption file is the completed epoch's: {path}")
        check((meta["epoch"], meta["iter"]) == (2, 38), f"completed counters in B's meta: {meta}")
        check(meta.get("preempted_after") == "after_train_iter", f"B's meta says which call: {meta}")
        check(not [f for f in files(b) if ".tmp" in f or f.startswith(".")], f"no temporary files: {files(b)}")
        out = run(demo, b, "--resume", "auto")
        fp_b, info_b = ending(out, b)
        check(fp_b == fp_a, f"B resumed ends with A's model: {fp_b} != {fp_a}")
        check(info_b["best_score"] == info_a["best_score"], f"best scores: {info_b} vs {info_a}")
        check(files(b) == files(a), f"files: {files(b)} vs {files(a)}")

        # C: SIGTERM from outside, as a scheduler sends it
        c = os.path.join(scratch, "c")
        args = [demo, "--work-dir", c, "--epochs", str(EPOCHS), "--hook", HOOK, "--profile", "ckpt"]
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in p.stdout:
            if line.startswith("start epoch"):
                p.send_signal(signal.SIGTERM)
                break
        rest = p.stdout.read()
        p.wait()
        check(p.returncode in (-signal.SIGTERM, 0), f"C ends by SIGTERM or done: {p.returncode}\n{rest}")
        if p.returncode == -signal.SIGTERM:
            path, meta = preempted_file(c)
            check("preempted_after" in meta, f"C's last checkpoint is its preemption save: {path} {meta}")
        print(f"C: exit {p.returncode}")
        fp_c, _ = ending(run(demo, c, "--resume", "auto"), c)
        check(fp_c == fp_a, f"C resumed ends with A's model: {fp_c} != {fp_a}")
    print(f"ok: {checks} checks")


if __name__ == "__main__":
    main()
