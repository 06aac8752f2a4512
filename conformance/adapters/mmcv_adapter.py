"""Conformance adapter for the real mmcv 1.x `CheckpointHook` (profile
"mmcv").

The hook and the runner's `save_checkpoint` are the installed, unmodified
reference: a real `EpochBasedRunner` / `IterBasedRunner` (by `runner.kind`)
is built with `work_dir=None` and then given the unnormalised
`os.path.join(S, work_dir)` (BaseRunner would apply `abspath`) and both
`_max_epochs` and `_max_iters` (its constructor accepts only one). Recording
wraps the runner's `save_checkpoint` (arguments as the hook passed them), the
`save_checkpoint` function the runner modules call (the formatted file path),
and `FileClient.remove` (`removed`). `mmcv.runner.checkpoint` gets a fixed
clock so the `time` it writes into a hook-supplied `meta` reads "<time>".
"""
from __future__ import annotations

import copy
import inspect
import os
import sys

import common

common.quiet_warnings()  # before the reference is imported: mmcv warns

import torch  # noqa: E402
import mmcv  # noqa: E402
import mmcv.runner  # noqa: E402
import mmcv.runner.checkpoint as checkpoint_module  # noqa: E402
import mmcv.runner.epoch_based_runner as epoch_runner_module  # noqa: E402
import mmcv.runner.iter_based_runner as iter_runner_module  # noqa: E402
from mmcv.fileio import FileClient  # noqa: E402
from mmcv.runner import (CheckpointHook, EpochBasedRunner,  # noqa: E402
                         IterBasedRunner)

RUNNERS = {'epoch': EpochBasedRunner, 'iter': IterBasedRunner}
FIXED_TIME = '<time>'


class _FixedClock:
    """`time` for mmcv.runner.checkpoint: asctime() is fixed, the rest real."""

    def __init__(self, real):
        self._real = real

    def asctime(self, *args):
        return FIXED_TIME

    def __getattr__(self, name):
        return getattr(self._real, name)


def _file_name(out_dir, filepath: str) -> str:
    """Inverts the runner's `osp.join(out_dir, filename)`."""
    if not isinstance(out_dir, str) or out_dir == '':
        return filepath
    prefix = out_dir if out_dir.endswith('/') else out_dir + '/'
    return filepath[len(prefix):] if filepath.startswith(prefix) else filepath


def _install_recorders() -> None:
    checkpoint_module.time = _FixedClock(checkpoint_module.time)

    original_remove = FileClient.remove

    def recording_remove(self, filepath, *args, **kwargs):
        result = original_remove(self, filepath, *args, **kwargs)
        common.recorder.removed.append(os.fspath(filepath))
        return result

    FileClient.remove = recording_remove

    for module in (epoch_runner_module, iter_runner_module):
        original_save = module.save_checkpoint

        def recording_save(model, filename, *args, _original=original_save,
                           **kwargs):
            save = common.recorder.saves[-1]
            save['filename'] = _file_name(save['out_dir'], filename)
            return _original(model, filename, *args, **kwargs)

        module.save_checkpoint = recording_save


def _recording_save_method(runner):
    """`runner.save_checkpoint`, recording the hook's arguments on entry."""
    method = type(runner).save_checkpoint
    signature = inspect.signature(method)

    def save_checkpoint(*args, **kwargs):
        try:
            bound = signature.bind(runner, *args, **kwargs)
        except TypeError:
            return method(runner, *args, **kwargs)  # raises the real error
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

    def __init__(self, case: common.Case, sandbox: common.Sandbox):
        meta = case.runner.meta
        if meta is not None and not isinstance(meta, dict):
            raise common.AdapterError(
                f'runner.meta must be an object or null, got {meta!r}')
        model = TinyModel()
        runner = RUNNERS[case.runner.kind](
            model,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
            work_dir=None,
            logger=common.runner_logger('mmcv'),
            meta=meta)
        runner.work_dir = sandbox.path(case.runner.work_dir)
        runner._max_epochs = case.runner.max_epochs
        runner._max_iters = case.runner.max_iters
        runner.save_checkpoint = _recording_save_method(runner)
        self.runner = runner
        self.kwargs = sandbox.hook_kwargs(case.hook)
        self.hook = None

    def construct(self) -> None:
        self.hook = CheckpointHook(**self.kwargs)

    def call(self, event: common.Event) -> None:
        if event.epoch is not None:
            self.runner._epoch = event.epoch
        if event.iter is not None:
            self.runner._iter = event.iter
        getattr(self.hook, event.hook)(self.runner)

    def runtime_info(self) -> dict:
        return {'meta': self.runner.meta}


class MmcvProfile(common.Profile):
    name = 'mmcv'
    implementation = f'mmcv {mmcv.__version__}'

    def open(self, case, sandbox):
        return MmcvSession(case, sandbox)


_install_recorders()

if __name__ == '__main__':
    sys.exit(common.main(sys.argv[1:], MmcvProfile, 'tools/adapter mmcv'))
