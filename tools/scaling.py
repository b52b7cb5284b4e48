"""Throughput of a sweep on 1 process vs N processes (torchrun, gloo on CPU).

    python tools/scaling.py registry_configs/demo/leaps_r3d.py --jobs 8 \\
        --iters 60 --procs 1 2 --out docs/scaling_cpu.json

Runs ``tools/invert.py`` (``--no-mlflow``, ``--batch-size 1``) on the first
``--jobs`` lines of the annotation file in a fresh work dir per setting and
reports wall time (process start to exit, model building included), videos
per minute and the machine's load average around it; each setting is
repeated ``--repeats`` times and the best is kept (other processes on a
shared machine only ever slow a run down).
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time
from typing import List

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def run_sweep(config: str, ann_file: str, iters: int, procs: int,
              threads: int, work_dir: str) -> float:
    """Wall seconds of one sweep with ``procs`` processes of ``threads``
    threads each."""
    command = [osp.join(REPO, 'tools', 'invert.py'), config, '--ann-file',
               ann_file, '--iters', str(iters), '--batch-size', '1',
               '--no-mlflow', '--work-dir', work_dir]
    if procs > 1:
        command = ['-m', 'torch.distributed.run',
                   f'--nproc_per_node={procs}', *command,
                   '--launcher', 'pytorch']
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               OMP_WAIT_POLICY='PASSIVE')
    start = time.perf_counter()
    subprocess.run([sys.executable, *command], cwd=REPO, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def run(config: str, ann_file: str, jobs: int, iters: int,
        procs: List[int], repeats: int, out: str) -> None:
    """Time the same sweep with each process count."""
    root = osp.dirname(osp.abspath(ann_file))
    with open(ann_file) as file:
        lines = [line.split() for line in file if line.strip()][:jobs]
    cores = os.cpu_count() or 1
    settings = [(1, 1)] + [(n, max(cores // n, 1)) for n in procs]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        jobs_file = osp.join(tmp, 'jobs.txt')
        with open(jobs_file, 'w') as file:
            file.writelines(f'{osp.join(root, p)} {label}\n'
                            for p, label in lines)
        for n, threads in dict.fromkeys(settings):
            load = os.getloadavg()[0]
            seconds = min(run_sweep(config, jobs_file, iters, n, threads,
                                    osp.join(tmp, f'w{n}_{threads}_{r}'))
                          for r in range(repeats))
            rows.append(dict(procs=n, threads_per_proc=threads,
                             wall_s=round(seconds, 1),
                             # 1-min load average before / after: others'
                             # processes on a shared machine
                             load_before=round(load, 1),
                             load_after=round(os.getloadavg()[0], 1),
                             videos_per_min=round(60 * len(lines) / seconds,
                                                  2)))
            print(f'{n} proc x {threads} thread(s): {seconds:.1f} s, '
                  f'{rows[-1]["videos_per_min"]} videos/min', flush=True)
    base = rows[0]['wall_s']
    for row in rows:
        row['speedup_vs_1x1'] = round(base / row['wall_s'], 2)
    result = dict(config=config, jobs=len(lines), iters=iters, cores=cores,
                  repeats=repeats, rows=rows)
    print(json.dumps(result, indent=2))
    if out:
        with open(out, 'w') as file:
            json.dump(result, file, indent=2)


EXAMPLES = """example:
  python tools/scaling.py registry_configs/demo/leaps_r3d.py --jobs 8 \\
      --iters 60 --procs 1 2 --out docs/scaling_cpu.json
"""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Time the same sweep with each process count.',
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', metavar='CONFIG',
                        help='Inversion config file.')
    parser.add_argument(
        '--ann-file', default=osp.join(REPO, 'data', 'stimuli',
                                       'stimuli.txt'),
        help='Job list (default: %(default)s).')
    parser.add_argument('--jobs', default=8, type=int,
                        help='First jobs of the list (default: %(default)s).')
    parser.add_argument('--iters', default=60, type=int,
                        help='Steps per job (default: %(default)s).')
    parser.add_argument(
        '--procs', action='extend', nargs='+', type=int, help='Process '
        'counts (several after one flag, or repeat it; default: 1 2).')
    parser.add_argument('--repeats', default=2, type=int,
                        help='Runs per setting, the best kept (default: '
                        '%(default)s).')
    parser.add_argument('--out', help='Write the results as JSON here.')
    args = parser.parse_args(argv)
    if args.procs is None:
        args.procs = [1, 2]
    return args


def main(argv=None) -> int:
    run(**vars(parse_args(argv)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
