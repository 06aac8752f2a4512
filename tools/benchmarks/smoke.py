"""ctest bench.smoke: tools/bench runs and prints JSON with its
fields. Never a speed assertion (STYLE 10).

    python smoke.py BUILD_DIR
"""
import json
import os
import subprocess
import sys

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'bench')
RUNS = [
    (['save', '--mib', '8', '--repeat', '1'],
     ['raw_write_s', 'torch_save_s', 'pickle_save_s', 'ours_s', 'ours_peak_extra_rss_mib', 'gb_per_s',
      'ratio_vs_raw_write', 'spread']),
    (['load', '--mib', '8', '--repeat', '1'],
     ['raw_read_s', 'torch_load_s', 'pickle_load_s', 'ours_s', 'ours_mmap_s', 'ours_into_s', 'verify_s', 'gb_per_s',
      'ratio_vs_torch_load', 'spread']),
    (['async', '--mib', '8', '--repeat', '1'],
     ['memcpy_s', 'ours_stall_s', 'ours_total_s', 'ours_write_s', 'sync_save_s', 'ours_peak_extra_rss_mib',
      'ratio_vs_memcpy', 'write_throughput_vs_sync', 'spread']),
    (['policy', '--epochs', '2', '--iters', '50', '--repeat', '1'],
     ['events', 'step_events_per_s', 'advance_events_per_s', 'mmengine_events_per_s', 'ratio_vs_mmengine',
      'spread']),
]


def main(build_dir):
    failures = 0
    for args, fields in RUNS:
        cmd = [sys.executable if os.access(sys.executable, os.X_OK) else 'python3', BENCH, *args, '--json',
               '--no-build', '--build-dir', build_dir]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        try:
            out = json.loads(p.stdout)
            missing = [f for f in fields if f not in out]
        except json.JSONDecodeError as e:
            out, missing = None, [f'(no JSON: {e})']
        if p.returncode != 0 or missing:
            failures += 1
            print(f'FAIL {" ".join(args)}: rc {p.returncode}, missing {missing}\n{p.stdout}')
        else:
            print(f'ok   {" ".join(args)}')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
