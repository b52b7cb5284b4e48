"""Measure what one LEAPS iteration costs against the unavoidable floor.

    python tools/benchmark.py registry_configs/x3d_s.py --input-size 8,112,112 --out x3d_s.json

The floor is one forward and one backward to the input through the target and,
when a loss term uses it (FeatureDiversityLoss), through the verifier (no
weight gradients); the LEAPS iteration is the full
step of the InversionLoop (loss terms, backward, Adam, clipping). Floor and
LEAPS steps are timed alternately in one process, so that drifts in the
machine's speed (shared hosts) fall on both alike; each peak memory is
measured in a fresh process of its own.
The options for big models (``--channels-last``, ``--checkpoint-target``,
``--autocast``, ``--compile``) apply to both, so each run's
``overhead_ratio`` compares like with like; compare runs with and without an
option for its effect.
"""
import argparse
import ctypes
import gc
import json
import os.path as osp
import platform
import resource
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import _omp  # noqa: E402,F401  (OpenMP wait policy, before torch)
from _argtypes import key_value  # noqa: E402
from mmengine.config import DictAction  # noqa: E402


def build_inverter(config: str, input_size: tuple, cfg_options: dict):
    """The config's LEAPSInverter with random weights, x* of ``input_size``
    and every fixed input size scaled to it, and the config's optim-wrapper
    config (``leaps.loop.optim_wrapper``)."""
    import leaps_mm  # noqa: F401
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from leaps_mm.apis import build_runner_config
    from leaps_mm.loops import DEFAULT_OPTIM_WRAPPER
    from leaps_mm.registry import MODELS
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(cfg_options)
    runner_cfg = build_runner_config(cfg)
    inverter_cfg = runner_cfg.model
    inverter_cfg.update(input_size=input_size, target_checkpoint=None,
                        verifier_checkpoint=None, judge=None)
    for key in ('target_input_size', 'verifier_input_size'):
        if inverter_cfg.get(key) is not None:
            inverter_cfg[key] = input_size
    optim_wrapper = dict(runner_cfg.test_cfg.get('optim_wrapper')
                         or DEFAULT_OPTIM_WRAPPER)
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        return MODELS.build(inverter_cfg), optim_wrapper


def time_alternately(steps: Dict[str, Callable[[], None]], warmup: int,
                     iters: int, sync: Callable[[], None]
                     ) -> Dict[str, List[float]]:
    """Seconds per call of each step, the steps taking turns."""
    for _ in range(warmup):
        for step in steps.values():
            step()
    sync()
    times = {name: [] for name in steps}
    for _ in range(iters):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            sync()
            times[name].append(time.perf_counter() - start)
    return times


def summary(times: List[float]) -> dict:
    quartiles = statistics.quantiles(times, n=4)
    return dict(median_s=statistics.median(times),
                iqr_s=float(quartiles[2] - quartiles[0]),
                min_s=min(times), max_s=max(times))


