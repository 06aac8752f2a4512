"""Conformance adapter for the real mmengine `CheckpointHook` (profile
"mmengine").

The hook is the installed, unmodified reference. Around it: a runner stand-in
with the installed `Runner.save_checkpoint` signature (it records each save
and writes a real `torch.save` checkpoint, so publishing can load it), a real
`MessageHub`, and class-level wrappers of the local file backend (`removed`)
plus a recording `open` in the hook's module (`text`).

Any release from 0.2.0 on: where releases differ in something the adapter
relies on, a guard named after the clause it serves finds out which way the
installed one goes (`tools/adapter mmengine about` lists what they found).
"""
from __future__ import annotations

import builtins
import copy
import inspect
import os
import sys
import types

import common

PROG = 'tools/adapter mmengine'
RUNTIME_KEYS = ('keep_ckpt_ids', 'last_ckpt', 'best_score', 'best_ckpt')
RUNTIME_PREFIXES = ('best_score_', 'best_ckpt_')
PATH_KEYS = ('last_ckpt', 'best_ckpt')
PATH_PREFIX = 'best_ckpt_'
HOOK_SOURCE = 'mmengine/hooks/checkpoint_hook.py'
FSDP_WRAPPER = 'mmengine.model.wrappers.fully_sharded_distributed'


def _raised_in(exc: BaseException, fragment: str) -> bool:
    """Whether a frame of `exc`'s traceback (or of its causes) is in a file
    whose path contains `fragment`."""
    while exc is not None:
        tb = exc.__traceback__
        while tb is not None:
            if fragment in tb.tb_frame.f_code.co_filename:
                return True
            tb = tb.tb_next
        exc = exc.__cause__ or exc.__context__
    return False


def _skip_fsdp_wrapper(failure: BaseException) -> str:
    """Start-up (serves no clause). mmengine <= 0.7.4 imports its FSDP
    wrapper on torch >= 1.11; with Debian's torch 1.13 under Python 3.11
    that import fails inside torch itself (a dataclass with a mutable
    default), so no part of mmengine loads. mmengine 0.8.0 imports the
    wrapper only on torch >= 2.0; this does the same for older releases by
    registering an empty module in its place (the hook never uses it).
    Returns the accommodation, as `about` reports it."""
    for name in [n for n in sys.modules if n == 'mmengine'
                 or n.startswith('mmengine.')]:
        del sys.modules[name]  # the half-imported release, imported again
    stand_in = types.ModuleType(FSDP_WRAPPER)

    class MMFullyShardedDataParallel:  # never constructed
        pass

    stand_in.MMFullyShardedDataParallel = MMFullyShardedDataParallel
    sys.modules[FSDP_WRAPPER] = stand_in
    return (f'FSDP wrapper not imported, as mmengine >= 0.8.0 does on '
            f'torch < 2.0 (importing torch.distributed.fsdp failed: '
            f'{type(failure).__name__})')


def _import_hook_module():
    """Imports the hook module; returns (module, accommodations)."""
    try:
        import mmengine  # noqa: F401
    except ModuleNotFoundError as e:
        if e.name == 'mmengine':
            raise common.StartupError(
                f'mmengine is not installed for {sys.executable}') from e
        raise
    try:
        import mmengine.hooks.checkpoint_hook as module
        return module, []
    except Exception as e:  # noqa: BLE001 - inspected below
        if not _raised_in(e, 'fully_sharded_distributed'):
            raise
        accommodation = _skip_fsdp_wrapper(e)
    import mmengine.hooks.checkpoint_hook as module
    return module, [accommodation]


def _accepts(function, name: str) -> bool:
    return name in inspect.signature(function).parameters


