"""Output: the matrix and summaries on stdout, report.md and report.json,
and the observation files (one step per line, for reading and diffing)."""
import datetime
import json
import os
import shlex
import sys

from .cases import NO_CLAUSE, fixture_name
from .compare import show
from .evaluate import clause_summary, counts
from .layout import PROTOCOL, rel

STATUSES = ("base", "agree", "expected", "DIFFERS", "error", "-")


def dump_observation_doc(doc):
    """JSON text for a fixture or a stored observation: one step per line."""
    def obs_text(obs, pad):
        if not isinstance(obs, dict) or not isinstance(obs.get("steps"), list):
            return json.dumps(obs)
        parts = []
        for k, v in obs.items():
            if k == "steps" and v:
                body = "[\n" + ",\n".join(
                    pad + " " + json.dumps(st) for st in v) + \
                    "\n" + pad + "]"
            else:
                body = json.dumps(v)
            parts.append("%s%s: %s" % (pad, json.dumps(k), body))
        return "{\n" + ",\n".join(parts) + "\n" + pad[:-1] + "}"

    if isinstance(doc, dict) and "observation" in doc:
        parts = []
        for k, v in doc.items():
            body = obs_text(v, "  ") if k == "observation" else json.dumps(v)
            parts.append(" %s: %s" % (json.dumps(k), body))
        return "{\n" + ",\n".join(parts) + "\n}\n"
    return obs_text(doc, " ") + "\n"


def _rep_text(rep, limit=70):
    if not rep:
        return "-"
    if rep.get("path") is None:
        return "%s, %s: error (%s)" % (rep["case"], rep["impl"],
                                       show(rep.get("reason"), limit))
    return "%s, %s: `%s` %s = %s, %s = %s" % (
        rep["case"], rep["impl"], rep["path"], rep["baseline"],
        show(rep["baseline_value"], limit), rep["impl"],
        show(rep["value"], limit))


def print_matrix(impls, rows, elapsed, stale=(), expect_file=None,
                 full=True):
    """The case x implementation matrix and each difference's first field
    (`full`), the clauses with differences, stale expectations, the
    summary."""
    names = [i.name for i in impls]
    if full:
        idw = max([len(r["id"]) for r in rows] + [4])
        widths = [max(len(n), 8) for n in names]
        head = "%-*s  %s" % (idw, "case", "  ".join(
            "%-*s" % (w, n) for n, w in zip(names, widths)))
        print(head)
        print("-" * len(head))
        for r in rows:
            print(("%-*s  %s" % (idw, r["id"], "  ".join(
                "%-*s" % (w, r["cells"][n]["status"])
                for n, w in zip(names, widths)))).rstrip())
        print()
    problems = False
    for r in rows if full else ():
        for n in names:
            cell = r["cells"][n]
            if cell["status"] == "DIFFERS":
                problems = True
                d = cell["diffs"][0]
                more = len(cell["diffs"]) - 1 + cell.get("more", 0)
                print("DIFFERS %s  %s vs %s: %s" % (
                    r["id"], n, r["baseline"], d["path"]))
                print("    %-9s %s" % (r["baseline"] + ":", show(d["baseline"])))
                print("    %-9s %s" % (n + ":", show(d["value"])))
                if more:
                    print("    (+%d more difference%s)" % (
                        more, "" if more == 1 else "s"))
            elif cell["status"] == "error":
                problems = True
                print("error   %s  %s: %s" % (r["id"], n, cell.get("reason")))
    if problems:
        print()
    clauses = clause_summary(rows, names)
    flagged = [s for s in clauses if s["differ"] or s["error"]
               or s["expected"]]
    if flagged:
        print("clauses with differences (of %d):" % len(clauses))
        for s in flagged:
            print("  %-6s %d case%s: %d agree, %d differ, %d expected, "
                  "%d error; %s" % (
                      s["clause"], s["cases"], "" if s["cases"] == 1 else "s",
                      s["agree"], s["differ"], s["expected"], s["error"],
                      _rep_text(s["representative"], 40)))
    else:
        named = [s for s in clauses if s["clause"] != NO_CLAUSE]
        print("%d clause%s%s, every compared cell agrees." % (
            len(named), "" if len(named) == 1 else "s",
            " (and the cases named after none)" if len(named) < len(clauses)
            else ""))
    for item in stale:
        print("stale expectation %s (%s): no longer differs" % (
            item["label"], expect_file))
    c = counts(rows, names)
    summary = "; ".join("%s: %s" % (n, ", ".join(
        "%d %s" % (v, k) for k, v in sorted(c[n].items()))) for n in names)
    print("%d cases, %.1fs. %s" % (len(rows), elapsed, summary))
    expected = sum(v.get("expected", 0) for v in c.values())
    bad = sum(v.get("DIFFERS", 0) + v.get("error", 0) for v in c.values())
    if expected and not bad:
        print("Only expected differences remain (%d cell%s, %s): exit 0." % (
            expected, "" if expected == 1 else "s", expect_file))


