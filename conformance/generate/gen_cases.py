#!/usr/bin/env python3
"""Generates conformance/cases/{mmengine,mmcv}/*.json (the clause corpus).

usage: python3 conformance/generate/gen_cases.py   (rewrites the case files; review with git diff,
then check them against the references with tools/conform --impl mmengine --impl mmcv)
"""
import json
import os
import shlex
import subprocess
import sys
from importlib.machinery import SourceFileLoader
import importlib.util

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "conformance", "cases")
_loader = SourceFileLoader("trace_tool", os.path.join(ROOT, "tools", "trace"))
_spec = importlib.util.spec_from_loader("trace_tool", _loader)
tr_mod = importlib.util.module_from_spec(_spec)
_loader.exec_module(tr_mod)

WD = "work_dirs/exp"
CASES = []


def trace(args, case=False):
    """Events (or a case) from tools/trace."""
    argv = [sys.executable, os.path.join(ROOT, "tools", "trace")] + shlex.split(args)
    if case:
        argv.append("--case")
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def ev(hook, epoch=None, it=None, batch_idx=None, metrics=None):
    e = {"hook": hook}
    if epoch is not None:
        e["epoch"] = epoch
    if it is not None:
        e["iter"] = it
    if batch_idx is not None:
        e["batch_idx"] = batch_idx
    if metrics is not None:
        e["metrics"] = metrics
    return e


def epochs(E, L=2, iters=False, metrics=None, extra=""):
    """mmengine epoch loop events; metrics: 'acc=..' spec or None (no val)."""
    a = "--max-epochs %d --iters-per-epoch %d %s" % (E, L, extra)
    if not iters:
        a += " --omit after_train_iter"
    if metrics is None:
        a += " --no-val"
    else:
        a += " --metrics %s" % shlex.quote(metrics)
    return trace(a)


def iters(N, metrics=None, val_interval=None, extra=""):
    a = "--loop iter --max-iters %d %s" % (N, extra)
    if metrics is None:
        a += " --no-val"
    else:
        a += " --metrics %s" % shlex.quote(metrics)
        if val_interval:
            a += " --val-interval %d" % val_interval
    return trace(a)


def mmcv_epochs(E, L=2, iters=False, extra=""):
    a = "--profile mmcv --max-epochs %d --iters-per-epoch %d %s" % (E, L, extra)
    if not iters:
        a += " --omit after_train_iter"
    return trace(a)


def mmcv_iters(N, L=1000, extra=""):
    return trace("--profile mmcv --loop iter --max-iters %d --iters-per-epoch %d %s"
                 % (N, L, extra))


def runner(kind="epoch", E=None, N=None, L=2, work_dir=WD, meta=None, **kw):
    r = {"kind": kind, "work_dir": work_dir}
    if kind == "epoch":
        r["max_epochs"] = E
        r["max_iters"] = N if N is not None else E * L
    else:
        r["max_epochs"] = E if E is not None else 1
        r["max_iters"] = N
    if meta is not None:
        r["meta"] = meta
    return r


def case(cid, desc, hook, run, events, runtime_info=None, files=None,
         profile=None):
    profile = profile or cid.split("/")[0]
    run = dict(run)
    if profile == "mmcv" and run["kind"] == "iter":
        run.pop("max_epochs", None)
    c = {"id": cid, "profile": profile, "description": desc, "hook": hook,
         "runner": run}
    if runtime_info is not None:
        c["runtime_info"] = runtime_info
    if files is not None:
        c["files"] = files
    c["events"] = events
    assert len(events) <= 45, (cid, len(events))
    CASES.append(c)


def me(name, *a, **k):
    case("mmengine/" + name, *a, **k)


def mc(name, *a, **k):
    case("mmcv/" + name, *a, **k)


def f(*names, d=WD):
    return ["%s/%s" % (d, n) for n in names]


BT = ev("before_train")
BR = ev("before_run")

# ===================================================================== E1-E2
me("E1-defaults-save-last-only",
   "Defaults (E1): interval=-1 never saves periodically, by_epoch ignores after_train_iter, save_last saves epoch_3 at the final epoch with save_optimizer/save_param_scheduler true.",
   {}, runner(E=3), epochs(3, iters=True))
me("E1-extra-kwarg-meta-TypeError",
   "Extra kwargs are forwarded to every periodic save (E1): an extra 'meta' collides with the hook's own meta keyword: TypeError at the first save.",
   {"interval": 1, "meta": {"note": "x"}}, runner(E=2), epochs(2))
me("E1-backend-args-empty-object",
   "backend_args={} is accepted and passed through; saves proceed normally.",
   {"interval": 1, "backend_args": {}}, runner(E=2), epochs(2))
me("E2-default-tmpl-by-iter",
   "filename_tmpl=None with by_epoch=False becomes iter_{}.pth (E2): iter_2, iter_4 and the last iter_5.",
   {"interval": 2, "by_epoch": False}, runner("iter", N=5), iters(5))
me("E2-custom-tmpl",
   "A given filename_tmpl is used as is (E2): ckpt_e1.pth, ckpt_e2.pth.",
   {"interval": 1, "filename_tmpl": "ckpt_e{}.pth"}, runner(E=2), epochs(2))
me("E2-tmpl-null-is-default",
   "filename_tmpl=null explicitly is the default (iter_{}.pth for by_epoch=False).",
   {"interval": 3, "by_epoch": False, "filename_tmpl": None}, runner("iter", N=4), iters(4))

# ===================================================================== E3
me("E3-file-client-args-and-backend-args-ValueError",
   "file_client_args and backend_args both set: ValueError at construction (E3).",
   {"file_client_args": {"backend": "disk"}, "backend_args": {"backend": "local"}},
   runner(E=2), epochs(2))
me("E3-file-client-args-disk-works",
   "file_client_args={'backend': 'disk'} only warns (E3); the FileClient does the retention deletes.",
   {"interval": 1, "max_keep_ckpts": 1, "file_client_args": {"backend": "disk"}},
   runner(E=3), epochs(3))
me("E3-file-client-args-int-TypeError",
   "file_client_args=5 passes construction; FileClient.infer_client(**5) raises TypeError in before_train.",
   {"interval": 1, "file_client_args": 5}, runner(E=2), epochs(2))
me("E3-file-client-args-local-ValueError",
   "mmengine's FileClient knows 'disk', not 'local': file_client_args={'backend': 'local'} raises ValueError in before_train.",
   {"interval": 1, "file_client_args": {"backend": "local"}}, runner(E=2), epochs(2))

# ===================================================================== E4
for name, val, desc in [
    ("E4-save-best-int-AssertionError", 1, "save_best=1 is not a str/list/None: AssertionError at construction (E4)."),
    ("E4-save-best-bool-AssertionError", True, "save_best=true is not a str/list/None: AssertionError at construction (E4)."),
    ("E4-save-best-object-AssertionError", {"acc": "greater"}, "save_best as a JSON object: AssertionError at construction (E4)."),
    ("E4-save-best-list-non-str-AssertionError", ["acc", 1], "save_best list with a non-str element: AssertionError (E4)."),
    ("E4-save-best-auto-in-list-AssertionError", ["auto", "acc"], "A save_best list holding 'auto' must have length 1: AssertionError (E4)."),
    ("E4-save-best-duplicates-AssertionError", ["acc", "acc"], "Duplicate save_best keys: AssertionError (E4)."),
    ("E4-save-best-empty-string-ValueError", "", "save_best='' becomes [''], whose rule cannot be inferred: ValueError at construction (E4, E10)."),
]:
    me(name, desc, {"interval": 1, "save_best": val}, runner(E=1),
       epochs(1, metrics="acc=0.5"))
me("E4-save-best-empty-list-never-saves-best",
   "save_best=[] passes validation and silently never saves a best checkpoint (E4).",
   {"interval": 1, "save_best": []}, runner(E=2), epochs(2, metrics="acc=0.5,0.7"))
me("E4-save-best-auto-list",
   "save_best=['auto'] behaves as 'auto' (E4, E34).",
   {"save_best": ["auto"]}, runner(E=2), epochs(2, metrics="acc=0.5,0.7;loss=1,0.5"))

# ===================================================================== E5
me("E5-rule-list-without-save-best-TypeError",
   "Quirk (E5): a list rule with save_best=None takes len(None): TypeError at construction.",
   {"rule": ["greater"]}, runner(E=1), epochs(1))
me("E5-invalid-rule-without-save-best-accepted",
   "Quirk (E5): an invalid rule string with save_best=None is accepted silently; training proceeds.",
   {"interval": 1, "rule": "bigger"}, runner(E=2), epochs(2, metrics="acc=0.5,0.6"))
me("E5-rule-list-length-mismatch-AssertionError",
   "A rule list must have length 1 or len(save_best): AssertionError (E5).",
   {"save_best": ["acc", "loss"], "rule": ["greater", "less", "less"]}, runner(E=1), epochs(1))
me("E5-rule-int-AssertionError",
   "rule=1 is not a str/list/None: AssertionError (E5).",
   {"save_best": "acc", "rule": 1}, runner(E=1), epochs(1))
