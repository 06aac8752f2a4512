#!/usr/bin/env python3
"""ctest (and the install test): examples/minimal_trainer, killed and resumed.

usage: minimal_trainer_test.py MINIMAL_TRAINER   (run with the reference
venv's python; exit 77 when torch or mmengine cannot be imported)

1. Run A trains uninterrupted.
2. Run B is SIGKILLed mid-epoch (and once more after its resume), then run
   to the end: it resumes from the newest verifiable checkpoint each time.
3. A and B end with the same files, and every checkpoint holds the same
   tensors, bit for bit (model, buffers, optimizer), the same counters and
   the same runtime info.
4. Python reads the files as mmengine would: torch.load, mmengine's
   load_checkpoint (strict) into the same architecture, and Runner.resume,
   which restores the counters, the optimizer and the message hub.
"""
import os
import re
import subprocess
import sys
import tempfile

try:
    import torch
    from mmengine.model import BaseModel
    from mmengine.runner import Runner
    from mmengine.runner.checkpoint import load_checkpoint
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        sys.exit(f"FAIL: {what}")


def run(args, expect=0):
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != expect:
        sys.exit(f"FAIL {' '.join(args)}: exit {p.returncode} (expected {expect})\n{p.stdout}\n{p.stderr}")
    return p


def listing(d):
    return sorted(os.listdir(d))


def equal_trees(a, b, where):
    """Same structure and values; tensors bit for bit; paths may differ by work dir."""
    if isinstance(a, torch.Tensor):
        check(isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b),
              f"{where}: tensors differ")
    elif isinstance(a, dict):
        check(isinstance(b, dict) and list(a) == list(b), f"{where}: keys {list(a)} vs {list(b) if isinstance(b, dict) else b}")
        for k in a:
            if k not in ("time", "experiment_name"):  # the clock, and the work dir's name
                equal_trees(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        check(type(a) == type(b) and len(a) == len(b), f"{where}: {a} vs {b}")
        for i, (x, y) in enumerate(zip(a, b)):
            equal_trees(x, y, f"{where}[{i}]")
    elif isinstance(a, str):
        check(os.path.basename(a) == os.path.basename(b), f"{where}: {a} vs {b}")
    else:
        check(a == b, f"{where}: {a} vs {b}")


class Net(BaseModel):
    """The trainer's torch::nn::Sequential, named as Python's nn.Sequential names it."""

    def __init__(self):
        super().__init__()
        for i, m in enumerate([torch.nn.Linear(8, 32), torch.nn.BatchNorm1d(32), torch.nn.ReLU(), torch.nn.Linear(32, 2)]):
            self.add_module(str(i), m)

    def forward(self, inputs=None, data_samples=None, mode="tensor"):
        x = inputs
        for m in self.children():
            x = m(x)
        return {"loss": x.sum()} if mode == "loss" else x


trainer = sys.argv[1]
with tempfile.TemporaryDirectory() as tmp:
    a, b = os.path.join(tmp, "A"), os.path.join(tmp, "B")
    run([trainer, a])
    killed = subprocess.run([trainer, b, "--kill-at-iter", "21"], capture_output=True, text=True)
    check(killed.returncode == -9, f"run B was killed (exit {killed.returncode})")
    check(os.path.exists(os.path.join(b, "last_checkpoint")), "run B saved before the kill")
    killed = subprocess.run([trainer, b, "--kill-at-iter", "35"], capture_output=True, text=True)
    check(killed.returncode == -9, f"run B was killed again after resuming (exit {killed.returncode})")
    check("resumed from" in killed.stderr, f"run B resumed: {killed.stderr}")
    done = run([trainer, b])
    check("resumed from" in done.stderr and "epoch_4.pth" in done.stderr, f"run B resumed from epoch 4: {done.stderr}")

    check(listing(a) == listing(b), f"same files: {listing(a)} vs {listing(b)}")
    for name in listing(a):
        if name.endswith(".pth"):
            equal_trees(torch.load(os.path.join(a, name)), torch.load(os.path.join(b, name)), name)

    # mmengine reads them
    last = open(os.path.join(b, "last_checkpoint")).read()
    check(os.path.basename(last) == "epoch_6.pth", f"last_checkpoint names epoch_6.pth: {last}")
    ckpt = torch.load(last)
    check(list(ckpt) == ["meta", "state_dict", "message_hub", "optimizer"], f"mmengine's keys: {list(ckpt)}")
    net = Net()
    load_checkpoint(net, last, strict=True, logger="silent")
    for k, v in net.state_dict().items():
        check(torch.equal(v, ckpt["state_dict"][k]), f"load_checkpoint restored {k}")
    runner = Runner(
        model=Net(), work_dir=os.path.join(tmp, "runner"),
        train_dataloader=dict(dataset=[dict(inputs=torch.zeros(8))] * 4, batch_size=2,
                              sampler=dict(type="DefaultSampler", shuffle=False), collate_fn=dict(type="default_collate")),
        optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.05, momentum=0.9)),
        train_cfg=dict(by_epoch=True, max_epochs=6), default_hooks=dict(logger=None))
    runner.resume(last)
    check((runner.epoch, runner.iter) == (6, 48), f"Runner.resume's counters: {runner.epoch}, {runner.iter}")
    state = runner.optim_wrapper.optimizer.state_dict()["state"]
    check(len(state) == 6 and all("momentum_buffer" in s for s in state.values()), "Runner.resume restored SGD's momentum")
    for i, s in state.items():
        check(torch.equal(s["momentum_buffer"], ckpt["optimizer"]["state"][i]["momentum_buffer"]), f"momentum {i}")
    info = runner.message_hub.runtime_info
    check(info.get("best_score") == ckpt["message_hub"]["runtime_info"]["best_score"], "Runner.resume restored best_score")
    check(info.get("keep_ckpt_ids") == [5, 6], f"Runner.resume restored keep_ckpt_ids: {info.get('keep_ckpt_ids')}")

print(f"{checks} passed, 0 failed")
