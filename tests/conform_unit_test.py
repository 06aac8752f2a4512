#!/usr/bin/env python3
"""Unit tests of tools/conformlib: comparison and normalisation (protocol
1.1, docs/protocol-notes.md), clause selection, expectations, and the
matrix's verdicts and page on made-up results. Standard library only.

usage: conform_unit_test.py [TEST...]     (python3 -m unittest arguments)
"""
import os
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from conformlib import expect, matrix  # noqa: E402
from conformlib.cases import ClauseFilter, clause_of  # noqa: E402
from conformlib.compare import compare  # noqa: E402
from conformlib.layout import UsageError  # noqa: E402


def step(**fields):
    base = {"event": 0, "saves": [], "removed": [], "files": [], "links": {},
            "runtime_info": {}, "text": {}}
    base.update(fields)
    return base


def obs(steps=(), error=None, failed=None):
    o = {"id": "x", "error": error, "steps": list(steps)}
    if failed is not None:
        o["failed_step"] = failed
    return o


def paths(diffs):
    return [d[0] for d in diffs]


class Compare(unittest.TestCase):
    def test_failed_step_is_compared_when_both_have_one(self):
        err = {"type": "IsADirectoryError", "event": 0}
        a = obs(error=err, failed=step(removed=["w/epoch_1.pth"]))
        b = obs(error=err, failed=step(removed=[]))
        self.assertEqual(paths(compare(a, b)), ["failed_step.removed[0]"])

    def test_a_protocol_1_observation_still_compares(self):
        err = {"type": "IsADirectoryError", "event": 0}
        a = obs(error=err, failed=step(removed=["w/epoch_1.pth"]))
        self.assertEqual(compare(a, obs(error=err)), [])
        self.assertEqual(compare(obs(error=err), a), [])

    def test_versions_and_clocks_are_placeholders_in_saves_and_runtime_info(self):
        meta = {"epoch": 1, "mmcv_version": "1.7.2", "time": "<time>"}
        other = {"epoch": 1, "mmcv_version": "1.6.2",
                 "time": "Thu Dec  4 10:00:00 2025"}
        a = obs([step(saves=[{"meta": meta}],
                      runtime_info={"meta": {"hook_msgs": {}, **meta}})])
        b = obs([step(saves=[{"meta": other}],
                      runtime_info={"meta": {"hook_msgs": {}, **other}})])
        self.assertEqual(compare(a, b), [])

    def test_only_strings_under_those_keys_are_normalised(self):
        a = obs([step(saves=[{"meta": {"time": 1}}])])
        b = obs([step(saves=[{"meta": {"time": 2}}])])
        self.assertEqual(paths(compare(a, b)), ["steps[0].saves[0].meta.time"])
        a = obs([step(saves=[{"meta": {"version": "1.7.2"}}])])
        b = obs([step(saves=[{"meta": {"version": "1.6.2"}}])])
        self.assertEqual(len(compare(a, b)), 1)
        # text is not a stamped field: a time there is behaviour
        a = obs([step(text={"w/last_checkpoint": "a"})])
        b = obs([step(text={"w/last_checkpoint": "b"})])
        self.assertEqual(len(compare(a, b)), 1)

    def test_hashes_numbers_and_booleans(self):
        a = obs([step(files=["w/epoch_2-0123abcd.pth", "w/a"],
                      runtime_info={"best_score": "NaN", "n": 1})])
        b = obs([step(files=["w/a", "w/epoch_2-ffffffff.pth"],
                      runtime_info={"best_score": float("nan"), "n": 1.0})])
        self.assertEqual(compare(a, b), [])
        c = obs([step(files=["w/a", "w/epoch_2-0123abcd.pth"],
                      runtime_info={"best_score": "NaN", "n": True})])
        self.assertEqual(paths(compare(a, c)), ["steps[0].runtime_info.n"])

    def test_an_error_difference_shows_type_and_event_only(self):
        d = compare(obs(), obs(error={"type": "TypeError", "event": -1,
                                      "message": "m"}))
        self.assertEqual(d, [("error", None, {"type": "TypeError",
                                              "event": -1})])