me("E5-rule-list-with-null-AssertionError",
   "rule=[null] is not a list of str: AssertionError (E5).",
   {"save_best": "acc", "rule": [None]}, runner(E=1), epochs(1))
me("E5-rule-list-one-broadcast",
   "A one-element rule list is broadcast to every key (E5, E10): both acc and mIoU use 'less', so falling values win.",
   {"save_best": ["acc", "mIoU"], "rule": ["less"]}, runner(E=3),
   epochs(3, metrics="acc=0.5,0.4,0.6;mIoU=0.5,0.6,0.3"))
me("E5-rule-list-per-key",
   "rule list of len(save_best) pairs rules with keys in order (E5).",
   {"save_best": ["score", "err"], "rule": ["greater", "less"]}, runner(E=3),
   epochs(3, metrics="score=1,2,1.5;err=3,4,2"))

# ===================================================================== E6
me("E6-save-begin-negative-ValueError",
   "save_begin < 0: ValueError at construction (E6; its message reads {save_begin} literally).",
   {"interval": 1, "save_begin": -1}, runner(E=1), epochs(1))
me("E6-save-begin-string-TypeError",
   "save_begin='1' cannot be compared with 0: TypeError at construction.",
   {"interval": 1, "save_begin": "1"}, runner(E=1), epochs(1))
me("E6-save-begin-null-TypeError",
   "save_begin=null cannot be compared with 0: TypeError at construction.",
   {"interval": 1, "save_begin": None}, runner(E=1), epochs(1))

# ===================================================================== E7
me("E7-greater-keys-string-wrapped",
   "greater_keys='score' (not a list) is wrapped into a one-tuple (E7); 'val_score' contains it, so greater wins.",
   {"save_best": "val_score", "greater_keys": "score"}, runner(E=3),
   epochs(3, metrics="val_score=0.5,0.4,0.6"))
me("E7-greater-keys-replace-defaults-ValueError",
   "greater_keys replaces the defaults (E7): 'acc' is no longer inferable: ValueError at construction (E10).",
   {"save_best": "acc", "greater_keys": ["score"]}, runner(E=1), epochs(1))
me("E7-less-keys-non-str-AssertionError",
   "less_keys=[1]: bare AssertionError at construction (E7).",
   {"less_keys": [1]}, runner(E=1), epochs(1))
me("E7-greater-keys-object-AssertionError",
   "greater_keys as a JSON object is wrapped into a one-tuple holding a dict: AssertionError (E7).",
   {"greater_keys": {"acc": 1}}, runner(E=1), epochs(1))
me("E7-less-keys-string-infers-less",
   "less_keys='err' is wrapped (E7); 'err_rate' contains it and no greater key, so less wins.",
   {"save_best": "err_rate", "less_keys": "err"}, runner(E=3),
   epochs(3, metrics="err_rate=0.5,0.6,0.4"))

# ===================================================================== E8
me("E8-published-keys-int-TypeError",
   "published_keys=1: TypeError at construction (E8).",
   {"published_keys": 1}, runner(E=1), epochs(1))
me("E8-published-keys-object-TypeError",
   "published_keys as a JSON object is not a sequence of str: TypeError (E8).",
   {"published_keys": {"meta": True}}, runner(E=1), epochs(1))
me("E8-published-keys-mixed-TypeError",
   "published_keys=['meta', 1]: TypeError (E8).",
   {"published_keys": ["meta", 1]}, runner(E=1), epochs(1))
me("E8-published-keys-duplicates-AssertionError",
   "Duplicate published_keys: AssertionError (E8).",
   {"published_keys": ["meta", "meta"]}, runner(E=1), epochs(1))
me("E8-published-keys-string-becomes-list",
   "published_keys='state_dict' becomes ['state_dict'] (E8); after_train publishes epoch_2-<sha8>.pth.",
   {"interval": 1, "published_keys": "state_dict"}, runner(E=2), epochs(2))

# ===================================================================== E9/E10
me("E10-infer-rules-substring-and-case",
   "Rule inference (E10): acc_loss -> greater, Val/LOSS -> less, coco/bbox_mAP -> greater; several keys give best_score_<key>/best_ckpt_<key> with slashes kept (E9, E30).",
   {"save_best": ["acc_loss", "Val/LOSS", "coco/bbox_mAP"]}, runner(E=2),
   epochs(2, metrics="acc_loss=0.5,0.6;Val/LOSS=0.5,0.6;coco/bbox_mAP=0.5,0.4"))
me("E10-uninferable-key-ValueError",
   "save_best='mse' matches no greater/less key: ValueError at construction (E10).",
   {"save_best": "mse"}, runner(E=1), epochs(1))
me("E10-invalid-rule-KeyError",
   "rule='bigger' with save_best set: KeyError at construction (E10).",
   {"save_best": "acc", "rule": "bigger"}, runner(E=1), epochs(1))
me("E10-case-insensitive-exact-less",
   "'LOSS' matches 'loss' case-insensitively: less (E10).",
   {"save_best": "LOSS"}, runner(E=3), epochs(3, metrics="LOSS=0.5,0.6,0.4"))
me("E9-multi-key-best-maps",
   "Several keys: per-key best paths (E9); a key that never improved has no runtime info keys.",
   {"save_best": ["acc", "loss"]}, runner(E=2),
   epochs(2, metrics="acc=0.5,0.7;loss=null,null"))

# ===================================================================== E11-E13
me("E12-out-dir-appends-basename",
   "out_dir='ckpts' differs from work_dir, so checkpoints go to ckpts/exp (E12); last_checkpoint stays in work_dir (E27).",
   {"interval": 1, "out_dir": "ckpts"}, runner(E=2), epochs(2))
me("E12-out-dir-equal-work-dir",
   "out_dir spelled exactly as work_dir: no basename appended (E12).",
   {"interval": 1, "out_dir": WD}, runner(E=2), epochs(2))
me("E12-work-dir-trailing-slash",
   "work_dir with a trailing slash: basename is taken after rstrip (E12): ckpts/exp.",
   {"interval": 1, "out_dir": "ckpts"}, runner(E=2, work_dir=WD + "/"), epochs(2))
me("E12-work-dir-trailing-slash-default-out-dir",
   "out_dir=None takes work_dir verbatim, trailing slash included (E12).",
   {"interval": 1}, runner(E=2, work_dir=WD + "/"), epochs(2))
me("E13-out-dir-trailing-slash",
   "Quirk (E13): out_dir equal to work_dir but with a trailing slash still gets the basename: work_dirs/exp/exp.",
   {"interval": 1, "out_dir": WD + "/"}, runner(E=2), epochs(2))
me("E13-out-dir-empty-string",
   "Quirk (E13): out_dir='' (the sandbox root) becomes <root>/exp.",
   {"interval": 1, "out_dir": ""}, runner(E=2), epochs(2))
me("E13-before-train-twice-appends-twice",
   "Quirk (E13): before_train twice with out_dir set appends the basename twice: ckpts/exp/exp.",
   {"interval": 1, "out_dir": "ckpts"}, runner(E=2), [BT] + epochs(2))
me("E13-before-train-twice-default-out-dir",
   "before_train twice with out_dir=None: out_dir equals work_dir, nothing appended (E12, E13).",
   {"interval": 1}, runner(E=2), [BT] + epochs(2))
me("E12-out-dir-int-AssertionError",
   "out_dir=5 (not a path): the file backend lookup fails with AssertionError in before_train.",
   {"interval": 1, "out_dir": 5}, runner(E=1), epochs(1))
me("E12-out-dir-false-AssertionError",
   "out_dir=false is not None, so it is used as a path: AssertionError in before_train.",
   {"interval": 1, "out_dir": False}, runner(E=1), epochs(1))
me("E12-out-dir-list-AssertionError",
   "out_dir=[] is not None: AssertionError in before_train.",
   {"interval": 1, "out_dir": []}, runner(E=1), epochs(1))

# ===================================================================== E15/E16
me("E15-restore-best-ckpt-single",
   "One key: best_ckpt and best_score are restored from runtime info (E15); a better score removes the old best file.",
   {"save_best": "acc"}, runner(E=4),
   [BT, ev("after_train_epoch", 2, 6), ev("after_val_epoch", 3, 6, metrics={"acc": 0.7}),
    ev("after_train_epoch", 3, 8), ev("after_val_epoch", 4, 8, metrics={"acc": 0.9})],
   runtime_info={"best_score": 0.8, "best_ckpt": WD + "/best_acc_epoch_2.pth"},
   files=f("best_acc_epoch_2.pth"))
me("E15-restore-best-ckpt-multi",
   "Several keys: best_ckpt_<key> restored per key, absent keys start with none (E15).",
   {"save_best": ["acc", "loss"]}, runner(E=3),
   [BT, ev("after_train_epoch", 2, 6), ev("after_val_epoch", 3, 6, metrics={"acc": 0.9, "loss": 0.3})],
   runtime_info={"best_score_acc": 0.8, "best_ckpt_acc": WD + "/best_acc_epoch_2.pth"},
   files=f("best_acc_epoch_2.pth"))