def rss_peak_mib() -> float:
    """This process's peak RSS in MiB: Linux's ``VmHWM``, else
    ``ru_maxrss`` (which on Linux also holds the parent's peak at the exec
    that started this process)."""
    try:
        with open('/proc/self/status') as file:
            for line in file:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_rss_peak() -> float:
    """Hand freed heap memory back to the OS (glibc's ``malloc_trim``), set
    the process's peak RSS to its current RSS (Linux's
    ``/proc/self/clear_refs``) and return it in MiB. Without the reset, a
    transient peak of the set-up (building and loading the models) would
    hide a lower peak of the step measured after it; where either call is
    unavailable the peak is returned as it stands."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
    try:
        with open('/proc/self/clear_refs', 'w') as file:
            file.write('5')  # 5: reset the peak RSS (Linux >= 4.0)
    except OSError:
        pass
    return rss_peak_mib()


def measure_once(config: str, input_size: tuple, mode: str, batch: int,
                 iters: int, device: str, cfg_options: dict) -> dict:
    """In this process: ``mode='time'`` times floor and LEAPS steps
    alternately; ``'floor'`` or ``'leaps'`` reports that step's peak memory
    (after one warm-up step, the peak of two steps above the memory before
    them: RSS on CPU, see :func:`reset_rss_peak`; allocated on CUDA)."""
    import torch
    from mmengine.registry import DefaultScope

    from leaps_mm.loops import build_optim_wrapper
    inverter, optim_wrapper_cfg = build_inverter(config, input_size,
                                                 cfg_options)
    inverter = inverter.to(device)
    generator = [torch.Generator().manual_seed(i) for i in range(batch)]
    targets = torch.zeros(batch, dtype=torch.long)
    stimulus = torch.randn((batch, 3) + input_size)
    inverter.reset(targets, stimulus, generator=generator)
    latents = list(inverter.parameterization.parameters())
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        optim_wrapper = build_optim_wrapper(optim_wrapper_cfg, latents,
                                            inverter.autocast_dtype)
    cuda = device.startswith('cuda')
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    def floor_step() -> None:  # the same options as the LEAPS step
        inverter.floor_objective(inverter.video).backward()
        for latent in latents:
            latent.grad = None

    def leaps_step() -> None:  # the InversionLoop's step
        inverter.step(optim_wrapper)

    if mode == 'time':
        times = time_alternately(dict(floor=floor_step, leaps=leaps_step),
                                 warmup=3, iters=iters, sync=sync)
        return {name: summary(t) for name, t in times.items()}
    step = floor_step if mode == 'floor' else leaps_step
    step()  # one-off allocations (thread pools, kernel caches, Adam's state)
    sync()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
        base_mib = torch.cuda.memory_allocated() / 2**20
    else:
        base_mib = reset_rss_peak()
    time_alternately({mode: step}, warmup=0, iters=2, sync=sync)
    peak_mib = (torch.cuda.max_memory_allocated() / 2**20 if cuda else
                rss_peak_mib())
    return dict(peak_mib=peak_mib - base_mib)


def run_isolated(args: List[str]) -> dict:
    from leaps_mm.apis.cli_config import ConfigError
    done = subprocess.run([sys.executable, __file__, *args],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise ConfigError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(config, input_size, out, iters, batch_sizes, device, cfg_options,
        channels_last, checkpoint_target, autocast, compile_, tracking_uri,
        measure, batch) -> None:
    """Benchmark a LEAPS iteration against the forward+backward floor."""
    from leaps_mm.evaluation.tables import option_args
    size = tuple(int(v) for v in input_size.split(','))
    options = dict(channels_last=channels_last,
                   checkpoint_target=checkpoint_target, autocast=autocast,
                   compile=compile_)
    cfg_options = dict(cfg_options or {})
    if channels_last:
        cfg_options['leaps.inverter.channels_last'] = True
    if checkpoint_target:
        cfg_options['leaps.inverter.checkpoint_target'] = True
    if autocast:
        cfg_options['leaps.inverter.autocast'] = autocast
    if compile_:
        cfg_options['leaps.inverter.compile'] = True
    if measure:  # a child process: one measurement, JSON on stdout
        print(json.dumps(measure_once(
            config, size, measure, batch, iters, device, cfg_options)))
        return
    import torch
    common = [config, '--input-size', input_size, '--iters', str(iters),
              '--device', device,
              *option_args(cfg_options)]
    started = time.perf_counter()
    rows = []
    for b in [int(v) for v in batch_sizes.split(',')]:
        timed = run_isolated([*common, '--measure', 'time', '--batch', str(b)])
        for mode in ('floor', 'leaps'):
            row = dict(mode=mode, batch=b, **timed[mode], **run_isolated(
                [*common, '--measure', mode, '--batch', str(b)]))
            row['videos_iters_per_s'] = b / row['median_s']
            rows.append(row)
            print(f'batch {b} {mode:5s}: {row["median_s"]:.3f} s/it '
                  f'(IQR {row["iqr_s"]:.3f}), peak {row["peak_mib"]:.0f} '
                  'MiB', flush=True)
    one = {r['mode']: r for r in rows if r['batch'] == 1}
    result = dict(
        config=config, input_size=list(size), device=device,
        torch=torch.__version__, threads=torch.get_num_threads(),
        machine=platform.processor() or platform.machine(),
        overhead_ratio=one['leaps']['median_s'] / one['floor']['median_s'],
        memory_ratio=(one['leaps']['peak_mib'] /
                      max(one['floor']['peak_mib'], 1e-6)),
        throughput={str(r['batch']): r['videos_iters_per_s']
                    for r in rows if r['mode'] == 'leaps'},
        options=options, iters=iters,
        wall_s=time.perf_counter() - started,
        rows=rows)
    # batched synthesis: videos·it/s at batch b over batch 1
    result['batch_gain'] = {
        b: v / result['throughput']['1']
        for b, v in result['throughput'].items()}
    print(f'overhead_ratio {result["overhead_ratio"]:.3f}, '
          f'memory_ratio {result["memory_ratio"]:.3f}')
    if out:
        from leaps_mm.fileio.atomic import atomic_path, write_json
        write_json(out, result)
        on = [k for k, v in options.items() if v]
        lines = [f'# {osp.basename(config)} at {input_size} on {device}', '',
                 f'options: {", ".join(on) or "none"}; {iters} timed '
                 f'iterations; torch {result["torch"]}, '
                 f'{result["threads"]} threads; '
                 f'{result["wall_s"]:.0f} s in all', '',
                 '| batch | floor s/it (IQR) | LEAPS s/it (IQR) | floor MiB '
                 '| LEAPS MiB | LEAPS videos·it/s | vs batch 1 |',
                 '| --- | --- | --- | --- | --- | --- | --- |']
        for b in sorted({r['batch'] for r in rows}):
            f, l = (next(r for r in rows if r['batch'] == b and r['mode'] == m)
                    for m in ('floor', 'leaps'))
            lines.append(
                f'| {b} | {f["median_s"]:.3f} ({f["iqr_s"]:.3f}) | '
                f'{l["median_s"]:.3f} ({l["iqr_s"]:.3f}) | '
                f'{f["peak_mib"]:.0f} | {l["peak_mib"]:.0f} | '
                f'{l["videos_iters_per_s"]:.2f} | '
                f'{result["batch_gain"][str(b)]:.2f}× |')
        lines += ['', f'overhead_ratio {result["overhead_ratio"]:.3f}, '
                  f'memory_ratio {result["memory_ratio"]:.3f}']
        with atomic_path(osp.splitext(out)[0] + '.md') as tmp, \
                open(tmp, 'w') as file:
            file.write('\n'.join(lines) + '\n')
        print(f'Wrote {out}')
    log_to_mlflow(result, out, tracking_uri)


def log_to_mlflow(result: dict, out, tracking_uri) -> None:
    """One MLflow run (experiment ``leaps-benchmark``) with the ratios, the
    throughputs and the options; the JSON/markdown as artifacts."""
    from leaps_mm.tracking import (get_or_create_experiment, log_params,
                                   resolve_tracking_uri)
    # no work dir of its own: without --tracking-uri or the variable, none
    tracking_uri = resolve_tracking_uri(tracking_uri, None)
    if not tracking_uri:
        return
    from mlflow import MlflowClient
    from mlflow.entities import Metric
    client = MlflowClient(tracking_uri)
    run_id = client.create_run(
        get_or_create_experiment(client, 'leaps-benchmark'),
        run_name=osp.basename(result['config'])).info.run_id
    log_params(client, run_id, dict(
        config=result['config'], device=result['device'],
        input_size='x'.join(map(str, result['input_size'])),
        torch=result['torch'], threads=result['threads'],
        iters=result['iters'], **result['options']))
    metrics = dict(
        overhead_ratio=result['overhead_ratio'],
        memory_ratio=result['memory_ratio'],
        **{f'videos_iters_per_s_b{b}': v
           for b, v in result['throughput'].items()},
        **{f'{r["mode"]}_s_b{r["batch"]}': r['median_s']
           for r in result['rows']})
    now = int(time.time() * 1000)
    client.log_batch(run_id, metrics=[Metric(k, float(v), now, 0)
                                      for k, v in metrics.items()])
    if out:
        client.log_artifact(run_id, out)
        client.log_artifact(run_id, osp.splitext(out)[0] + '.md')
    client.set_terminated(run_id)
    print(f'Logged to MLflow at {tracking_uri}')


EXAMPLES = """examples:
  python tools/benchmark.py registry_configs/x3d_s.py --input-size 8,112,112 \\
      --out x3d_s.json
  python tools/benchmark.py registry_configs/x3d_s.py --device cuda \\
      --batch-sizes 1,4 --autocast bf16 --channels-last \\
      --cfg-options leaps.inverter.losses.1.weight=0.5 leaps.seed=1
