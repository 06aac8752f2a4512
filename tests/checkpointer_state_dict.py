"""The Python side of tests/checkpointer.state_dict.test.cpp: the same model,
data and optimizers as the C++ test, trained by Python's torch.

    train KIND DIR       STEPS steps, then DIR/py.pth = {state_dict, optimizer};
                         one more step, then DIR/py_next.pth
    check-cpp KIND DIR   DIR/cpp.pth (C++ after STEPS steps) against this side's
                         state dicts after STEPS steps: key order, types, dtypes,
                         shapes, values; then loads it into a fresh model and
                         optimizer (load_state_dict, strict), takes one step and
                         compares with DIR/cpp_next.pth (C++'s next step)

KIND: sgd (momentum, nesterov), sgd-plain (momentum 0), adam, adam-amsgrad,
adamw (two param groups). Values must be bit-exact: both sides run the same
kernels in the same order. Prints one line per comparison.
"""
import os
import struct
import sys

import torch
from torch import nn

STEPS = 3
# Initialised from a pattern, in named_parameters order.
PARAMS = ['gain', 'fc1.weight', 'fc1.bias', 'bn.weight', 'bn.bias', 'head.proj.weight', 'head.proj.bias']


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer('offset', torch.tensor([0.25, -0.5, 0.75]))
        self.proj = nn.Linear(6, 3)

    def forward(self, x):
        return self.proj(x) + self.offset


class Net(nn.Module):
    # Modules registered before the root's own tensors: the state_dict still
    # lists the root's parameters, then its buffers, then the children.
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 6)
        self.gain = nn.Parameter(torch.ones(3))
        self.register_buffer('scale', torch.tensor([1.0, 0.5, 2.0]))
        self.bn = nn.BatchNorm1d(6)
        self.head = Head()

    def forward(self, x):
        return self.head(torch.relu(self.bn(self.fc1(x)))) * self.gain * self.scale


def pattern(n, phase):
    return (torch.arange(n, dtype=torch.float64) * 0.37 + phase).sin().mul(0.5).float()


def make_model():
    net = Net()
    params = dict(net.named_parameters())
    with torch.no_grad():
        for k, name in enumerate(PARAMS):
            params[name].copy_(pattern(params[name].numel(), float(k)).reshape(params[name].shape))
    return net


def make_optimizer(kind, net, scale=1.0):
    params = list(net.parameters())
    if kind == 'sgd':
        return torch.optim.SGD(params, lr=0.1 * scale, momentum=0.9, nesterov=True, weight_decay=1e-3)
    if kind == 'sgd-plain':
        return torch.optim.SGD(params, lr=0.1 * scale)
    if kind == 'adam':
        return torch.optim.Adam(params, lr=0.01 * scale)
    if kind == 'adam-amsgrad':
        return torch.optim.Adam(params, lr=0.01 * scale, amsgrad=True, weight_decay=0.01)
    if kind == 'adamw':
        return torch.optim.AdamW([{'params': params[:3]}, {'params': params[3:], 'lr': 0.005 * scale}],
                                 lr=0.01 * scale, weight_decay=0.05)
    sys.exit('unknown optimizer kind ' + kind)


def batch(step):
    x = (torch.arange(32, dtype=torch.float64) * 0.91 + step).sin().float().reshape(8, 4)
    y = (torch.arange(24, dtype=torch.float64) * 0.53 + step).cos().float().reshape(8, 3)
    return x, y


def train_step(net, opt, step):
    net.train()
    opt.zero_grad()
    x, y = batch(step)
    nn.functional.mse_loss(net(x), y).backward()
    opt.step()


def trained(kind, steps):
    net = make_model()
    opt = make_optimizer(kind, net)
    for s in range(steps):
        train_step(net, opt, s)
    return net, opt


