"""From observations to verdicts: each case's baseline, each cell's status
(base, agree, expected, DIFFERS, error, -), and the per-clause summary."""
import collections
import os
import sys

from . import expect
from .cases import NO_CLAUSE, clause_key, load_fixture
from .compare import compare
from .layout import ROOT

OK_STATUSES = ("base", "agree", "expected", "-")
SHOWN_DIFFS = 20


def load_fixtures(cases, fixtures_dir):
    out = {}
    for c in cases:
        if c.load_error is None:
            try:
                f = load_fixture(c.id, fixtures_dir)
            except (OSError, ValueError) as e:
                f = None
                print("conform: bad fixture for %s: %s" % (c.id, e),
                      file=sys.stderr)
            if f is not None:
                out[c.id] = f
    return out


def _diff_list(diffs):
    return [{"path": p, "baseline": a, "value": b}
            for p, a, b in diffs[:SHOWN_DIFFS]]


def evaluate(cases, impls, fixtures, results, expectations=()):
    """The rows of the report: one per case, with a cell per impl."""
    rows = []
    for c in cases:
        row = {"id": c.id, "path": os.path.relpath(c.path, ROOT),
               "profile": c.profile, "clause": c.clause, "baseline": None,
               "cells": {}}
        rows.append(row)
        if c.load_error:
            for impl in impls:
                row["cells"][impl.name] = {"status": "error",
                                           "reason": c.load_error}
            continue
        obs = {}
        for impl in impls:
            if impl.kind == "fixtures":
                if c.id in fixtures:
                    obs[impl.name] = (fixtures[c.id], None)
            elif impl.applies(c):
                obs[impl.name] = results.get((c.id, impl.name),
                                             (None, "not run"))
        base = next((i.name for i in impls       # ordered: fixtures, refs
                     if obs.get(i.name) and obs[i.name][0] is not None),
                    None)
        row["baseline"] = base
        for impl in impls:
            n = impl.name
            if n not in obs:
                row["cells"][n] = {"status": "-"}
                continue
            o, err = obs[n]
            cell = {}
            t = results.get(("time", c.id, n))
            if t is not None:
                cell["seconds"] = round(t, 3)
            if o is None:
                cell.update(status="error", reason=err)
            elif n == base:
                cell["status"] = "base"
            else:
                expect.note_applied(row, n, expectations)
                diffs = compare(obs[base][0], o)
                left, used = expect.classify(row, n, diffs, obs[base][0], o,
                                             expectations) if diffs else \
                    ([], [])
                if not diffs:
                    cell["status"] = "agree"
                elif not left:
                    cell.update(status="expected", diffs=_diff_list(diffs),
                                expected_by=[e.index for e in used])
                else:
                    cell.update(status="DIFFERS", diffs=_diff_list(left),
                                more=max(0, len(left) - SHOWN_DIFFS))
                    if used:
                        cell.update(expected_by=[e.index for e in used],
                                    expected_diffs=len(diffs) - len(left))
            if o is not None:
                cell["observation"] = o
            row["cells"][n] = cell
    return rows


def ok(rows):
    return all(cell["status"] in OK_STATUSES
               for r in rows for cell in r["cells"].values())


def counts(rows, names):
    return {n: dict(collections.Counter(r["cells"][n]["status"]
                                        for r in rows)) for n in names}


def clause_summary(rows, names):
    """Per clause: cases, and over every compared cell (not the baseline,
    not `-`) how many agree, differ, are expected or errors, with the first
    difference of a representative case (the first that differs)."""
    by = collections.OrderedDict()
    for r in sorted(rows, key=lambda r: clause_key(r["clause"])):
        s = by.setdefault(r["clause"], {
            "clause": r["clause"], "cases": 0, "agree": 0, "differ": 0,
            "expected": 0, "error": 0, "representative": None,
            "by_impl": {}})
        s["cases"] += 1
        for n in names:
            cell = r["cells"][n]
            key = {"agree": "agree", "DIFFERS": "differ",
                   "expected": "expected", "error": "error"}.get(
                       cell["status"])
            if key is None:
                continue
            s[key] += 1
            per = s["by_impl"].setdefault(n, {"agree": 0, "differ": 0,
                                              "expected": 0, "error": 0})
            per[key] += 1
            if s["representative"] is None and key in ("differ", "error"):
                rep = {"case": r["id"], "impl": n, "baseline": r["baseline"]}
                if key == "differ":
                    d = cell["diffs"][0]
                    rep.update(path=d["path"], baseline_value=d["baseline"],
                               value=d["value"])
                else:
                    rep.update(path=None, reason=cell.get("reason"))
                s["representative"] = rep
    return list(by.values())


__all__ = ["NO_CLAUSE", "OK_STATUSES", "load_fixtures", "evaluate", "ok",
           "counts", "clause_summary"]
