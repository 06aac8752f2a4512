"""tools/inspect (ckpt-inspect, issue 11 deliverable 5) on checkpoints that
train-demo writes: --help; the tree; --verify --json of a valid file (its
keys, meta, runtime info and tensors as the file holds them); a flipped
byte in a tensor record, a truncated file, a file that is not a zip and a
missing file each exit 1 with one line naming the file; bad usage exits 2.

usage: inspect_test.py CKPT_INSPECT TRAIN_DEMO"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

INSPECT, TRAIN_DEMO = sys.argv[1], sys.argv[2]


def run(*args):
    return subprocess.run([INSPECT, *args], capture_output=True, text=True)


class Inspect(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ckpt-inspect-test-")
        work = os.path.join(cls.dir, "w")
        subprocess.run([TRAIN_DEMO, "--work-dir", work, "--epochs", "2", "--sync", "--quiet",
                        "--hook", '{"interval": 1, "max_keep_ckpts": 1}'], check=True, stdout=subprocess.DEVNULL)
        cls.good = os.path.join(work, "epoch_2.pth")
        with zipfile.ZipFile(cls.good) as z:
            cls.records = {i.filename: (i.header_offset, i.file_size) for i in z.infolist()}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def copy(self, name, change):
        with open(self.good, "rb") as f:
            data = bytearray(f.read())
        data = change(data)
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def expect_refused(self, path, *words):
        p = run("--verify", path)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertIn(path, lines[0])
        for w in words:
            self.assertIn(w, lines[0])
        j = run("--verify", "--json", path)
        self.assertEqual(j.returncode, 1)
        d = json.loads(j.stdout)
        self.assertEqual((d["path"], d["valid"]), (path, False))
        self.assertTrue(d["error"])

    def test_help(self):
        p = run("--help")
        self.assertEqual(p.returncode, 0)
        for option in ("--verify", "--json", "Exit status"):
            self.assertIn(option, p.stdout)

    def test_bad_usage_exits_2(self):
        self.assertEqual(run().returncode, 2)
        p = run("--frobnicate", self.good)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--frobnicate", p.stderr)

    def test_a_valid_file_verifies_and_its_json_is_the_file(self):
        p = run("--verify", "--json", self.good)
        self.assertEqual(p.returncode, 0, p.stderr)
        d = json.loads(p.stdout)
        self.assertTrue(d["valid"] and d["verified"])
        self.assertEqual(d["bytes"], os.path.getsize(self.good))
        self.assertEqual(d["meta"]["epoch"], 2)
        self.assertEqual(d["runtime_info"]["keep_ckpt_ids"], [2])
        self.assertIn("state_dict", d["keys"])
        self.assertTrue(d["tensors"])
        # every tensor's bytes are its shape's elements times its dtype's size
        size = {"float32": 4, "int64": 8, "float64": 8, "float16": 2, "int32": 4, "uint8": 1, "bool": 1}
        for t in d["tensors"]:
            n = 1
            for s in t["shape"]:
                n *= s
            self.assertEqual(t["bytes"], n * size[t["dtype"]], t)
        self.assertEqual(d["tensor_bytes"], sum(t["bytes"] for t in d["tensors"]))

    def test_the_tree_names_every_top_level_key(self):
        p = run(self.good)
        self.assertEqual(p.returncode, 0, p.stderr)
        d = json.loads(run("--json", self.good).stdout)
        for key in d["keys"]:
            self.assertIn("\n  " + key, p.stdout)
        self.assertIn("runtime info:", p.stdout)

    def test_a_flipped_byte_in_a_tensor_record_fails_its_crc(self):
        name, (at, n) = next((k, v) for k, v in self.records.items() if "/data/" in k and v[1] > 0)

        def flip(data):
            # the record's data follows its local header (30 bytes + name + extra)
            name_len = int.from_bytes(data[at + 26:at + 28], "little")
            extra_len = int.from_bytes(data[at + 28:at + 30], "little")
            data[at + 30 + name_len + extra_len] ^= 0x40
            return data

        path = self.copy("flipped.pth", flip)
        self.assertEqual(run(path).returncode, 0)  # without --verify the tree is still shown
        self.expect_refused(path, "CRC")

    def test_a_truncated_file_is_refused(self):
        self.expect_refused(self.copy("truncated.pth", lambda d: d[:len(d) // 2]))

    def test_a_file_that_is_not_a_zip_is_refused(self):
        self.expect_refused(self.copy("text.pth", lambda d: bytearray(b"not a checkpoint\n" * 10)))

    def test_a_missing_file_is_refused(self):
        self.expect_refused(os.path.join(self.dir, "absent.pth"))

    def test_several_files_give_one_json_line_each_and_the_worst_status(self):
        bad = self.copy("bad.pth", lambda d: d[:100])
        p = run("--verify", "--json", self.good, bad)
        self.assertEqual(p.returncode, 1)
        lines = [json.loads(x) for x in p.stdout.splitlines()]
        self.assertEqual([(x["path"], x["valid"]) for x in lines], [(self.good, True), (bad, False)])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