me("E16-resume-trims-oldest",
   "Resume trimming (E16): keep_ckpt_ids [1,2,3,4] with max_keep_ckpts=2 deletes epoch_1 and epoch_2 in before_train.",
   {"interval": 1, "max_keep_ckpts": 2}, runner(E=6),
   [BT, ev("after_train_epoch", 4, 10), ev("after_train_epoch", 5, 12)],
   runtime_info={"keep_ckpt_ids": [1, 2, 3, 4]},
   files=f("epoch_1.pth", "epoch_2.pth", "epoch_3.pth", "epoch_4.pth"))
me("E16-resume-trim-directory",
   "Resume trimming removes a directory checkpoint as a tree (E16).",
   {"interval": 1, "max_keep_ckpts": 1}, runner(E=4),
   [BT, ev("after_train_epoch", 2, 6)],
   runtime_info={"keep_ckpt_ids": [1, 2]},
   files=f("epoch_1.pth/", "epoch_1.pth/model.bin", "epoch_2.pth"))
me("E16-resume-trim-missing-file",
   "Resume trimming skips a missing file (E16) and still drops its id.",
   {"interval": 1, "max_keep_ckpts": 1}, runner(E=4),
   [BT, ev("after_train_epoch", 2, 6)],
   runtime_info={"keep_ckpt_ids": [1, 2]}, files=f("epoch_2.pth"))
me("E16-resume-trim-uses-current-template",
   "Trimmed paths are rebuilt from the current template (E16): ckpt_1.pth goes, epoch_1.pth of an older template stays.",
   {"interval": 1, "max_keep_ckpts": 1, "filename_tmpl": "ckpt_{}.pth"}, runner(E=4),
   [BT], runtime_info={"keep_ckpt_ids": [1, 2]},
   files=f("epoch_1.pth", "ckpt_1.pth", "ckpt_2.pth"))
me("E16-resume-trim-uses-current-out-dir",
   "Trimmed paths are rebuilt from the current out_dir (ckpts/exp) (E16).",
   {"interval": 1, "max_keep_ckpts": 1, "out_dir": "ckpts"}, runner(E=4),
   [BT, ev("after_train_epoch", 2, 6)], runtime_info={"keep_ckpt_ids": [1, 2]},
   files=f("epoch_1.pth", "epoch_2.pth") + f("epoch_1.pth", "epoch_2.pth", d="ckpts/exp"))
me("E16-resume-no-trim-when-unlimited",
   "max_keep_ckpts=-1: resumed keep_ckpt_ids are neither trimmed nor updated (E16, E20).",
   {"interval": 1}, runner(E=4), [BT, ev("after_train_epoch", 3, 8)],
   runtime_info={"keep_ckpt_ids": [1, 2, 3]},
   files=f("epoch_1.pth", "epoch_2.pth", "epoch_3.pth"))
me("E16-resume-without-keep-ids",
   "No keep_ckpt_ids in runtime info: the deque starts empty and pre-existing files are not managed (E16).",
   {"interval": 1, "max_keep_ckpts": 1}, runner(E=5),
   [BT, ev("after_train_epoch", 2, 6), ev("after_train_epoch", 3, 8)],
   files=f("epoch_1.pth", "epoch_2.pth"))
me("E16-resume-then-evict",
   "Resumed keep_ckpt_ids [3,4] fill the deque (E16); the next save evicts epoch_3 (E24).",
   {"interval": 1, "max_keep_ckpts": 2}, runner(E=6),
   [BT, ev("after_train_epoch", 4, 10), ev("after_train_epoch", 5, 12)],
   runtime_info={"keep_ckpt_ids": [3, 4]}, files=f("epoch_3.pth", "epoch_4.pth"))
me("E16-max-keep-string-TypeError",
   "max_keep_ckpts='2' constructs fine; '2' > 0 raises TypeError in before_train.",
   {"interval": 1, "max_keep_ckpts": "2"}, runner(E=1), epochs(1))
me("E16-max-keep-float-TypeError",
   "max_keep_ckpts=2.0 passes > 0 but deque(maxlen=2.0) raises TypeError in before_train.",
   {"interval": 1, "max_keep_ckpts": 2.0}, runner(E=2), epochs(2))
me("E16-max-keep-null-TypeError",
   "max_keep_ckpts=null: None > 0 raises TypeError in before_train.",
   {"interval": 1, "max_keep_ckpts": None}, runner(E=1), epochs(1))
me("E16-max-keep-true-keeps-one",
   "max_keep_ckpts=true acts as 1 (bool is int): one checkpoint kept.",
   {"interval": 1, "max_keep_ckpts": True}, runner(E=3), epochs(3))

# ===================================================================== E17-E21
me("E17-interval-3-with-last",
   "by epoch, interval 3 over 7 epochs: epoch_3, epoch_6 and the last epoch_7 (E17, E21).",
   {"interval": 3}, runner(E=7), epochs(7))
me("E17-interval-string-TypeError",
   "interval='2' constructs fine; the schedule's n > 0 raises TypeError at the first after_train_epoch.",
   {"interval": "2"}, runner(E=2), epochs(2))
me("E17-interval-null-TypeError",
   "interval=null: TypeError at the first after_train_epoch.",
   {"interval": None}, runner(E=2), epochs(2))
me("E17-interval-list-TypeError",
   "interval=[2]: TypeError at the first after_train_epoch.",
   {"interval": [2]}, runner(E=2), epochs(2))
me("E17-interval-float-works",
   "interval=2.0 works like 2 ((e+1) % 2.0 == 0).",
   {"interval": 2.0}, runner(E=5), epochs(5))
me("E17-interval-true-every-epoch",
   "interval=true acts as 1: every epoch is saved.",
   {"interval": True}, runner(E=3), epochs(3))
me("E17-by-epoch-string-truthy",
   "by_epoch='no' is truthy: epoch mode and epoch_{}.pth; the runner receives by_epoch='no' verbatim (E26).",
   {"interval": 1, "by_epoch": "no"}, runner(E=2), epochs(2, iters=True))
me("E18-by-iter-interval",
   "by_epoch=False (E18): saves on after_train_iter at iter+1 = 3, 6 and the last 8; after_train_epoch is ignored.",
   {"interval": 3, "by_epoch": False}, runner(E=2, L=4), epochs(2, L=4, iters=True))
me("E18-by-epoch-zero-iter-mode",
   "by_epoch=0 is falsy: iteration mode with iter_{}.pth; the runner receives by_epoch=0.",
   {"interval": 2, "by_epoch": 0}, runner("iter", N=4), iters(4))
me("E18-by-epoch-null-iter-mode",
   "by_epoch=null is falsy: iteration mode; the runner receives by_epoch=null.",
   {"interval": 2, "by_epoch": None}, runner("iter", N=4), iters(4))
me("E19-save-begin-epoch",
   "interval 2, save_begin 3 (E19): epochs 3, 5, 7 and the last 8.",
   {"interval": 2, "save_begin": 3}, runner(E=8), epochs(8))
me("E19-save-begin-beyond-end-only-last",
   "save_begin does not gate save_last (E19): save_begin=10 over 4 epochs saves only epoch_4.",
   {"interval": 1, "save_begin": 10}, runner(E=4), epochs(4))
me("E19-save-begin-iter",
   "by iteration, interval 2, save_begin 3 (E19): iter_3, iter_5, iter_7 and the last iter_8.",
   {"interval": 2, "save_begin": 3, "by_epoch": False}, runner("iter", N=8), iters(8))
me("E19-save-begin-does-not-gate-best",
   "save_begin does not gate best saves (E19): best_acc_epoch_1 is saved although no periodic save happened yet.",
   {"interval": 1, "save_begin": 10, "save_best": "acc"}, runner(E=3),
   epochs(3, metrics="acc=0.5,0.6,0.4"))
me("E19-save-begin-float-never-matches",
   "save_begin=1.5: (e+1-1.5) % 1 is never 0, so only the last epoch is saved.",
   {"interval": 1, "save_begin": 1.5}, runner(E=3), epochs(3))
me("E19-save-begin-true-is-one",
   "save_begin=true acts as 1.",
   {"interval": 2, "save_begin": True}, runner(E=4), epochs(4))
me("E19-save-begin-float-integral",
   "save_begin=2.0 works like 2: epochs 2, 4 and the last 5.",
   {"interval": 2, "save_begin": 2.0}, runner(E=5), epochs(5))
me("E20-interval-zero-only-last",
   "interval=0 never triggers a periodic save and is no error (E20).",
   {"interval": 0}, runner(E=3), epochs(3))
me("E20-interval-negative-only-last",
   "interval=-5 never triggers a periodic save (E20).",
   {"interval": -5, "by_epoch": False}, runner("iter", N=4), iters(4))
me("E20-max-keep-zero-unlimited",
   "max_keep_ckpts=0 means unlimited; no keep_ckpt_ids is stored (E20, E30).",
   {"interval": 1, "max_keep_ckpts": 0}, runner(E=3), epochs(3))
me("E20-max-keep-negative-unlimited",
   "max_keep_ckpts=-3 means unlimited (E20).",
   {"interval": 1, "max_keep_ckpts": -3}, runner(E=3), epochs(3))