def write_observations(report_dir, rows, names):
    """observations/<impl>/<id>.json; takes the observations out of rows."""
    obs_dir = os.path.join(report_dir, "observations")
    for r in rows:
        for n in names:
            o = r["cells"][n].pop("observation", None)
            if o is not None and n != "fixtures":
                p = os.path.join(obs_dir, n, fixture_name(r["id"]))
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "w", encoding="utf-8") as f:
                    f.write(dump_observation_doc(o))


def write_reports(report_dir, impls, rows, elapsed, ok, selection=None,
                  expectations=None):
    """report.json and report.md in `report_dir`."""
    os.makedirs(report_dir, exist_ok=True)
    names = [i.name for i in impls]
    write_observations(report_dir, rows, names)
    clauses = clause_summary(rows, names)
    report = {
        "tool": "tools/conform", "protocol": PROTOCOL,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"),
        "command": " ".join(shlex.quote(a) for a in sys.argv),
        "seconds": round(elapsed, 2), "ok": ok,
        "selection": selection or {},
        "implementations": [{"name": i.name, "kind": i.kind,
                             "command": i.argv} for i in impls],
        "summary": counts(rows, names),
        "clauses": clauses,
        "expectations": expectations,
        "cases": rows,
    }
    with open(os.path.join(report_dir, "report.json"), "w",
              encoding="utf-8") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    L = ["# Conformance report", "",
         "- date: %s" % report["date"],
         "- command: `%s`" % report["command"],
         "- protocol: %s" % PROTOCOL,
         "- cases: %d, wall time %.1f s" % (len(rows), elapsed),
         "- result: **%s**" % ("all agree" if ok and not any(
             c["expected"] for c in clauses) else "only expected differences"
             if ok else "differences or errors"),
         "- implementations: " + ", ".join(
             "`%s`%s" % (i.name, " (`%s serve`)" % " ".join(
                 rel(a) for a in i.argv) if i.argv else "")
             for i in impls)]
    for k, v in (selection or {}).items():
        if v:
            L.append("- %s: `%s`" % (k, v))
    L += ["", "## Summary", "",
          "| implementation | " + " | ".join(STATUSES) + " |",
          "|---|" + "---|" * len(STATUSES)]
    for n, c in report["summary"].items():
        L.append("| %s | %s |" % (n, " | ".join(
            str(c.get(k, 0)) for k in STATUSES)))
    L += ["", "## Clauses", "",
          "Over every compared cell (case x implementation, the baseline "
          "and `-` left out).", "",
          "| clause | cases | agree | differ | expected | error | "
          "first difference (representative case) |",
          "|---|---|---|---|---|---|---|"]
    for s in clauses:
        L.append("| %s | %d | %d | %d | %d | %d | %s |" % (
            s["clause"], s["cases"], s["agree"], s["differ"], s["expected"],
            s["error"], _rep_text(s["representative"], 60).replace(
                "|", "\\|")))
    if expectations:
        L += ["", "## Expected differences", "",
              "- file: `%s`" % expectations["file"]]
        for key, title in (("matched", "matched"), ("stale", "STALE (no "
                           "longer differs)"), ("not_run", "not run")):
            for item in expectations[key]:
                L.append("- %s: %s%s" % (title, item["label"], (
                    " (%s)" % item["reason"]) if item["reason"] else ""))
    L += ["", "## Matrix", "",
          "| case | " + " | ".join(names) + " |",
          "|---|" + "---|" * len(names)]
    for r in rows:
        L.append("| `%s` | %s |" % (r["id"], " | ".join(
            r["cells"][n]["status"] for n in names)))
    det = []
    for r in rows:
        for n in names:
            cell = r["cells"][n]
            if cell["status"] in ("DIFFERS", "expected"):
                det.append("### `%s`: %s vs %s%s" % (
                    r["id"], n, r["baseline"],
                    " (expected)" if cell["status"] == "expected" else ""))
                det.append("")
                for dd in cell["diffs"]:
                    det.append("- `%s`: %s = `%s`, %s = `%s`" % (
                        dd["path"], r["baseline"], show(dd["baseline"], 300),
                        n, show(dd["value"], 300)))
                det.append("")
            elif cell["status"] == "error":
                det.append("### `%s`: %s error" % (r["id"], n))
                det.append("")
                det.append("    " + str(cell.get("reason")))
                det.append("")
    if det:
        L += ["", "## Differences and errors", ""] + det
    with open(os.path.join(report_dir, "report.md"), "w",
              encoding="utf-8") as f:
        f.write("\n".join(L).rstrip() + "\n")
