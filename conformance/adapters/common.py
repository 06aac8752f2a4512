"""Shared plumbing of the Python reference adapters (conformance protocol v1).

The adapters drive the real, unmodified reference hooks. This module owns what
both profiles share: reading and validating a case, the sandbox, recording and
encoding an observation, and the `run` / `serve` command line. Where the
protocol leaves a choice open it follows docs/protocol-notes.md.

A profile module supplies a `Profile` (see `Profile` below) whose patches of
the reference append to `recorder` while an event runs.
"""
from __future__ import annotations

import json
import logging
import math
import os
import shutil
import sys
import tempfile
import traceback
import warnings
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, Callable, Optional

PROFILE_EVENTS = {
    'mmengine': ('before_train', 'after_train_iter', 'after_train_epoch',
                 'after_val_epoch', 'after_train'),
    'mmcv': ('before_run', 'after_train_iter', 'after_train_epoch',
             'after_run'),
}
NON_FINITE = {'NaN': math.nan, 'Infinity': math.inf, '-Infinity': -math.inf}
USAGE = """\
usage: {prog} run CASE.json [--sandbox DIR]
       {prog} serve [--sandbox DIR]
       {prog} --help

Runs conformance cases (protocol v1) against {implementation}.
  run    one case; its observation is printed on stdout as one JSON line.
  serve  one case per stdin line, one observation per stdout line, until EOF.
--sandbox DIR  DIR is created and must be empty. run: the case runs in DIR
               itself; serve: the case on input line N runs in DIR/case-N.
               Both are kept. Without --sandbox a temporary directory is
               used and removed.
Exit status: 0 when the case ran (also when the reference raised: that is
the observation's `error`); 2 for a malformed case or an adapter fault,
with a one-line reason on stderr.
Set CKPT_ADAPTER_LOG=1 to see the reference's log lines on stderr.
"""


class AdapterError(Exception):
    """A malformed case or a fault of the adapter itself (exit status 2)."""


# --------------------------------------------------------------------------
# Case


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


# --------------------------------------------------------------------------
# Sandbox and encoding


class Sandbox:
    """The case's root directory S; maps paths and values in and out."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)

    def path(self, rel: str) -> str:
        """`os.path.join(S, rel)`, unnormalised (protocol-notes)."""
        return os.path.join(self.root, rel)

    def hook_kwargs(self, hook: dict) -> dict:
        """The hook's keyword arguments: a str `out_dir` joined onto S, any
        other value passed as is for the reference to judge."""
        kwargs = dict(hook)
        if isinstance(kwargs.get('out_dir'), str):
            kwargs['out_dir'] = self.path(kwargs['out_dir'])
        return kwargs

    def strip(self, text: str) -> str:
        if text == self.root:
            return ''
        if text.startswith(self.root + '/'):
            return text[len(self.root) + 1:]
        return text

    def encode(self, value: Any) -> Any:
        """A JSON-ready deep copy: S stripped, non-finite floats as strings."""
        if isinstance(value, str):
            return self.strip(value)
        if value is None or isinstance(value, (bool, int)):
            return value
        if isinstance(value, float):
            if math.isnan(value):
                return 'NaN'
            if math.isinf(value):
                return 'Infinity' if value > 0 else '-Infinity'
            return value
        if isinstance(value, dict):
            return {str(k): self.encode(v) for k, v in value.items()}
        if isinstance(value, (list, tuple, deque)):
            return [self.encode(v) for v in value]
        return self.strip(str(value))

    def populate(self, files: list, work_dir: str) -> None:
        """Creates the case's pre-existing `files`, then `work_dir`."""
        try:
            for entry in files:
                target = self.path(entry)
                if entry.endswith('/'):
                    os.makedirs(target, exist_ok=True)
                else:
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    with open(target, 'w'):
                        pass
            os.makedirs(self.path(work_dir), exist_ok=True)
        except OSError as e:
            raise AdapterError(f'cannot create the case files: {e}') from e

    def listing(self) -> tuple:
        """(`files`, `links`) of the whole sandbox; links are not followed."""
        files, links = [], {}

        def walk(directory: str, prefix: str) -> None:
            with os.scandir(directory) as it:
                for entry in it:
                    rel = prefix + entry.name
                    if entry.is_symlink():
                        links[rel] = self.strip(os.readlink(entry.path))
                    elif entry.is_dir(follow_symlinks=False):
                        files.append(rel + '/')
                        walk(entry.path, rel + '/')
                    else:
                        files.append(rel)

        walk(self.root, '')
        return sorted(files), dict(sorted(links.items()))


