"""Invert an MMAction2 recognizer with LEAPS.

    python tools/invert.py registry_configs/swin_b.py \\
        --checkpoint swin_b.pth --stimulus riding_bike.mp4 --target "riding a bike"
"""
import argparse
import os
import os.path as osp
import re
import signal
import sys
from typing import Optional, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import _omp  # noqa: E402,F401  (OpenMP wait policy, before torch)
from _argtypes import int_range, key_value  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

_CHECKPOINT_NONE = ('none', 'random')


def apply_cli(cfg, checkpoint: Optional[str], verifier_checkpoint: Optional[str],
              stimulus: Tuple[str, ...], target: Tuple[str, ...],
              ann_file: Optional[str], classes: Optional[str],
              work_dir: Optional[str], iters: Optional[int],
              batch_size: Optional[int], seed: Optional[int]) -> None:
    """Command-line overrides, applied on top of the config."""
    inverter, leaps = cfg.leaps.inverter, cfg.leaps
    for key, value in (('target_checkpoint', checkpoint),
                       ('verifier_checkpoint', verifier_checkpoint)):
        if value is not None:
            inverter[key] = None if value.lower() in _CHECKPOINT_NONE else value
    if len(stimulus) != len(target):
        from leaps_mm.apis.cli_config import ConfigError
        raise ConfigError('Give one --target for every --stimulus.',
                          exit_code=2)
    if stimulus:
        leaps.stimuli.stimuli = [dict(filename=s, label=t)
                                 for s, t in zip(stimulus, target)]
        leaps.stimuli.ann_file = ann_file or ''
    elif ann_file is not None:
        leaps.stimuli.ann_file = ann_file
        leaps.stimuli.pop('data_prefix', None)
    if classes is not None:
        leaps.classes = classes
    if iters is not None:
        leaps.loop.iters = iters
    if batch_size is not None:
        leaps.batch_size = batch_size
    if seed is not None:
        leaps.seed = seed
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        stem = osp.splitext(osp.basename(cfg.filename))[0]
        cfg.work_dir = osp.join('work_dirs', stem)


def apply_tracking(cfg, tracking_uri: Optional[str], experiment: Optional[str],
                   no_mlflow: bool) -> None:
    """MLflow overrides of ``leaps.tracking``."""
    tracking = cfg.leaps.setdefault('tracking', dict())
    if no_mlflow:
        tracking.enabled = False
    if tracking_uri is not None:
        tracking.tracking_uri = tracking_uri
    if experiment is not None:
        tracking.experiment = experiment


def check_work_dir(work_dir: str) -> None:
    from leaps_mm.apis.cli_config import ConfigError
    try:
        os.makedirs(work_dir, exist_ok=True)
    except OSError as error:
        raise ConfigError(
            f'Cannot create work dir {work_dir!r}: {error.strerror}.')
    if not os.access(work_dir, os.W_OK):
        raise ConfigError(
            f'Work dir {work_dir!r} is not writable; pass --work-dir.')


def lock_work_dir(work_dir: str):
    """Hold an exclusive lock on ``<work_dir>/.lock`` (rank 0 only) so that
    two sweeps never write the same job folders. It is an ``flock``: the
    kernel drops it when its process dies, even by SIGKILL, so a killed
    sweep never leaves a stale lock behind. The file names the holder
    (``pid host``) for the refusal message."""
    import fcntl
    import socket

    from mmengine.dist import is_main_process

    from leaps_mm.apis.cli_config import ConfigError
    if not is_main_process():
        return None
    handle = open(osp.join(work_dir, '.lock'), 'a+')  # never truncate unlocked
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().split()
        handle.close()
        who = (f' (pid {holder[0]} on {holder[1]})' if len(holder) == 2
               else '')
        raise ConfigError(
            f'Another tools/invert.py is running in work dir {work_dir!r}'
            f'{who}. Wait for it, or pass another --work-dir.')
    handle.seek(0)
    handle.truncate()
    handle.write(f'{os.getpid()} {socket.gethostname()}\n')
    handle.flush()
    return handle


_LAUNCHER_ENV = {'pytorch': ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR',
                             'MASTER_PORT'),
                 'slurm': ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_LOCALID')}