me("E21-save-last-needs-exact-final-epoch",
   "save_last needs epoch+1 == max_epochs exactly (E21): epochs 3 and 5 with max_epochs=5 save nothing.",
   {}, runner(E=5), [BT, ev("after_train_epoch", 3, 8), ev("after_train_epoch", 5, 12)])
me("E21-save-last-false",
   "save_last=False: the final epoch 3 is not saved off-interval (E21).",
   {"interval": 2, "save_last": False}, runner(E=3), epochs(3))
me("E21-save-last-by-iter",
   "by iteration, save_last fires at iter+1 == max_iters only (E21).",
   {"by_epoch": False}, runner("iter", N=4), iters(4))
me("E21-save-last-string-truthy",
   "save_last='no' is truthy: the last epoch is saved.",
   {"save_last": "no"}, runner(E=2), epochs(2))
me("E21-save-last-null-falsy",
   "save_last=null is falsy: nothing is saved.",
   {"save_last": None}, runner(E=2), epochs(2))

# ===================================================================== E23-E28
me("E23-meta-by-epoch",
   "By epoch the step is epoch+1 and meta {epoch: epoch+1, iter: iter} (E23).",
   {"interval": 1}, runner(E=2, L=3), epochs(2, L=3))
me("E23-meta-by-iter-in-epoch-loop",
   "By iteration the step is iter+1 and meta {epoch: epoch, iter: iter+1} (E23), epoch as the loop reads it.",
   {"interval": 2, "by_epoch": False}, runner(E=2, L=3), epochs(2, L=3, iters=True))
me("E24-evict-before-save",
   "max_keep_ckpts=2 (E24): once the deque is full the oldest id is popped and its file removed, then the step appended; keep_ckpt_ids is stored as a list (the before-the-save order shows in B61-no-placeholder-deletes-current).",
   {"interval": 1, "max_keep_ckpts": 2}, runner(E=4), epochs(4))
me("E24-evicted-directory-rmtree",
   "An evicted checkpoint that is a directory is removed as a tree (E24).",
   {"interval": 1, "max_keep_ckpts": 2}, runner(E=4),
   [BT, ev("after_train_epoch", 2, 6)], runtime_info={"keep_ckpt_ids": [1, 2]},
   files=f("epoch_1.pth/", "epoch_1.pth/shard_0.bin", "epoch_2.pth"))
me("E24-evicted-missing-skipped",
   "An evicted checkpoint that no longer exists is skipped silently (E24).",
   {"interval": 1, "max_keep_ckpts": 2}, runner(E=4),
   [BT, ev("after_train_epoch", 2, 6)], runtime_info={"keep_ckpt_ids": [1, 2]},
   files=f("epoch_2.pth"))
me("E26-save-flags-passthrough",
   "save_optimizer/save_param_scheduler are passed to the runner as given (E26).",
   {"interval": 1, "save_optimizer": False, "save_param_scheduler": False}, runner(E=2), epochs(2))
me("E26-save-optimizer-odd-types-passthrough",
   "save_optimizer='no' and save_param_scheduler=0 reach the runner verbatim (E26).",
   {"interval": 1, "save_optimizer": "no", "save_param_scheduler": 0}, runner(E=1), epochs(1))
me("E27-last-checkpoint-in-work-dir",
   "last_checkpoint is written into work_dir with the full last_ckpt path, also when out_dir differs (E25, E27).",
   {"interval": 1, "out_dir": "ckpts"}, runner(E=2), epochs(2))
me("E27-no-last-checkpoint-for-best-only",
   "Best saves do not write last_checkpoint (E27): with no periodic save there is no last_checkpoint file.",
   {"save_last": False, "save_best": "acc"}, runner(E=2), epochs(2, metrics="acc=0.5,0.6"))
me("E28-save-onto-directory-fails",
   "The save itself fails when its target is a directory: the runner's error (IsADirectoryError) surfaces at that event (E28).",
   {"interval": 1}, runner(E=2), epochs(2), files=f("epoch_2.pth/"))
me("E28-evicts-before-failing-save",
   "max_keep_ckpts=1 and a save that fails (its target is a directory): the previous checkpoint is already deleted and runtime info already names the file that was never written (E24, E28); failed_step (protocol 1.1) shows it.",
   {"interval": 1, "max_keep_ckpts": 1}, runner(E=3), epochs(3), files=f("epoch_2.pth/"))

# ===================================================================== E31-E34
me("E31-empty-metrics-noop",
   "Empty metrics: a warning and nothing else (E31).",
   {"interval": 1, "save_best": "acc"}, runner(E=2), epochs(2, metrics="acc=-,-"))
me("E31-no-save-best-ignores-metrics",
   "save_best=None: after_val_epoch does nothing (E31).",
   {"interval": 1}, runner(E=2), epochs(2, metrics="acc=0.5,0.7"))
me("E32-standalone-val-single-key-AttributeError",
   "Quirk (E32): a validation without before_train crashes; with one key the file backend is missing: AttributeError.",
   {"save_best": "acc"}, runner(E=1), [ev("after_val_epoch", 0, 0, metrics={"acc": 0.5})])
me("E32-standalone-val-multi-key-KeyError",
   "Quirk (E32): a validation without before_train with several keys: KeyError.",
   {"save_best": ["acc", "loss"]}, runner(E=1),
   [ev("after_val_epoch", 0, 0, metrics={"acc": 0.5, "loss": 1.0})])
me("E32-standalone-val-empty-metrics-ok",
   "A standalone validation with empty metrics only warns (E31 before E32).",
   {"save_best": "acc"}, runner(E=1), [ev("after_val_epoch", 0, 0, metrics={})])
me("E33-best-name-no-plus-one",
   "Best names use runner.epoch without +1 (E33): best_acc_epoch_2.pth pairs with epoch_2.pth; meta {epoch, iter} as read.",
   {"interval": 1, "save_best": "acc"}, runner(E=2, L=3), epochs(2, L=3, metrics="acc=0.5,0.7"))
me("E33-best-name-by-iter",
   "By iteration the best name uses runner.iter (E33): best_acc_iter_2.pth.",
   {"interval": 2, "by_epoch": False, "save_best": "acc"}, runner("iter", N=4),
   iters(4, metrics="acc=0.5,0.4", val_interval=2))
me("E34-auto-first-key",
   "save_best='auto' resolves to the first metrics key (E34): loss, rule less.",
   {"save_best": "auto"}, runner(E=3), epochs(3, metrics="loss=1,0.5,0.7;acc=0.5,0.6,0.9"))
me("E34-auto-resolves-once",
   "auto resolves once (E34): a later validation whose first key differs still tracks acc.",
   {"save_best": "auto"}, runner(E=2),
   [BT, ev("after_train_epoch", 0, 2), ev("after_val_epoch", 1, 2, metrics={"acc": 0.5, "loss": 1.0}),
    ev("after_train_epoch", 1, 4), ev("after_val_epoch", 2, 4, metrics={"loss": 0.1, "acc": 0.6})])
me("E34-auto-uninferable-ValueError",
   "auto with an uninferable first key raises ValueError at that validation (E34).",
   {"save_best": "auto"}, runner(E=2), epochs(2, metrics="mse=0.5,0.4;acc=0.1,0.2"))
me("E34-auto-after-empty-metrics",
   "Empty metrics do not resolve auto (E31, E34); the first non-empty ones do.",
   {"save_best": "auto"}, runner(E=2), epochs(2, metrics="acc=-,0.5;loss=-,1"))
me("E34-auto-with-rule-less",
   "auto with rule='less' applies less to the resolved key (E34, E10).",
   {"save_best": "auto", "rule": "less"}, runner(E=3), epochs(3, metrics="acc=0.5,0.7,0.3"))

# ===================================================================== E35-E36
me("E35-missing-key-KeyError",
   "A save_best key missing from non-empty metrics: KeyError (E35).",
   {"save_best": "acc"}, runner(E=1), epochs(1, metrics="loss=0.5"))
me("E35-null-score-skipped",
   "A null score is skipped (E35).",
   {"save_best": "acc"}, runner(E=3), epochs(3, metrics="acc=null,0.5,null"))
me("E35-nan-never-wins",
   "NaN never wins (E35), neither first nor after a real score.",
   {"save_best": "acc"}, runner(E=3), epochs(3, metrics="acc=NaN,0.5,NaN"))
me("E35-tie-does-not-win",
   "Ties are not strictly better (E35).",
   {"save_best": "acc"}, runner(E=3), epochs(3, metrics="acc=0.5,0.5,0.5"))
me("E35-int-and-float-scores",
   "An int score 1 and a later float 1.0 tie (E35); 2 wins.",
   {"save_best": "acc"}, runner(E=3), epochs(3, metrics="acc=1,1.0,2"))
me("E35-infinity-wins",
   "'Infinity' beats the -inf start and then nothing beats it (E35); best_score is stored as Infinity.",
   {"save_best": "acc"}, runner(E=2), epochs(2, metrics="acc=Infinity,0.9"))
me("E35-less-negative-infinity",
   "Rule less: -Infinity wins and stays best (E35).",
   {"save_best": "loss"}, runner(E=2), epochs(2, metrics="loss=-Infinity,0.1"))
me("E35-previous-best-removed",
   "On a win the previous best file is removed first (E35).",
   {"save_best": "acc"}, runner(E=3), epochs(3, metrics="acc=0.5,0.7,0.9"))
