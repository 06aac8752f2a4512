"""Expected differences (`--expect FILE`): deviations a port or an older
release is known to have, reported as `expected` instead of DIFFERS.

The file is JSON: a list of entries, or {"expected": [entries]}. An entry:

  {"case": "mmcv/C52-stop-at-first-gap",    one of case (a case id) or
   "clause": "C52",                          clause (as --clause: E35, E3*, C)
   "impl": "mmcv==1.2.7",                    optional: implementation name
                                             (`*` wildcards); default any
   "field": "steps[*].removed",              one of field: a differing path
                                             or a prefix of it (`*` matches
                                             one name or index; `steps[*]`
                                             covers failed_step too), or
   "error": {"type": "TypeError", "event": -1},
                                             error: the implementation raises
                                             this (event optional) where the
                                             baseline does not agree; null:
                                             it raises nothing where the
                                             baseline raises
   "reason": "why"}                          optional, shown in the report

A `field` entry covers the differences at that path. An `error` entry
covers the error itself and everything from the earlier failing event on
(steps the failing side never reached, failed_step). A cell whose every
difference is covered is `expected`; the run exits 0 when only expected
differences remain. An entry that applies to cases that ran but covered
nothing is stale: the difference no longer happens.
"""
import fnmatch
import json
import re

from .cases import ClauseFilter
from .layout import UsageError

KEYS = ("case", "clause", "impl", "field", "error", "reason")
STEP_RE = re.compile(r"steps\[(\d+)\]")


class Expectation:
    def __init__(self, index, entry, where):
        at = "%s: entry %d" % (where, index)
        if not isinstance(entry, dict):
            raise UsageError("%s: must be an object, got %s" % (
                at, json.dumps(entry)))
        unknown = [k for k in entry if k not in KEYS]
        if unknown:
            raise UsageError("%s: unknown key %r (known: %s)" % (
                at, unknown[0], ", ".join(KEYS)))
        if ("case" in entry) == ("clause" in entry):
            raise UsageError("%s: needs exactly one of case, clause" % at)
        if ("field" in entry) == ("error" in entry):
            raise UsageError("%s: needs exactly one of field, error" % at)
        for key in ("case", "clause", "impl", "field", "reason"):
            if key in entry and not isinstance(entry[key], str):
                raise UsageError("%s: %s must be a string, got %s" % (
                    at, key, json.dumps(entry[key])))
        err = entry.get("error", {})
        if err is not None and not (
                isinstance(err, dict) and set(err) <= {"type", "event"}
                and isinstance(err.get("type", ""), str)
                and (err.get("event") is None or (
                    isinstance(err.get("event"), int)
                    and not isinstance(err.get("event"), bool)))):
            raise UsageError(
                '%s: error must be null or {"type": str, "event": int}, '
                "got %s" % (at, json.dumps(err)))
        self.index = index
        self.entry = entry
        self.case = entry.get("case")
        self.clauses = ClauseFilter(entry["clause"]) if "clause" in entry \
            else None
        self.impl = entry.get("impl")
        self.field = entry.get("field")
        self.field_re = _field_regex(self.field) if self.field else None
        self.is_error = "error" in entry
        self.error = entry.get("error")
        self.reason = entry.get("reason", "")
        self.applied = 0     # run cells it applied to
        self.covered = 0     # differences it covered

    def label(self):
        who = self.case or "clause " + self.clauses.spec
        what = ("field " + self.field) if self.field else (
            "error " + json.dumps(self.error))
        impl = (" [%s]" % self.impl) if self.impl else ""
        return "#%d %s: %s%s" % (self.index, who, what, impl)

    def applies(self, row, impl_name):
        if self.case is not None and row["id"] != self.case:
            return False
        if self.clauses is not None and not self.clauses.matches(
                row["clause"]):
            return False
        return self.impl is None or fnmatch.fnmatchcase(impl_name, self.impl)

    def covers(self, diffs, base, obs):
        """The indices of `diffs` this entry covers."""
        if self.field_re is not None:
            return {i for i, d in enumerate(diffs)
                    if self.field_re.match(d[0])}
        theirs, ours = obs.get("error"), base.get("error")
        if self.error is None:
            if theirs is not None or ours is None:
                return set()
        else:
            if not isinstance(theirs, dict):
                return set()
            if "type" in self.error and theirs.get("type") != \
                    self.error["type"]:
                return set()
            if self.error.get("event") is not None and theirs.get(
                    "event") != self.error["event"]:
                return set()
        events = [e.get("event") for e in (theirs, ours)
                  if isinstance(e, dict) and isinstance(e.get("event"), int)]
        first = max(0, min(events)) if events else 0
        out = set()
        for i, d in enumerate(diffs):
            path = d[0]
            m = STEP_RE.match(path)
            if path.startswith(("error", "failed_step")) or (
                    m and int(m.group(1)) >= first):
                out.add(i)
        return out


def _field_regex(field):
    """`*` matches one name or index; `steps[*]...` also matches the same
    path in `failed_step`, which is a step too."""
    pattern = re.escape(field).replace(r"\*", r"[^.\[\]]*")
    if field.startswith("steps[*]"):
        rest = re.escape(field[len("steps[*]"):]).replace(r"\*",
                                                          r"[^.\[\]]*")
        pattern = "(?:%s|failed_step%s)" % (pattern, rest)
    return re.compile("^" + pattern + r"(?=$|[.\[])")


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        raise UsageError("--expect %r: %s" % (path, e.strerror or e))
    except ValueError as e:
        raise UsageError("--expect %r: not JSON: %s" % (path, e))
    entries = doc.get("expected") if isinstance(doc, dict) else doc
    if not isinstance(entries, list):
        raise UsageError('--expect %r: must be a list of entries or '
                         '{"expected": [...]}' % path)
    return [Expectation(i, e, "--expect %s" % path)
            for i, e in enumerate(entries)]


def classify(row, impl_name, diffs, base, obs, expectations):
    """(uncovered diffs, the expectations that covered any) for one cell
    that differs; counts what each expectation applied to and covered."""
    covered, used = set(), []
    for e in expectations:
        if not e.applies(row, impl_name):
            continue
        hit = e.covers(diffs, base, obs)
        if hit:
            e.covered += len(hit)
            used.append(e)
            covered |= hit
    return [d for i, d in enumerate(diffs) if i not in covered], used


def note_applied(row, impl_name, expectations):
    """Counts a run cell (agreeing or not) against every entry that
    applies to it, so entries that applied but covered nothing are stale."""
    for e in expectations:
        if e.applies(row, impl_name):
            e.applied += 1


def summary(expectations):
    """{"matched": [...], "stale": [...], "not_run": [...]} of labels."""
    out = {"matched": [], "stale": [], "not_run": []}
    for e in expectations:
        item = {"entry": e.index, "label": e.label(), "reason": e.reason,
                "cells": e.applied, "differences": e.covered}
        if e.covered:
            out["matched"].append(item)
        elif e.applied:
            out["stale"].append(item)
        else:
            out["not_run"].append(item)
    return out