def check_launcher(launcher: str) -> str:
    """``--launcher``'s argparse type: refused outside the launcher that
    sets its environment (torchrun, srun), naming what is missing."""
    missing = [k for k in _LAUNCHER_ENV.get(launcher, ()) if k not in
               os.environ]
    if not missing:
        return launcher
    start = ('torchrun --nproc_per_node=N tools/invert.py ...'
             if launcher == 'pytorch' else 'srun ... python tools/invert.py')
    raise argparse.ArgumentTypeError(
        f'{launcher!r} needs the environment its launcher sets (missing: '
        f'{", ".join(missing)}). Start it as `{start} --launcher '
        f'{launcher}`, or leave --launcher out for one process.')


def validate_config(cfg, options: dict, config: str) -> None:
    """The config's LEAPS keys and values, and every --cfg-options key,
    checked before anything is built; a bad one is a ConfigError
    naming it and where it came from."""
    from leaps_mm.apis.cli_config import ConfigError
    from leaps_mm.apis.validation import (ConfigValueError,
                                          validate_inversion_config,
                                          validate_options)

    def origin(key: str) -> str:
        given = any(key == k or key.startswith(k + '.') or
                    k.startswith(key + '.') for k in options)
        return '--cfg-options ' if given else f'{config}: '

    def warn(message: str) -> None:
        print(f'Warning: {message}', file=sys.stderr)

    try:
        validate_inversion_config(cfg, origin, warn)
        validate_options(cfg, [k for k in options
                               if not k.startswith('leaps.')], origin)
    except ConfigValueError as error:
        raise ConfigError(str(error)) from error


def build_jobs(runner_cfg):
    """The sweep's job list (the StimulusDataset, which reads no video
    yet): a missing, misnamed or unlabelled stimulus is an error before
    any model is built."""
    from leaps_mm.apis.cli_config import ConfigError
    from leaps_mm.registry import DATASETS
    try:
        return DATASETS.build(runner_cfg.test_dataloader.dataset)
    except (FileNotFoundError, ValueError, KeyError) as error:
        raise ConfigError(str(error).strip('"\'')) from error


def read_recorded(work_dir: str) -> dict:
    """The settings recorded in the work dir (see leaps_mm.apis.settings)."""
    from leaps_mm.apis.cli_config import ConfigError
    from leaps_mm.apis.settings import read_settings
    try:
        return read_settings(work_dir)
    except ValueError as error:
        raise ConfigError(str(error)) from error


def _read_record(folder: str) -> dict:
    """A finished job's result.json; {} when unreadable (the loop's own
    reading names a broken file)."""
    import json
    try:
        with open(osp.join(folder, 'result.json')) as file:
            return json.load(file)
    except (OSError, ValueError):
        return {}


def resume_plan(dataset, work_dir: str, settings: dict, recorded: dict,
                force: bool) -> Tuple[int, int]:
    """``(finished, continued)``: how many jobs ``--resume`` skips (their
    folder holds ``result.json``) and continues (``partial.pt``). Refused
    unless ``force``, naming what differs: finished jobs made with other
    settings (their ``settings_id``) or from another stimulus than the job
    list gives them now (a reordered list), and saved batches of a run
    with other settings."""
    from leaps_mm.apis.cli_config import ConfigError
    from leaps_mm.apis.settings import (differences, fingerprint,
                                        resume_refusal)
    from leaps_mm.loops.interruption import PARTIAL_FILE
    from leaps_mm.loops.inversion_loop import job_id
    current = fingerprint(settings)
    finished, partial, moved, other = 0, 0, [], {}
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        name = job_id(index, dataset.class_name(int(info['label'])))
        folder = osp.join(work_dir, name)
        if osp.isfile(osp.join(folder, 'result.json')):
            finished += 1
            record = _read_record(folder)
            made_with = record.get('settings_id', current)  # older: trusted
            made_from, now = record.get('stimulus'), info['filename']
            if (made_from and osp.isfile(made_from) and
                    osp.realpath(made_from) != osp.realpath(now)):
                moved.append(f'{name}: {made_from} in the work dir, {now} '
                             'now')
        elif osp.isfile(osp.join(folder, PARTIAL_FILE)):
            partial += 1
            made_with = recorded.get('latest', current)  # the stopped run's
        else:
            continue
        if made_with != current:
            other[made_with] = other.get(made_with, 0) + 1
    changed = sorted({line for made_with in other if made_with in recorded
                      for line in differences(recorded[made_with],
                                              settings)})
    if other and not force:
        raise ConfigError(resume_refusal(
            work_dir, sum(other.values()), changed))
    if other:
        print(f'Warning: --force-resume: {sum(other.values())} job(s) '
              f'were made with other settings ({"; ".join(changed[:3])}'
              '); the results are a mix of both.', file=sys.stderr)
    if moved and not force:
        raise ConfigError(
            f'--resume: {len(moved)} finished job(s) in {work_dir!r} were '
            f'made from other stimuli than the job list gives them now '
            f'({"; ".join(moved[:3])}); was the list reordered? Keep its '
            'order (add new jobs at the end), pass a new --work-dir, or '
            '--force-resume.')
    return finished, partial


