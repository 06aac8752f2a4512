"""Comparing two observations (protocol section 4, version 1.1) with the
normalisation rules of docs/protocol-notes.md.

Compared: error.type, error.event; for every step saves, removed, files,
links, runtime_info, text; failed_step the same way when both observations
have one. Numbers by value (1 == 1.0, NaN == NaN; "NaN", "Infinity",
"-Infinity" are those floats; booleans are not numbers). Normalised before
comparing:
  - hash: `-<8 hex>.pth` in any string becomes `-<sha8>.pth` (then `files`
    and `removed` are re-sorted);
  - version: in `saves` and `runtime_info`, a string under a key
    `mmcv_version` or `mmengine_version` becomes "<version>";
  - clock: in `saves` and `runtime_info`, a string under the key `time`
    becomes "<time>".
A step field that is absent compares as empty ([] or {}).
"""
import json
import math
import re

STEP_FIELDS = (("saves", list), ("removed", list), ("files", list),
               ("links", dict), ("runtime_info", dict), ("text", dict))
SORTED_LISTS = ("files", "removed")
STAMPED_FIELDS = ("saves", "runtime_info")   # where version/clock keys live
VERSION_KEYS = ("mmcv_version", "mmengine_version")
CLOCK_KEYS = ("time",)
HASH_RE = re.compile(r"-[0-9a-f]{8}\.pth")
NONFINITE = {"NaN": float("nan"), "Infinity": float("inf"),
             "-Infinity": float("-inf")}
ABSENT = "<absent>"
MAX_DIFFS = 2000   # per pair; reports show the first 20


def _norm_str(s):
    return HASH_RE.sub("-<sha8>.pth", s)


def normalise(v, sort_lists=False, stamped=False):
    """Hash normalisation, non-finite strings -> floats and, with `stamped`,
    version and clock values -> placeholders, recursively."""
    if isinstance(v, str):
        if v in NONFINITE:
            return NONFINITE[v]
        return _norm_str(v)
    if isinstance(v, list):
        out = [normalise(x, stamped=stamped) for x in v]
        if sort_lists and all(isinstance(x, str) for x in out):
            out.sort()
        return out
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if stamped and isinstance(x, str) and k in VERSION_KEYS:
                x = "<version>"
            elif stamped and isinstance(x, str) and k in CLOCK_KEYS:
                x = "<time>"
            else:
                x = normalise(x, stamped=stamped)
            out[_norm_str(k) if isinstance(k, str) else k] = x
        return out
    return v


def normalise_field(field, value):
    return normalise(value, field in SORTED_LISTS, field in STAMPED_FIELDS)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def key_path(path, k):
    if isinstance(k, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k):
        return "%s.%s" % (path, k)
    return "%s[%s]" % (path, json.dumps(k))


def diff_values(path, a, b, out):
    if len(out) >= MAX_DIFFS:
        return
    if _is_num(a) and _is_num(b):
        fa, fb = float(a), float(b)
        if not (fa == fb or (math.isnan(fa) and math.isnan(fb))):
            out.append((path, a, b))
        return
    if type(a) is not type(b):
        out.append((path, a, b))
        return
    if isinstance(a, dict):
        keys = list(a.keys()) + [k for k in b.keys() if k not in a]
        for k in keys:
            if k not in a:
                out.append((key_path(path, k), ABSENT, b[k]))
            elif k not in b:
                out.append((key_path(path, k), a[k], ABSENT))
            else:
                diff_values(key_path(path, k), a[k], b[k], out)
        return
    if isinstance(a, list):
        for i in range(max(len(a), len(b))):
            p = "%s[%d]" % (path, i)
            if i >= len(a):
                out.append((p, ABSENT, b[i]))
            elif i >= len(b):
                out.append((p, a[i], ABSENT))
            else:
                diff_values(p, a[i], b[i], out)
        return
    if a != b:
        out.append((path, a, b))


def _error_summary(error):
    """An error as compared: type and event (the message never is)."""
    if isinstance(error, dict):
        return {k: error[k] for k in ("type", "event") if k in error}
    return error


def _step_summary(step):
    if isinstance(step, dict):
        return {k: step.get(k) for k in ("event", "saves", "removed")
                if k in step}
    return step


def _compare_step(path, a, b, out):
    if not isinstance(a, dict) or not isinstance(b, dict):
        diff_values(path, a, b, out)
        return
    for field, empty in STEP_FIELDS:
        diff_values("%s.%s" % (path, field),
                    normalise_field(field, a.get(field, empty())),
                    normalise_field(field, b.get(field, empty())), out)


def compare(base, obs):
    """Differences between two observations: [(path, base_value, value)],
    all of them (up to MAX_DIFFS), in observation order."""
    out = []
    ea, eb = base.get("error"), obs.get("error")
    if (ea is None) != (eb is None):
        out.append(("error", _error_summary(ea), _error_summary(eb)))
    elif ea is not None:
        if not isinstance(ea, dict) or not isinstance(eb, dict):
            diff_values("error", ea, eb, out)
        else:
            for k in ("type", "event"):
                diff_values("error." + k, ea.get(k, ABSENT),
                            eb.get(k, ABSENT), out)
    sa, sb = base.get("steps") or [], obs.get("steps") or []
    if not isinstance(sa, list) or not isinstance(sb, list):
        diff_values("steps", sa, sb, out)
        return out
    for i in range(max(len(sa), len(sb))):
        p = "steps[%d]" % i
        if i >= len(sa):
            out.append((p, ABSENT, _step_summary(sb[i])))
        elif i >= len(sb):
            out.append((p, _step_summary(sa[i]), ABSENT))
        else:
            _compare_step(p, sa[i], sb[i], out)
    # protocol 1.1: only when both sides observed the failing event
    fa, fb = base.get("failed_step"), obs.get("failed_step")
    if fa is not None and fb is not None:
        _compare_step("failed_step", fa, fb, out)
    return out


def show(v, limit=160):
    s = v if v == ABSENT else json.dumps(v, sort_keys=False)
    return s if len(s) <= limit else s[:limit - 3] + "..."
