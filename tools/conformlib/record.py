"""`--record`: fixtures from the reference of each case's profile, with
their provenance (release, torch, Python, the sha256 of the hook source,
protocol version, the command). The `ckpt` profile has no reference (it is
ckpt's own, docs/spec/extensions.md): its fixtures come from ckpt's adapter
and say so; they pin the profile against regressions and for other ports."""
import collections
import datetime
import os
import shlex

from .cases import fixture_name, load_fixture
from .compare import compare
from .layout import OWN_PROFILE, PROTOCOL, REFERENCES, rel
from .report import dump_observation_doc
from .workers import Impl, about, execute


def provenance(impl, info, date):
    command = " ".join(shlex.quote(rel(a)) for a in impl.argv)
    return {
        "reference": info["implementation"],
        "hook_source": info["hook_source"],
        "torch": info.get("torch"), "python": info.get("python"),
        "protocol": PROTOCOL, "date": date,
        "command": "tools/conform --record (%s serve)" % command,
    }


def own_provenance(impl, date):
    command = " ".join(shlex.quote(rel(a)) for a in impl.argv)
    return {
        "reference": None,
        "recorded_from": "ckpt's own adapter: the ckpt profile has no "
                         "reference (docs/spec/extensions.md); checked by "
                         "hand against its clauses when recorded",
        "protocol": PROTOCOL, "date": date,
        "command": "tools/conform --record (%s serve)" % command,
    }


def _changed(old, obs):
    """Why `obs` replaces the fixture `old`: the first differing field, or
    that it observes the failing event (protocol 1.1), else None."""
    d = compare(old, obs)
    if d:
        return d[0][0]
    if "failed_step" in obs and "failed_step" not in old:
        return "failed_step (protocol 1.1)"
    return None


def record(cases, fixtures_dir, python=None, jobs=1, timeout=180,
           force=False, quiet=False, whole_corpus=False):
    """Returns the exit status: 1 when a case could not be recorded."""
    profiles = {c.profile for c in cases if c.load_error is None}
    impls = [Impl.builtin(n, python) for n in REFERENCES if n in profiles]
    infos = {}
    own = Impl.builtin("cpp") if OWN_PROFILE in profiles else None
    for impl in impls:
        info, reason = about(impl)
        if info is None:
            print("cannot record %s cases: %s" % (impl.name, reason))
            return 1
        infos[impl.name] = info
    results, elapsed = execute(cases, impls + ([own] if own else []), jobs,
                               timeout, quiet=quiet)
    date = datetime.date.today().isoformat()
    os.makedirs(fixtures_dir, exist_ok=True)
    stats = collections.Counter()
    bad = False
    for c in cases:
        if c.load_error:
            print("cannot record %s: %s" % (c.id, c.load_error))
            bad = True
            continue
        ref = c.profile if c.profile in REFERENCES else (
            "cpp" if c.profile == OWN_PROFILE else "mmengine")
        obs, err = results.get((c.id, ref), (None, "not run"))
        if obs is None:
            print("cannot record %s: %s: %s" % (c.id, ref, err))
            stats["failed"] += 1
            bad = True
            continue
        path = os.path.join(fixtures_dir, fixture_name(c.id))
        old = None
        if os.path.isfile(path):
            try:
                old = load_fixture(c.id, fixtures_dir)
            except (OSError, ValueError):
                old = None
        why = _changed(old, obs) if old is not None else None
        if old is not None and why is None and not force:
            stats["unchanged"] += 1
            continue
        stats["changed" if old is not None else "new"] += 1
        if why:
            print("changed %s: %s" % (c.id, why))
        if ref == "cpp":
            doc = {"provenance": own_provenance(own, date), "observation": obs}
        else:
            impl = next(i for i in impls if i.name == ref)
            doc = {"provenance": provenance(impl, infos[ref], date),
                   "observation": obs}
        with open(path, "w", encoding="utf-8") as f:
            f.write(dump_observation_doc(doc))
    if whole_corpus and os.path.isdir(fixtures_dir):
        known = {fixture_name(c.id) for c in cases}
        for name in sorted(os.listdir(fixtures_dir)):
            if name.endswith(".json") and name not in known:
                print("orphan fixture (no case has this id): %s" %
                      rel(os.path.join(fixtures_dir, name)))
    print("recorded %d cases in %.1fs with %s: %s" % (
        len(cases), elapsed, ", ".join(
            "%s (hook %s)" % (i["implementation"],
                              i["hook_source"]["sha256"][:12])
            for i in infos.values()),
        ", ".join("%d %s" % (v, k) for k, v in sorted(stats.items()))))
    return 1 if bad else 0