def report_resume(total: int, finished: int, partial: int,
                  work_dir: str) -> None:
    """Say how many jobs ``--resume`` skips, continues and runs."""
    went_on = f' ({partial} continue where they stopped)' if partial else ''
    print(f'--resume: {finished} of {total} jobs finished in '
          f'{work_dir} are skipped (their results count); running '
          f'{total - finished}{went_on}.', file=sys.stderr)


IMMEDIATE_STOP = ('Stopped at once (Ctrl-C twice): the running batch was not '
                  'saved and starts over when resumed.')


def interrupted_message(runner) -> str:
    """What a plain KeyboardInterrupt stopped: the sweep, at once (the
    loop had a first Ctrl-C), or a moment outside the jobs (loading)."""
    loop = getattr(runner, '_test_loop', None)
    stop = getattr(loop, '_stop', None)
    if getattr(stop, 'requested', None) is not None:
        return IMMEDIATE_STOP
    return 'Interrupted while no job was running.'


def notify_interrupt(runner) -> None:
    """Tell the hooks that a sweep stopped without the loop's own handling
    (a second Ctrl-C): the MLflow parent run becomes KILLED."""
    for hook in getattr(runner, 'hooks', None) or []:
        if (hasattr(hook, 'on_interrupt')
                and getattr(hook, 'parent_run_id', '') is not None):
            hook.on_interrupt(runner)


def init_distributed(launcher: str) -> None:
    """Start the process group; gloo on CPU (mmengine's init_dist assumes
    CUDA), mmengine's own for GPUs."""
    import torch
    import torch.distributed as dist
    if torch.cuda.is_available():
        from mmengine.dist import init_dist
        init_dist(launcher)
    elif not dist.is_initialized():
        if launcher == 'slurm':  # as mmengine's slurm launcher does on GPUs
            os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
            os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
            os.environ.setdefault('LOCAL_RANK', os.environ['SLURM_LOCALID'])
            os.environ.setdefault('MASTER_PORT', '29500')
            if 'MASTER_ADDR' not in os.environ:  # the job's first node
                import shutil
                import subprocess
                nodes = os.environ.get('SLURM_NODELIST', '')
                first = (subprocess.run(
                    ['scontrol', 'show', 'hostnames', nodes],
                    capture_output=True, text=True).stdout.split()
                    if nodes and shutil.which('scontrol') else [])
                os.environ['MASTER_ADDR'] = first[0] if first else '127.0.0.1'
        dist.init_process_group('gloo')


