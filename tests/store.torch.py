"""The Python side of the tensor store's tests (tests/store.torch.*.cpp).

    describe FILE             torch.load FILE, print its canonical description
    zipcheck FILE             zipfile's CRC test, 64-byte aligned records, entry names
    write-zoo DIR             a torch.save file of every value kind we model (DIR/zoo.pth)
    write-runner DIR          a real mmengine Runner's checkpoint (DIR/work/epoch_1.pth)
    rezip FILE OUT ORDER      FILE's entries rewritten by zipfile (unaligned, with data
                              descriptors off), plus torch 2.x's `byteorder` = ORDER and
                              `.data/version` instead of `version`
    load-into-module FILE     mmengine's load_checkpoint into the module FILE was made for
    check-resaved ORIG NEW    NEW describes as ORIG, and its message_hub (if any) loads into a MessageHub

The description is one line per node, `<path> <what>`, with tensors as dtype,
shape, requires_grad and the SHA-256 of their bytes; the C++ test prints the
same form from a loaded Value (store.torch.support.hpp), so comparing the two
texts compares structure and bits. Objects the C++ store does not model print
as `object <module.qualname>`, ints beyond 64 bits included.
"""
import collections
import hashlib
import os
import struct
import sys
import zipfile

import torch


def load(path):
    # torch >= 2.6 defaults to weights_only=True, which refuses the objects
    # (HistoryBuffer, Counter, ...) these tests are about; 1.13 has the flag.
    return torch.load(path, weights_only=False)


def text(s):
    out = []
    for b in s.encode('utf-8', 'surrogatepass'):
        out.append(chr(b) if 0x20 <= b < 0x7f and b not in b'"\\' else '\\x%02x' % b)
    return '"' + ''.join(out) + '"'


def key(k):
    if isinstance(k, str):
        return text(k)
    if isinstance(k, bool) or k is None:
        return repr(k)
    if isinstance(k, int):
        return str(k)
    return '<%s>' % type(k).__name__


def tensor_bytes(t):
    t = t.detach().cpu().contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def describe(obj, path='', out=None, exact=False):
    """`exact` also looks inside the objects C++ does not model (check-resaved)."""
    out = [] if out is None else out
    p = path or '.'
    if isinstance(obj, torch.Tensor):
        shape = ', '.join(str(s) for s in obj.shape)
        out.append('%s tensor %s [%s] rg=%d sha=%s' % (
            p, str(obj.dtype).replace('torch.', ''), shape, int(obj.requires_grad),
            hashlib.sha256(tensor_bytes(obj)).hexdigest()))
    elif type(obj) in (dict, collections.OrderedDict):
        ordered = type(obj) is collections.OrderedDict
        out.append('%s %s n=%d' % (p, 'odict' if ordered else 'dict', len(obj)))
        for k, v in obj.items():
            describe(v, path + '/' + key(k), out, exact)
        for k, v in (vars(obj).items() if ordered else ()):
            describe(v, path + '@' + key(k), out, exact)
    elif type(obj) in (list, tuple):
        out.append('%s %s n=%d' % (p, type(obj).__name__, len(obj)))
        for i, v in enumerate(obj):
            describe(v, '%s[%d]' % (path, i), out, exact)
    elif obj is None or type(obj) is bool:
        out.append('%s %r' % (p, obj))
    elif type(obj) is int and -2**63 <= obj < 2**63:
        out.append('%s int %d' % (p, obj))
    elif type(obj) is float:
        out.append('%s float 0x%016x' % (p, struct.unpack('<Q', struct.pack('<d', obj))[0]))
    elif type(obj) is str:
        out.append('%s str %s' % (p, text(obj)))
    else:
        out.append('%s object %s.%s' % (p, type(obj).__module__, type(obj).__qualname__))
        if exact:
            describe_inside(obj, path, out)
    return out


def describe_inside(obj, path, out):
    import numpy
    if isinstance(obj, (int, bytes)):
        out.append('%s= %r' % (path, obj))
    elif isinstance(obj, (set, frozenset)):
        out.append('%s= %r' % (path, sorted(obj)))
    elif isinstance(obj, dict):
        describe(dict(obj), path + '=', out, True)
    elif isinstance(obj, (numpy.ndarray, numpy.generic)):
        out.append('%s= %s %s %s' % (path, obj.dtype, obj.shape, obj.tobytes().hex()))
    elif hasattr(obj, '__dict__'):
        for k, v in vars(obj).items():
            describe(v, path + '.' + k, out, True)
    elif callable(obj):
        out.append('%s= %s' % (path, getattr(obj, '__qualname__', '?')))


