#!/usr/bin/env python3
"""Writes conformance/cases/ckpt/*.json: cases of ckpt's own profile
(docs/spec/extensions.md, X1-X5), each built from a tools/trace loop and
then given the profile's keywords, event times or a preemption. No
reference runs these; their fixtures come from ckpt's adapter
(`tools/conform --record` says so in their provenance).

usage: conformance/generate/gen_ckpt_cases.py
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "conformance", "cases", "ckpt")
WD = "work_dirs/exp"


def trace(*args):
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "trace"), "--case", "--id", "x", *args],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def write(name, description, hook, c, **extra):
    c = dict(c)
    c.update({"id": "ckpt/" + name, "profile": "ckpt", "description": description, "hook": hook})
    c.update(extra)
    order = ["id", "profile", "description", "hook", "runner", "runtime_info", "files", "events"]
    c = {k: c[k] for k in order if k in c}
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        f.write("{\n" + ",\n".join("  %s: %s" % (json.dumps(k), json.dumps(v)) for k, v in c.items() if k != "events"))
        f.write(',\n  "events": [\n' + ",\n".join("    " + json.dumps(e) for e in c["events"]) + "\n  ]\n}\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    epochs4 = trace("--loop", "epoch", "--max-epochs", "5", "--iters-per-epoch", "1",
                    "--metrics", "acc=0.5,0.7,0.6,0.8,0.7")
    write("X1-keep-best-two", "keep_best=2 (X1): the two best acc files stay; 0.6 enters second and evicts 0.5, 0.8 "
          "evicts 0.6, the tie 0.7 does not enter; best_kept holds both, best_score/best_ckpt the best; E37's "
          "re-save only on a new best.",
          {"interval": 2, "max_keep_ckpts": 1, "save_best": "acc", "keep_best": 2}, epochs4)
    write("X1-keep-best-zero-ValueError", "keep_best=0 (X1): ValueError at construction.",
          {"save_best": "acc", "keep_best": 0}, epochs4)
    resumed = trace("--loop", "epoch", "--max-epochs", "4", "--iters-per-epoch", "1", "--resume-epoch", "2",
                    "--metrics", "acc=0.65,0.9")
    write("X1-resume-kept-list", "keep_best=3 resumed (X1): the kept list comes back from runtime info; 0.65 enters "
          "third, 0.9 first and evicts the worst (0.6).",
          {"save_best": "acc", "keep_best": 3, "save_last": False}, resumed,
          runtime_info={"best_score": 0.7, "best_ckpt": WD + "/best_acc_epoch_2.pth",
                        "best_kept": [[0.7, WD + "/best_acc_epoch_2.pth"], [0.6, WD + "/best_acc_epoch_1.pth"]]},
          files=[WD + "/best_acc_epoch_1.pth", WD + "/best_acc_epoch_2.pth"])
    six = trace("--loop", "epoch", "--max-epochs", "6", "--iters-per-epoch", "1", "--no-val")
    write("X2-keep-period-archives-multiples", "keep_period=2 with max_keep_ckpts=2 (X2): epoch_2 and epoch_4 leave "
          "keep_ckpt_ids as in mmengine but their files stay; epoch_1 and epoch_3 are removed.",
          {"interval": 1, "max_keep_ckpts": 2, "keep_period": 2}, six)
    two = trace("--loop", "epoch", "--max-epochs", "2", "--iters-per-epoch", "1", "--metrics", "acc=0.5,0.6")
    write("X3-best-save-optimizer", "best_save_optimizer=true (X3): best saves pass save_optimizer=true and the "
          "hook's save_param_scheduler (false here).",
          {"save_best": "acc", "best_save_optimizer": True, "save_param_scheduler": False}, two)
    iters = trace("--loop", "iter", "--max-iters", "8", "--iters-per-epoch", "8", "--no-val")
    clock = [0, 3, 6, 11, 12, 15, 17, 22, 23, 24, 30]
    for e, t in zip(iters["events"], clock):
        e["time"] = t
    write("X4-interval-seconds", "interval_seconds=10 with interval=4 (X4): a timed save at t=11 (iter_3), the "
          "scheduled iter_4 at t=12 restarts the clock, a timed one at t=22 (iter_7), the scheduled iter_8; "
          "last_save_time follows every save.",
          {"by_epoch": False, "interval": 4, "interval_seconds": 10}, iters)
    pre = trace("--loop", "epoch", "--max-epochs", "4", "--iters-per-epoch", "3", "--no-val")
    events = pre["events"]
    # a preemption after the third iteration of epoch 2 (two epochs completed), then the run ends
    cut = next(i for i, e in enumerate(events) if e["hook"] == "after_train_iter" and e["iter"] == 6)
    events = events[:cut + 1] + [{"hook": "preempt", "epoch": 2, "iter": 7}]
    pre["events"] = events
    write("X5-preempt-mid-epoch", "preempt (X5) after iteration 7 with two epochs done: a periodic-style save at "
          "step 2 (epoch_2.pth, meta epoch 2, iter 7) through retention and last_checkpoint, nothing else.",
          {"interval": 1, "max_keep_ckpts": 2}, pre)


if __name__ == "__main__":
    main()
