"""Run conformance cases through implementations and compare observations.

    tools/conform [--impl NAME]... [--clause LIST] [--profile P]
                  [--expect FILE] [--report DIR] [-j N] [CASE_OR_DIR]...
    tools/conform --record [--python PATH] [--force] [CASE_OR_DIR]...
    tools/conform --matrix PACKAGE==V1,V2,... [--versions FILE] ...

Every case (default: conformance/cases/**/*.json) goes through each named
implementation's adapter, started once per worker in `serve` mode (one case
per stdin line, one observation per stdout line; see
docs/spec/conformance-protocol.md, version 1.1). Implementations:

  cpp, mmengine, mmcv   tools/adapter NAME serve. mmengine runs only cases
                        whose profile is mmengine, mmcv only mmcv cases;
                        --python PATH runs the references of that
                        interpreter instead of .venv's.
  fixtures              the recorded observation in
                        fixtures/<id, '/' -> '__'>.json, used
                        whenever one exists (unless --no-fixtures).
  name=COMMAND          any adapter: run as `COMMAND serve` (COMMAND is split
                        like a shell word list); runs every case (narrow with
                        --profile or --clause).

Default: cpp, mmengine, mmcv (+ fixtures). Each case's baseline is the first
reference with an observation: fixtures, else mmengine/mmcv, else the first
implementation. Every other observation is compared with the baseline per
protocol section 4 and docs/protocol-notes.md: error.type, error.event and
each step's saves, removed, files, links, runtime_info and text, and
failed_step when both sides have one; numbers by value (1 == 1.0, NaN ==
NaN; the strings "NaN", "Infinity", "-Infinity" are those floats; booleans
are not numbers); `-<8 hex>.pth` inside any string becomes `-<sha8>.pth`
(then `files` and `removed` are re-sorted); in saves and runtime_info the
values of `mmcv_version`/`mmengine_version` and `time` become "<version>"
and "<time>"; `message` and `implementation` are never compared. A step
field that is absent compares as empty ([] or {}).

Selecting: --clause E35,C52 runs the cases named after those clauses
(`mmengine/E35-...`); `E3*` is a prefix (E3, E30-E38), a bare letter a group.

Cells: base (the baseline), agree, expected (differs only as --expect FILE
says), DIFFERS, error (adapter fault, timeout, unreadable output), - (not
run for this case). report.md/report.json add a per-clause summary.

Exit status: 0 when every cell is base/agree/expected/-, 1 otherwise, 2 on
a usage error. --record writes fixtures/*.json from mmengine/mmcv (the
reference for each case's profile), keeping an existing fixture that still
agrees unless --force. --matrix runs the cases through releases of a
reference, each in a venv under build/matrix/, and writes docs/versions.md;
it exits 0 unless a release that loaded failed on a case (a release that
differs from today is the finding, not a failure; one that cannot be
installed or loaded is listed in the page with its reason).
"""

import argparse
import os
import shlex
import sys

from . import expect, matrix
from .cases import ClauseFilter, collect_cases, select
from .evaluate import evaluate, load_fixtures, ok
from .layout import (FIXTURES_DIR, MATRIX_DIR, OWN_PROFILE, REFERENCES, REPORT_DIR,
                     VERSIONS_MD, UsageError, rel)
from .record import record
from .report import print_matrix, write_reports
from .workers import Impl, execute

BUILTIN = ("cpp", "mmengine", "mmcv")


def parse_impls(specs, no_fixtures, python=None):
    impls, names = [], set()
    for spec in specs or list(BUILTIN):
        if "=" in spec:
            name, cmd = spec.split("=", 1)
            name = name.strip()
            try:
                argv = shlex.split(cmd)
            except ValueError as e:
                raise UsageError("--impl %r: bad command: %s" % (spec, e))
            if not name or not argv:
                raise UsageError("--impl %r: expected NAME=COMMAND" % spec)
            impl = Impl(name, "external", argv)
        elif spec == "fixtures":
            impl = Impl("fixtures", "fixtures")
        elif spec in BUILTIN:
            impl = Impl.builtin(spec, python)
        else:
            raise UsageError(
                "--impl %r: unknown implementation (cpp, mmengine, mmcv, "
                "fixtures or NAME=COMMAND)" % spec)
        if impl.name in names:
            raise UsageError("--impl %r: implementation %r named twice" % (
                spec, impl.name))
        names.add(impl.name)
        impls.append(impl)
    if not no_fixtures and "fixtures" not in names:
        impls.insert(0, Impl("fixtures", "fixtures"))
    elif no_fixtures:
        impls = [i for i in impls if i.kind != "fixtures"]
    # fixtures first, then references, then the rest, keeping given order
    order = {id(i): n for n, i in enumerate(impls)}
    impls.sort(key=lambda i: (0 if i.kind == "fixtures" else
                              1 if i.is_reference else 2, order[id(i)]))
    return impls


