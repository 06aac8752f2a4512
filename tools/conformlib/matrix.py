"""`--matrix mmengine==0.7.4,0.8.0 --matrix mmcv==1.6.2`: the suite through
several releases of a reference, each in its own venv, compared with the
fixtures (today's behaviour); writes docs/versions.md.

A release's venv is build/matrix/<package>-<version> (--matrix-dir):
`BASE -m venv --system-site-packages` over the interpreter that has Debian's
torch (--base-python, default /usr/bin/python3), then `pip install
--no-deps addict <package>==<version>` (mmcv: MMCV_WITH_OPS=0 and
--no-build-isolation). A venv that installed is reused; the release
installed in .venv is used from there when no venv of it exists (so the
machinery runs without a registry). A release that cannot be installed or
loaded stays in the table with its one-line reason.
"""
import collections
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import time

from .cases import NO_CLAUSE, clause_key
from .evaluate import clause_summary, evaluate, load_fixtures
from .layout import MATRIX_DIR, REFERENCES, ROOT, VENV_PYTHON, UsageError, rel
from .workers import Impl, about, execute

VERSION_RE = re.compile(r"\d+(\.\d+)*([a-z]+\d*)?")
STAMP = "ckpt-matrix.json"
PIP_TIMEOUT = 900


class Release:
    def __init__(self, package, version):
        self.package, self.version = package, version
        self.python = None      # interpreter with the release installed
        self.source = None      # "venv DIR" or "installed (.venv)"
        self.info = None        # the adapter's `about`
        self.problem = None     # "cannot install: ..." / "cannot load: ..."
        self.seconds = {}       # install, run

    @property
    def name(self):
        return "%s==%s" % (self.package, self.version)

    @property
    def key(self):
        return version_key(self.version)


def version_key(version):
    return tuple(int(p) if p.isdigit() else -1
                 for p in re.split(r"[.]", re.sub(r"[a-z].*", "", version)))


def parse_specs(specs):
    """`PACKAGE==V1,V2,...` (repeatable) -> releases, oldest first."""
    releases, seen = [], set()
    for spec in specs:
        package, sep, versions = spec.partition("==")
        package = package.strip()
        if not sep or package not in REFERENCES:
            raise UsageError(
                "--matrix %r: expected PACKAGE==V1,V2,... with PACKAGE "
                "mmengine or mmcv" % spec)
        for v in versions.split(","):
            v = v.strip()
            if not VERSION_RE.fullmatch(v):
                raise UsageError("--matrix %r: %r is not a release version"
                                 % (spec, v))
            if (package, v) not in seen:
                seen.add((package, v))
                releases.append(Release(package, v))
    releases.sort(key=lambda r: (REFERENCES.index(r.package), r.key))
    return releases


def say(msg):
    print("[matrix] " + msg, file=sys.stderr, flush=True)


def installed_version(python, package):
    code = ("from importlib import metadata\n"
            "try: print(metadata.version(%r))\n"
            "except Exception: print('')" % package)
    try:
        out = subprocess.run([python, "-c", code], capture_output=True,
                             timeout=60).stdout.decode().strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out or None


def _last_error(log_path):
    try:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            lines = [l.strip() for l in f if l.strip()]
    except OSError:
        return "no install log"
    errors = [l for l in lines if l.startswith("ERROR")]
    return (errors or lines or ["pip failed without output"])[-1][:300]


def _install(release, venv, base_python):
    """Creates the venv and installs the release; returns a problem or
    None."""
    shutil.rmtree(venv, ignore_errors=True)
    os.makedirs(os.path.dirname(venv), exist_ok=True)
    log_path = venv + ".install.log"
    pip = [os.path.join(venv, "bin", "python"), "-m", "pip", "install",
           "--disable-pip-version-check", "--no-deps", "addict",
           release.name]
    env = dict(os.environ)
    if release.package == "mmcv":
        pip.insert(-2, "--no-build-isolation")
        env["MMCV_WITH_OPS"] = "0"
    say("%s: creating %s (pip install --no-deps %s; a minute or two)" % (
        release.name, rel(venv), release.name))
    with open(log_path, "w", encoding="utf-8") as log:
        for argv in ([base_python, "-m", "venv", "--system-site-packages",
                      venv], pip):
            log.write("$ %s\n" % " ".join(argv))
            log.flush()
            try:
                rc = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT,
                                    env=env, timeout=PIP_TIMEOUT).returncode
            except (OSError, subprocess.TimeoutExpired) as e:
                log.write("%s\n" % e)
                rc = -1
            if rc != 0:
                return "cannot install: %s (log %s)" % (
                    _last_error(log_path), rel(log_path))
    with open(os.path.join(venv, STAMP), "w", encoding="utf-8") as f:
        json.dump({"release": release.name, "pip": pip[1:]}, f)
        f.write("\n")
    return None


