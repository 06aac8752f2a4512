#!/usr/bin/env python3
"""ctest: the demo trainer against the policy and against Python.

usage: train_demo_test.py TRAIN_DEMO   (run with the reference venv's python;
exit 77 when torch/mmengine cannot be imported)

1. Run A trains 6 epochs uninterrupted and writes its hook calls as a
   conformance case (--trace).
2. Run B is SIGKILLed mid-epoch 4, then resumed with --resume auto.
3. B ends with the same files as A, the same runtime info and the same model
   fingerprint (retention and best tracking continued exactly), and both
   match what the REAL mmengine hook predicts for A's trace
   (tools/adapter mmengine run).
4. Every checkpoint loads with torch.load (keys as mmengine writes them) and
   with mmengine's load_checkpoint into the same architecture in Python.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOOK = '{"interval": 2, "max_keep_ckpts": 2, "save_best": "acc", "published_keys": ["meta", "state_dict"]}'
EPOCHS = 6

try:
    import torch
    from mmengine.runner.checkpoint import load_checkpoint
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)


def run(args, expect=0):
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != expect:
        sys.exit(f"FAIL {' '.join(args)}: exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p.stdout


def listing(d):
    """Files under d, relative, with published hashes normalised."""
    out = []
    for base, _, files in os.walk(d):
        for f in files:
            out.append(os.path.relpath(os.path.join(base, f), d))
    return sorted(re.sub(r"-[0-9a-f]{8}\.pth$", "-<sha8>.pth", f) for f in out)


def parse(stdout, work_dir):
    fp = re.search(r"^fingerprint (\S+)$", stdout, re.M).group(1)
    info = json.loads(re.search(r"^runtime_info (.*)$", stdout, re.M).group(1))
    return fp, json.loads(json.dumps(info).replace(work_dir + "/", ""))


checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        sys.exit(f"FAIL: {what}")


demo = sys.argv[1]
with tempfile.TemporaryDirectory() as tmp:
    a, b, case = os.path.join(tmp, "A"), os.path.join(tmp, "B"), os.path.join(tmp, "case.json")
    common = ["--epochs", str(EPOCHS), "--hook", HOOK, "--quiet"]
    out_a = run([demo, "--work-dir", a, "--trace", case] + common)
    killed = subprocess.run([demo, "--work-dir", b, "--kill-at-iter", str(3 * 16 + 5)] + common,
                            capture_output=True, text=True)
    check(killed.returncode == -9, f"run B was killed by SIGKILL (exit {killed.returncode})")
    check(any(f.startswith("epoch_") for f in listing(b)), "run B saved a periodic checkpoint before the kill")
    out_b = run([demo, "--work-dir", b, "--resume", "auto"] + common)
    fp_a, info_a = parse(out_a, a)
    fp_b, info_b = parse(out_b, b)
    check(listing(a) == listing(b), f"same files after resume: {listing(a)} vs {listing(b)}")
    check(info_a == info_b, f"same runtime info after resume: {info_a} vs {info_b}")
    check(fp_a == fp_b, f"same model after resume: {fp_a} vs {fp_b}")

    # what the real mmengine hook predicts for the same calls
    obs = json.loads(run([os.path.join(ROOT, "tools/adapter"), "mmengine", "run", case]))
    check(obs["error"] is None, f"mmengine replayed the trace: {obs['error']}")
    prefix = "work_dirs/demo/"
    predicted = sorted(re.sub(r"-[0-9a-f]{8}\.pth$", "-<sha8>.pth", f[len(prefix):])
                       for f in obs["steps"][-1]["files"] if f.startswith(prefix) and not f.endswith("/"))
    check(predicted == listing(a), f"files as mmengine predicts: {predicted} vs {listing(a)}")
    predicted_info = json.loads(json.dumps(obs["steps"][-1]["runtime_info"]).replace(prefix, ""))
    check(predicted_info == info_a, f"runtime info as mmengine predicts: {predicted_info} vs {info_a}")

    # Python reads every checkpoint
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.bn, self.fc2 = torch.nn.Linear(16, 64), torch.nn.BatchNorm1d(64), torch.nn.Linear(64, 4)

    for name in listing(a):
        if not name.endswith(".pth"):
            continue
        path = os.path.join(a, name) if "<sha8>" not in name else next(
            os.path.join(a, f) for f in os.listdir(a) if re.fullmatch(re.escape(name).replace("<sha8>", "[0-9a-f]{8}"), f))
        ckpt = torch.load(path)
        published = "<sha8>" in name
        expected = {"meta", "state_dict"} if published else {"meta", "state_dict", "message_hub"}
        if name.startswith("epoch_") and not published:  # periodic saves carry the optimizer (E26, E36)
            expected |= {"optimizer"}
        check(set(ckpt) == expected, f"{name}: keys {sorted(ckpt)} == {sorted(expected)}")
        net = Net()
        load_checkpoint(net, path, strict=True)
        for k, v in net.state_dict().items():
            check(torch.equal(v, ckpt["state_dict"][k]), f"{name}: {k} loaded bit-identical")
        if "optimizer" in ckpt:
            opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
            opt.load_state_dict(ckpt["optimizer"])
            check(len(opt.state) == len(list(net.parameters())), f"{name}: optimizer state restored")
        if "message_hub" in ckpt:
            check("last_ckpt" in ckpt["message_hub"]["runtime_info"], f"{name}: runtime info saved")

print(f"{checks} passed, 0 failed")
