#!/usr/bin/env python3
"""The reference adapters' start-up failures (protocol section 1): a release
that is not installed, fails at import, or is not the 1.x mmcv the profile
needs makes `tools/adapter mmengine|mmcv` exit 2 with one line on stderr and
nothing on stdout, before reading a case; tools/conform reports that line.
Needs no reference: the interpreter runs with -S (no site packages), and the
broken releases are small packages on PYTHONPATH.

usage: adapters_startup_test.py [TEST...]     (python3 -m unittest arguments)
"""
import json
import os
import stat
import subprocess
import sys
import tempfile
import textwrap
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADAPTER = os.path.join(ROOT, "tools", "adapter")
CONFORM = os.path.join(ROOT, "tools", "conform")
CASE = os.path.join(ROOT, "conformance", "cases", "mmengine",
                    "E35-tie-does-not-win.json")


def bare_python(tmp):
    """An interpreter without site packages: no mmengine, no mmcv, no torch."""
    path = os.path.join(tmp, "python-bare")
    with open(path, "w") as f:
        f.write("#!/bin/sh\nexec '%s' -S \"$@\"\n" % sys.executable)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path


def package(tmp, name, init):
    d = os.path.join(tmp, "site", name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "__init__.py"), "w") as f:
        f.write(textwrap.dedent(init))
    return os.path.join(tmp, "site")


class Startup(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="adapter-startup-")
        self.python = bare_python(self.tmp)

    def adapter(self, name, *args, pythonpath=None, stdin=""):
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        if pythonpath:
            env["PYTHONPATH"] = pythonpath
        p = subprocess.run([ADAPTER, name, "--python", self.python] +
                           list(args), input=stdin, capture_output=True,
                           text=True, env=env, timeout=120, cwd=ROOT)
        return p.returncode, p.stdout, p.stderr

    def assertOneLineExit2(self, result, *fragments):
        rc, out, err = result
        self.assertEqual(rc, 2, err)
        self.assertEqual(out, "")
        lines = err.strip().splitlines()
        self.assertEqual(len(lines), 1, err)
        for fragment in fragments:
            self.assertIn(fragment, lines[0])

    def test_not_installed(self):
        with open(CASE, encoding="utf-8") as f:
            case = f.read()
        for name in ("mmengine", "mmcv"):
            with self.subTest(name=name):
                self.assertOneLineExit2(
                    self.adapter(name, "serve", stdin=case),
                    "tools/adapter %s:" % name, "%s is not installed" % name)
                self.assertOneLineExit2(self.adapter(name, "about"),
                                        "is not installed")

    def test_fails_at_import(self):
        site = package(self.tmp, "mmengine", """\
            raise RuntimeError('broken on purpose\\nsecond line')
            """)
        self.assertOneLineExit2(
            self.adapter("mmengine", "serve", pythonpath=site),
            "cannot load the reference: RuntimeError: broken on purpose")

    def test_mmcv_2_has_no_runner(self):
        site = package(self.tmp, "mmcv", "__version__ = '2.0.0'\n")
        self.assertOneLineExit2(self.adapter("mmcv", "about", pythonpath=site),
                                "mmcv 2.0.0 has no runner")

    def test_a_malformed_case_is_refused_before_loading(self):
        bad = os.path.join(self.tmp, "bad.json")
        with open(bad, "w") as f:
            # absolute, yet in this test's scratch dir should the refusal regress
            json.dump({"id": "x", "runner": {"work_dir": os.path.join(self.tmp, "abs")},
                       "events": []}, f)
        self.assertOneLineExit2(self.adapter("mmengine", "run", bad),
                                "runner.work_dir must be relative")

    def test_bad_python_names_the_parameter(self):
        p = subprocess.run([ADAPTER, "mmcv", "--python", "/nonexistent/python",
                            "about"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--python '/nonexistent/python'", p.stderr)
        p = subprocess.run([ADAPTER, "cpp", "--python", self.python, "about"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--python", p.stderr)

    def test_the_runner_reports_the_reason(self):
        report = os.path.join(self.tmp, "report")
        p = subprocess.run(
            [sys.executable, CONFORM, "-q", "--impl", "mmengine", "--python",
             self.python, "--clause", "E35", "--no-fixtures", "--report",
             report], capture_output=True, text=True, timeout=300, cwd=ROOT)
        self.assertEqual(p.returncode, 1, p.stderr)
        with open(os.path.join(report, "report.json")) as f:
            cells = [r["cells"]["mmengine"] for r in json.load(f)["cases"]]
        self.assertTrue(cells)
        for cell in cells:
            self.assertEqual(cell["status"], "error")
            self.assertIn("mmengine is not installed", cell["reason"])
        self.assertTrue(any("adapter does not start" in c["reason"]
                            for c in cells))


if __name__ == "__main__":
    unittest.main()