def describe(obj, path='', out=None):
    """Structure, Python types, dtypes and shapes; floats by their bits."""
    out = [] if out is None else out
    p = path or '.'
    if isinstance(obj, torch.Tensor):
        out.append('%s tensor %s %s rg=%d' % (p, obj.dtype, list(obj.shape), obj.requires_grad))
    elif isinstance(obj, dict):
        out.append('%s %s n=%d' % (p, type(obj).__name__, len(obj)))
        for k, v in obj.items():
            describe(v, '%s/%r' % (path, k), out)
        for k, v in (vars(obj).items() if hasattr(obj, '__dict__') else ()):
            describe(v, '%s@%s' % (path, k), out)
    elif isinstance(obj, (list, tuple)):
        out.append('%s %s n=%d' % (p, type(obj).__name__, len(obj)))
        for i, v in enumerate(obj):
            describe(v, '%s[%d]' % (path, i), out)
    elif type(obj) is float:
        out.append('%s float 0x%016x' % (p, struct.unpack('<Q', struct.pack('<d', obj))[0]))
    else:
        out.append('%s %s %r' % (p, type(obj).__name__, obj))
    return out


def tensors(obj, path=''):
    if isinstance(obj, torch.Tensor):
        yield path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from tensors(v, '%s/%r' % (path, k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from tensors(v, '%s[%d]' % (path, i))


def without_empty_momentum(osd):
    """1.13's SGD keeps {'momentum_buffer': None} for momentum 0, where
    LibTorch (and torch 2.x) keep nothing; both step alike."""
    state = {k: v for k, v in osd['state'].items() if list(v.items()) != [('momentum_buffer', None)]}
    return {'state': state, 'param_groups': osd['param_groups']}


def compare(label, got, want):
    a, b = describe(got), describe(want)
    if a != b:
        diff = next(((x, y) for x, y in zip(a, b) if x != y), None)
        sys.exit('%s: layouts differ (%d vs %d lines); first difference:\n  got  %s\n  want %s'
                 % (label, len(a), len(b), *(diff or ('-', '-'))))
    for (path, x), (_, y) in zip(tensors(got), tensors(want)):
        if not torch.equal(x, y):
            sys.exit('%s: %s differs, max |diff| %g' % (label, path, (x.double() - y.double()).abs().max()))
    print('%s: layout equal, %d tensors bit-exact' % (label, len(list(tensors(got)))))


def check_cpp(kind, d):
    cpp = torch.load(os.path.join(d, 'cpp.pth'))
    cpp_next = torch.load(os.path.join(d, 'cpp_next.pth'))
    net, opt = trained(kind, STEPS)
    compare('state_dict', cpp['state_dict'], net.state_dict())
    compare('optimizer', cpp['optimizer'], without_empty_momentum(opt.state_dict()))

    # A fresh model and an optimizer with another lr: loading sets both.
    torch.manual_seed(1)
    fresh = Net()
    fresh_opt = make_optimizer(kind, fresh, scale=3.0)
    fresh.load_state_dict(cpp['state_dict'])
    fresh_opt.load_state_dict(cpp['optimizer'])
    train_step(fresh, fresh_opt, STEPS)
    compare('next step after loading', fresh.state_dict(), cpp_next['state_dict'])
    compare('next optimizer after loading', without_empty_momentum(fresh_opt.state_dict()), cpp_next['optimizer'])
    train_step(net, opt, STEPS)
    compare('next step, Python throughout', net.state_dict(), cpp_next['state_dict'])


def train(kind, d):
    net, opt = trained(kind, STEPS)
    torch.save({'state_dict': net.state_dict(), 'optimizer': opt.state_dict()}, os.path.join(d, 'py.pth'))
    train_step(net, opt, STEPS)
    torch.save({'state_dict': net.state_dict(), 'optimizer': opt.state_dict()}, os.path.join(d, 'py_next.pth'))


def main(argv):
    cmd, kind, d = argv[1:4]
    if cmd == 'train':
        train(kind, d)
    elif cmd == 'check-cpp':
        check_cpp(kind, d)
    else:
        sys.exit('unknown command ' + cmd)


if __name__ == '__main__':
    main(sys.argv)
