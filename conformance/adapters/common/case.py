"""Reading a case (protocol section 2) and rejecting malformed ones.

Values inside `hook` are the reference's to judge; everything else that is
off-protocol raises AdapterError, as docs/protocol-notes.md lists.
"""
from __future__ import annotations

import json
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Optional

from .errors import AdapterError

PROFILE_EVENTS = {
    'mmengine': ('before_train', 'after_train_iter', 'after_train_epoch',
                 'after_val_epoch', 'after_train'),
    'mmcv': ('before_run', 'after_train_iter', 'after_train_epoch',
             'after_run'),
}
NON_FINITE = {'NaN': math.nan, 'Infinity': math.inf, '-Infinity': -math.inf}


@dataclass
class Event:
    """One hook call. An absent `epoch` / `iter` (None) leaves the runner's
    previous value (0 before the first event); absent `batch_idx` is 0."""
    hook: str
    epoch: Optional[int]
    iter: Optional[int]
    batch_idx: Optional[int]
    metrics: Optional[OrderedDict]


@dataclass
class Runner:
    """`runner` of a case; an absent `kind` is "epoch"."""
    kind: str
    work_dir: str
    max_epochs: Optional[int]
    max_iters: Optional[int]
    meta: Any


@dataclass
class Case:
    id: Optional[str]
    profile: str
    hook: dict
    runner: Runner
    runtime_info: dict
    files: list
    events: list


def _reject_constant(name: str):
    raise ValueError(f'{name} is not JSON')


def loads(text: str) -> Any:
    """Strict JSON: bare NaN / Infinity literals are rejected."""
    return json.loads(text, parse_constant=_reject_constant)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_relative(what: str, path: Any, empty_ok: bool = False) -> str:
    if not isinstance(path, str) or path == '' and not empty_ok:
        raise AdapterError(f'{what} must be a non-empty string, got {path!r}')
    if path.startswith('/') or '\0' in path:
        raise AdapterError(f'{what} must be relative to the sandbox: {path!r}')
    if '..' in path.split('/'):
        raise AdapterError(f'{what} must stay inside the sandbox: {path!r}')
    return path


def _decode_metric(key: str, value: Any) -> Any:
    if value is None or isinstance(value, float) or _is_int(value):
        return value
    if isinstance(value, str) and value in NON_FINITE:
        return NON_FINITE[value]
    raise AdapterError(f'metric {key!r} must be a number, null, "NaN", '
                       f'"Infinity" or "-Infinity", got {value!r}')


def _parse_event(index: int, raw: Any, names: tuple) -> Event:
    where = f'events[{index}]'
    if not isinstance(raw, dict):
        raise AdapterError(f'{where} must be an object')
    hook = raw.get('hook')
    if hook not in names:
        raise AdapterError(
            f'{where}.hook {hook!r} is not one of {list(names)}')
    for name in ('epoch', 'iter', 'batch_idx'):
        if name in raw and not _is_int(raw[name]):
            raise AdapterError(f'{where}.{name} must be an integer, '
                               f'got {raw[name]!r}')
    metrics = None
    if hook == 'after_val_epoch':
        if not isinstance(raw.get('metrics'), dict):
            raise AdapterError(f'{where}.metrics must be an object')
        metrics = OrderedDict(
            (k, _decode_metric(k, v)) for k, v in raw['metrics'].items())
    return Event(hook, raw.get('epoch'), raw.get('iter'),
                 raw.get('batch_idx'), metrics)


def _parse_runner(raw: Any) -> Runner:
    if not isinstance(raw, dict):
        raise AdapterError('runner must be an object')
    kind = raw.get('kind', 'epoch')
    if kind not in ('epoch', 'iter'):
        raise AdapterError(f'runner.kind must be "epoch" or "iter", '
                           f'got {kind!r}')
    limits = {}
    for name in ('max_epochs', 'max_iters'):
        value = raw.get(name)
        if value is not None and not _is_int(value):
            raise AdapterError(f'runner.{name} must be an integer or null, '
                               f'got {value!r}')
        limits[name] = value
    work_dir = _check_relative('runner.work_dir', raw.get('work_dir'))
    return Runner(kind, work_dir, limits['max_epochs'], limits['max_iters'],
                  raw.get('meta'))


def parse_case(raw: Any, profile: str) -> Case:
    """Validates the case's shape; raises AdapterError when it is malformed.

    Values inside `hook` are not checked (the reference judges them), but
    for a string `out_dir`, which must not lead out of the sandbox.
    """
    if not isinstance(raw, dict):
        raise AdapterError('a case must be a JSON object')
    case_id = raw.get('id')
    if case_id is not None and not isinstance(case_id, str):
        raise AdapterError(f'id must be a string, got {case_id!r}')
    case_profile = raw.get('profile', 'mmengine')
    if case_profile == 'ckpt':
        raise AdapterError("profile 'ckpt' is ckpt's own (mmengine plus its "
                           "extensions, docs/spec/extensions.md): no reference "
                           "runs it")
    if case_profile not in PROFILE_EVENTS:
        raise AdapterError(f'unknown profile {case_profile!r}')
    if case_profile != profile:
        raise AdapterError(f'profile {case_profile!r} is run by the '
                           f'{case_profile} adapter, not the {profile} one')
    hook = raw.get('hook', {})
    if not isinstance(hook, dict):
        raise AdapterError('hook must be an object')
    if isinstance(hook.get('out_dir'), str):
        _check_relative('hook.out_dir', hook['out_dir'], empty_ok=True)
    runtime_info = raw.get('runtime_info', {})
    if not isinstance(runtime_info, dict):
        raise AdapterError('runtime_info must be an object')
    files = raw.get('files', [])
    if not isinstance(files, list):
        raise AdapterError('files must be a list')
    for i, entry in enumerate(files):
        _check_relative(f'files[{i}]', entry)
    events = raw.get('events')
    if not isinstance(events, list):
        raise AdapterError('events must be a list')
    names = PROFILE_EVENTS[profile]
    return Case(case_id, case_profile, hook, _parse_runner(raw.get('runner')),
                runtime_info, files,
                [_parse_event(i, e, names) for i, e in enumerate(events)])