"""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark a LEAPS iteration against the '
        'forward+backward floor.', epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', metavar='CONFIG',
                        help='Inversion config file.')
    parser.add_argument(
        '--input-size', default='8,112,112', help='T,H,W of x* (fixed model '
        'inputs are scaled to it; default: %(default)s).')
    parser.add_argument('--out', default=None,
                        help='JSON file (a .md summary beside).')
    parser.add_argument('--iters', default=20, type=int,
                        help='Timed iterations (default: %(default)s).')
    parser.add_argument('--batch-sizes', default='1,2,4,8',
                        help='Default: %(default)s.')
    parser.add_argument('--device', default='cpu',
                        help='Default: %(default)s.')
    parser.add_argument(
        '--cfg-options', nargs='+', type=key_value, action=DictAction,
        metavar='KEY=VALUE', help='Override config keys (several after one '
        'flag, or repeat it).')
    parser.add_argument(
        '--channels-last', action='store_true',
        help='leaps.inverter.channels_last=True (channels-last-3d).')
    parser.add_argument(
        '--checkpoint-target', action='store_true',
        help='leaps.inverter.checkpoint_target=True (activation '
        'checkpointing of the target\'s blocks).')
    parser.add_argument('--autocast', choices=['bf16', 'fp16'], default=None,
                        help='leaps.inverter.autocast.')
    parser.add_argument(
        '--compile', dest='compile_', action='store_true',
        help='leaps.inverter.compile=True (torch.compile of the networks\' '
        'backbones and heads).')
    parser.add_argument(
        '--tracking-uri', default=None, help='MLflow store to log to '
        '(default: $MLFLOW_TRACKING_URI; neither: no logging).')
    # a child process's one measurement (run_isolated)
    parser.add_argument('--measure', choices=['time', 'floor', 'leaps'],
                        help=argparse.SUPPRESS)
    parser.add_argument('--batch', type=int, default=1,
                        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from leaps_mm.apis.cli_config import run_command
    return run_command(lambda: run(**vars(args)))


if __name__ == '__main__':
    sys.exit(main())