def prepare(release, matrix_dir, base_python, install=True):
    """Finds or makes an interpreter with the release, then asks its adapter
    `about`; sets release.python/source/info or release.problem."""
    t0 = time.monotonic()
    venv = os.path.join(matrix_dir, "%s-%s" % (release.package,
                                               release.version))
    py = os.path.join(venv, "bin", "python")
    if os.path.isfile(os.path.join(venv, STAMP)) and os.access(py, os.X_OK):
        release.python, release.source = py, "venv " + rel(venv)
    elif os.access(VENV_PYTHON, os.X_OK) and installed_version(
            VENV_PYTHON, release.package) == release.version:
        release.python, release.source = VENV_PYTHON, "installed (.venv)"
    elif not install:
        release.problem = "not installed (no venv at %s; --no-install)" % \
            rel(venv)
    else:
        problem = _install(release, venv, base_python)
        if problem:
            release.problem = problem
        else:
            release.python, release.source = py, "venv " + rel(venv)
    release.seconds["install"] = round(time.monotonic() - t0, 1)
    if release.python:
        impl = impl_of(release)
        info, reason = about(impl)
        if info is None:
            release.problem = "cannot load: %s" % reason
        elif info.get("version") != release.version:
            release.problem = "cannot load: %s found %s, not %s" % (
                release.python, info.get("implementation"), release.version)
        else:
            release.info = info
    say("%s: %s" % (release.name, release.problem or "ready (%s)" %
                    release.source))


def impl_of(release):
    from .layout import ADAPTER
    return Impl(release.name, "release",
                [ADAPTER, release.package, "--python", release.python],
                release.package)


def run(cases, releases, fixtures_dir, matrix_dir, base_python, jobs,
        timeout, install=True, quiet=False, expectations=()):
    """Prepares and runs every release; returns (impls, rows, seconds)."""
    t0 = time.monotonic()
    for r in releases:
        prepare(r, matrix_dir, base_python, install)
    packages = {r.package for r in releases}
    cases = [c for c in cases if c.profile in packages]
    fixtures = load_fixtures(cases, fixtures_dir)
    missing = [c.id for c in cases if c.load_error is None
               and c.id not in fixtures]
    if missing:
        say("%d case(s) without a fixture left out (record them first): %s"
            % (len(missing), ", ".join(missing[:5])))
        cases = [c for c in cases if c.id not in missing]
    results = {}
    impls = [Impl("fixtures", "fixtures")]
    for r in releases:
        if r.problem:
            continue
        impl = impl_of(r)
        impls.append(impl)
        t1 = time.monotonic()
        res, _ = execute(cases, [impl], jobs, timeout, quiet=quiet,
                         label="[matrix %s]" % r.name)
        results.update(res)
        r.seconds["run"] = round(time.monotonic() - t1, 1)
    rows = evaluate(cases, impls, fixtures, results, expectations)
    return impls, rows, time.monotonic() - t0


def _release_table(releases, rows):
    L = ["| release | hook source (sha256) | from | cases: agree / differ /"
         " error | notes |", "|---|---|---|---|---|"]
    for r in releases:
        if r.problem:
            L.append("| %s %s | - | - | - | **%s** |" % (
                r.package, r.version, r.problem.replace("|", "\\|")))
            continue
        c = {"agree": 0, "DIFFERS": 0, "expected": 0, "error": 0}
        for row in rows:
            s = row["cells"].get(r.name, {}).get("status")
            if s in c:
                c[s] += 1
        notes = "; ".join(r.info.get("accommodations") or [])
        L.append("| %s %s | `%s` | %s | %d / %d / %d | %s |" % (
            r.package, r.version, r.info["hook_source"]["sha256"][:12],
            r.source, c["agree"] + c["expected"], c["DIFFERS"], c["error"],
            notes.replace("|", "\\|")))
    return L


def _same_hook_groups(releases):
    groups = {}
    for r in releases:
        if r.info:
            groups.setdefault((r.package, r.info["hook_source"]["sha256"]),
                              []).append(r.version)
    return ["%s %s" % (pkg, ", ".join(vs)) for (pkg, _), vs in groups.items()
            if len(vs) > 1]


def _cell(summary_by_impl, name, cases):
    per = summary_by_impl.get(name)
    if per is None:
        return "n/a"
    bad = per["differ"]
    if per["error"]:
        return "err %d" % per["error"]
    return "=" if bad == 0 else "≠ %d/%d" % (bad, cases)


def first_today(clause_row, runnable):
    """The oldest release from which every newer runnable release agrees on
    the clause; None when the newest differs."""
    first = None
    for r in reversed(runnable):
        if clause_row.get(r.name) != "=":
            break
        first = r
    return first


