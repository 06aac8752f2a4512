"""Conformance adapter for the real mmcv 1.x `CheckpointHook` (profile
"mmcv").

The hook and the runner's `save_checkpoint` are the installed, unmodified
reference: a real `EpochBasedRunner` / `IterBasedRunner` (by `runner.kind`)
is built with `work_dir=None` and then given the unnormalised
`os.path.join(S, work_dir)` (BaseRunner would apply `abspath`) and both
`_max_epochs` and `_max_iters` (its constructor accepts only one). Recording
wraps the runner's `save_checkpoint` (arguments as the hook passed them), the
`save_checkpoint` function the runner modules call (the formatted file path),
and the call that deletes old checkpoints (`removed`). `mmcv.runner.checkpoint`
gets a fixed clock so the `time` it writes into a hook-supplied `meta` reads
"<time>".

Any 1.x release from 1.2 on: where releases differ in something the adapter
relies on, a guard named after the clause it serves finds out which way the
installed one goes (`tools/adapter mmcv about` lists what they found).
"""
from __future__ import annotations

import copy
import inspect
import os
import sys

import common

PROG = 'tools/adapter mmcv'
FIXED_TIME = '<time>'
HOOK_SOURCE = 'mmcv/runner/hooks/checkpoint.py'


class _FixedClock:
    """`time` for mmcv.runner.checkpoint: asctime() is fixed, the rest real."""

    def __init__(self, real):
        self._real = real

    def asctime(self, *args):
        return FIXED_TIME

    def __getattr__(self, name):
        return getattr(self._real, name)


class _RecordingOs:
    """`os` as the hook module sees it, with a recording `remove`."""

    def __init__(self, real):
        self._real = real

    def remove(self, path, *args, **kwargs):
        result = self._real.remove(path, *args, **kwargs)
        common.recorder.removed.append(os.fspath(path))
        return result

    def __getattr__(self, name):
        return getattr(self._real, name)


def _file_name(out_dir, filepath: str) -> str:
    """Inverts the runner's `osp.join(out_dir, filename)`."""
    if not isinstance(out_dir, str) or out_dir == '':
        return filepath
    prefix = out_dir if out_dir.endswith('/') else out_dir + '/'
    return filepath[len(prefix):] if filepath.startswith(prefix) else filepath


def _uses_global(function, name: str) -> bool:
    """Whether `function` (under its decorators) names `name`."""
    return name in inspect.unwrap(function).__code__.co_names


def _import_mmcv():
    try:
        import mmcv  # noqa: F401
    except ModuleNotFoundError as e:
        if e.name == 'mmcv':
            raise common.StartupError(
                f'mmcv is not installed for {sys.executable}') from e
        raise
    import mmcv
    if not mmcv.__version__.startswith('1.'):
        raise common.StartupError(
            f'mmcv {mmcv.__version__} has no runner (the mmcv profile is '
            f'mmcv 1.x)')
    return mmcv