def zipcheck(path):
    with zipfile.ZipFile(path) as z:
        bad = z.testzip()
        assert bad is None, 'CRC mismatch in %s' % bad
        names = [i.filename for i in z.infolist()]
        with open(path, 'rb') as f:
            for info in z.infolist():
                f.seek(info.header_offset)
                header = f.read(30)
                assert header[:4] == b'PK\x03\x04', info.filename
                name_len, extra_len = struct.unpack('<HH', header[26:30])
                start = info.header_offset + 30 + name_len + extra_len
                assert start % 64 == 0, '%s data at %d' % (info.filename, start)
                assert info.compress_type == zipfile.ZIP_STORED, info.filename
    print('\n'.join(names))


def rezip(path, out, order):
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, 'w', zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            folder, _, name = info.filename.partition('/')
            dst.writestr(folder + '/' + ('.data/version' if name == 'version' else name), src.read(info))
        dst.writestr(folder + '/byteorder', order)


class Net(torch.nn.Module):
    """The module the C++ test's state_dict is shaped for."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 2)
        self.bn = torch.nn.BatchNorm1d(2)


def write_zoo(d):
    torch.manual_seed(0)
    w = torch.randn(4, 6)
    sd = Net().state_dict()
    zoo = {
        'meta': {'epoch': 3, 'iter': 120, 'cfg': 'model = dict()\n', 'seed': 42, 'time': '20240101_000000',
                 'mmengine_version': '0.10.7', 'hook_msgs': {'last_ckpt': '/w/epoch_3.pth'}},
        'state_dict': sd,
        'dtypes': {str(dt).replace('torch.', ''): (torch.arange(-6, 6) % 5).to(dt) for dt in (
            torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32,
            torch.int16, torch.int8, torch.uint8, torch.bool, torch.complex64)},
        'views': {'w': w, 'col': w[:, 1], 'rows': w[1:3], 't': w.t()},
        'empty': [torch.zeros(0), torch.zeros(2, 0, 3), torch.tensor(2.5), torch.tensor(7)],
        'param': torch.nn.Parameter(torch.ones(2)),
        'scalars': (None, True, False, 0, 255, 256, 65535, 65536, -1, -2**31, 2**31, -2**63, 2**63 - 1,
                    0.1, -0.0, float('inf'), float('nan'), 'héllo ✓ 𝄞', ''),
        'nested': [[], (), {}, [1, [2, (3, {'k': [4]})]], (5,)],
        'ints_as_keys': {0: 'a', 1: 'b', -7: 'c'},
        'unknown': {'big': 2**70, 'neg_big': -2**64 - 1, 'bytes': b'\x00\xff', 'set': {1, 2},
                    'counter': collections.Counter({1: 2})},
    }
    torch.save(zoo, os.path.join(d, 'zoo.pth'))


def write_runner(d):
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class Model(BaseModel):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(3, 2)
            self.bn = torch.nn.BatchNorm1d(2)

        def forward(self, inputs, data_samples=None, mode='tensor'):
            x = self.bn(self.lin(inputs))
            return {'loss': x.pow(2).mean()} if mode == 'loss' else x

    data = [dict(inputs=torch.randn(3)) for _ in range(8)]
    runner = Runner(
        model=Model(), work_dir=os.path.join(d, 'work'),
        train_dataloader=dict(dataset=data, sampler=dict(type='DefaultSampler', shuffle=False), batch_size=4,
                              collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        param_scheduler=dict(type='MultiStepLR', milestones=[1]),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1), logger=None),
        randomness=dict(seed=1), log_level='ERROR')
    runner.train()


def load_into_module(path):
    from mmengine.runner import load_checkpoint
    net = Net()
    ckpt = load_checkpoint(net, path, map_location='cpu', strict=True, logger='silent')
    for name, value in net.state_dict().items():
        assert torch.equal(value, ckpt['state_dict'][name]), name
    print('loaded %d tensors' % len(net.state_dict()))


def check_resaved(orig, new):
    a, b = load(orig), load(new)
    da, db = describe(a, exact=True), describe(b, exact=True)
    if da != db:
        for x, y in zip(da, db):
            if x != y:
                print('first difference:\n  %s\n  %s' % (x, y))
                break
        sys.exit('descriptions differ (%d vs %d lines)' % (len(da), len(db)))
    if 'message_hub' in b:
        from mmengine.logging import MessageHub
        hub = MessageHub.get_instance('store.torch.check')
        hub.load_state_dict(b['message_hub'])
        assert hub.log_scalars, 'no scalars came back'
    print('resaved file matches (%d lines)' % len(db))


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == 'describe':
        print('\n'.join(describe(load(args[0]))))
    elif cmd == 'zipcheck':
        zipcheck(args[0])
    elif cmd == 'write-zoo':
        write_zoo(args[0])
    elif cmd == 'write-runner':
        write_runner(args[0])
    elif cmd == 'rezip':
        rezip(*args)
    elif cmd == 'load-into-module':
        load_into_module(args[0])
    elif cmd == 'check-resaved':
        check_resaved(args[0], args[1])
    else:
        sys.exit('unknown command ' + cmd)


if __name__ == '__main__':
    main(sys.argv)