def versions_markdown(releases, rows, command, fixture_refs):
    now = datetime.datetime.now(datetime.timezone.utc)
    info = next((r.info for r in releases if r.info), {}) or {}
    L = ["# Behaviour across releases", "",
         "Generated by `%s` on %s (Python %s, torch %s); regenerate rather "
         "than edit." % (command, now.date().isoformat(),
                         info.get("python", "?"), info.get("torch", "?")),
         "",
         "Each release ran the suite's cases of its profile in its own venv "
         "over Debian's torch (`tools/conform --matrix`, see "
         "`conformance/README.md`), and each observation was compared with "
         "the fixtures, which record today's behaviour (%s), by the rules of "
         "`docs/protocol-notes.md` (normalised: `mmcv_version`, `time`, "
         "published hashes). A clause's cases are the cases named after it "
         "(`mmengine/E24-...`); a case usually touches more clauses, so read "
         "the representative difference." % ", ".join(fixture_refs), "",
         "## Releases", ""]
    L += _release_table(releases, rows)
    groups = _same_hook_groups(releases)
    if groups:
        L += ["", "Releases that ship the same hook source file: %s." %
              "; ".join(groups)]
    findings = []
    for package in REFERENCES:
        rels = [r for r in releases if r.package == package]
        if not rels:
            continue
        runnable = [r for r in rels if not r.problem]
        prow = [row for row in rows if row["profile"] == package]
        names = [r.name for r in runnable]
        summary = clause_summary(prow, names)
        L += ["", "## %s: clause x release" % package, "",
              "`=`: every case of the clause agrees with today; `≠ k/n`: k of "
              "its n cases differ; `err k`: the adapter failed on k cases; "
              "`n/a`: the release could not be installed or loaded. Last "
              "column: the oldest release from which every newer release "
              "behaves as today.", "",
              "| clause | cases | " + " | ".join(r.version for r in rels) +
              " | today's behaviour from |",
              "|---|---|" + "---|" * len(rels) + "---|"]
        for s in summary:
            cells = {r.name: _cell(s["by_impl"], r.name, s["cases"])
                     for r in runnable}
            first = first_today(cells, runnable)
            if not runnable:
                since = "n/a"
            elif first is None:
                since = "none in the matrix"
            elif first is runnable[0]:
                since = "all (%s on)" % first.version
            else:
                since = "**%s**" % first.version
            L.append("| %s | %d | %s | %s |" % (
                s["clause"], s["cases"], " | ".join(
                    cells.get(r.name, "n/a") for r in rels), since))
            if runnable and first is not runnable[0]:
                findings.append((package, s, cells, first, runnable, prow))
    L += ["", "## Where behaviour changed", ""]
    if not findings:
        L.append("Every runnable release behaves as today on every clause.")
    for package, s, cells, first, runnable, prow in findings:
        differing = [r.version for r in runnable if cells[r.name] != "="]
        L.append("- **%s** (%s): today's behaviour from %s; differs in %s." % (
            s["clause"], package,
            first.version if first else "no release in the matrix",
            ", ".join(differing)))
        newest = next((r for r in reversed(runnable)
                       if cells[r.name] != "="), None)
        if newest is None:
            continue
        kinds = _clause_kinds(prow, s["clause"], newest.name)
        rep = _representative(prow, s["clause"], newest.name,
                              _kind_counts(prow, newest.name))
        if rep:
            L.append("  %s in `%s`: `%s`: today `%s`, %s `%s`." % (
                newest.version, rep[0], rep[1], _short(rep[2]),
                newest.version, _short(rep[3])))
        if kinds:
            L.append("  Fields that differ in %s (cases): %s." % (
                newest.version, ", ".join("`%s` %d" % kv for kv in
                                          kinds.most_common(5))))
    return "\n".join(L).rstrip() + "\n"


def _short(v, limit=120):
    s = json.dumps(v) if not (isinstance(v, str) and v == "<absent>") else v
    return s if len(s) <= limit else s[:limit - 3] + "..."


def _kind(path):
    """A differing path with its indices dropped: `steps[].removed[]`."""
    return re.sub(r"\[\d+\]", "[]", path)


def _cell_kinds(cell):
    return {_kind(d["path"]) for d in cell.get("diffs", ())}


def _kind_counts(rows, impl_name):
    """In how many differing cases of a release each kind of field differs."""
    counts = collections.Counter()
    for row in rows:
        cell = row["cells"].get(impl_name, {})
        if cell.get("status") == "DIFFERS":
            counts.update(_cell_kinds(cell))
    return counts


def _clause_kinds(rows, clause, impl_name):
    counts = collections.Counter()
    for row in rows:
        cell = row["cells"].get(impl_name, {})
        if row["clause"] == clause and cell.get("status") == "DIFFERS":
            counts.update(_cell_kinds(cell))
    return counts


def _representative(rows, clause, impl_name, counts):
    """(case, path, today, that release) of the clause's difference whose
    kind of field is the rarest in the whole release, so a change that
    touches every case (a field the old release never wrote) does not hide
    the one the clause is about; an adapter error comes first."""
    best, best_key = None, None
    for row in sorted(rows, key=lambda r: r["id"]):
        if row["clause"] != clause:
            continue
        cell = row["cells"].get(impl_name, {})
        if cell.get("status") == "error":
            return row["id"], "adapter error", "-", cell.get("reason")
        if cell.get("status") != "DIFFERS":
            continue
        for i, d in enumerate(cell["diffs"]):
            key = (counts[_kind(d["path"])], row["id"], i)
            if best_key is None or key < best_key:
                best_key = key
                best = (row["id"], d["path"], d["baseline"], d["value"])
    return best


__all__ = ["Release", "parse_specs", "run", "versions_markdown",
           "first_today", "version_key", "NO_CLAUSE", "clause_key"]
