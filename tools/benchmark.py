"""Measure what one LEAPS iteration costs against the unavoidable floor.

    python tools/benchmark.py registry_configs/x3d_s.py --input-size 8,112,112 --out x3d_s.json

The floor is one forward and one backward to the input through the target and
through the verifier (no weight gradients); the LEAPS iteration is the full
step of the InversionLoop (loss terms, backward, Adam, clipping). Each
measurement runs in a fresh process so that its peak memory is its own.
"""
import json
import os
import os.path as osp
import platform
import resource
import statistics
import subprocess
import sys
import time
from typing import Callable, List

import click

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')


def build_inverter(config: str, input_size: tuple, cfg_options: dict):
    """The config's LEAPSInverter with random weights, x* of ``input_size``
    and every fixed input size scaled to it."""
    import leaps_mm  # noqa: F401
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from leaps_mm.apis import build_runner_config
    from leaps_mm.registry import MODELS
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(cfg_options)
    inverter_cfg = build_runner_config(cfg).model
    inverter_cfg.update(input_size=input_size, target_checkpoint=None,
                        verifier_checkpoint=None, judge=None)
    for key in ('target_input_size', 'verifier_input_size'):
        if inverter_cfg.get(key) is not None:
            inverter_cfg[key] = input_size
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        return MODELS.build(inverter_cfg)


def time_steps(step: Callable[[], None], warmup: int, iters: int,
               sync: Callable[[], None]) -> List[float]:
    for _ in range(warmup):
        step()
    sync()
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    return times


def measure_once(config: str, input_size: tuple, mode: str, batch: int,
            iters: int, device: str, cfg_options: dict) -> dict:
    """Time ``mode`` ('floor' or 'leaps') in this process; report peak
    memory (max RSS on CPU, max allocated on CUDA) above the built models."""
    import torch

    from leaps_mm.models.inverter import recognizer_logits, resize_video
    inverter = build_inverter(config, input_size, cfg_options).to(device)
    generator = [torch.Generator().manual_seed(i) for i in range(batch)]
    targets = torch.zeros(batch, dtype=torch.long)
    stimulus = torch.randn((batch, 3) + input_size)
    inverter.reset(targets, stimulus, generator=generator)
    latents = list(inverter.parameterization.parameters())
    optimizer = torch.optim.Adam(latents, lr=0.2)
    cuda = device.startswith('cuda')
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    def floor_step() -> None:
        video = inverter.video
        logits = recognizer_logits(
            inverter.target, resize_video(video, inverter.target_input_size))
        total = logits.sum()
        if inverter.verifier is not None:
            total = total + recognizer_logits(
                inverter.verifier, inverter._to_verifier(video)).sum()
        total.backward()
        for latent in latents:
            latent.grad = None

    def leaps_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss, _ = inverter.parse_losses(inverter(mode='loss'))
        loss.backward()
        optimizer.step()
        inverter.after_step()

    if cuda:
        torch.cuda.reset_peak_memory_stats()
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = time_steps(floor_step if mode == 'floor' else leaps_step,
                       warmup=3, iters=iters, sync=sync)
    peak = (torch.cuda.max_memory_allocated() / 2**20 if cuda else
            (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss)
            / 1024)
    return dict(mode=mode, batch=batch, median_s=statistics.median(times),
                iqr_s=float(statistics.quantiles(times, n=4)[2] -
                            statistics.quantiles(times, n=4)[0]),
                min_s=min(times), max_s=max(times), peak_mib=peak)


def run_isolated(args: List[str]) -> dict:
    done = subprocess.run([sys.executable, __file__, *args],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise click.ClickException(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


@click.command()
@click.argument('config')
@click.option('--input-size', default='8,112,112', show_default=True,
              help='T,H,W of x* (fixed model inputs are scaled to it).')
@click.option('--out', default=None, help='JSON file (a .md summary beside).')
@click.option('--iters', default=20, show_default=True, type=int)
@click.option('--batch-sizes', default='1,2,4,8', show_default=True)
@click.option('--device', default='cpu', show_default=True)
@click.option('--cfg-options', multiple=True, metavar='KEY=VALUE')
@click.option('--measure', type=click.Choice(['floor', 'leaps']),
              hidden=True)
@click.option('--batch', type=int, default=1, hidden=True)
def main(config, input_size, out, iters, batch_sizes, device, cfg_options,
         measure, batch) -> None:
    """Benchmark a LEAPS iteration against the forward+backward floor."""
    from leaps_mm.apis.cli_config import parse_cfg_options
    size = tuple(int(v) for v in input_size.split(','))
    if measure:  # a child process: one measurement, JSON on stdout
        click.echo(json.dumps(measure_once(
            config, size, measure, batch, iters, device,
            parse_cfg_options(cfg_options))))
        return
    import torch
    common = [config, '--input-size', input_size, '--iters', str(iters),
              '--device', device,
              *[a for o in cfg_options for a in ('--cfg-options', o)]]
    rows = []
    for b in [int(v) for v in batch_sizes.split(',')]:
        for mode in ('floor', 'leaps'):
            row = run_isolated([*common, '--measure', mode, '--batch', str(b)])
            row['videos_iters_per_s'] = b / row['median_s']
            rows.append(row)
            click.echo(f'batch {b} {mode:5s}: {row["median_s"]:.3f} s/it '
                       f'(IQR {row["iqr_s"]:.3f}), peak {row["peak_mib"]:.0f} '
                       'MiB')
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
        rows=rows)
    click.echo(f'overhead_ratio {result["overhead_ratio"]:.3f}, '
               f'memory_ratio {result["memory_ratio"]:.3f}')
    if out:
        from leaps_mm.utils.fileio import atomic_path, write_json
        write_json(out, result)
        lines = [f'# {osp.basename(config)} at {input_size} on {device}', '',
                 '| batch | floor s/it | LEAPS s/it | LEAPS videos·it/s |',
                 '| --- | --- | --- | --- |']
        for b in sorted({r['batch'] for r in rows}):
            f, l = (next(r for r in rows if r['batch'] == b and r['mode'] == m)
                    for m in ('floor', 'leaps'))
            lines.append(f'| {b} | {f["median_s"]:.3f} | {l["median_s"]:.3f} '
                         f'| {l["videos_iters_per_s"]:.2f} |')
        lines += ['', f'overhead_ratio {result["overhead_ratio"]:.3f}, '
                  f'memory_ratio {result["memory_ratio"]:.3f}']
        with atomic_path(osp.splitext(out)[0] + '.md') as tmp, \
                open(tmp, 'w') as file:
            file.write('\n'.join(lines) + '\n')
        click.echo(f'Wrote {out}')


if __name__ == '__main__':
    main()
