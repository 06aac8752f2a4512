#!/usr/bin/env python3
"""No test aims a remove, write or rename outside its own scratch directory.

Tests run as root in CI. A test that names a real file outside its scratch
tree as a target, even to check that the store refuses it, destroys that
file the day the check regresses (issue 13: a containment test once aimed a
removal at /etc/hostname). This scan reads every test source and fails on
an absolute path literal that such a source could reach the disk with:

- C++: every string literal in a file that can do I/O. A file that includes
  only the pure core (`import ckpt;`, gtest, rapidcheck, standard headers
  without I/O) cannot touch the disk, so its literals are plain values
  (`"/w/exp"` in hook.test.cpp). A literal right after `+` or `/` is a
  suffix of a path built at run time (`dir + "/epoch_1.pth"`), not a path.
- Python: every string constant (not after `+` or `/`).
- Shell: every unquoted or quoted word that starts with `/`.
- Any of them that is relative but climbs two levels (`../../x`): from a
  store root, one level below the scratch dir, it lands outside it.

ALLOWED lists the literals that remain, each with why it cannot destroy
anything (a scratch base a unique directory is made under, a path only read
or executed, a value never handed to the disk). An entry no longer found
fails the scan too, so the list stays as short as the sources allow.

It also checks that every containment test of the fs store plants canaries
(`Canaries`) outside the store's roots, and it first runs itself on planted
samples, so that a scan that finds nothing has not simply stopped looking.

usage: scratch_only_test.py [TESTS_DIR]
"""
import io
import os
import re
import sys
import tokenize

HERE = os.path.dirname(os.path.abspath(__file__))

# (file, literal, why): the absolute literals an I/O-capable test may name.
ALLOWED = [
    ("store.fs.test.cpp", "/dev/shm", "scratch base: a unique directory is made under it"),
    ("store.fs.test.cpp", "/w/exp", "value: store::schedule() over a hand-written plan, no disk"),
    ("store.fs.test.cpp", "/w/exp/e1", "value: store::schedule() over a hand-written plan, no disk"),
    ("store.fs.test.cpp", "/w/exp/epoch_1.pth", "value: schedule() and the printer, no disk"),
    ("store.fs.test.cpp", "/old.pth", "value: the text written into a scratch file"),
    ("store.fs.test.cpp", "/new.pth", "value: the text written into a scratch file"),
    ("store.fs.test.cpp", "../../acc", "value: a metric key; E35 makes its '/' '_' in the file name"),
    ("store.torch.module.test.cpp", "/nonexistent/x.pth", "read-only: loading a missing file"),
    ("store.torch.module.test.cpp", "/tmp", "scratch base: mkdtemp makes a unique directory under it"),
    ("store.torch.read.test.cpp", "/dev/shm", "scratch base: TempDir makes a unique directory under it"),
    ("store.torch.support.hpp", "/tmp", "scratch base: mkdtemp makes a unique directory under it"),
    ("store.torch.support.hpp", "/w/epoch_3.pth", "value: a string inside a checkpoint's meta"),
    ("checkpointer.state_dict.test.cpp", "/ckpt/epoch_1.pth", "value: the path an error message names, no disk"),
    ("checkpointer.state_dict.test.cpp", "/ckpt/epoch_1.pth: the state_dict does not fit ",
     "value: the error message expected"),
    ("checkpointer.support.hpp", "/data/0", "value: a record name searched for in a file's bytes"),
    ("store.torch.into.test.cpp", "/proc/self/status", "read-only: this process's RSS"),
    ("store.torch.into.test.cpp", "/proc/self/clear_refs",
     "procfs control of this process alone: writing 5 resets its own peak RSS, no file changes"),
    ("store.torch.into.test.cpp", "/data/", "value: a record name searched for in a checkpoint's entries"),
    ("store.torch.verify.test.cpp", "/proc/self/status", "read-only: this process's RSS"),
    ("store.torch.verify.test.cpp", "/proc/self/clear_refs",
     "procfs control of this process alone: writing 5 resets its own peak RSS, no file changes"),
    ("differential.test.cpp", "/bin/sh", "read-only: executed"),
    ("adapters_startup_test.py", "/nonexistent/python", "read-only: an interpreter that does not exist"),
    ("store.torch.py", "/w/epoch_3.pth", "value: a string inside a checkpoint's meta"),
    ("*.sh", "/dev/null", "sink: discarding output"),
    ("checkpointer.converge.test.cpp", "/proc/self/exe", "read-only: executed (the crash child)"),
    ("fuzz/case.fuzz.cpp", "/dev/shm", "scratch base: a directory named after the pid is made under it"),
    ("fuzz/hook.fuzz.cpp", "/w/exp", "value: the runner's work_dir in pure hook events, no disk"),
    ("fuzz/verify.fuzz.cpp", "/proc/self/fd/", "read-only: the fuzz input's own memfd, verified"),
    ("inspect_test.py", "/data/", "value: a record name searched for in a checkpoint's entries"),
    ("scratch.support.hpp", "/dev/shm", "scratch base: a unique directory is made under it"),
    ("store.torch.findings.test.cpp", "/proc/self/statm", "read-only: this process's size"),
    ("store.fs.hostile.test.cpp", "../../outside/epoch_{}.pth",
     "lands in the scratch dir's outside/ (the roots are two levels down, d/w/exp): the canaries"),
    ("store.fs.hostile.test.cpp", "../../outside/canary{}", "lands on the scratch dir's canaries (roots at d/w/exp)"),
    ("store.fs.hostile.test.cpp", "../exp/../../outside/last_checkpoint{}",
     "lands in the scratch dir's outside/ (roots at d/w/exp)"),
    ("store.fs.hostile.test.cpp", "../../outside/canary",
     "value: a metric key; E35 makes its '/' '_' in the file name"),
    ("conformance_ckpt_defaults.py", "/dev/shm", "scratch base: TMPDIR for the adapter's mkdtemp sandboxes"),
    ("differential.ckpt.hpp", "/dev/shm", "scratch base: a directory named after the pid is made under it"),
    ("extensions.properties.test.cpp", "/dev/shm", "scratch base: a directory named after the pid is made under it"),
    ("extensions.properties.test.cpp", "/w/exp", "value: the runner's work_dir in pure reducer folds, no disk"),
    ("extensions.properties.test.cpp", "/w/exp/", "value: the prefix of planned paths compared, no disk"),
    ("preview_test.py", "/dev/stdin", "read-only: the case fed to the adapter"),
]

