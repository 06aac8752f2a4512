"""What must hold after every kill, and at the end (issue 11, deliverable 1):
last_checkpoint names a complete file that verifies and loads; once a
periodic checkpoint was durable, one still is; under the safe ordering at
most max_keep_ckpts + 1 periodic files; no temporary file of an earlier
process once a resume is done; the final files, runtime info and model
those of an uninterrupted run."""
import json
import os
import re
import subprocess

from .config import MAX_KEEP

TEMP = ".ckpt-tmp."


def temporaries(work_dir):
    """(name, pid) of the store's temporary entries in work_dir."""
    out = []
    for name in os.listdir(work_dir) if os.path.isdir(work_dir) else []:
        m = re.match(r"\.ckpt-tmp\.(\d+)\.", name)
        if m:
            out.append((name, int(m.group(1))))
    return out


def checkpoints(work_dir):
    return sorted(n for n in os.listdir(work_dir) if n.endswith(".pth") and not n.startswith(TEMP)) \
        if os.path.isdir(work_dir) else []


def inspect(binary, paths):
    """path -> the inspector's JSON (valid, error, runtime_info, ...), every CRC checked."""
    if not paths:
        return {}
    p = subprocess.run([binary, "--verify", "--json"] + paths, capture_output=True, text=True)
    out = {}
    for line in p.stdout.splitlines():
        if line.strip():
            d = json.loads(line)
            out[d["path"]] = d
    for path in paths:
        out.setdefault(path, {"valid": False, "error": f"no answer from the inspector (exit {p.returncode})"})
    return out


class History:
    """One run's story across its kills."""

    def __init__(self):
        self.durable_seen = False
        self.pids = []          # every rank-0 process so far, in order


def after_kill(inspector, config, work_dir, history, killed_pid, resumed):
    """The findings at one kill: counters to add, and what they were about."""
    found = {"lost": 0, "torn": 0, "unverifiable_pointer": 0, "stray_temp": 0, "over_retention": 0}
    notes = []
    names = checkpoints(work_dir)
    verdicts = inspect(inspector, [os.path.join(work_dir, n) for n in names])
    for n in names:
        v = verdicts[os.path.join(work_dir, n)]
        if not v["valid"]:
            found["torn"] += 1
            notes.append(f"torn {n}: {v.get('error')}")
    periodic = [n for n in names if config.is_periodic(n)]
    complete = [n for n in periodic if verdicts[os.path.join(work_dir, n)]["valid"]]
    if history.durable_seen and not complete:
        found["lost"] += 1
        notes.append("no complete periodic checkpoint left")
    history.durable_seen = history.durable_seen or bool(complete)
    pointer = os.path.join(work_dir, "last_checkpoint")
    if os.path.exists(pointer):
        target = open(pointer, encoding="utf-8", errors="replace").read()
        v = verdicts.get(target) or inspect(inspector, [target])[target]
        if not v["valid"]:
            found["unverifiable_pointer"] += 1
            notes.append(f"last_checkpoint names {target}: {v.get('error')}")
    if config.ordering == "safe" and len(periodic) > MAX_KEEP + 1:
        found["over_retention"] += 1
        notes.append(f"{len(periodic)} periodic files: {periodic}")
    if resumed:  # the killed process had swept its predecessors' leftovers
        stray = [n for n, pid in temporaries(work_dir) if pid != killed_pid]
        found["stray_temp"] += len(stray)
        if stray:
            notes.append(f"temporaries of earlier processes: {stray}")
    mid_write = any(pid == killed_pid for _, pid in temporaries(work_dir))
    return found, notes, mid_write


def normalise(text, work_dir):
    text = text.replace(work_dir.rstrip("/") + "/", "<dir>/")
    return re.sub(r"-[0-9a-f]{8}\.pth", "-<sha8>.pth", text)


def summary(inspector, work_dir, stdout):
    """What an ended run is compared on: its files, each checkpoint's keys,
    meta (but its time) and runtime info, the final runtime info and model."""
    files = sorted(normalise(n, work_dir) for n in os.listdir(work_dir))
    verdicts = inspect(inspector, [os.path.join(work_dir, n) for n in checkpoints(work_dir)])
    contents = {}
    for path, v in verdicts.items():
        meta = dict(v.get("meta") or {})
        meta.pop("time", None)
        contents[normalise(os.path.basename(path), work_dir)] = normalise(json.dumps(
            {"valid": v["valid"], "keys": v.get("keys"), "meta": meta, "runtime_info": v.get("runtime_info"),
             "tensors": v.get("tensors")}, sort_keys=True), work_dir)
    lines = {k: normalise(m.group(1), work_dir) for k in ("fingerprint", "runtime_info")
             for m in [re.search(rf"^{k} (.*)$", stdout, re.M)] if m}
    return {"files": files, "contents": contents, **lines}


def differences(a, b):
    out = []
    if a["files"] != b["files"]:
        out.append(f"files {a['files']} != {b['files']}")
    for k in sorted(set(a["contents"]) | set(b["contents"])):
        if a["contents"].get(k) != b["contents"].get(k):
            out.append(f"{k} differs")
    for k in ("fingerprint", "runtime_info"):
        if a.get(k) != b.get(k):
            out.append(f"{k} {a.get(k)} != {b.get(k)}")
    return out


def preempt_saved(inspector, work_dir, max_iters):
    """After a run ended by SIGTERM: last_checkpoint names its preemption
    save, or the run's last checkpoint (the signal came once training was
    done: nothing was left to save)."""
    pointer = os.path.join(work_dir, "last_checkpoint")
    if not os.path.exists(pointer):
        return False, "no last_checkpoint after a preemption"
    target = open(pointer, encoding="utf-8", errors="replace").read()
    meta = inspect(inspector, [target])[target].get("meta") or {}
    if "preempted_after" not in meta and meta.get("iter") != max_iters:
        return False, f"last_checkpoint names {target}, not a preemption save (meta {meta})"
    return True, ""


def preempt_differences(a, b):
    """X5 runs end with the uninterrupted run's model and best score; their
    files may differ by design: a preemption save is a periodic save at the
    completed step (a mid-epoch state under the epoch's name, or an
    iteration off the interval that enters retention)."""
    out = []
    if a.get("fingerprint") != b.get("fingerprint"):
        out.append(f"fingerprint {a.get('fingerprint')} != {b.get('fingerprint')}")
    best = [json.loads(x.get("runtime_info") or "{}").get("best_score") for x in (a, b)]
    if best[0] != best[1]:
        out.append(f"best_score {best[0]} != {best[1]}")
    torn = [k for k, v in a["contents"].items() if '"valid": true' not in v]
    if torn:
        out.append(f"files that do not verify: {torn}")
    return out