def build_parser():
    p = argparse.ArgumentParser(
        prog="tools/conform", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cases", nargs="*", metavar="CASE_OR_DIR")
    p.add_argument("--impl", action="append", metavar="NAME|NAME=COMMAND",
                   help="implementation to run (repeatable)")
    p.add_argument("--clause", metavar="LIST",
                   help="only cases named after these clauses: E35,C52; "
                        "E3* for a prefix; E, C or B for a group")
    p.add_argument("--profile", metavar="P",
                   help="only cases of this profile (mmengine, mmcv, or "
                        "ckpt: ckpt's own, run by cpp only)")
    p.add_argument("--expect", metavar="FILE",
                   help="expected differences (JSON; see "
                        "conformance/README.md): reported as `expected`, "
                        "exit 0 when only those remain; entries that no "
                        "longer differ are reported as stale")
    p.add_argument("--report", metavar="DIR", default=REPORT_DIR,
                   help="where report.md/report.json/observations go "
                        "(default build/conform/)")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                   help="serve processes per implementation (default 1)")
    p.add_argument("--timeout", type=float, default=180, metavar="S",
                   help="seconds per case, startup included (default 180)")
    p.add_argument("--fixtures", default=FIXTURES_DIR, metavar="DIR",
                   help="fixture directory (default fixtures)")
    p.add_argument("--no-fixtures", action="store_true",
                   help="do not use recorded observations")
    p.add_argument("--python", metavar="PATH",
                   help="interpreter of the mmengine/mmcv references "
                        "(checking and --record; default .venv/bin/python)")
    p.add_argument("--sandbox", metavar="DIR",
                   help="keep the sandboxes: each adapter process gets "
                        "--sandbox DIR/<impl>-XXXX (a new directory)")
    p.add_argument("--record", action="store_true",
                   help="write fixtures from mmengine/mmcv observations")
    p.add_argument("--force", action="store_true",
                   help="with --record: rewrite fixtures that still agree")
    g = p.add_argument_group("release matrix")
    g.add_argument("--matrix", action="append", metavar="PACKAGE==V1,V2",
                   help="run the cases through these releases of mmengine "
                        "or mmcv (repeatable), each in its venv, against "
                        "the fixtures; writes --versions")
    g.add_argument("--matrix-dir", default=MATRIX_DIR, metavar="DIR",
                   help="where the release venvs are made and reused "
                        "(default build/matrix)")
    g.add_argument("--base-python", default="/usr/bin/python3",
                   metavar="PATH",
                   help="interpreter the venvs are made from; it must see "
                        "torch (default /usr/bin/python3, Debian's)")
    g.add_argument("--no-install", action="store_true",
                   help="use existing venvs and .venv only; never pip")
    g.add_argument("--versions", default=VERSIONS_MD, metavar="FILE",
                   help="the clause x release page to write "
                        "(default docs/versions.md)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress line, no matrix (report files only)")
    return p