# Headers and modules a C++ test may use and still be unable to touch the disk.
PURE = re.compile(r"""^(gtest/gtest\.h|rapidcheck\.h|rapidcheck/.*|support\.hpp|independent\.hpp|
    algorithm|array|cmath|cstddef|cstdint|deque|functional|initializer_list|iomanip|limits|map|numeric|
    optional|ostream|set|span|sstream|string|string_view|tuple|type_traits|utility|variant|vector)$""", re.X)
PURE_MODULES = re.compile(r"^ckpt(\.(py|policy|hook|legacy|json))?$")

ABSOLUTE = re.compile(r"^/[A-Za-z0-9_.+-]")


def cpp_literals(text):
    """(line, content, preceded_by) of each string literal outside comments."""
    out, i, line, n = [], 0, 1, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            i = text.find("\n", i) if text.find("\n", i) >= 0 else n
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += text.count("\n", i, j)
            i = j
        elif c == "R" and text.startswith('R"', i) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
            delim = text[i + 2:text.find("(", i + 2)]
            end = text.find(")" + delim + '"', i)
            body = text[text.find("(", i + 2) + 1:end]
            out.append((line, body, before(text, i)))
            line += text.count("\n", i, end)
            i = end + len(delim) + 2
        elif c == '"':
            j, buf = i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\":
                    buf.append(text[j:j + 2])
                    j += 2
                else:
                    buf.append(text[j])
                    j += 1
            out.append((line, "".join(buf), before(text, i)))
            i = j + 1
        elif c == "'":  # a character literal (or a digit separator: harmless to skip)
            j = i + 1
            while j < n and text[j] != "'" and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
        else:
            if c == "\n":
                line += 1
            i += 1
    return out


def before(text, i):
    j = i - 1
    while j >= 0 and text[j] in " \t\n":
        j -= 1
    return text[j] if j >= 0 else ""


def cpp_can_touch_disk(text):
    code = re.sub(r"//[^\n]*", "", text)
    for header in re.findall(r'#\s*include\s*[<"]([^>"]+)[>"]', code):
        if not PURE.match(header):
            return True
    for module in re.findall(r"^\s*(?:export\s+)?import\s+([\w.:]+)\s*;", code, re.M):
        if not PURE_MODULES.match(module):
            return True
    return False


def python_literals(text):
    out, previous = [], ""
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.STRING:
            body = re.sub(r"^[rRbBuUfF]*", "", tok.string)
            quote = body[:3] if body[:3] in ('"""', "'''") else body[:1]
            out.append((tok.start[0], body[len(quote):len(body) - len(quote)], previous))
        if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
            previous = tok.string[-1:] if tok.type == tokenize.OP else "x"
    return out


def shell_words(text):
    """Words that start with `/` (`"$dir"/x` is relative to a variable, not absolute)."""
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        code = re.sub(r"(^|\s)#.*$", "", raw)
        for word in re.split(r"[\s<>|;&=]+", code):
            if re.match(r"^[\"']?/[A-Za-z0-9_.+-]", word):
                out.append((number, word.strip("\"'"), ""))
    return out