me("E35-previous-best-directory-removed",
   "A previous best that is a directory is removed as a tree (E35).",
   {"save_best": "acc"}, runner(E=3),
   [BT, ev("after_train_epoch", 2, 6), ev("after_val_epoch", 3, 6, metrics={"acc": 0.9})],
   runtime_info={"best_score": 0.5, "best_ckpt": WD + "/best_acc_epoch_2.pth"},
   files=f("best_acc_epoch_2.pth/", "best_acc_epoch_2.pth/part.bin"))
me("E35-previous-best-missing",
   "A previous best path that does not exist is skipped (E35).",
   {"save_best": "acc"}, runner(E=3),
   [BT, ev("after_train_epoch", 2, 6), ev("after_val_epoch", 3, 6, metrics={"acc": 0.9})],
   runtime_info={"best_score": 0.5, "best_ckpt": WD + "/best_acc_epoch_2.pth"})
me("E35-resumed-best-score-not-beaten",
   "The best score restored from runtime info must be beaten (E35).",
   {"save_best": "acc"}, runner(E=3),
   [BT, ev("after_train_epoch", 2, 6), ev("after_val_epoch", 3, 6, metrics={"acc": 0.8})],
   runtime_info={"best_score": 0.9, "best_ckpt": WD + "/best_acc_epoch_2.pth"},
   files=f("best_acc_epoch_2.pth"))
me("E35-slash-in-key-single",
   "Slashes in the key are replaced by _ in the name (E35), best_ckpt/best_score keys are metric-agnostic.",
   {"save_best": "coco/bbox_mAP"}, runner(E=2), epochs(2, metrics="coco/bbox_mAP=0.3,0.4"))
me("E35-multi-key-slash-runtime-keys",
   "Several keys: runtime keys keep the raw key with slashes (E30), file names replace them (E35).",
   {"save_best": ["coco/bbox_mAP", "val/loss"]}, runner(E=2),
   epochs(2, metrics="coco/bbox_mAP=0.3,0.2;val/loss=1,0.5"))
me("E35-slash-in-template",
   "Every / in the whole best name is replaced (E35): template 'ckpt/{}.pth' gives best_acc_ckpt_1.pth, while periodic saves go to ckpt/1.pth.",
   {"interval": 1, "save_best": "acc", "filename_tmpl": "ckpt/{}.pth"}, runner(E=1),
   epochs(1, metrics="acc=0.5"), files=f("ckpt/"))
me("E36-best-save-flags",
   "Best saves pass save_optimizer=False, save_param_scheduler=False, by_epoch=False (E36).",
   {"save_best": "acc", "save_last": False}, runner(E=1), epochs(1, metrics="acc=0.5"))
me("E36-best-save-ignores-extra-kwargs",
   "Best saves pass no extra kwargs (E36): create_symlink does not fail a best save; the last periodic save then raises TypeError (E43).",
   {"save_best": "acc", "create_symlink": True}, runner(E=2), epochs(2, metrics="acc=0.5,0.6"))

# ===================================================================== E37-E38, E40
me("E37-resave-after-best",
   "After a win, the periodic save runs again at runner.epoch with the best meta (E37); same step as the last id, so retention does nothing.",
   {"interval": 1, "max_keep_ckpts": 2, "save_best": "acc"}, runner(E=3),
   epochs(3, metrics="acc=0.5,0.7,0.6"))
me("E37-no-resave-before-periodic",
   "No periodic save yet (last_ckpt None): a win saves only the best file (E37).",
   {"interval": 3, "save_best": "acc"}, runner(E=4), epochs(4, metrics="acc=0.5,0.6,0.7,0.8"))
me("E37-resave-off-interval",
   "The re-save ignores interval (E37): epoch_4 appears with interval 3 after a win at epoch 4.",
   {"interval": 3, "save_best": "acc"}, runner(E=5), epochs(5, metrics="acc=0.5,0.4,0.3,0.6,0.5"))
me("E37-resave-by-iter",
   "By iteration the re-save uses step runner.iter (E37, E33).",
   {"interval": 2, "by_epoch": False, "save_best": "acc", "max_keep_ckpts": 2},
   runner("iter", N=6), iters(6, metrics="acc=0.1,0.2,0.3,0.4,0.5,0.6", val_interval=1))
me("E37-resumed-last-ckpt-not-restored",
   "last_ckpt in runtime info does not count as this hook's periodic save (E37): no re-save after a win.",
   {"interval": 2, "save_best": "acc"}, runner(E=6),
   [BT, ev("after_train_epoch", 4, 10), ev("after_val_epoch", 5, 10, metrics={"acc": 0.9})],
   runtime_info={"last_ckpt": WD + "/epoch_4.pth"}, files=f("epoch_4.pth"))
e38 = trace("--max-epochs 11 --iters-per-epoch 2 --val-interval 1 --omit after_train_iter "
            "--metrics 'acc=0.1,0.2,0.3,0.4,0.5,0.45,0.4,0.35,0.3,0.25,0.2'")
me("E38-exact-scenario",
   "(trace) E38: interval 2, validation every epoch, max_keep_ckpts=2, best at epoch 5: off-interval epoch_3/epoch_5 enter retention; final files epoch_10, epoch_11, best_acc_epoch_5.",
   {"interval": 2, "max_keep_ckpts": 2, "save_best": "acc"}, runner(E=11), e38)
me("E40-metric-agnostic-best-score",
   "One-key names are metric-agnostic (E40): a run with save_best='loss' compares against the restored acc best_score 0.9, wins with 0.5 and removes best_acc_epoch_3.",
   {"save_best": "loss"}, runner(E=5),
   [BT, ev("after_train_epoch", 3, 8), ev("after_val_epoch", 4, 8, metrics={"loss": 0.5})],
   runtime_info={"best_score": 0.9, "best_ckpt": WD + "/best_acc_epoch_3.pth"},
   files=f("best_acc_epoch_3.pth"))

# ===================================================================== E41-E43
me("E41-publish-last",
   "after_train publishes last_ckpt keeping only published_keys (E41, E42): epoch_2-<sha8>.pth.",
   {"interval": 1, "published_keys": ["meta", "state_dict"]}, runner(E=2), epochs(2))
me("E41-publish-none",
   "published_keys=None: after_train does nothing (E41).",
   {"interval": 1}, runner(E=2), epochs(2))
me("E41-publish-last-and-best",
   "Publishing order: last, then the single best path (E41).",
   {"interval": 1, "save_best": "acc", "published_keys": ["state_dict"]}, runner(E=2),
   epochs(2, metrics="acc=0.5,0.4"))
me("E41-publish-multi-key-best",
   "Publishing per-key best paths (E41).",
   {"save_last": False, "save_best": ["acc", "loss"], "published_keys": "meta"}, runner(E=2),
   epochs(2, metrics="acc=0.5,0.6;loss=1,2"))
me("E41-never-improved-TypeError",
   "Quirk (E41): with several keys, a key that never improved publishes None: TypeError in after_train.",
   {"interval": 1, "save_best": ["acc", "loss"], "published_keys": ["meta"]}, runner(E=2),
   epochs(2, metrics="acc=0.5,0.6;loss=null,null"))
me("E41-single-key-never-improved-skipped",
   "With one key that never improved, the best path is None and is skipped (E41).",
   {"interval": 1, "save_best": "acc", "published_keys": ["meta"]}, runner(E=2),
   epochs(2, metrics="acc=null,NaN"))
me("E41-save-last-false-skips-last",
   "save_last=False: the last periodic checkpoint is not published, the best one is (E41).",
   {"interval": 1, "save_last": False, "save_best": "acc", "published_keys": ["meta"]}, runner(E=2),
   epochs(2, metrics="acc=0.5,0.6"))
me("E41-publish-missing-best-FileNotFoundError",
   "A restored best path whose file is gone fails publishing with FileNotFoundError (E15, E41).",
   {"save_last": False, "save_best": "acc", "published_keys": ["meta"]}, runner(E=3),
   [BT, ev("after_train_epoch", 2, 6), ev("after_val_epoch", 3, 6, metrics={"acc": 0.1}),
    ev("after_train", 3, 6)],
   runtime_info={"best_score": 0.9, "best_ckpt": WD + "/best_acc_epoch_2.pth"})
me("E41-publish-empty-keys",
   "published_keys=[] publishes a checkpoint with every key dropped (E41).",
   {"interval": 1, "published_keys": []}, runner(E=1), epochs(1))
me("E41-publish-before-any-save",
   "published_keys set but nothing was saved: after_train does nothing (E41).",
   {"save_last": False, "published_keys": ["meta"]}, runner(E=2), epochs(2))
me("E42-published-not-retained",
   "Published files are never retained or deleted (E42, B62): later periodic saves with max_keep_ckpts=1 leave epoch_1-<sha8>.pth.",
   {"interval": 1, "max_keep_ckpts": 1, "published_keys": ["meta"]}, runner(E=3),
   [BT, ev("after_train_epoch", 0, 2), ev("after_train", 1, 2),
    ev("after_train_epoch", 1, 4), ev("after_train_epoch", 2, 6)])