class Clauses(unittest.TestCase):
    def test_clause_of_a_case(self):
        self.assertEqual(clause_of("mmengine/E24-evict-before-save"), "E24")
        self.assertEqual(clause_of("smoke/resume-trim"), "(none)")

    def test_filter(self):
        f = ClauseFilter("E35, c52,E3*,B")
        self.assertTrue(all(f.matches(c) for c in ("E35", "C52", "E3", "E30",
                                                    "B61")))
        self.assertFalse(any(f.matches(c) for c in ("E4", "C5", "C520",
                                                     "(none)")))
        self.assertFalse(ClauseFilter("E3").matches("E35"))
        self.assertTrue(ClauseFilter("X").matches("X1"))  # ckpt's own (docs/spec/extensions.md)
        for bad in ("", ",", "Z1", "E3x", "E*3"):
            with self.assertRaises(UsageError, msg=bad):
                ClauseFilter(bad)


class Expectations(unittest.TestCase):
    def entry(self, **kw):
        return expect.Expectation(0, kw, "test")

    def test_field_prefix_and_wildcards(self):
        e = self.entry(clause="C52", field="steps[*].removed")
        diffs = [("steps[3].removed[0]", 1, 2), ("steps[3].files", 1, 2),
                 ("failed_step.removed", 1, 2), ("steps[1].removedx", 1, 2)]
        self.assertEqual(e.covers(diffs, {}, {}), {0, 2})

    def test_error_covers_the_error_and_later_steps(self):
        e = self.entry(case="c", error={"type": "TypeError", "event": 2})
        theirs = {"error": {"type": "TypeError", "event": 2}}
        diffs = [("steps[1].files", 1, 2), ("steps[2]", 1, 2),
                 ("error", None, 1), ("failed_step.saves", 1, 2)]
        self.assertEqual(e.covers(diffs, {"error": None}, theirs), {1, 2, 3})
        self.assertEqual(e.covers(diffs, {"error": None},
                                  {"error": {"type": "KeyError",
                                             "event": 2}}), set())

    def test_null_error_means_the_implementation_did_not_raise(self):
        e = self.entry(case="c", error=None)
        base = {"error": {"type": "ValueError", "event": -1}}
        self.assertEqual(e.covers([("error", 1, None)], base, {"error": None}),
                         {0})
        self.assertEqual(e.covers([("error", 1, None)], {"error": None},
                                  {"error": None}), set())

    def test_entries_are_validated(self):
        for bad in ({"field": "x"}, {"case": "c"}, {"case": "c", "clause": "E1",
                                                    "field": "x"},
                    {"case": "c", "field": 3},
                    {"case": "c", "error": {"type": "T", "event": "1"}},
                    {"case": "c", "field": "x", "why": "?"}, []):
            with self.assertRaises(UsageError, msg=bad):
                expect.Expectation(0, bad, "test")


def row(case_id, profile, cells):
    return {"id": case_id, "profile": profile, "clause": clause_of(case_id),
            "baseline": "fixtures", "cells": cells}


def release(package, version, problem=None):
    r = matrix.Release(package, version)
    r.problem = problem
    if not problem:
        r.source = "venv"
        r.info = {"hook_source": {"sha256": version * 8},
                  "accommodations": [], "python": "3.11", "torch": "1.13"}
    return r


