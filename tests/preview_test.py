#!/usr/bin/env python3
"""ctest preview: tools/preview's in-memory disk against the real one.

For a few runs (the docs' 12-epoch ckpt example, an mmengine run that
publishes, an mmcv run whose retention reads the disk), the files tools/preview
says each event leaves must be the files the C++ adapter leaves in a real
sandbox for the same case (ckpt.store.fs applying the same plans), the bytes
must add up, and a call that saves must peak at least one checkpoint above
what was there before it. Also: --help shows an example, --png writes a PNG
(when matplotlib is there).

usage: tests/preview_test.py CKPT_PREVIEW CKPT_ADAPTER
"""
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PREVIEW, ADAPTER = (sys.argv[1], sys.argv[2]) if len(sys.argv) == 3 else (None, None)
MIB = 1024 * 1024


def load_preview():
    loader = importlib.machinery.SourceFileLoader("preview", os.path.join(ROOT, "tools", "preview"))
    spec = importlib.util.spec_from_loader("preview", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    module.BINARY = PREVIEW
    module.ensure_binary = lambda: None  # built by ctest's dependencies, not here
    return module


preview = load_preview()
SHA8 = re.compile(r"-[0-9a-f]{8}\.pth$|-<sha8>\.pth$")

RUNS = {
    "ckpt-12-epochs": ["--profile", "ckpt", "--max-epochs", "12", "--iters-per-epoch", "3",
                       "--hook", json.dumps({"interval": 1, "max_keep_ckpts": 3, "save_best": "acc", "keep_best": 2,
                                             "keep_period": 4}),
                       "--metrics", "acc=0.50,0.62,0.58,0.70,0.66,0.71,0.69,0.74,0.73,0.72,0.75,0.74",
                       "--ckpt-mib", "3"],
    "mmengine-publish": ["--profile", "mmengine", "--loop", "iter", "--max-iters", "12", "--iters-per-epoch", "4",
                         "--val-interval", "3",
                         "--hook", json.dumps({"by_epoch": False, "interval": 2, "max_keep_ckpts": 2,
                                               "save_best": "loss", "published_keys": ["meta", "state_dict"]}),
                         "--metric-seed", "3", "--metric-keys", "loss", "--ckpt-mib", "1.5"],
    "mmcv-gap": ["--profile", "mmcv", "--max-epochs", "7", "--iters-per-epoch", "2",
                 "--hook", json.dumps({"interval": 2, "max_keep_ckpts": 2}), "--ckpt-mib", "2"],
}


def normal(path):
    return SHA8.sub("-<sha8>.pth", path)


class Preview(unittest.TestCase):
    def real_files(self, case):
        sandbox = tempfile.mkdtemp(prefix="ckpt-preview-test-")
        try:
            out = subprocess.run([ADAPTER, "run", "/dev/stdin", "--sandbox", sandbox], input=json.dumps(case),
                                 stdout=subprocess.PIPE, text=True, check=True).stdout
        finally:
            shutil.rmtree(sandbox, ignore_errors=True)  # this test's own scratch directory
        obs = json.loads(out)
        self.assertIsNone(obs["error"])
        return [sorted(normal(f) for f in s["files"] + list(s["links"]) if not f.endswith("/")) for s in obs["steps"]]

    def test_in_memory_disk_is_the_real_disk(self):
        for name, argv in RUNS.items():
            with self.subTest(run=name):
                args = preview.parse(argv)
                case = preview.build_case(args)
                lines = preview.run_reducer(case, args.ckpt_bytes)
                self.assertFalse([l for l in lines if "error" in l])
                real = self.real_files(case)
                self.assertEqual(len(lines), len(real))
                before = 0
                for line, files in zip(lines, real):
                    self.assertEqual(sorted(normal(f) for f in line["files"]), files, "event %d" % line["event"])
                    self.assertEqual(line["bytes"], sum(line["files"].values()))
                    self.assertGreaterEqual(line["peak_bytes"], line["bytes"])
                    if line["saved"]:
                        self.assertGreaterEqual(line["peak_bytes"], before + args.ckpt_bytes)
                    before = line["bytes"]
                self.assertTrue(any(l["saved"] for l in lines), "the run saves something")

    def test_table_and_help(self):
        env = dict(os.environ)
        text = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "preview"), "--help"],
                              stdout=subprocess.PIPE, text=True, check=True).stdout
        self.assertIn("Example", text)
        self.assertIn("keep_period", text)
        bad = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "preview"), "--ckpt-mib", "0"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--ckpt-mib", bad.stderr)

    def test_png(self):
        python = sys.executable
        probe = subprocess.run([python, "-c", "import matplotlib"], stderr=subprocess.DEVNULL)
        if probe.returncode != 0:
            python = preview.VENV_PYTHON
            if not (os.access(python, os.X_OK) and subprocess.run([python, "-c", "import matplotlib"],
                                                                  stderr=subprocess.DEVNULL).returncode == 0):
                self.skipTest("no matplotlib")
        scratch = tempfile.mkdtemp(prefix="ckpt-preview-png-")
        try:
            args = preview.parse(RUNS["ckpt-12-epochs"])
            case = preview.build_case(args)
            out = os.path.join(scratch, "disk.png")
            preview.draw(case, preview.run_reducer(case, args.ckpt_bytes), out)
            with open(out, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    if PREVIEW is None:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    unittest.main(argv=[sys.argv[0], "-v"])