# --------------------------------------------------------------------------
# Recording and running


class Recorder:
    """What the current event did; the profiles' patches append to it."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.saves: list = []  # dicts of raw (unencoded) values
        self.removed: list = []  # absolute paths
        self.written: list = []  # absolute paths of text files written


recorder = Recorder()


class Session:
    """One case against one reference; made by `Profile.open`."""

    def construct(self) -> None:
        """Builds the hook (and runner); its exceptions are the reference's."""
        raise NotImplementedError

    def call(self, event: Event) -> None:
        """Sets the runner state from `event` and calls that hook method."""
        raise NotImplementedError

    def runtime_info(self) -> dict:
        """The raw runtime info to observe after an event."""
        raise NotImplementedError


class Profile:
    name: str = ''
    implementation: str = ''

    def open(self, case: Case, sandbox: Sandbox) -> Session:
        """Adapter-side setup; its exceptions are adapter faults."""
        raise NotImplementedError


def runner_logger(profile: str) -> logging.Logger:
    """The runner's `logger`: silent unless CKPT_ADAPTER_LOG is set."""
    logger = logging.getLogger(f'ckpt.adapter.{profile}')
    logger.propagate = False
    if not logger.handlers:
        if os.environ.get('CKPT_ADAPTER_LOG'):
            logger.addHandler(logging.StreamHandler(sys.stderr))
            logger.setLevel(logging.INFO)
        else:
            logger.addHandler(logging.NullHandler())
    return logger


def _error(exc: BaseException, event: int) -> dict:
    return {'type': type(exc).__name__, 'event': event, 'message': str(exc)}


def _read_text(path: str) -> Optional[str]:
    try:
        with open(path, encoding='utf-8', errors='surrogateescape') as f:
            return f.read()
    except OSError:
        return None


def _observe(index: int, sandbox: Sandbox, session: Session) -> dict:
    files, links = sandbox.listing()
    text = {}
    for path in dict.fromkeys(recorder.written):
        content = _read_text(path)
        if content is not None:
            text[sandbox.strip(path)] = sandbox.strip(content)
    return {
        'event': index,
        'saves': [sandbox.encode(s) for s in recorder.saves],
        'removed': sorted(sandbox.strip(p) for p in recorder.removed),
        'files': files,
        'links': links,
        'runtime_info': sandbox.encode(session.runtime_info()),
        'text': text,
    }


def _trace_if_asked() -> None:
    if os.environ.get('CKPT_ADAPTER_LOG'):
        traceback.print_exc(file=sys.stderr)


def execute(case: Case, profile: Profile, root: str) -> dict:
    """Runs `case` in the empty directory `root`; returns the observation."""
    sandbox = Sandbox(root)
    sandbox.populate(case.files, case.runner.work_dir)
    observation = {'id': case.id, 'implementation': profile.implementation,
                   'error': None, 'steps': []}
    cwd = os.getcwd()
    # Relative paths a reference might write to land in the sandbox too.
    os.chdir(sandbox.root)
    try:
        session = profile.open(case, sandbox)
        recorder.reset()
        try:
            session.construct()
        except Exception as e:  # the reference's own error
            _trace_if_asked()
            observation['error'] = _error(e, -1)
            return observation
        for index, event in enumerate(case.events):
            recorder.reset()
            try:
                session.call(event)
            except Exception as e:  # the reference's own error
                _trace_if_asked()
                observation['error'] = _error(e, index)
                break
            observation['steps'].append(_observe(index, sandbox, session))
        return observation
    finally:
        recorder.reset()
        os.chdir(cwd)


def dumps(observation: dict) -> str:
    return json.dumps(observation, allow_nan=False, separators=(',', ':'))


# --------------------------------------------------------------------------
# Command line


def quiet_warnings() -> None:
    """Call before importing the reference: mmcv warns on import."""
    warnings.simplefilter('ignore')


