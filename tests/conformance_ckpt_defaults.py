#!/usr/bin/env python3
"""ctest conformance.ckpt-defaults: the `ckpt` profile with every extension
keyword at its default is mmengine's hook (docs/spec/extensions.md). Every
mmengine case of the public suite is run by the C++ adapter as profile
`ckpt` (same id, so the baseline is the case's mmengine fixture, recorded
from the real mmengine); cases that set an extension keyword are left out
(they are not at the defaults; mmengine/E43-ckpt-keywords-TypeError is one).

usage: tests/conformance_ckpt_defaults.py ADAPTER REPORT_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXTENSIONS = {"keep_best", "keep_period", "best_save_optimizer", "interval_seconds"}


def main(adapter, report):
    cases_dir = os.path.join(ROOT, "conformance", "cases", "mmengine")
    scratch = tempfile.mkdtemp(prefix="ckpt-defaults-")
    try:
        ran = skipped = 0
        for name in sorted(os.listdir(cases_dir)):
            if not name.endswith(".json"):
                continue
            with open(os.path.join(cases_dir, name), encoding="utf-8") as f:
                case = json.load(f)
            if EXTENSIONS & set(case.get("hook") or {}):
                skipped += 1
                continue
            case["profile"] = "ckpt"
            with open(os.path.join(scratch, name), "w", encoding="utf-8") as f:
                json.dump(case, f)
            ran += 1
        print("ckpt defaults: %d mmengine cases as profile ckpt (%d set an extension keyword: left out)"
              % (ran, skipped), flush=True)
        if ran == 0:
            return 1
        env = dict(os.environ)
        if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
            env["TMPDIR"] = "/dev/shm"  # the adapter's sandboxes: its store fsyncs every write
        return subprocess.call([sys.executable, os.path.join(ROOT, "tools", "conform"), "-q",
                                "--impl", "cpp=" + adapter, "--impl", "fixtures", "--report", report, scratch],
                               env=env)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
