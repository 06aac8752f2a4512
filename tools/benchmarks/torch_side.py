"""tools/bench, the Python side (run with the project's .venv python).

    torch_side.py save SPEC OUT      torch.save of the state dict, fsync'ed
    torch_side.py load FILE          torch.load
    torch_side.py safetensors-save SPEC OUT
        safetensors.torch.save_file of the same state, fsync'ed
    torch_side.py safetensors-load FILE   safetensors.torch.load_file
    torch_side.py policy EPOCHS ITERS
        the real mmengine CheckpointHook over the trace bench-policy replays

Each prints one JSON line (seconds, bytes, peak_extra_rss_mib; for policy
events and events_per_s). Building the state is not timed.
"""
import collections
import json
import logging
import os
import sys
import tempfile
import time


def vm_hwm_kib():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    return -1


def make_state(spec):
    import torch
    state = collections.OrderedDict()
    with open(spec) as f:
        for line in f:
            words = line.split()
            if len(words) < 2:
                continue
            name, dtype, dims = words[0], words[1], [int(d) for d in words[2:]]
            t = torch.empty(dims, dtype=torch.int64 if dtype == 'i64' else torch.float32)
            t.fill_(1 if dtype == 'i64' else 0.5)
            state[name] = t
    return state


def timed(work, path, state=None):
    """Runs work() timed; the JSON fields every save and load reports."""
    hwm0 = vm_hwm_kib()
    t0 = time.perf_counter()
    result = work()
    s = time.perf_counter() - t0
    entries = len(state if state is not None else result)
    return {'seconds': s, 'bytes': os.path.getsize(path),
            'peak_extra_rss_mib': (vm_hwm_kib() - hwm0) / 1024, 'entries': entries}


def fsync_path(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save(spec, out):
    import torch
    state = make_state(spec)

    def work():
        with open(out, 'wb') as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
    return timed(work, out, state)


def load(path):
    import torch
    return timed(lambda: torch.load(path), path)


def safetensors_save(spec, out):
    from safetensors.torch import save_file
    state = make_state(spec)

    def work():
        save_file(state, out)
        fsync_path(out)  # save_file does not fsync; every save timing here does
    return timed(work, out, state)


def safetensors_load(path):
    from safetensors.torch import load_file
    return timed(lambda: load_file(path), path)


def policy(epochs, iters):
    """The same trace and configuration as bench-policy (policy.cpp):
    interval=2, max_keep_ckpts=3, save_best='acc', by epoch."""
    from mmengine.hooks import CheckpointHook
    from mmengine.logging import MessageHub

    class Runner:
        """What CheckpointHook touches; save_checkpoint only records."""

        def __init__(self, work_dir):
            self.work_dir = work_dir
            self.epoch = self.iter = 0
            self.max_epochs, self.max_iters = epochs, epochs * iters
            self.logger = logging.getLogger('bench-policy')
            self.logger.setLevel(logging.WARNING)
            self.message_hub = MessageHub(name='bench-policy')
            self.rank, self.world_size, self.distributed = 0, 1, False
            self.saves = 0

        def save_checkpoint(self, out_dir, filename, file_client_args=None,
                            save_optimizer=True, save_param_scheduler=True,
                            meta=None, by_epoch=True, backend_args=None):
            self.saves += 1

    trace = [('before_train', 0, 0, None)]
    it = 0
    for e in range(epochs):
        for b in range(iters):
            trace.append(('after_train_iter', e, it, b))
            it += 1
        trace.append(('after_train_epoch', e, it, None))
        trace.append(('after_val_epoch', e + 1, it,
                      {'acc': 0.5 + 0.001 * (e % 7), 'loss': 1.0}))
    with tempfile.TemporaryDirectory() as work_dir:
        runner = Runner(work_dir)
        hook = CheckpointHook(interval=2, max_keep_ckpts=3, save_best='acc')
        t0 = time.perf_counter()
        for name, epoch, iter_, arg in trace:
            runner.epoch, runner.iter = epoch, iter_
            if name == 'after_train_iter':
                hook.after_train_iter(runner, batch_idx=arg, data_batch=None, outputs=None)
            elif name == 'after_val_epoch':
                hook.after_val_epoch(runner, arg)
            else:
                getattr(hook, name)(runner)
        s = time.perf_counter() - t0
    return {'events': len(trace), 'seconds': s, 'events_per_s': len(trace) / s,
            'saves': runner.saves}


def main(argv):
    if argv[:1] == ['save'] and len(argv) == 3:
        result = save(argv[1], argv[2])
    elif argv[:1] == ['load'] and len(argv) == 2:
        result = load(argv[1])
    elif argv[:1] == ['safetensors-save'] and len(argv) == 3:
        result = safetensors_save(argv[1], argv[2])
    elif argv[:1] == ['safetensors-load'] and len(argv) == 2:
        result = safetensors_load(argv[1])
    elif argv[:1] == ['policy'] and len(argv) == 3:
        result = policy(int(argv[1]), int(argv[2]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