def _claim_stdout():
    """Returns a stream on the real stdout; fd 1 and sys.stdout go to stderr.

    mmengine's loggers print to stdout (and bind it when first created); the
    protocol needs stdout for observations only.
    """
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), 'w', encoding='utf-8')
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def _fresh_dir(path: str) -> str:
    path = os.path.abspath(path)
    try:
        os.makedirs(path, exist_ok=True)
        if os.listdir(path):
            raise AdapterError(f'sandbox {path} is not empty')
    except OSError as e:
        raise AdapterError(f'cannot use sandbox {path}: {e}') from e
    return path


def _run(path: str, sandbox_dir: Optional[str], profile: Profile,
         out) -> None:
    try:
        with open(path, encoding='utf-8') as f:
            raw = loads(f.read())
    except (OSError, ValueError) as e:
        raise AdapterError(f'cannot read case {path}: {e}') from e
    case = parse_case(raw, profile.name)
    root = _fresh_dir(sandbox_dir) if sandbox_dir else tempfile.mkdtemp(
        prefix='ckpt-sandbox-')
    try:
        observation = execute(case, profile, root)
    finally:
        if not sandbox_dir:
            shutil.rmtree(root, ignore_errors=True)
    out.write(dumps(observation) + '\n')
    out.flush()


def _serve(sandbox_dir: Optional[str], profile: Profile, out) -> None:
    parent = _fresh_dir(sandbox_dir) if sandbox_dir else tempfile.mkdtemp(
        prefix='ckpt-serve-')
    try:
        for number, line in enumerate(sys.stdin):
            if not line.strip():
                continue  # blank lines carry no case
            case_id = None
            try:
                raw = loads(line)
                if isinstance(raw, dict) and isinstance(raw.get('id'), str):
                    case_id = raw['id']
                case = parse_case(raw, profile.name)
                root = os.path.join(parent, f'case-{number}')
                os.mkdir(root)
                try:
                    observation = execute(case, profile, root)
                finally:
                    if not sandbox_dir:
                        shutil.rmtree(root, ignore_errors=True)
            except Exception as e:
                # serve must answer every line and keep going, so a malformed
                # case (or an adapter fault) becomes an observation with the
                # pseudo error type "AdapterError" at event -1. No reference
                # raises that type, so a comparison with it always fails.
                _trace_if_asked()
                reason = str(e) if isinstance(e, AdapterError) else \
                    f'adapter fault: {type(e).__name__}: {e}'
                print(f'{profile.name} adapter: line {number + 1}: {reason}',
                      file=sys.stderr)
                observation = {
                    'id': case_id, 'implementation': profile.implementation,
                    'error': {'type': 'AdapterError', 'event': -1,
                              'message': reason},
                    'steps': []}
            out.write(dumps(observation) + '\n')
            out.flush()
    finally:
        if not sandbox_dir:
            shutil.rmtree(parent, ignore_errors=True)


def _parse_args(argv: list) -> tuple:
    """(command, case path or None, sandbox or None); raises AdapterError."""
    args = list(argv)
    sandbox = None
    if '--sandbox' in args:
        at = args.index('--sandbox')
        if at + 1 >= len(args):
            raise AdapterError('--sandbox needs a directory')
        sandbox = args[at + 1]
        del args[at:at + 2]
    if args[:1] == ['run'] and len(args) == 2:
        return 'run', args[1], sandbox
    if args == ['serve']:
        return 'serve', None, sandbox
    raise AdapterError(f'bad arguments {argv!r} (see --help)')


def main(argv: list, make_profile: Callable[[], Profile], prog: str) -> int:
    """The adapter's command line; returns the exit status."""
    if argv and argv[0] in ('-h', '--help'):
        print(USAGE.format(prog=prog, implementation=make_profile()
                           .implementation), end='')
        return 0
    out = _claim_stdout()
    try:
        command, path, sandbox = _parse_args(argv)
        profile = make_profile()
        if command == 'run':
            _run(path, sandbox, profile, out)
        else:
            _serve(sandbox, profile, out)
        return 0
    except AdapterError as e:
        print(f'{prog}: {e}', file=sys.stderr)
        return 2
    except Exception as e:  # an adapter fault, never the reference's error
        _trace_if_asked()
        print(f'{prog}: adapter fault: {type(e).__name__}: {e}',
              file=sys.stderr)
        return 2