def load() -> common.Profile:
    """Imports the installed mmcv 1.x and returns the profile around it."""
    common.quiet_warnings()  # before the reference is imported: mmcv warns
    mmcv = _import_mmcv()
    import torch
    import mmcv.runner
    import mmcv.runner.checkpoint as checkpoint_module
    import mmcv.runner.epoch_based_runner as epoch_runner_module
    import mmcv.runner.hooks.checkpoint as hook_module
    import mmcv.runner.iter_based_runner as iter_runner_module
    from mmcv.fileio import FileClient
    from mmcv.runner import EpochBasedRunner, IterBasedRunner

    CheckpointHook = hook_module.CheckpointHook
    runners = {'epoch': EpochBasedRunner, 'iter': IterBasedRunner}
    features = {}

    # C55: the checkpoint's `time` (and the hook's mutated meta) read
    # "<time>" (docs/protocol-notes.md).
    checkpoint_module.time = _FixedClock(checkpoint_module.time)

    # C52 (`removed`): retention deletes through FileClient.remove from
    # mmcv 1.3 on; mmcv 1.2 has no FileClient.remove and the hook calls
    # os.remove itself. Whichever the installed hook does is recorded.
    save = CheckpointHook._save_checkpoint
    if hasattr(FileClient, 'remove') and not _uses_global(save, 'os'):
        features['C52 retention deletes with'] = 'FileClient.remove'
        original_remove = FileClient.remove

        def recording_remove(self, filepath, *args, **kwargs):
            result = original_remove(self, filepath, *args, **kwargs)
            common.recorder.removed.append(os.fspath(filepath))
            return result

        FileClient.remove = recording_remove
    elif _uses_global(save, 'os'):
        features['C52 retention deletes with'] = 'os.remove'
        hook_module.os = _RecordingOs(hook_module.os)
    else:
        raise common.StartupError(
            'cannot tell how this mmcv deletes old checkpoints (C52): '
            'no FileClient.remove and no os in the hook')

    # C55, C57: the file name as the runner formats it, recorded where the
    # runner modules call save_checkpoint.
    for module in (epoch_runner_module, iter_runner_module):
        original_save = module.save_checkpoint

        def recording_save(model, filename, *args, _original=original_save,
                           **kwargs):
            save = common.recorder.saves[-1]
            save['filename'] = _file_name(save['out_dir'], filename)
            return _original(model, filename, *args, **kwargs)

        module.save_checkpoint = recording_save

    def recording_save_method(runner):
        """`runner.save_checkpoint`, recording the hook's arguments on
        entry (C51, C55, C56)."""
        method = type(runner).save_checkpoint
        signature = inspect.signature(method)

        def save_checkpoint(*args, **kwargs):
            try:
                bound = signature.bind(runner, *args, **kwargs)
            except TypeError:
                return method(runner, *args, **kwargs)  # the real error
            bound.apply_defaults()
            arguments = bound.arguments
            common.recorder.saves.append({
                'out_dir': arguments['out_dir'],
                'filename': None,  # set when the runner writes the file
                'save_optimizer': arguments['save_optimizer'],
                'create_symlink': arguments['create_symlink'],
                'meta': copy.deepcopy(arguments['meta'])})
            return method(runner, *args, **kwargs)

        return save_checkpoint

    class TinyModel(torch.nn.Linear):
        """BaseRunner insists on `train_step`; it is never called here."""

        def __init__(self):
            super().__init__(2, 1)

        def train_step(self, *args, **kwargs):
            raise NotImplementedError

        def val_step(self, *args, **kwargs):
            raise NotImplementedError

    class MmcvSession(common.Session):

        def __init__(self, case, sandbox):
            meta = case.runner.meta
            if meta is not None and not isinstance(meta, dict):
                raise common.AdapterError(
                    f'runner.meta must be an object or null, got {meta!r}')
            model = TinyModel()
            runner = runners[case.runner.kind](
                model,
                optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                work_dir=None,
                logger=common.runner_logger('mmcv'),
                meta=meta)
            runner.work_dir = sandbox.path(case.runner.work_dir)
            runner._max_epochs = case.runner.max_epochs
            runner._max_iters = case.runner.max_iters
            runner.save_checkpoint = recording_save_method(runner)
            self.runner = runner
            self.kwargs = sandbox.hook_kwargs(case.hook)
            self.hook = None

        def construct(self):
            self.hook = CheckpointHook(**self.kwargs)

        def call(self, event):
            if event.epoch is not None:
                self.runner._epoch = event.epoch
            if event.iter is not None:
                self.runner._iter = event.iter
            getattr(self.hook, event.hook)(self.runner)

        def runtime_info(self):
            return {'meta': self.runner.meta}

    class MmcvProfile(common.Profile):
        name = 'mmcv'
        implementation = f'mmcv {mmcv.__version__}'

        def open(self, case, sandbox):
            return MmcvSession(case, sandbox)

        def sources(self):
            return {HOOK_SOURCE: hook_module.__file__,
                    'mmcv/runner/epoch_based_runner.py':
                        epoch_runner_module.__file__,
                    'mmcv/runner/iter_based_runner.py':
                        iter_runner_module.__file__,
                    'mmcv/runner/checkpoint.py': checkpoint_module.__file__}

    profile = MmcvProfile()
    profile.features = features
    return profile


if __name__ == '__main__':
    sys.exit(common.main(sys.argv[1:], load, PROG, 'mmcv',
                         'the installed mmcv 1.x CheckpointHook and runners'))
