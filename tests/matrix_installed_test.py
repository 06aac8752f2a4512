#!/usr/bin/env python3
"""The release matrix machinery on the releases installed in .venv only
(CI has no registry for the others): `tools/conform --matrix` finds them
there without pip, runs every case, and the generated page says every
clause behaves as today, with the hook source hash the fixtures record.

usage: matrix_installed_test.py [BUILD_DIR]   (exit 77: .venv has neither
                                               mmengine nor mmcv)
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_PYTHON = os.path.join(ROOT, ".venv", "bin", "python")


def installed(package):
    code = ("from importlib import metadata\n"
            "try: print(metadata.version(%r))\n"
            "except Exception: pass" % package)
    p = subprocess.run([VENV_PYTHON, "-c", code], capture_output=True,
                       text=True, timeout=120)
    return p.stdout.strip() or None


def fixture_hashes(package):
    out = set()
    for path in glob.glob(os.path.join(ROOT, "fixtures", package + "__*.json")):
        with open(path, encoding="utf-8") as f:
            out.add(json.load(f)["provenance"]["hook_source"]["sha256"])
    return out


def main():
    if not os.access(VENV_PYTHON, os.X_OK):
        print("no .venv (run tools/setup): skipped")
        return 77
    versions = {p: installed(p) for p in ("mmengine", "mmcv")}
    versions = {p: v for p, v in versions.items() if v}
    if not versions:
        print(".venv has neither mmengine nor mmcv: skipped")
        return 77
    base = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()
    work = tempfile.mkdtemp(prefix="matrix-test-", dir=base)
    page = os.path.join(work, "versions.md")
    argv = [sys.executable, os.path.join(ROOT, "tools", "conform"), "-q",
            "--no-install", "--matrix-dir", os.path.join(work, "venvs"),
            "--versions", page, "--report", os.path.join(work, "report")]
    for p, v in versions.items():
        argv += ["--matrix", "%s==%s" % (p, v)]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True,
                          timeout=1200)
    print(proc.stdout + proc.stderr[-2000:])
    failures = []
    if proc.returncode != 0:
        failures.append("tools/conform --matrix exited %d" % proc.returncode)
    text = open(page, encoding="utf-8").read() if os.path.exists(page) else ""
    for p, v in versions.items():
        row = re.search(r"^\| %s %s \| `([0-9a-f]{12})` \| installed \(\.venv\) "
                        r"\| (\d+) / 0 / 0 \|" % (p, re.escape(v)), text, re.M)
        if not row:
            failures.append("no release row for %s %s run from .venv with "
                            "no difference" % (p, v))
            continue
        if not any(h.startswith(row.group(1)) for h in fixture_hashes(p)):
            failures.append("%s %s: hook %s is not the fixtures' %s" % (
                p, v, row.group(1), sorted(fixture_hashes(p))))
        cases = len(glob.glob(os.path.join(ROOT, "conformance", "cases", "**",
                                           "*.json"), recursive=True))
        if not 0 < int(row.group(2)) <= cases:
            failures.append("%s: %s cases agree" % (p, row.group(2)))
    clause_rows = re.findall(r"^\| ([ECB]\d+|\(none\)) \| \d+ \| (.*) \|$",
                             text, re.M)
    if len(clause_rows) < 50:
        failures.append("only %d clause rows in the page" % len(clause_rows))
    for clause, rest in clause_rows:
        if "≠" in rest or "err" in rest or "all (" not in rest:
            failures.append("clause %s: %s" % (clause, rest))
    if "Every runnable release behaves as today on every clause." not in text:
        failures.append("the page reports a change")
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