me("E43-create-symlink-TypeError",
   "create_symlink is an mmcv argument (E43): construction works, the first periodic save raises TypeError.",
   {"interval": 1, "create_symlink": True}, runner(E=2), epochs(2))
me("E43-unknown-kwarg-by-iter-TypeError",
   "Any unknown kwarg reaches the runner (E43): TypeError at the first periodic save by iteration.",
   {"interval": 2, "by_epoch": False, "foo": 1}, runner("iter", N=4), iters(4))

# ===================================================================== B61-B62 (mmengine)
me("B61-no-placeholder-deletes-current",
   "Template without {} (B61): every save has the same name; retention deletes the current file before rewriting it.",
   {"interval": 1, "max_keep_ckpts": 1, "filename_tmpl": "ckpt.pth"}, runner(E=3), epochs(3))
me("B61-two-placeholders-IndexError",
   "Template with two {} (B61): IndexError at the first save.",
   {"interval": 1, "filename_tmpl": "e{}_{}.pth"}, runner(E=2), epochs(2))
me("B61-two-placeholders-after-keep-ids",
   "Two {} with max_keep_ckpts (B61): IndexError at the first save.",
   {"interval": 1, "max_keep_ckpts": 2, "filename_tmpl": "e{}_{}.pth"}, runner(E=2), epochs(2))
me("B61-format-spec-03d",
   "Format specs work (B61): epoch_001.pth; best name best_acc_epoch_001.pth; retention formats the same way.",
   {"interval": 1, "max_keep_ckpts": 1, "save_best": "acc", "filename_tmpl": "epoch_{:03d}.pth"},
   runner(E=2), epochs(2, metrics="acc=0.5,0.4"))
me("B61-named-field-KeyError",
   "A named field in the template (B61): KeyError at the first save.",
   {"interval": 1, "filename_tmpl": "epoch_{epoch}.pth"}, runner(E=2), epochs(2))
me("B61-tmpl-int-AttributeError",
   "filename_tmpl=5 is stored unchecked; formatting it fails with AttributeError at the first save.",
   {"interval": 1, "filename_tmpl": 5}, runner(E=2), epochs(2))
me("B61-named-field-best-KeyError",
   "A named field fails the best name too (B61): KeyError at the validation.",
   {"save_best": "acc", "filename_tmpl": "epoch_{epoch}.pth"}, runner(E=2),
   [BT, ev("after_val_epoch", 1, 2, metrics={"acc": 0.5})])
me("B62-best-files-not-retained",
   "Best files are never counted by retention (B62): best_acc_epoch_1 survives max_keep_ckpts=1.",
   {"interval": 1, "max_keep_ckpts": 1, "save_best": "acc"}, runner(E=4),
   epochs(4, metrics="acc=0.9,0.1,0.2,0.3"))
me("B62-foreign-files-untouched",
   "Files that do not match the template are never deleted (B62).",
   {"interval": 1, "max_keep_ckpts": 1}, runner(E=3), epochs(3),
   files=f("notes.txt", "epoch_x.pth", "latest.pth", "epoch_1.pth.bak"))
me("B60-interval-minus-one-never",
   "interval=-1 means never; save_last=False leaves nothing (B60).",
   {"interval": -1, "save_last": False}, runner(E=3), epochs(3))

# ===================================================================== mmengine traces
me("E37-trace-12-epochs-auto-keep-3",
   "(trace) EpochBasedTrainLoop, 12 epochs, validation every epoch with seeded acc; interval 1, max_keep_ckpts 3, save_best auto.",
   {"interval": 1, "max_keep_ckpts": 3, "save_best": "auto"}, runner(E=12, L=5),
   trace("--max-epochs 12 --iters-per-epoch 5 --val-interval 1 --metric-seed 7 --metric-keys acc,loss --omit after_train_iter"))
me("E18-trace-iter-loop-val-every-5",
   "(trace) IterBasedTrainLoop, 20 iterations, validation every 5; by iteration, interval 5, max_keep_ckpts 2, save_best acc.",
   {"interval": 5, "by_epoch": False, "max_keep_ckpts": 2, "save_best": "acc"}, runner("iter", N=20),
   trace("--loop iter --max-iters 20 --val-interval 5 --metrics 'acc=0.3,0.5,0.4,0.6'"))
me("E19-trace-save-begin-val-interval-2",
   "(trace) 10 epochs, validation every 2 epochs from epoch 3; interval 2, save_begin 4.",
   {"interval": 2, "save_begin": 4, "save_best": "acc", "max_keep_ckpts": 2}, runner(E=10, L=4),
   trace("--max-epochs 10 --iters-per-epoch 4 --val-interval 2 --val-begin 3 --metrics 'acc=0.4,0.6,0.5,0.55' --omit after_train_iter"))
me("E16-trace-resume-at-epoch-6",
   "(trace) A run resumed at epoch 6 of 10 with keep_ckpt_ids [4,5,6] and a best checkpoint: trimming, eviction and best handling continue.",
   {"interval": 1, "max_keep_ckpts": 2, "save_best": "acc"}, runner(E=10, L=3),
   trace("--max-epochs 10 --iters-per-epoch 3 --resume-epoch 6 --metrics 'acc=0.7,0.85,0.8,0.9' --omit after_train_iter"),
   runtime_info={"keep_ckpt_ids": [4, 5, 6], "last_ckpt": WD + "/epoch_6.pth",
                 "best_score": 0.8, "best_ckpt": WD + "/best_acc_epoch_5.pth"},
   files=f("epoch_4.pth", "epoch_5.pth", "epoch_6.pth", "best_acc_epoch_5.pth", "last_checkpoint"))
me("E34-trace-auto-loss-first",
   "(trace) Evaluator reports loss first: save_best auto tracks loss with rule less.",
   {"interval": 2, "save_best": "auto"}, runner(E=6, L=2),
   trace("--max-epochs 6 --iters-per-epoch 2 --metric-seed 11 --metric-keys loss,acc --omit after_train_iter"))
me("E35-trace-multi-key-seeded",
   "(trace) Two keys tracked independently, seeded metrics, with publishing at the end.",
   {"interval": 3, "save_best": ["acc", "loss"], "published_keys": ["meta", "state_dict"]}, runner(E=8, L=2),
   trace("--max-epochs 8 --iters-per-epoch 2 --metric-seed 5 --metric-keys acc,loss --omit after_train_iter"))
me("E41-trace-iter-loop-publish",
   "(trace) IterBasedTrainLoop 12 iterations, validation every 4, by iteration; publishes last and best.",
   {"interval": 4, "by_epoch": False, "save_best": "mAP", "published_keys": ["state_dict"]}, runner("iter", N=12),
   trace("--loop iter --max-iters 12 --val-interval 4 --metrics 'mAP=0.2,0.3,0.25'"))
me("E17-trace-iter-loop-by-epoch-hook",
   "(trace) A by-epoch hook in an IterBasedTrainLoop: after_train_epoch fires once at the end with epoch 0 and max_epochs 1, so save_last writes epoch_1.pth; validations name best files epoch_0.",
   {"interval": 5, "save_best": "acc"}, runner("iter", N=10),
   trace("--loop iter --max-iters 10 --val-interval 5 --metrics 'acc=0.5,0.6'"))
me("E17-trace-dynamic-val-intervals",
   "(trace) val_interval 3 with dynamic_intervals [(4, 1)]: the loop switches to interval 1 once epoch+1 reaches 4 (bisect after the increment), so validations run at epochs 3..8; interval 2, max_keep 2, save_best acc.",
   {"interval": 2, "max_keep_ckpts": 2, "save_best": "acc"}, runner(E=8, L=2),
   trace("--max-epochs 8 --iters-per-epoch 2 --val-interval 3 --dynamic-intervals 4:1 --metrics 'acc=0.5,0.6,0.55,0.7,0.65,0.6' --omit after_train_iter"))
me("E21-trace-early-stop",
   "(trace) stop_training after 3 of 6 epochs (EarlyStoppingHook): the loop calls after_train but save_last never fires (E21).",
   {"interval": 2, "save_best": "acc"}, runner(E=6, L=2),
   trace("--max-epochs 6 --iters-per-epoch 2 --stop-after 3 --metrics 'acc=0.5,0.6,0.55' --omit after_train_iter"))
me("E24-trace-iter-loop-keep-3",
   "(trace) IterBasedTrainLoop 30 iterations, interval 4, max_keep_ckpts 3, no validation: rolling window plus last iter_30.",
   {"interval": 4, "by_epoch": False, "max_keep_ckpts": 3}, runner("iter", N=30),
   trace("--loop iter --max-iters 30 --no-val"))

# ===================================================================== mmcv
mc("C46-defaults-save-last-only",
   "mmcv defaults (C46): interval -1, only the last epoch is saved, with latest.pth (C48) and save_optimizer true.",
   {}, runner(E=3), mmcv_epochs(3, iters=True))
mc("C46-unknown-kwarg-TypeError",
   "No validation (C46): an unknown kwarg travels to save_checkpoint: TypeError at the first save.",
   {"interval": 1, "foo": 1}, runner(E=2), mmcv_epochs(2))