def run(config: str, checkpoint, verifier_checkpoint, stimulus, target,
        ann_file, classes, work_dir, iters, batch_size, seed, cfg_options,
        tracking_uri, experiment, no_mlflow, resume, force_resume,
        trust_checkpoint, launcher) -> None:
    """The sweep of ``tools/invert.py`` (see :func:`parse_args`)."""
    import leaps_mm  # noqa: F401  registers leaps_mm and MMAction2 modules
    from mmengine.runner import Runner

    from leaps_mm.apis import build_runner_config
    from leaps_mm.tracking import MLflowUnavailableError, resolve_tracking_uri

    from leaps_mm.apis.cli_config import (ConfigError, explain_unknown_type,
                                          load_config)
    options = cfg_options or {}
    cfg = load_config(config, options, require_leaps=True)
    if trust_checkpoint:
        print('Warning: --trust-checkpoint: checkpoints are unpickled '
              'without the safety check; any code in them runs.',
              file=sys.stderr)
    apply_cli(cfg, checkpoint, verifier_checkpoint, stimulus, target,
              ann_file, classes, work_dir, iters, batch_size, seed)
    apply_tracking(cfg, tracking_uri, experiment, no_mlflow)
    validate_config(cfg, options, config)
    resume = resume or force_resume
    if resume:
        cfg.leaps.loop.resume = True
    check_work_dir(cfg.work_dir)
    try:
        runner_cfg = build_runner_config(cfg)
    except (FileNotFoundError, ValueError, KeyError) as error:
        raise ConfigError(str(error).strip('"\'')) from error
    jobs = build_jobs(runner_cfg)
    from leaps_mm.apis.settings import fingerprint, resolved_settings
    settings = resolved_settings(cfg)  # what decides x*; in each result.json
    runner_cfg.test_cfg.identity['settings_id'] = fingerprint(settings)
    if resume:
        plan = resume_plan(jobs, cfg.work_dir, settings,
                           read_recorded(cfg.work_dir), force_resume)
    runner_cfg.launcher = launcher
    if launcher != 'none':
        init_distributed(launcher)
        runner_cfg.model_wrapper_cfg = dict(type='IndependentJobsWrapper')
    lock = lock_work_dir(cfg.work_dir)  # held until the sweep ends
    if lock is not None:  # rank 0
        from leaps_mm.apis.settings import record_settings
        record_settings(cfg.work_dir, settings)
        if resume:
            report_resume(len(jobs), *plan, cfg.work_dir)
    from leaps_mm.fileio.checkpoint import trust_checkpoints
    trust_checkpoints(trust_checkpoint)  # for this sweep only
    runner = None
    try:
        runner = Runner.from_cfg(runner_cfg)
        metrics = runner.test()
    except KeyboardInterrupt as stop:  # SweepInterrupted, or Ctrl-C twice
        message = getattr(stop, 'message', None)
        if message is None:  # nothing saved; hooks not told yet
            message = interrupted_message(runner)
            notify_interrupt(runner)
        print(f'\n{message} Finished jobs are complete in '
              f'{cfg.work_dir}; continue with the same command plus '
              '--resume.', file=sys.stderr)
        sys.exit(128 + getattr(stop, 'signum', signal.SIGINT))
    except (FileNotFoundError, ValueError, KeyError, TypeError,
            MLflowUnavailableError) as error:
        message = str(error).strip('"\'')
        if 'Original Traceback' in message:  # raised in a DataLoader worker
            message = re.sub(r'^[\w.]+: ', '',
                             message.strip().splitlines()[-1])
        raise ConfigError(
            explain_unknown_type(message, cfg) or message) from error
    finally:
        trust_checkpoints(False)
        if lock is not None:  # released now, not when the traceback dies
            lock.close()
    from mmengine.dist import is_main_process
    if not is_main_process():
        return
    print(f'\nSynthesized videos: {osp.abspath(cfg.work_dir)}/<job>/'
          '{synth.mp4, synth.gif, strip.png, result.json}')
    print('\n'.join(metric_summary(metrics)))
    tracking = cfg.leaps.tracking
    if tracking.get('enabled', True):
        uri = resolve_tracking_uri(tracking.get('tracking_uri'), cfg.work_dir)
        print(f'Every metric ({len(metrics)}): the MLflow parent run at {uri}')


PROBE_COLUMNS = (('static', 'static'), ('shuffled', 'shuffled'),
                 ('reversed', 'reversed'))


