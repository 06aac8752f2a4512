#!/usr/bin/env python3
"""A stand-in implementation for the tests of tools/conform: answers each
case with its recorded fixture, changed as the options say, so the runner's
selection, comparison, normalisation and expectations can be checked
without torch.

usage: conform_fake_adapter.py [OPTIONS] serve

  --fixtures DIR          where the observations come from (default fixtures/)
  --set-meta KEY=VALUE    every string under KEY in a `meta` dict of saves
                          and runtime_info becomes VALUE (a version, a clock)
  --set-field FIELD=JSON  FIELD of the first save of every step becomes JSON
                          (a change no normalisation covers)
  --extra-file CLAUSE     cases of CLAUSE list one more file in every step
  --raise CLAUSE          cases of CLAUSE raise TypeError at construction
  --drop-failed-step      answer without failed_step (a protocol 1 adapter)
  --log FILE              append the id of every case received to FILE
  --start-failure REASON  exit 2 at start-up with REASON on stderr
"""
import argparse
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def clause_of(case_id):
    m = re.match(r"([ECB]\d+)-", case_id.rsplit("/", 1)[-1])
    return m.group(1) if m else None


def set_meta(value, key, new):
    if isinstance(value, dict):
        for k, v in value.items():
            if k == key and isinstance(v, str):
                value[k] = new
            else:
                set_meta(v, key, new)
    elif isinstance(value, list):
        for v in value:
            set_meta(v, key, new)


def steps_of(obs):
    out = list(obs.get("steps") or [])
    if obs.get("failed_step"):
        out.append(obs["failed_step"])
    return out


def answer(case, args):
    name = case["id"].replace("/", "__") + ".json"
    with open(os.path.join(args.fixtures, name), encoding="utf-8") as f:
        obs = json.load(f)["observation"]
    obs["implementation"] = "fake"
    clause = clause_of(case["id"])
    if args.drop_failed_step:
        obs.pop("failed_step", None)
    for spec in args.set_meta:
        key, new = spec.split("=", 1)
        for step in steps_of(obs):
            for field in ("saves", "runtime_info"):
                set_meta(step.get(field), key, new)
    for spec in args.set_field:
        key, new = spec.split("=", 1)
        for step in steps_of(obs):
            if step.get("saves"):
                step["saves"][0][key] = json.loads(new)
    if clause in args.extra_file:
        for step in steps_of(obs):
            step["files"] = step.get("files", []) + ["extra/unexpected.pth"]
    if clause in args.raise_:
        obs["error"] = {"type": "TypeError", "event": -1, "message": "fake"}
        obs["steps"] = []
        obs.pop("failed_step", None)
    return obs


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=("serve",))
    p.add_argument("--fixtures", default=os.path.join(ROOT, "fixtures"))
    p.add_argument("--set-meta", action="append", default=[])
    p.add_argument("--set-field", action="append", default=[])
    p.add_argument("--extra-file", action="append", default=[])
    p.add_argument("--raise", dest="raise_", action="append", default=[])
    p.add_argument("--drop-failed-step", action="store_true")
    p.add_argument("--log")
    p.add_argument("--start-failure")
    args = p.parse_args()
    if args.start_failure:
        print("fake adapter: %s" % args.start_failure, file=sys.stderr)
        return 2
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        if args.log:
            with open(args.log, "a", encoding="utf-8") as f:
                f.write(case["id"] + "\n")
        sys.stdout.write(json.dumps(answer(case, args)) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