def load() -> common.Profile:
    """Imports the installed mmengine and returns the profile around it."""
    common.quiet_warnings()  # before the reference is imported
    hook_module, accommodations = _import_hook_module()

    import torch
    import mmengine
    from mmengine.fileio import FileClient, join_path
    from mmengine.fileio.backends import LocalBackend
    from mmengine.logging import MessageHub
    from mmengine.runner import Runner as RealRunner
    from mmengine.runner.checkpoint import save_checkpoint

    CheckpointHook = hook_module.CheckpointHook
    features = {}

    # E26, E43: the hook's save arguments, extra kwargs included, meet the
    # runner's own signature; the stand-in binds them to the installed one,
    # so what the real runner rejects (TypeError) is rejected alike.
    save_signature = inspect.signature(RealRunner.save_checkpoint)
    features['E26/E43 Runner.save_checkpoint parameters'] = [
        p for p in save_signature.parameters if p != 'self']
    # E26: where checkpoints go; the backend_args path exists from the
    # release that added backend_args (the stand-in passes it only there).
    join_takes_backend = _accepts(join_path, 'backend_args')
    save_takes_backend = _accepts(save_checkpoint, 'backend_args')
    features['E26 join_path/save_checkpoint take backend_args'] = (
        join_takes_backend and save_takes_backend)

    # E16, E24, E35 (`removed`): the hook deletes through the local backend
    # in every release (FileClient delegates to HardDiskBackend, a
    # LocalBackend that keeps its remove and rmtree); wrapping the class
    # records every call.
    for name in ('remove', 'rmtree'):
        _record_removal(LocalBackend, name)

    # E27 (`text`): the hook writes work_dir/last_checkpoint with the
    # builtin `open`; a module global of that name shadows it for the hook.
    def recording_open(file, mode='r', *args, **kwargs):
        handle = builtins.open(file, mode, *args, **kwargs)
        if any(flag in mode for flag in 'wax+'):
            common.recorder.written.append(os.fspath(file))
        return handle

    hook_module.open = recording_open

    class Runner:
        """The part of `mmengine.runner.Runner` that `CheckpointHook`
        touches, as a single process (rank 0 of 1)."""

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

        def save_checkpoint(self, *args, **kwargs):
            # binding raises the TypeError the real method would (E43)
            try:
                bound = save_signature.bind(self, *args, **kwargs)
            except TypeError as e:
                raise TypeError(f'Runner.save_checkpoint() {e}') from None
            bound.apply_defaults()
            a = bound.arguments
            out_dir, filename, meta = a['out_dir'], a['filename'], a['meta']
            file_client_args = a.get('file_client_args')
            backend_args = a.get('backend_args')
            common.recorder.saves.append({
                'out_dir': out_dir, 'filename': filename,
                'save_optimizer': a['save_optimizer'],
                'save_param_scheduler': a['save_param_scheduler'],
                'by_epoch': a['by_epoch'], 'meta': copy.deepcopy(meta)})
            # As the real runner, but never mutating the caller's meta.
            if meta is not None and not isinstance(meta, dict):
                raise TypeError(
                    f'meta should be a dict or None, but got {type(meta)}')
            backend = ({'backend_args': backend_args}
                       if join_takes_backend and save_takes_backend else {})
            if file_client_args is not None:
                filepath = FileClient.infer_client(
                    file_client_args, out_dir).join_path(out_dir, filename)
            else:
                filepath = join_path(out_dir, filename, **backend)
            checkpoint = {
                'meta': dict(meta or {},
                             mmengine_version=mmengine.__version__),
                'state_dict': self.model.state_dict(),
                'message_hub': self.message_hub.state_dict(),
            }
            if a['save_optimizer']:
                checkpoint['optimizer'] = self.optimizer.state_dict()
            if a['save_param_scheduler']:
                checkpoint['param_schedulers'] = [
                    s.state_dict() for s in self.param_schedulers]
            save_checkpoint(checkpoint, filepath,
                            file_client_args=file_client_args, **backend)

    # messages name the stand-in as they name the real runner
    Runner.__qualname__ = 'Runner'
    Runner.save_checkpoint.__qualname__ = 'Runner.save_checkpoint'

    class MMEngineSession(common.Session):

        def __init__(self, case, sandbox, number):
            self.hub = MessageHub(name=f'ckpt-adapter-case-{number}')
            for key, value in case.runtime_info.items():
                if isinstance(value, str) and (
                        key in PATH_KEYS or key.startswith(PATH_PREFIX)):
                    value = sandbox.path(value)
                elif (key == 'best_score' or key.startswith('best_score_')) \
                        and isinstance(value, str) \
                        and value in common.NON_FINITE:
                    # the observation's spelling of a non-finite score
                    value = common.NON_FINITE[value]
                self.hub.update_info(key, value)
            self.runner = Runner(
                sandbox.path(case.runner.work_dir), case.runner.max_epochs,
                case.runner.max_iters, self.hub)
            self.kwargs = sandbox.hook_kwargs(case.hook)
            self.hook = None

        def construct(self):
            self.hook = CheckpointHook(**self.kwargs)

        def call(self, event):
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

        def runtime_info(self):
            return {k: v for k, v in self.hub.runtime_info.items()
                    if k in RUNTIME_KEYS or k.startswith(RUNTIME_PREFIXES)}

    class MMEngineProfile(common.Profile):
        name = 'mmengine'
        implementation = f'mmengine {mmengine.__version__}'

        def __init__(self):
            super().__init__()
            self.cases = 0

        def open(self, case, sandbox):
            self.cases += 1
            return MMEngineSession(case, sandbox, self.cases)

        def sources(self):
            return {HOOK_SOURCE: hook_module.__file__,
                    'mmengine/runner/runner.py':
                        sys.modules[RealRunner.__module__].__file__}

    profile = MMEngineProfile()
    profile.features = features
    profile.accommodations = accommodations
    return profile


def _record_removal(cls, name: str) -> None:
    original = getattr(cls, name)

    def recording(self, path, *args, **kwargs):
        result = original(self, path, *args, **kwargs)
        common.recorder.removed.append(os.fspath(path))
        return result

    setattr(cls, name, recording)


if __name__ == '__main__':
    sys.exit(common.main(sys.argv[1:], load, PROG, 'mmengine',
                         'the installed mmengine CheckpointHook'))
