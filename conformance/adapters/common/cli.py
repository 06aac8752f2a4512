"""The adapters' command line: `run`, `serve` (protocol section 1) and
`about` (this project's: the release under test and its hook source).

The reference is imported only after the arguments were read, through the
profile module's `load()`, so `--help` and usage errors never pay for the
import, and a reference that cannot be loaded is one line on stderr with
exit status 2, never a traceback.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import warnings
from typing import Callable, Optional

from .case import Case, loads, parse_case
from .errors import AdapterError, StartupError
from .running import Profile, dumps, execute, trace_if_asked

USAGE = """\
usage: {prog} run CASE.json [--sandbox DIR]
       {prog} serve [--sandbox DIR]
       {prog} about
       {prog} --help

Runs conformance cases (protocol 1.1) against {implementation}.
  run    one case; its observation is printed on stdout as one JSON line.
  serve  one case per stdin line, one observation per stdout line, until EOF.
  about  one JSON line: the installed release, torch, Python, the sha256 of
         the reference's hook source, and what the adapter's feature
         guards found in this release (each named after its clause).
--sandbox DIR  DIR is created and must be empty. run: the case runs in DIR
               itself; serve: the case on input line N runs in DIR/case-N.
               Both are kept. Without --sandbox a temporary directory is
               used and removed.
Exit status: 0 when the case ran (also when the reference raised: that is
the observation's `error`); 2 for a malformed case, an adapter fault or a
reference that cannot be loaded (not installed, fails at import), with a
one-line reason on stderr.
Set CKPT_ADAPTER_LOG=1 to see the reference's log lines on stderr.
"""


def quiet_warnings() -> None:
    """Call before importing the reference: mmcv warns on import."""
    warnings.simplefilter('ignore')


def one_line(exc: BaseException) -> str:
    """`Type: first line of the message`, for a start-up failure."""
    text = str(exc).strip().splitlines()
    return f'{type(exc).__name__}: {text[0]}' if text else type(exc).__name__


def start(load: Callable[[], Profile]) -> Profile:
    """Loads the reference; any failure becomes a StartupError."""
    try:
        return load()
    except StartupError:
        raise
    except (Exception, SystemExit) as e:  # noqa: BLE001 - whatever import does
        trace_if_asked()
        raise StartupError(f'cannot load the reference: {one_line(e)}') from e


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
            raise AdapterError(f'--sandbox {path}: not empty')
    except OSError as e:
        raise AdapterError(f'--sandbox {path}: {e}') from e
    return path


def _read_case(path: str):
    try:
        with open(path, encoding='utf-8') as f:
            return loads(f.read())
    except (OSError, ValueError) as e:
        raise AdapterError(f'cannot read case {path}: {e}') from e


def _run(case: Case, sandbox_dir: Optional[str], profile: Profile,
         out) -> None:
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
                trace_if_asked()
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
    if args == ['about'] and sandbox is None:
        return 'about', None, None
    raise AdapterError(f'bad arguments {argv!r} (see --help)')


def main(argv: list, load: Callable[[], Profile], prog: str, name: str,
         implementation: str) -> int:
    """The adapter's command line; returns the exit status. `load` imports
    the reference and returns its Profile (whose `name` is `name`). A case
    given to `run` is checked before the reference is loaded."""
    if argv and argv[0] in ('-h', '--help'):
        print(USAGE.format(prog=prog, implementation=implementation), end='')
        return 0
    out = _claim_stdout()
    try:
        command, path, sandbox = _parse_args(argv)
        case = parse_case(_read_case(path), name) if path else None
        profile = start(load)
        if command == 'about':
            out.write(json.dumps(profile.about()) + '\n')
            out.flush()
        elif command == 'run':
            _run(case, sandbox, profile, out)
        else:
            _serve(sandbox, profile, out)
        return 0
    except AdapterError as e:
        print(f'{prog}: {e}', file=sys.stderr)
        return 2
    except Exception as e:  # an adapter fault, never the reference's error
        trace_if_asked()
        print(f'{prog}: adapter fault: {type(e).__name__}: {e}',
              file=sys.stderr)
        return 2
