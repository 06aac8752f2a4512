"""Running a case against a reference and recording its observation
(protocol section 3, version 1.1: a failing event also gets `failed_step`).

A profile module supplies a `Profile`; the patches it installs on the
reference append to `recorder` while an event runs.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import traceback
from typing import Optional

from .case import Case, Event
from .sandbox import Sandbox


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
    """One reference, loaded. `features` maps each guard that adapts the
    adapter to the installed release (named after the clause it serves) to
    what it found; `accommodations` lists what was done to make the release
    load at all (empty for the current releases)."""
    name: str = ''
    implementation: str = ''

    def __init__(self):
        self.features: dict = {}
        self.accommodations: list = []

    def open(self, case: Case, sandbox: Sandbox) -> Session:
        """Adapter-side setup; its exceptions are adapter faults."""
        raise NotImplementedError

    def sources(self) -> dict:
        """{path inside the package: absolute file} of the reference's hook
        source (first) and of the other files whose code the profile runs."""
        raise NotImplementedError

    def about(self) -> dict:
        """What `ADAPTER about` prints: the release and its hook source."""
        import platform
        from importlib import metadata

        def version(name):
            try:
                return metadata.version(name)
            except Exception:  # noqa: BLE001 - absent or broken metadata
                return None

        hashes = {rel: file_sha256(path)
                  for rel, path in self.sources().items()}
        hook = next(iter(hashes.items()))
        return {
            'implementation': self.implementation,
            'reference': self.name,
            'version': version(self.name),
            'torch': version('torch'),
            'python': platform.python_version(),
            'executable': sys.executable,
            'hook_source': {'path': hook[0], 'sha256': hook[1]},
            'sources': hashes,
            'features': dict(self.features),
            'accommodations': list(self.accommodations),
        }


def file_sha256(path: str) -> str:
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


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


def _error(exc: BaseException, event: int, sandbox: Sandbox) -> dict:
    return {'type': type(exc).__name__, 'event': event,
            'message': sandbox.strip_all(str(exc))}


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


def trace_if_asked() -> None:
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
            trace_if_asked()
            observation['error'] = _error(e, -1, sandbox)
            return observation
        for index, event in enumerate(case.events):
            recorder.reset()
            try:
                session.call(event)
            except Exception as e:  # the reference's own error
                trace_if_asked()
                observation['error'] = _error(e, index, sandbox)
                # protocol 1.1: what the event did before it raised
                observation['failed_step'] = _observe(index, sandbox, session)
                break
            observation['steps'].append(_observe(index, sandbox, session))
        return observation
    finally:
        recorder.reset()
        os.chdir(cwd)


def dumps(observation: dict) -> str:
    return json.dumps(observation, allow_nan=False, separators=(',', ':'))