class Matrix(unittest.TestCase):
    def test_specs(self):
        rs = matrix.parse_specs(["mmcv==1.7.2,1.2.7", "mmengine==0.10.7,0.8.0"])
        self.assertEqual([r.name for r in rs], [
            "mmengine==0.8.0", "mmengine==0.10.7", "mmcv==1.2.7", "mmcv==1.7.2"])
        for bad in ("torch==1.0", "mmcv", "mmcv==latest", "mmengine==0.8,"):
            with self.assertRaises(UsageError, msg=bad):
                matrix.parse_specs([bad])

    def test_first_release_with_todays_behaviour(self):
        rs = [release("mmengine", v) for v in ("0.2.0", "0.7.0", "0.8.0",
                                               "0.10.7")]
        cells = {"mmengine==0.2.0": "=", "mmengine==0.7.0": "≠ 1/3",
                 "mmengine==0.8.0": "=", "mmengine==0.10.7": "="}
        self.assertIs(matrix.first_today(cells, rs), rs[2])
        cells["mmengine==0.10.7"] = "≠ 1/3"
        self.assertIsNone(matrix.first_today(cells, rs))
        same = {r.name: "=" for r in rs}
        self.assertIs(matrix.first_today(same, rs), rs[0])

    def test_page(self):
        rs = [release("mmengine", "0.7.0"), release("mmengine", "0.8.0"),
              release("mmcv", "1.2.7", "cannot install: no wheel")]
        diff = {"status": "DIFFERS", "diffs": [
            {"path": "steps[3].removed[0]", "baseline": "w/epoch_1.pth",
             "value": "<absent>"}]}
        rows = [
            row("mmengine/E24-evict", "mmengine", {
                "fixtures": {"status": "base"}, "mmengine==0.7.0": diff,
                "mmengine==0.8.0": {"status": "agree"}}),
            row("mmengine/E24-other", "mmengine", {
                "fixtures": {"status": "base"},
                "mmengine==0.7.0": {"status": "agree"},
                "mmengine==0.8.0": {"status": "agree"}}),
            row("mmengine/E35-tie", "mmengine", {
                "fixtures": {"status": "base"},
                "mmengine==0.7.0": {"status": "agree"},
                "mmengine==0.8.0": {"status": "agree"}}),
            row("mmcv/C52-gap", "mmcv", {"fixtures": {"status": "base"}}),
        ]
        page = matrix.versions_markdown(rs, rows, "tools/conform --matrix x",
                                        ["mmengine 0.10.7"])
        self.assertIn("| E24 | 2 | ≠ 1/2 | = | **0.8.0** |", page)
        self.assertIn("| E35 | 1 | = | = | all (0.7.0 on) |", page)
        self.assertIn("| mmcv 1.2.7 | - | - | - | **cannot install: no wheel**"
                      " |", page)
        self.assertIn("| C52 | 1 | n/a | n/a |", page)
        self.assertIn("**E24** (mmengine): today's behaviour from 0.8.0; "
                      "differs in 0.7.0.", page)
        self.assertIn('0.7.0 in `mmengine/E24-evict`: `steps[3].removed[0]`: '
                      'today `"w/epoch_1.pth"`, 0.7.0 `<absent>`.', page)


class MatrixRepresentative(unittest.TestCase):
    def test_the_rarest_kind_of_difference_represents_the_clause(self):
        meta = {"path": "steps[1].saves[0].meta", "baseline": {"epoch": 1},
                "value": None}
        removed = {"path": "steps[3].removed[0]", "baseline": "w/epoch_1.pth",
                   "value": "<absent>"}
        rs = [release("mmengine", "0.7.0"), release("mmengine", "0.8.0")]

        def cell(*diffs):
            return {"fixtures": {"status": "base"},
                    "mmengine==0.7.0": {"status": "DIFFERS",
                                        "diffs": list(diffs)},
                    "mmengine==0.8.0": {"status": "agree"}}
        rows = [row("mmengine/E23-a", "mmengine", cell(meta)),
                row("mmengine/E23-b", "mmengine", cell(meta)),
                row("mmengine/E24-a", "mmengine", cell(meta)),
                row("mmengine/E24-b", "mmengine", cell(meta, removed))]
        page = matrix.versions_markdown(rs, rows, "x", [])
        self.assertIn("0.7.0 in `mmengine/E24-b`: `steps[3].removed[0]`", page)
        self.assertIn("Fields that differ in 0.7.0 (cases): "
                      "`steps[].saves[].meta` 2, `steps[].removed[]` 1.", page)


if __name__ == "__main__":
    unittest.main()