def metric_summary(metrics: dict) -> list:
    """A few lines for the console: per scorer its top-1 (%), mean target
    probability, the top-1 of x* frozen / shuffled / reversed, and the
    partner rate of the reversed videos, where measured."""
    values = {k.split('/', 1)[-1]: v for k, v in metrics.items()}
    nets = [k[len('top1_'):] for k in values if k.startswith('top1_')
            and not k.endswith(('_static', '_shuffled', '_reversed'))
            and k != 'top1_judge']  # the first judge also has its own name
    lines = [f'Metrics ({int(values.get("num_videos", 0))} videos; top-1 % '
             'of x*, its target probability, and top-1 of x* frozen on '
             'frame 0, shuffled, reversed):']
    for net in nets:
        parts = [f'top-1 {values[f"top1_{net}"]:5.1f}']
        if f'prob_target_{net}' in values:
            parts.append(f'p {values[f"prob_target_{net}"]:.2f}')
        parts += [f'{label} {values[f"top1_{net}_{probe}"]:5.1f}'
                  for probe, label in PROBE_COLUMNS
                  if f'top1_{net}_{probe}' in values]
        if f'partner_rate_{net}' in values:
            rate = values[f'partner_rate_{net}']
            parts.append(f'reversed->partner {rate:5.1f}')
        lines.append(f'  {net:<16} ' + '  '.join(parts))
    return lines


EXAMPLES = """examples:
  python tools/invert.py registry_configs/demo/leaps_r3d.py \\
      --stimulus data/stimuli/expand/0.mp4 --target expand
  python tools/invert.py registry_configs/swin_b.py --checkpoint swin_b.pth \\
      --ann-file jobs.txt --cfg-options leaps.loop.iters=100 leaps.batch_size=4
  torchrun --nproc_per_node=2 tools/invert.py CONFIG --ann-file jobs.txt \\
      --launcher pytorch
"""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            'Synthesize what an MMAction2 recognizer learned for each\n'
            'target class (LEAPS). CONFIG is an inversion config from\n'
            'registry_configs/.'),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', metavar='CONFIG',
                        help='Inversion config file.')
    parser.add_argument(
        '--checkpoint', help='Target weights: path or URL (OpenMMLab '
        'format); "none" for random weights. Default: the config\'s.')
    parser.add_argument(
        '--verifier-checkpoint', help='Verifier weights: path or URL; '
        '"none" for random weights.')
    parser.add_argument(
        '--stimulus', action='append', default=[], help='Stimulus video '
        '(repeatable, one --target each).')
    parser.add_argument(
        '--target', action='append', default=[], help='Target class: a '
        'name from the class list or an index.')
    parser.add_argument(
        '--ann-file', help='Job list in MMAction2 video-list format '
        '("path label" per line).')
    parser.add_argument('--classes',
                        help='Label file (one class name per line).')
    parser.add_argument(
        '--work-dir', help='Where job folders and logs go '
        '(default: work_dirs/<config name>).')
    parser.add_argument('--iters', type=int_range(1), help='Steps per job.')
    parser.add_argument('--batch-size', type=int_range(1),
                        help='Jobs optimised together.')
    parser.add_argument('--seed', type=int_range(0),
                        help='Seed of the initial noise.')
    parser.add_argument(
        '--cfg-options', nargs='+', type=key_value, action=DictAction,
        metavar='KEY=VALUE', help='Override config keys, e.g. '
        'leaps.loop.iters=100 leaps.batch_size=4 (several after one flag, '
        'or repeat it).')
    parser.add_argument(
        '--tracking-uri', help='MLflow tracking URI, e.g. '
        'http://127.0.0.1:5000 (default: $MLFLOW_TRACKING_URI, else '
        'sqlite:///<work dir>/mlflow.db).')
    parser.add_argument(
        '--experiment', help='MLflow experiment (default: the config\'s '
        'leaps.tracking.experiment, "leaps").')
    parser.add_argument('--no-mlflow', action='store_true',
                        help='Do not track in MLflow.')
    parser.add_argument(
        '--resume', action='store_true', help='Skip jobs whose folder in '
        'the work dir already holds result.json; refused when they were '
        'made with other settings (see --force-resume).')
    parser.add_argument(
        '--force-resume', action='store_true', help='--resume even over '
        'jobs made with other settings or from other stimuli (the results '
        'then mix both).')
    parser.add_argument(
        '--trust-checkpoint', action='store_true', help='Load checkpoints '
        'with plain pickle instead of the safe loader: runs any code in '
        'them. Only for files from a source you trust.')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm'], default='none',
        type=check_launcher, help='Job launcher for multi-process sweeps '
        '(default: %(default)s).')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from leaps_mm.apis.cli_config import run_command
    return run_command(lambda: run(**vars(args)))


if __name__ == '__main__':
    sys.exit(main())
