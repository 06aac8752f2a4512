#!/usr/bin/env python3
"""tools/conform end to end, with tests/conform_fake_adapter.py as the
implementation (the recorded fixtures, changed on purpose): clause
selection, expected and stale differences, normalisation, protocol 1
observations. Standard library only; no torch, no references.

usage: conform_cli_test.py [TEST...]     (python3 -m unittest arguments)
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFORM = os.path.join(ROOT, "tools", "conform")
FAKE = os.path.join(ROOT, "tests", "conform_fake_adapter.py")


def case_ids(pattern):
    return sorted(os.path.relpath(p, os.path.join(ROOT, "conformance", "cases"))
                  [:-5] for p in glob.glob(os.path.join(
                      ROOT, "conformance", "cases", pattern)))


class ConformRun:
    def __init__(self, tmp, *args, fake=(), expect=None):
        self.report = os.path.join(tmp, "report")
        self.log = os.path.join(tmp, "received.log")
        argv = [sys.executable, CONFORM, "--report", self.report,
                "--impl", "fake=%s %s %s --log %s" % (
                    sys.executable, FAKE, " ".join(fake), self.log)]
        if expect is not None:
            path = os.path.join(tmp, "expect.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(expect, f)
            argv += ["--expect", path]
        p = subprocess.run(argv + list(args), cwd=ROOT, capture_output=True,
                           text=True, timeout=600)
        self.rc, self.out, self.err = p.returncode, p.stdout, p.stderr

    def json(self):
        with open(os.path.join(self.report, "report.json"),
                  encoding="utf-8") as f:
            return json.load(f)

    def received(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log, encoding="utf-8") as f:
            return sorted(l.strip() for l in f if l.strip())

    def statuses(self):
        return {r["id"]: r["cells"]["fake"]["status"]
                for r in self.json()["cases"]}


class Base(unittest.TestCase):
    def run_conform(self, *args, **kw):
        tmp = tempfile.mkdtemp(prefix="conform-test-")
        return ConformRun(tmp, *args, **kw)


class ClauseSelection(Base):
    def test_one_clause_runs_only_its_cases(self):
        r = self.run_conform("--clause", "E35")
        self.assertEqual(r.rc, 0, r.out + r.err)
        self.assertEqual(r.received(), case_ids("*/E35-*.json"))
        self.assertGreater(len(r.received()), 10)
        self.assertEqual({c["clause"] for c in r.json()["cases"]}, {"E35"})

    def test_a_list_and_a_prefix(self):
        r = self.run_conform("--clause", "E35,C52")
        self.assertEqual(r.received(), sorted(
            case_ids("*/E35-*.json") + case_ids("*/C52-*.json")))
        r = self.run_conform("--clause", "E3*", "--profile", "mmengine")
        clauses = {re.match(r"([ECB]\d+)-", i.split("/")[1]).group(1)
                   for i in r.received()}
        self.assertIn("E3", clauses)
        self.assertIn("E35", clauses)
        self.assertTrue(all(c == "E3" or re.fullmatch(r"E3\d", c)
                            for c in clauses), clauses)

    def test_per_clause_summary(self):
        r = self.run_conform("--clause", "C52,C53", "--profile", "mmcv",
                             fake=["--extra-file", "C52"])
        self.assertEqual(r.rc, 1)
        summary = {s["clause"]: s for s in r.json()["clauses"]}
        self.assertEqual(set(summary), {"C52", "C53"})
        c52 = summary["C52"]
        self.assertEqual(c52["cases"], len(case_ids("mmcv/C52-*.json")))
        self.assertGreater(c52["differ"], 0)
        self.assertEqual(c52["agree"] + c52["differ"], c52["cases"])
        self.assertRegex(c52["representative"]["path"], r"steps\[\d+\]\.files")
        self.assertEqual(summary["C53"]["differ"], 0)
        with open(os.path.join(r.report, "report.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertIn("## Clauses", md)
        self.assertRegex(md, r"\| C52 \| %d \|" % c52["cases"])

    def test_bad_selection_is_a_usage_error(self):
        r = self.run_conform("--clause", "Z9")
        self.assertEqual(r.rc, 2)
        self.assertIn("--clause 'Z9'", r.err)
        r = self.run_conform("--clause", "E35", "--profile", "mmcv")
        self.assertEqual(r.rc, 2)
        self.assertIn("no case matches", r.err)


class Expect(Base):
    C52_FILES = {"clause": "C52", "field": "steps[*].files",
                 "reason": "the fake lists one more file"}

    def test_without_expectations_the_difference_fails(self):
        r = self.run_conform("--profile", "mmcv", fake=["--extra-file", "C52"])
        self.assertEqual(r.rc, 1)
        self.assertIn("DIFFERS mmcv/C52-", r.out)

    def test_only_expected_differences_exit_0(self):
        r = self.run_conform("--profile", "mmcv", fake=["--extra-file", "C52"],
                             expect=[self.C52_FILES])
        self.assertEqual(r.rc, 0, r.out + r.err)
        self.assertIn("Only expected differences remain", r.out)
        st = r.statuses()
        c52 = [i for i in st if i.startswith("mmcv/C52-")]
        self.assertTrue(c52)
        self.assertTrue(all(st[i] == "expected" for i in c52), st)
        self.assertTrue(all(st[i] == "agree" for i in st if i not in c52))
        exp = r.json()["expectations"]
        self.assertEqual([m["entry"] for m in exp["matched"]], [0])
        self.assertEqual(exp["stale"], [])

    def test_stale_and_not_run_entries(self):
        r = self.run_conform(
            "--profile", "mmcv", fake=["--extra-file", "C52"],
            expect={"expected": [
                self.C52_FILES,
                {"clause": "C46", "field": "steps", "reason": "fixed since"},
                {"case": "mmengine/E35-tie-does-not-win", "field": "steps"}]})
        self.assertEqual(r.rc, 0, r.out + r.err)
        self.assertIn("stale expectation #1 clause C46", r.out)
        exp = r.json()["expectations"]
        self.assertEqual([s["entry"] for s in exp["stale"]], [1])
        self.assertEqual([s["entry"] for s in exp["not_run"]], [2])

    def test_an_unexpected_difference_still_fails(self):
        r = self.run_conform("--profile", "mmcv",
                             fake=["--extra-file", "C52", "--raise", "C53"],
                             expect=[self.C52_FILES])
        self.assertEqual(r.rc, 1)
        st = r.statuses()
        self.assertTrue(any(v == "expected" for v in st.values()))
        self.assertTrue(any(v == "DIFFERS" for k, v in st.items()
                            if k.startswith("mmcv/C53-")))

    def test_an_expected_error(self):
        r = self.run_conform("--profile", "mmcv", fake=["--raise", "C53"],
                             expect=[{"clause": "C53", "error": {
                                 "type": "TypeError", "event": -1}}])
        self.assertEqual(r.rc, 0, r.out + r.err)
        wrong = self.run_conform("--profile", "mmcv", fake=["--raise", "C53"],
                                 expect=[{"clause": "C53", "error": {
                                     "type": "ValueError"}}])
        self.assertEqual(wrong.rc, 1)

    def test_a_bad_file_names_the_entry(self):
        r = self.run_conform("--clause", "E35",
                             expect=[self.C52_FILES, {"clause": "C52"}])
        self.assertEqual(r.rc, 2)
        self.assertIn("entry 1: needs exactly one of field, error", r.err)
        r = self.run_conform("--clause", "E35", expect=[{"case": "x",
                                                         "feild": "steps"}])
        self.assertEqual(r.rc, 2)
        self.assertIn("unknown key 'feild'", r.err)


class Normalisation(Base):
    def test_versions_and_clocks_do_not_differ(self):
        r = self.run_conform(
            "--profile", "mmcv",
            fake=["--set-meta", "mmcv_version=1.7.1",
                  "--set-meta", "'time=Thu Dec  4 10:00:00 2025'"])
        self.assertEqual(r.rc, 0, r.out + r.err)
        # the fake did write the other version into the observations
        stamped = [p for p in glob.glob(os.path.join(
            r.report, "observations", "fake", "*.json"))
            if '"mmcv_version": "1.7.1"' in open(p, encoding="utf-8").read()]
        self.assertGreaterEqual(len(stamped), 5)

    def test_other_meta_strings_still_differ(self):
        r = self.run_conform("--profile", "mmcv",
                             fake=["--set-meta", "last_ckpt=elsewhere.pth"])
        self.assertEqual(r.rc, 1)
        self.assertIn("hook_msgs.last_ckpt", r.out)

    def test_a_changed_save_argument_differs(self):
        r = self.run_conform("--clause", "C56",
                             fake=["--set-field", "create_symlink=false"])
        self.assertEqual(r.rc, 1)
        self.assertIn("create_symlink", r.out)


class Protocol11(Base):
    def test_observations_without_failed_step_still_compare(self):
        r = self.run_conform("--clause", "E28,E41,C53",
                             fake=["--drop-failed-step"])
        self.assertEqual(r.rc, 0, r.out + r.err)
        self.assertIn("mmengine/E28-evicts-before-failing-save", r.received())


if __name__ == "__main__":
    unittest.main()
