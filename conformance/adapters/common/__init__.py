"""Shared plumbing of the Python reference adapters (conformance protocol
1.1), one module per part:

  errors    AdapterError (malformed case, adapter fault) and StartupError
            (the reference cannot be loaded): both exit status 2
  case      reading and validating a case
  sandbox   the sandbox directory: paths in and out, encoding, listing
  running   Recorder, Session, Profile; running a case into an observation
  cli       run / serve / about, and loading the reference safely

The adapters drive the real, unmodified reference hooks. Where the protocol
leaves a choice open they follow docs/protocol-notes.md. A profile module
(mmengine_adapter.py, mmcv_adapter.py) supplies a `load()` that imports its
reference and returns a `Profile`, whose patches append to `recorder`.
"""
from .case import NON_FINITE, PROFILE_EVENTS, Case, Event, Runner, loads, \
    parse_case
from .cli import main, one_line, quiet_warnings
from .errors import AdapterError, StartupError
from .running import Profile, Recorder, Session, dumps, execute, \
    file_sha256, recorder, runner_logger
from .sandbox import Sandbox

__all__ = [
    'NON_FINITE', 'PROFILE_EVENTS', 'Case', 'Event', 'Runner', 'loads',
    'parse_case', 'main', 'one_line', 'quiet_warnings', 'AdapterError',
    'StartupError', 'Profile', 'Recorder', 'Session', 'dumps', 'execute',
    'file_sha256', 'recorder', 'runner_logger', 'Sandbox',
]