def _check(args):
    if args.jobs < 1:
        raise UsageError("-j/--jobs %d: must be at least 1" % args.jobs)
    if not args.timeout > 0:
        raise UsageError("--timeout %s: must be positive" % args.timeout)
    if args.profile is not None and args.profile not in REFERENCES + (
            OWN_PROFILE,):
        raise UsageError("--profile %r: must be mmengine, mmcv or ckpt" %
                         args.profile)
    executable = (lambda path: os.path.isfile(path)
                  and os.access(path, os.X_OK))
    if args.python is not None and not executable(args.python):
        raise UsageError("--python %r: not an executable file" % args.python)
    if args.matrix and not executable(args.base_python):
        raise UsageError("--base-python %r: not an executable file" %
                         args.base_python)
    if args.record and args.impl:
        raise UsageError("--record uses mmengine/mmcv; drop --impl %s" %
                         " --impl ".join(args.impl))
    if args.record and args.expect:
        raise UsageError("--expect %r: not with --record" % args.expect)
    if args.matrix and (args.impl or args.record or args.no_fixtures):
        raise UsageError("--matrix compares releases with the fixtures; "
                         "drop --impl, --record and --no-fixtures")


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return 0 if e.code == 0 else 2
    try:
        _check(args)
        clauses = ClauseFilter(args.clause) if args.clause else None
        cases = select(collect_cases(args.cases), args.profile, clauses)
        expectations = expect.load(args.expect) if args.expect else []
        if args.record:
            return record(cases, args.fixtures, args.python, args.jobs,
                          args.timeout, args.force, args.quiet,
                          whole_corpus=not (args.cases or args.profile
                                            or clauses))
        if args.matrix:
            releases = matrix.parse_specs(args.matrix)
            return run_matrix(args, cases, releases, expectations)
        impls = parse_impls(args.impl, args.no_fixtures, args.python)
    except UsageError as e:
        print("tools/conform: %s" % e, file=sys.stderr)
        return 2
    return check(args, cases, impls, expectations)


def _selection(args):
    return {"clause": args.clause, "profile": args.profile,
            "cases": " ".join(args.cases) if args.cases else None,
            "expect": args.expect}


def _expect_summary(args, expectations):
    if not args.expect:
        return None
    s = expect.summary(expectations)
    s["file"] = args.expect
    return s


def check(args, cases, impls, expectations):
    fixtures = load_fixtures(cases, args.fixtures) if any(
        i.kind == "fixtures" for i in impls) else {}
    results, elapsed = execute(cases, impls, args.jobs, args.timeout,
                               args.sandbox, args.quiet)
    rows = evaluate(cases, impls, fixtures, results, expectations)
    good = ok(rows)
    exp = _expect_summary(args, expectations)
    if not args.quiet:
        print_matrix(impls, rows, elapsed, exp["stale"] if exp else (),
                     args.expect)
    write_reports(args.report, impls, rows, elapsed, good, _selection(args),
                  exp)
    return 0 if good else 1


def run_matrix(args, cases, releases, expectations):
    impls, rows, elapsed = matrix.run(
        cases, releases, args.fixtures, args.matrix_dir, args.base_python,
        args.jobs, args.timeout, not args.no_install, args.quiet,
        expectations)
    exp = _expect_summary(args, expectations)
    refs = sorted({(load_ref(args.fixtures, r)) for r in rows} - {None})
    page = matrix.versions_markdown(
        releases, rows, "tools/conform " + " ".join(
            "--matrix " + m for m in args.matrix), refs)
    versions_dir = os.path.dirname(os.path.abspath(args.versions))
    os.makedirs(versions_dir, exist_ok=True)
    with open(args.versions, "w", encoding="utf-8") as f:
        f.write(page)
    if not args.quiet:
        print_matrix(impls, rows, elapsed, exp["stale"] if exp else (),
                     args.expect, full=False)
        for r in releases:
            print("%-16s %s" % (r.name, r.problem or "ran in %.1fs (%s)" % (
                r.seconds.get("run", 0), r.source)))
    write_reports(args.report, impls, rows, elapsed, ok(rows),
                  dict(_selection(args), matrix=" ".join(args.matrix)), exp)
    print("wrote %s (%d releases, %.0fs)" % (rel(args.versions),
                                             len(releases), elapsed))
    # A release that differs from today is the matrix's finding, not a
    # failure; a release that cannot run is reported in the page. The exit
    # status says whether every runnable release ran every case.
    errors = sum(1 for r in rows for c in r["cells"].values()
                 if c["status"] == "error")
    return 1 if errors else 0


def load_ref(fixtures_dir, row):
    from .cases import load_fixture_doc
    try:
        doc = load_fixture_doc(row["id"], fixtures_dir)
    except (OSError, ValueError):
        return None
    if isinstance(doc, dict):
        return (doc.get("provenance") or {}).get("reference")
    return None
