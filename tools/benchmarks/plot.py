"""docs/perf.png: throughput (GB/s) against checkpoint size, save, load and async,
from tools/bench runs in one invocation. Run with the project's venv
(matplotlib):

    .venv/bin/python tools/benchmarks/plot.py [--sizes 64 256 1024] [--shape resnet50-like]
        [--repeat 1] [--data runs.json] [--out docs/perf.png]

--data reuses (or, when missing, writes) the raw JSON of the runs.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = ('save', 'load', 'async')
TITLES = {'save': ' (fsync included)', 'load': ' (page cache dropped)',
          'async': ' (stall vs memcpy; write incl. fsync)'}
ROOT = os.path.dirname(os.path.dirname(HERE))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--sizes', type=int, nargs='+', default=[64, 256, 1024])
    p.add_argument('--shape', default='resnet50-like')
    p.add_argument('--repeat', type=int, default=1)
    p.add_argument('--data')
    p.add_argument('--out', default=os.path.join(ROOT, 'docs', 'perf.png'))
    args = p.parse_args(argv)
    if args.data and os.path.exists(args.data):
        with open(args.data) as f:
            runs = json.load(f)
    else:
        runs = {}
        for kind in KINDS:
            for mib in args.sizes:
                out = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'bench'), kind, '--mib', str(mib),
                                      '--shape', args.shape, '--repeat', str(args.repeat), '--json'],
                                     check=True, stdout=subprocess.PIPE, text=True).stdout
                runs[f'{kind}-{mib}'] = json.loads(out)
                print(f'{kind} {mib} MiB done', file=sys.stderr)
        if args.data:
            with open(args.data, 'w') as f:
                json.dump(runs, f, indent=1)

    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(KINDS), figsize=(15, 4))
    for ax, kind in zip(axes, KINDS):
        keys = sorted((k for k in runs if k.startswith(kind + '-')), key=lambda k: runs[k]['mib'])
        if not keys:
            continue
        sizes = [runs[k]['mib'] for k in keys]
        for field in runs[keys[0]]['gb_per_s']:
            ax.plot(sizes, [runs[k]['gb_per_s'][field] for k in keys], marker='o', label=field[:-2])
        ax.set_xscale('log', base=2)
        ax.set_yscale('log')
        ax.set_xticks(sizes)
        ax.set_xticklabels([str(s) for s in sizes])
        ax.set_xlabel('state dict size (MiB, %s)' % runs[keys[0]]['shape'])
        ax.set_ylabel('GB/s (state bytes / median seconds)')
        ax.set_title(kind + TITLES[kind])
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