mc("C46-save-begin-unknown-TypeError",
   "mmcv has no save_begin (C46, C49): it reaches save_checkpoint and raises TypeError.",
   {"interval": 1, "save_begin": 2}, runner(E=2), mmcv_epochs(2))
mc("C59-save-best-unknown-TypeError",
   "Best checkpoints are not this hook's job (C59): save_best reaches save_checkpoint: TypeError.",
   {"interval": 1, "save_best": "acc"}, runner(E=2), mmcv_epochs(2))
mc("C46-interval-string-TypeError",
   "interval='2' is not validated (C46): TypeError at the first after_train_epoch.",
   {"interval": "2"}, runner(E=2), mmcv_epochs(2))
mc("C46-interval-null-TypeError",
   "interval=null: TypeError at the first after_train_epoch.",
   {"interval": None}, runner(E=2), mmcv_epochs(2))
mc("C46-max-keep-string-TypeError-after-save",
   "max_keep_ckpts='2' fails only after the first save was written and hook_msgs set (C51 order): TypeError.",
   {"interval": 1, "max_keep_ckpts": "2"}, runner(E=2, meta={}), mmcv_epochs(2))
mc("C46-by-epoch-string-truthy",
   "by_epoch='no' is truthy: epoch mode.",
   {"interval": 1, "by_epoch": "no"}, runner(E=2), mmcv_epochs(2, iters=True))
mc("C46-save-last-null-falsy",
   "save_last=null is falsy: nothing saved.",
   {"save_last": None}, runner(E=2), mmcv_epochs(2))
mc("C46-filename-tmpl-kwarg",
   "filename_tmpl travels to the runner (C46, C51): ckpt_1.pth, and hook_msgs uses it too.",
   {"interval": 1, "filename_tmpl": "ckpt_{}.pth"}, runner(E=2, meta={}), mmcv_epochs(2))
mc("C46-meta-kwarg-mutated-across-saves",
   "meta travels to the runner, which mutates it in place (C46, C55): the second save passes the dict updated by the first (epoch, iter, mmcv_version, time).",
   {"interval": 1, "meta": {"note": "x"}}, runner(E=3), mmcv_epochs(3))
mc("C47-out-dir-none-uses-work-dir",
   "out_dir=None uses work_dir (C47).",
   {"interval": 1}, runner(E=2), mmcv_epochs(2))
mc("C47-out-dir-appends-basename",
   "out_dir='ckpts' becomes ckpts/exp (C47); latest.pth is created there.",
   {"interval": 1, "out_dir": "ckpts"}, runner(E=2, meta={}), mmcv_epochs(2))
mc("C47-out-dir-empty-string",
   "out_dir='' reaches the hook as the sandbox root plus '/', which is truthy: <root>/exp.",
   {"interval": 1, "out_dir": ""}, runner(E=2), mmcv_epochs(2))
mc("C47-out-dir-false-uses-work-dir",
   "A falsy out_dir (false) falls back to work_dir (C47).",
   {"interval": 1, "out_dir": False}, runner(E=2), mmcv_epochs(2))
mc("C47-out-dir-zero-uses-work-dir",
   "A falsy out_dir (0) falls back to work_dir (C47).",
   {"interval": 1, "out_dir": 0}, runner(E=2), mmcv_epochs(2))
mc("C47-out-dir-trailing-slash",
   "out_dir equal to work_dir plus '/' still gets the basename (C47 as E13): work_dirs/exp/exp.",
   {"interval": 1, "out_dir": WD + "/"}, runner(E=2), mmcv_epochs(2))
mc("C48-create-symlink-default",
   "create_symlink absent: the local backend allows symlinks, latest.pth -> epoch_N.pth (C48, C56).",
   {"interval": 1}, runner(E=2), mmcv_epochs(2))
mc("C48-create-symlink-false",
   "create_symlink=False: no latest.pth (C48).",
   {"interval": 1, "create_symlink": False}, runner(E=2), mmcv_epochs(2))
mc("C48-create-symlink-string-truthy",
   "create_symlink='no' is passed verbatim and is truthy: latest.pth is created.",
   {"interval": 1, "create_symlink": "no"}, runner(E=1), mmcv_epochs(1))
mc("C48-create-symlink-zero",
   "create_symlink=0 is falsy: no latest.pth; the runner receives 0.",
   {"interval": 1, "create_symlink": 0}, runner(E=1), mmcv_epochs(1))
mc("C49-epoch-interval-2",
   "by epoch (C49): (epoch+1) % 2 == 0 plus the last epoch: 2, 4, 5.",
   {"interval": 2}, runner(E=5), mmcv_epochs(5))
mc("C49-iter-runner-interval-3",
   "IterBasedRunner, by iteration (C49, C57): iter_3, iter_6 and the last iter_7.",
   {"interval": 3, "by_epoch": False}, runner("iter", N=7), mmcv_iters(7))
mc("C49-save-last-needs-exact",
   "save_last needs epoch+1 == max_epochs exactly (C49).",
   {}, runner(E=5), [BR, ev("after_train_epoch", 2, 6), ev("after_train_epoch", 5, 12)])
mc("C49-interval-float-works",
   "interval=2.0 works for the trigger ((epoch+1) % 2.0 == 0) without retention.",
   {"interval": 2.0}, runner(E=4), mmcv_epochs(4))
mc("C49-interval-true-every-epoch",
   "interval=true acts as 1.",
   {"interval": True}, runner(E=2), mmcv_epochs(2))
mc("C49-no-save-begin-offset",
   "No start offset in mmcv (C49): interval 3 saves 3 and 6, last 7.",
   {"interval": 3}, runner(E=7), mmcv_epochs(7))
mc("C50-sync-buffer-single-process",
   "sync_buffer=True with one process: the all-reduce is a no-op; saves as usual (C50).",
   {"interval": 1, "sync_buffer": True}, runner(E=2), mmcv_epochs(2))
mc("C51-hook-msgs-last-ckpt",
   "runner.meta set: hook_msgs.last_ckpt is set after each save (C51).",
   {"interval": 1}, runner(E=2, meta={"exp_name": "exp"}), mmcv_epochs(2))
mc("C51-meta-none-no-hook-msgs",
   "runner.meta None: no hook_msgs (C51).",
   {"interval": 1}, runner(E=2), mmcv_epochs(2))
mc("C51-hook-msgs-iter-runner",
   "IterBasedRunner by iteration: hook_msgs.last_ckpt = iter_{iter+1} (C51).",
   {"interval": 2, "by_epoch": False}, runner("iter", N=4, meta={}), mmcv_iters(4))
mc("C52-basic-retention",
   "Retention after saving (C51, C52): interval 1, max_keep_ckpts 2 over 4 epochs keeps epoch_3, epoch_4.",
   {"interval": 1, "max_keep_ckpts": 2}, runner(E=4), mmcv_epochs(4))
mc("C52-stop-at-first-gap",
   "Retention stops at the first missing file (C52): the pre-existing epoch_1 survives the gap at epoch_2 and epoch_3.",
   {"interval": 1, "max_keep_ckpts": 2}, runner(E=6),
   [BR, ev("after_train_epoch", 3, 8), ev("after_train_epoch", 4, 10), ev("after_train_epoch", 5, 12)],
   files=f("epoch_1.pth"))
mc("C52-directories-never-removed",
   "A directory at a retention path is not a file: the loop stops there (C52).",
   {"interval": 1, "max_keep_ckpts": 1}, runner(E=3),
   [BR, ev("after_train_epoch", 1, 4), ev("after_train_epoch", 2, 6)],
   files=f("epoch_1.pth/"))
mc("C52-pre-existing-run-removed",
   "Consecutive pre-existing files are all removed by one save (C52): epoch_1..3 go when epoch_4 is saved with max_keep_ckpts 1.",
   {"interval": 1, "max_keep_ckpts": 1}, runner(E=4),
   [BR, ev("after_train_epoch", 3, 8)], files=f("epoch_1.pth", "epoch_2.pth", "epoch_3.pth"))
mc("C52-interval-2-keep-2",
   "interval 2, max_keep_ckpts 2: range(current - 4, 0, -2) (C52).",
   {"interval": 2, "max_keep_ckpts": 2}, runner(E=8), mmcv_epochs(8))
mc("C52-float-interval-retention-TypeError",
   "interval=2.0 triggers, but retention's range() rejects floats: TypeError after the first save.",
   {"interval": 2.0, "max_keep_ckpts": 1}, runner(E=4), mmcv_epochs(4))
mc("C52-max-keep-float-TypeError",
   "max_keep_ckpts=2.0: range() rejects the float: TypeError after the first save.",
   {"interval": 1, "max_keep_ckpts": 2.0}, runner(E=2), mmcv_epochs(2))
mc("C52-max-keep-true-keeps-one",
   "max_keep_ckpts=true acts as 1.",
   {"interval": 1, "max_keep_ckpts": True}, runner(E=3), mmcv_epochs(3))
mc("C52-iter-runner-retention",
   "IterBasedRunner retention by iteration: interval 2, keep 2.",
   {"interval": 2, "by_epoch": False, "max_keep_ckpts": 2}, runner("iter", N=8), mmcv_iters(8))
