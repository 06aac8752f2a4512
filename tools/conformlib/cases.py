"""Cases and fixtures: finding them, the clause each case is named after,
and selecting cases by clause and profile."""
import glob
import json
import os
import re
import sys

from .layout import CASES_DIR, ROOT, UsageError

CLAUSE_RE = re.compile(r"([ECBX]\d+)-")
NO_CLAUSE = "(none)"


def clause_of(case_id):
    """The clause a case is named after (`mmengine/E24-evict...` -> `E24`),
    or NO_CLAUSE (the smoke cases, cases of other suites)."""
    name = case_id.rsplit("/", 1)[-1] if isinstance(case_id, str) else ""
    m = CLAUSE_RE.match(name)
    return m.group(1) if m else NO_CLAUSE


def clause_key(clause):
    """Sort order: E before C before B (the spec's order), then ckpt's own
    X (docs/spec/extensions.md), then by number."""
    if clause == NO_CLAUSE:
        return (9, 0)
    return ("ECBX".index(clause[0]), int(clause[1:]))


class Case:
    def __init__(self, path, raw, data):
        self.path = path
        self.raw = raw            # the file's text on one line (byte-faithful)
        self.data = data
        self.id = data.get("id") if isinstance(data, dict) else None
        self.profile = (data.get("profile") or "mmengine") if isinstance(
            data, dict) else "mmengine"
        self.load_error = None

    @property
    def clause(self):
        return clause_of(self.id)


class ClauseFilter:
    """`--clause E35,C52,E3*,B`: an entry is a clause id (exactly that
    clause), a prefix ending in `*` (`E3*`: E3 and E30-E38), or a bare
    group letter (`E`, `C`, `B`)."""

    ENTRY = re.compile(r"[ECBX](\d+\*?|\*)?")

    def __init__(self, spec):
        self.entries = []
        for part in spec.split(","):
            entry = part.strip().upper()
            if not entry:
                continue
            if not self.ENTRY.fullmatch(entry):
                raise UsageError(
                    "--clause %r: %r is not a clause (E35), a prefix (E3*) "
                    "or a group (E, C, B, X)" % (spec, part.strip()))
            self.entries.append(entry)
        if not self.entries:
            raise UsageError("--clause %r: names no clause" % spec)
        self.spec = spec

    def matches(self, clause):
        if clause == NO_CLAUSE:
            return False
        for e in self.entries:
            if len(e) == 1 or e.endswith("*"):
                if clause.startswith(e.rstrip("*")):
                    return True
            elif clause == e:
                return True
        return False


def fixture_name(case_id):
    return case_id.replace("/", "__") + ".json"


def collect_cases(targets):
    """Every case under `targets` (files or directories; default the
    corpus), in path order. A case that cannot be read is kept, with its
    `load_error`, so it shows as an error instead of vanishing."""
    paths = []
    for t in targets or [CASES_DIR]:
        if os.path.isdir(t):
            paths.extend(sorted(glob.glob(os.path.join(t, "**", "*.json"),
                                          recursive=True)))
        elif os.path.isfile(t):
            paths.append(t)
        else:
            raise UsageError("CASE_OR_DIR %r: no such file or directory" % t)
    seen, cases, ids = set(), [], {}
    for p in paths:
        ap = os.path.abspath(p)
        if ap in seen:
            continue
        seen.add(ap)
        with open(ap, encoding="utf-8") as f:
            text = f.read()
        try:
            data = json.loads(text)
        except ValueError as e:
            c = Case(ap, None, {})
            c.id = os.path.relpath(ap, ROOT)
            c.load_error = "invalid JSON: %s" % e
            cases.append(c)
            continue
        c = Case(ap, text.replace("\r", " ").replace("\n", " "), data)
        if not isinstance(data, dict) or not isinstance(c.id, str):
            c.id = os.path.relpath(ap, ROOT)
            c.load_error = "case has no string 'id'"
        elif c.id in ids:
            c.load_error = "duplicate id (also %s)" % ids[c.id]
        else:
            ids[c.id] = os.path.relpath(ap, ROOT)
            r = os.path.relpath(ap, CASES_DIR)
            if not r.startswith("..") and not r.startswith("_") and \
                    r[:-5].replace(os.sep, "/") != c.id:
                print("conform: warning: %s has id %r" % (
                    os.path.relpath(ap, ROOT), c.id), file=sys.stderr)
        cases.append(c)
    if not cases:
        raise UsageError("no cases found in %s" % ", ".join(
            targets or [CASES_DIR]))
    return cases


def select(cases, profile=None, clauses=None):
    """The cases of `profile` (None: all) whose clause `clauses` (a
    ClauseFilter or None) matches."""
    out = [c for c in cases
           if (profile is None or c.profile == profile)
           and (clauses is None or clauses.matches(c.clause))]
    if not out:
        what = []
        if profile:
            what.append("--profile %s" % profile)
        if clauses:
            what.append("--clause %s" % clauses.spec)
        raise UsageError("no case matches %s" % " and ".join(what))
    return out


def load_fixture(case_id, fixtures_dir):
    """The recorded observation of `case_id`, or None."""
    doc = load_fixture_doc(case_id, fixtures_dir)
    if isinstance(doc, dict) and "observation" in doc:
        return doc["observation"]
    return doc


def load_fixture_doc(case_id, fixtures_dir):
    """The whole fixture file (provenance and observation), or None."""
    p = os.path.join(fixtures_dir, fixture_name(case_id))
    if not os.path.isfile(p):
        return None
    with open(p, encoding="utf-8") as f:
        return json.load(f)