def literals(name, text):
    if name.endswith((".cpp", ".hpp", ".h")):
        return cpp_literals(text) if cpp_can_touch_disk(text) else []
    if name.endswith(".py"):
        return python_literals(text)
    if name.endswith(".sh"):
        return shell_words(text)
    return []


def climbs_out(content):
    """A relative path whose `..` climb two levels above where it starts: from
    a store root (one level below a scratch dir) it leaves the scratch dir."""
    depth, lowest = 0, 0
    for part in content.split("/"):
        if part == "..":
            depth -= 1
        elif part not in ("", "."):
            depth += 1
        lowest = min(lowest, depth)
    return lowest <= -2


def allowed(name, literal, allow):
    for pattern, lit, _ in allow:
        if lit == literal and (pattern == name or (pattern.startswith("*") and name.endswith(pattern[1:]))):
            return (pattern, lit)
    return None


def containment_tests_without_canaries(name, text):
    """fs store containment tests whose body plants no Canaries."""
    bad = []
    for m in re.finditer(r"TEST\(StoreFs, (Containment_\w+)\)\s*\{", text):
        depth, j = 1, m.end()
        while depth and j < len(text):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        if "Canaries" not in text[m.end():j]:
            bad.append(f"{name}: {m.group(1)} plants no canaries outside the store's roots")
    return bad


def scan(sources, allow=ALLOWED):
    """sources: {name: text}. Returns (problems, allow-list entries used)."""
    problems, used = [], set()
    for name, text in sorted(sources.items()):
        for line, content, prev in literals(name, text):
            absolute = ABSOLUTE.match(content) and prev not in ("+", "/")
            if not absolute and not climbs_out(content):
                continue
            entry = allowed(name, content, allow)
            if entry:
                used.add(entry)
            else:
                what = "absolute path" if absolute else "path climbing out of a scratch dir"
                problems.append(f"{name}:{line}: {what} {content!r} in a test that can touch the disk; "
                                "aim it inside the test's scratch directory (or allow-list a read-only use)")
        problems += containment_tests_without_canaries(name, text)
    return problems, used


def self_test():
    """The scan must flag what it exists to flag; each sample says what."""
    samples = {
        "bad.test.cpp": ('#include <filesystem>\nimport ckpt.store.fs;\n'
                         'Plan remove{ckpt::RemoveCheckpoint{"/etc/hostname", true}};\n', 1),
        "pure.test.cpp": ('import ckpt;\n#include <string>\nauto p = "/w/exp/epoch_1.pth";\n', 0),
        "suffix.test.cpp": ('#include <fstream>\nauto p = dir + "/epoch_1.pth"; auto q = s / "/x";\n', 0),
        "comment.test.cpp": ('#include <fstream>\n// "/etc/passwd" is only mentioned\n/* "/etc/shadow" */\n', 0),
        "raw.test.cpp": ('#include <cstdio>\nauto j = R"({"p": 1})"; auto k = R"x(/var/lib/x)x";\n', 1),
        "climb.test.cpp": ('#include <cstdio>\nsave(s / "work", "../../escape.pth"); save("a/../../b.pth");\n', 1),
        "bad_test.py": ("import os\nos.remove('/etc/passwd')\nx = base + '/suffix'\n", 1),
        "bad.sh": ("#!/usr/bin/env bash\nrm -rf /opt/thing 2>/dev/null\necho ok >/tmp/log.txt  # /not/this\n", 2),
        "store.fs.test.cpp": ('#include <filesystem>\nTEST(StoreFs, Containment_X) {\n  Scratch s;\n}\n'
                              'TEST(StoreFs, Containment_Y) {\n  Scratch s;\n  Canaries c(s);\n}\n', 1),
    }
    failures = []
    for name, (text, expected) in samples.items():
        found, _ = scan({name: text}, allow=[("*.sh", "/dev/null", "sink")])
        if len(found) != expected:
            failures.append(f"self-test {name}: expected {expected} finding(s), got {found}")
    return failures


def test_sources(tests_dir):
    out = {}
    for folder, _, files in os.walk(tests_dir):
        for f in files:
            path = os.path.join(folder, f)
            rel = os.path.relpath(path, tests_dir)
            if rel == os.path.basename(__file__) or not f.endswith((".cpp", ".hpp", ".h", ".py", ".sh")):
                continue
            with open(path, encoding="utf-8") as fh:
                out[rel] = fh.read()
    return out


def main(argv):
    tests_dir = argv[1] if len(argv) > 1 else HERE
    failures = self_test()
    sources = test_sources(tests_dir)
    problems, used = scan(sources)
    failures += problems
    for pattern, lit, why in ALLOWED:
        if (pattern, lit) not in used:
            failures.append(f"allow-list entry ({pattern}, {lit!r}: {why}) matches nothing: remove it")
    for f in failures:
        print("FAIL", f)
    print(f"scanned {len(sources)} test sources: {len(problems)} absolute destructive-target candidates, "
          f"{len(ALLOWED)} allow-listed uses, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
