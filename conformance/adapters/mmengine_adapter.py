"""Conformance adapter for the real mmengine `CheckpointHook` (profile
"mmengine").

The hook is the installed, unmodified reference. Around it: a runner stand-in
with the real `Runner.save_checkpoint` signature (it records each save and
writes a real `torch.save` checkpoint, so publishing can load it), a real
`MessageHub`, and class-level wrappers of the local file backend (`removed`)
plus a recording `open` in the hook's module (`text`).
"""
from __future__ import annotations

import builtins
import copy
import os
import sys

import common

common.quiet_warnings()  # before the reference is imported

import torch  # noqa: E402
import mmengine  # noqa: E402
import mmengine.hooks.checkpoint_hook as checkpoint_hook_module  # noqa: E402
from mmengine.fileio import FileClient, join_path  # noqa: E402
from mmengine.fileio.backends import LocalBackend  # noqa: E402
from mmengine.hooks import CheckpointHook  # noqa: E402
from mmengine.logging import MessageHub  # noqa: E402
from mmengine.runner.checkpoint import save_checkpoint  # noqa: E402

RUNTIME_KEYS = ('keep_ckpt_ids', 'last_ckpt', 'best_score', 'best_ckpt')
RUNTIME_PREFIXES = ('best_score_', 'best_ckpt_')
PATH_KEYS = ('last_ckpt', 'best_ckpt')
PATH_PREFIX = 'best_ckpt_'


def _install_recorders() -> None:
    """Wraps what the hook deletes and writes through; records into
    `common.recorder`. `FileClient` (file_client_args set) delegates to
    `HardDiskBackend`, a `LocalBackend`, so the class-level wrap covers it."""

    def wrap(name):
        original = getattr(LocalBackend, name)

        def recording(self, path, *args, **kwargs):
            result = original(self, path, *args, **kwargs)
            common.recorder.removed.append(os.fspath(path))
            return result

        setattr(LocalBackend, name, recording)

    wrap('remove')
    wrap('rmtree')

    def recording_open(file, mode='r', *args, **kwargs):
        handle = builtins.open(file, mode, *args, **kwargs)
        if any(flag in mode for flag in 'wax+'):
            common.recorder.written.append(os.fspath(file))
        return handle

    # The hook writes `work_dir/last_checkpoint` with the builtin `open`; a
    # module global of that name shadows the builtin for the hook only.
    checkpoint_hook_module.open = recording_open


class Runner:
    """The part of `mmengine.runner.Runner` that `CheckpointHook` touches,
    as a single process (rank 0 of 1)."""

    def __init__(self, work_dir, max_epochs, max_iters, message_hub):
        self.work_dir = work_dir
        self.epoch = 0
        self.iter = 0
        self.max_epochs = max_epochs
        self.max_iters = max_iters
        self.logger = common.runner_logger('mmengine')
        self.message_hub = message_hub
        self.rank, self.world_size, self.distributed = 0, 1, False
        self.model = torch.nn.Linear(2, 1)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1)
        self.param_schedulers = [
            torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=1)]

    # The real signature, so unknown keyword arguments raise TypeError (E43).
    def save_checkpoint(self,
                        out_dir,
                        filename,
                        file_client_args=None,
                        save_optimizer=True,
                        save_param_scheduler=True,
                        meta=None,
                        by_epoch=True,
                        backend_args=None):
        common.recorder.saves.append({
            'out_dir': out_dir, 'filename': filename,
            'save_optimizer': save_optimizer,
            'save_param_scheduler': save_param_scheduler,
            'by_epoch': by_epoch, 'meta': copy.deepcopy(meta)})
        # As the real runner, but never mutating the caller's meta.
        if meta is not None and not isinstance(meta, dict):
            raise TypeError(
                f'meta should be a dict or None, but got {type(meta)}')
        if file_client_args is not None:
            filepath = FileClient.infer_client(
                file_client_args, out_dir).join_path(out_dir, filename)
        else:
            filepath = join_path(out_dir, filename, backend_args=backend_args)
        checkpoint = {
            'meta': dict(meta or {}, mmengine_version=mmengine.__version__),
            'state_dict': self.model.state_dict(),
            'message_hub': self.message_hub.state_dict(),
        }
        if save_optimizer:
            checkpoint['optimizer'] = self.optimizer.state_dict()
        if save_param_scheduler:
            checkpoint['param_schedulers'] = [
                s.state_dict() for s in self.param_schedulers]
        save_checkpoint(checkpoint, filepath,
                        file_client_args=file_client_args,
                        backend_args=backend_args)


class MMEngineSession(common.Session):

    def __init__(self, case: common.Case, sandbox: common.Sandbox, number):
        self.hub = MessageHub(name=f'ckpt-adapter-case-{number}')
        for key, value in case.runtime_info.items():
            if isinstance(value, str) and (key in PATH_KEYS
                                           or key.startswith(PATH_PREFIX)):
                value = sandbox.path(value)
            elif (key == 'best_score' or key.startswith('best_score_')) \
                    and isinstance(value, str) and value in common.NON_FINITE:
                # the observation's spelling of a non-finite score, read back
                value = common.NON_FINITE[value]
            self.hub.update_info(key, value)
        self.runner = Runner(
            sandbox.path(case.runner.work_dir), case.runner.max_epochs,
            case.runner.max_iters, self.hub)
        self.kwargs = sandbox.hook_kwargs(case.hook)
        self.hook = None

    def construct(self) -> None:
        self.hook = CheckpointHook(**self.kwargs)

    def call(self, event: common.Event) -> None:
        runner = self.runner
        if event.epoch is not None:
            runner.epoch = event.epoch
        if event.iter is not None:
            runner.iter = event.iter
        if event.hook == 'after_train_iter':
            self.hook.after_train_iter(
                runner, batch_idx=event.batch_idx or 0, data_batch=None,
                outputs=None)
        elif event.hook == 'after_val_epoch':
            self.hook.after_val_epoch(runner, event.metrics)
        else:  # before_train, after_train_epoch, after_train
            getattr(self.hook, event.hook)(runner)

    def runtime_info(self) -> dict:
        return {k: v for k, v in self.hub.runtime_info.items()
                if k in RUNTIME_KEYS or k.startswith(RUNTIME_PREFIXES)}


class MMEngineProfile(common.Profile):
    name = 'mmengine'
    implementation = f'mmengine {mmengine.__version__}'

    def __init__(self):
        self.cases = 0

    def open(self, case, sandbox):
        self.cases += 1
        return MMEngineSession(case, sandbox, self.cases)


_install_recorders()

if __name__ == '__main__':
    sys.exit(common.main(sys.argv[1:], MMEngineProfile,
                         'tools/adapter mmengine'))