mc("C52-custom-tmpl-retention",
   "Retention formats the filename_tmpl kwarg (C52).",
   {"interval": 1, "max_keep_ckpts": 1, "filename_tmpl": "ckpt_{}.pth"}, runner(E=3), mmcv_epochs(3))
mc("C53-off-grid-last-keeps-extra",
   "(trace) Off-grid last save (C53): interval 2, keep 2, 11 epochs ends with epoch_8, epoch_10, epoch_11.",
   {"interval": 2, "max_keep_ckpts": 2}, runner(E=11, L=3), mmcv_epochs(11, L=3))
mc("C53-interval-zero-ValueError",
   "interval=0 with save_last and max_keep_ckpts: range step 0 raises ValueError at the final save (C53).",
   {"interval": 0, "max_keep_ckpts": 2}, runner(E=3), mmcv_epochs(3))
mc("C53-interval-zero-without-retention",
   "interval=0 without retention: only the last save, no error (C53).",
   {"interval": 0}, runner(E=3), mmcv_epochs(3))
mc("C53-negative-interval-deletes-nothing",
   "A negative interval deletes nothing (C53): range(current + keep, 0, 1) is empty.",
   {"interval": -1, "max_keep_ckpts": 1}, runner(E=3),
   [BR, ev("after_train_epoch", 2, 6)], files=f("epoch_1.pth", "epoch_2.pth"))
mc("C54-iter-hook-on-epoch-runner",
   "Mismatch (C54): a by-iteration hook on EpochBasedRunner; the runner names epoch_{epoch+1}.pth (overwritten), hook_msgs and retention use iter_{}, nothing is deleted.",
   {"interval": 2, "by_epoch": False, "max_keep_ckpts": 1}, runner(E=2, L=3, meta={}),
   mmcv_epochs(2, L=3, iters=True))
mc("C54-epoch-hook-on-iter-runner-saves-nothing",
   "(trace) A by-epoch hook on IterBasedRunner: the runner never calls after_train_epoch, so nothing is saved (C54).",
   {"interval": 1}, runner("iter", N=6), mmcv_iters(6, L=3))
mc("C55-meta-non-dict-TypeError",
   "A non-dict meta kwarg: the runner raises TypeError (C55).",
   {"interval": 1, "meta": "x"}, runner(E=2), mmcv_epochs(2))
mc("C55-runner-meta-merged",
   "runner.meta is merged into the hook's meta dict (C55): the second save's meta shows exp_name and hook_msgs.",
   {"interval": 1, "meta": {}}, runner(E=3, meta={"exp_name": "exp"}), mmcv_epochs(3))
mc("C56-symlink-replaced-each-save",
   "latest.pth is a relative symlink replaced on every save (C56).",
   {"interval": 1}, runner(E=3), mmcv_epochs(3))
mc("C56-existing-latest-file-replaced",
   "A pre-existing regular latest.pth is replaced by the symlink (C56); not reported as removed.",
   {"interval": 1}, runner(E=1), mmcv_epochs(1), files=f("latest.pth"))
mc("C56-symlink-in-out-dir",
   "latest.pth is created in the final out_dir (C47, C56).",
   {"interval": 1, "out_dir": "ckpts"}, runner(E=2), mmcv_epochs(2))
mc("C57-iter-runner-meta-kwarg",
   "IterBasedRunner meta: epoch+1 and iter (not +1) (C57), seen through a meta kwarg the runner mutates in place.",
   {"interval": 2, "by_epoch": False, "meta": {}}, runner("iter", N=6), mmcv_iters(6, L=2))
mc("C58-hook-msgs-shared-lag",
   "The checkpoint's meta shares hook_msgs with the runner (C58): the meta passed at save N holds last_ckpt of save N-1.",
   {"interval": 1, "meta": {}}, runner(E=3, meta={}), mmcv_epochs(3))
mc("B61-no-placeholder-deletes-just-saved",
   "Template without {} in mmcv (B61): retention removes the file it has just written; latest.pth dangles.",
   {"interval": 1, "max_keep_ckpts": 1, "filename_tmpl": "ckpt.pth"}, runner(E=3), mmcv_epochs(3))
mc("B61-two-placeholders-IndexError",
   "Two {} (B61): IndexError at the first save.",
   {"interval": 1, "filename_tmpl": "e{}_{}.pth"}, runner(E=2), mmcv_epochs(2))
mc("B61-format-spec-03d",
   "Format spec (B61): epoch_001.pth, retention formats the same way.",
   {"interval": 1, "max_keep_ckpts": 1, "filename_tmpl": "epoch_{:03d}.pth"}, runner(E=3), mmcv_epochs(3))
mc("B61-named-field-KeyError",
   "Named field (B61): KeyError at the first save.",
   {"interval": 1, "filename_tmpl": "epoch_{epoch}.pth"}, runner(E=2), mmcv_epochs(2))
mc("B62-latest-not-retained",
   "latest.pth and foreign files are never deleted by retention (B62).",
   {"interval": 1, "max_keep_ckpts": 1}, runner(E=3), mmcv_epochs(3), files=f("notes.txt"))
mc("B60-max-keep-zero-unlimited",
   "max_keep_ckpts=0 means unlimited (B60).",
   {"interval": 1, "max_keep_ckpts": 0}, runner(E=3), mmcv_epochs(3))
mc("B60-interval-minus-one-never",
   "interval=-1 means never (B60); save_last=False leaves nothing.",
   {"interval": -1, "save_last": False}, runner(E=3), mmcv_epochs(3))
mc("C49-trace-epoch-runner-keep-2",
   "(trace) EpochBasedRunner 9 epochs x 3 iterations with every after_train_iter; interval 3, keep 2, runner meta.",
   {"interval": 3, "max_keep_ckpts": 2}, runner(E=9, L=3, meta={"exp_name": "exp"}),
   mmcv_epochs(9, L=3, iters=True))
mc("C57-trace-iter-runner-wrapping-loader",
   "(trace) IterBasedRunner 24 iterations over a loader of 5 batches (runner.epoch follows the IterLoader); interval 6, keep 2.",
   {"interval": 6, "by_epoch": False, "max_keep_ckpts": 2}, runner("iter", N=24, meta={}),
   mmcv_iters(24, L=5))

# ===================================================================== additions
me("E11-save-without-before-train-AttributeError",
   "Setup happens in before_train (E11): a periodic save without it has no file backend: AttributeError.",
   {"interval": 1}, runner(E=2), [ev("after_train_epoch", 0, 2)])
me("E3-backend-args-int-TypeError",
   "backend_args=5 is stored unchecked; the file backend lookup in before_train raises TypeError.",
   {"interval": 1, "backend_args": 5}, runner(E=1), epochs(1))
mc("C47-out-dir-int-AssertionError",
   "out_dir=5 is truthy and not a path: the FileClient lookup in before_run raises AssertionError.",
   {"interval": 1, "out_dir": 5}, runner(E=1), mmcv_epochs(1))
mc("C47-before-run-twice-appends-twice",
   "before_run twice with out_dir set appends the basename twice (C47 as E13): ckpts/exp/exp.",
   {"interval": 1, "out_dir": "ckpts"}, runner(E=1), [BR] + mmcv_epochs(1))
mc("B61-tmpl-int-AttributeError",
   "filename_tmpl=5 reaches the runner, whose format call fails: AttributeError at the first save.",
   {"interval": 1, "filename_tmpl": 5}, runner(E=1), mmcv_epochs(1))
mc("C46-file-client-args-int-TypeError",
   "file_client_args=5 is stored unchecked (C46); FileClient.infer_client(**5) raises TypeError in before_run.",
   {"interval": 1, "file_client_args": 5}, runner(E=1), mmcv_epochs(1))
mc("C46-save-optimizer-odd-passthrough",
   "save_optimizer='no' reaches the runner verbatim (truthy: the optimizer is saved).",
   {"interval": 1, "save_optimizer": "no"}, runner(E=1), mmcv_epochs(1))

me("E25-last-ckpt-with-out-dir-by-iter",
   "last_ckpt = join(out_dir, filename) is stored in runtime info (E25): ckpts/exp/iter_2.pth, also written to work_dir/last_checkpoint (E27).",
   {"interval": 2, "by_epoch": False, "out_dir": "ckpts"}, runner("iter", N=4), iters(4))
me("E30-runtime-keys-single-key",
   "Runtime info keys with one best key and retention (E30): keep_ckpt_ids (list of int), last_ckpt, best_score, best_ckpt.",
   {"interval": 1, "max_keep_ckpts": 2, "save_best": "acc"}, runner(E=2), epochs(2, metrics="acc=0.5,0.6"))


def main():
    ids = set()
    for c in CASES:
        assert c["id"] not in ids, c["id"]
        ids.add(c["id"])
    for sub in ("mmengine", "mmcv"):
        d = os.path.join(OUT, sub)
        os.makedirs(d, exist_ok=True)
        for name in os.listdir(d):
            if name.endswith(".json"):
                os.remove(os.path.join(d, name))
    for c in CASES:
        p = os.path.join(OUT, c["id"] + ".json")
        with open(p, "w") as fh:
            fh.write(tr_mod.dump_case(c))
    print(len(CASES), "cases")


main()
