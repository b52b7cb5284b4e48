"""Evaluate a finished inversion sweep from its job folders.

    python tools/evaluate.py work_dirs/leaps_random_x3d
    python tools/evaluate.py work_dirs/leaps_r3d --reference \
        --judge registry_configs/demo/train_r2plus1d.py \
        --judge-checkpoint checkpoints/demo/r2plus1d.pth --judge-name r21d

Reads every ``<WORK_DIR>/<job>/result.json`` (and ``synth.npy``), computes
the set metrics of the paper (§4.2–4.4): top-1 accuracy (%) of the inverted
model, the verifier and (when present) the judge, Inception Score (mean ± std
over splits) of the model and verifier predictions, consecutive-frame SSIM and
PSNR of the synthesized videos and, when the stimulus files can be read, of
the stimuli. Writes ``<WORK_DIR>/metrics.json`` (atomically), prints a table
and, when the run has an MLflow store, logs the metrics (``eval/<name>``) and
``metrics.json`` to the sweep's parent run.

Every scorer's (model, verifier, each judge ``judge_<name>``) top-1 and
mean target probability come with the motion metrics of
:mod:`leaps_mm.evaluation.motion` where the records have them:
``top1_<net>_<probe>`` / ``prob_target_<net>_<probe>`` for x* reversed,
static (frame 0 repeated) and shuffled, and ``partner_rate_<net>`` (% of
reversed videos classified as the partner class, with the run's
``partners`` map).

``--judge CONFIG --judge-checkpoint PTH [--judge-classes FILE]
[--judge-name NAME]`` (repeatable, paired in order) re-scores the
synthesized videos (``synth.npy``) with a model that was not in the run
(``top1_judge_<name>``, ...; name default: the config's file stem), its
scores mapped into the target's class order by name when it has its own
label file. ``--reference`` computes the same metrics, suffixed
``_stimulus``, on the stimulus clips the jobs used (decoded with the run's
pipeline), for the run's scorers and the extra judges; ``--rescore-run``
re-scores x* with the run's own scorers (for runs recorded before the
motion probes). Both rebuild the run's networks from the config the run
dumped into WORK_DIR (``--config`` to give another).

Non-finite values (PSNR of a completely static set, a metric with no data)
are written to metrics.json as ``null`` and not logged to MLflow.
"""
import argparse
import glob
import math
import os.path as osp
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import _omp  # noqa: E402,F401  (OpenMP wait policy, before torch)
from _argtypes import (existing_dir, existing_file,  # noqa: E402
                       int_range)

NETS = ('model', 'verifier', 'judge')
METRIC_PREFIX = 'eval/'


def load_records(work_dir: str) -> list:
    """The :class:`~leaps_mm.structures.JobRecord` of every finished job,
    each with its folder in ``extra['_folder']``."""
    from leaps_mm.apis.cli_config import ConfigError
    from leaps_mm.fileio import finished_jobs, read_job_record
    from leaps_mm.structures import JobRecord
    records = []
    for folder in finished_jobs(work_dir):
        try:
            record = JobRecord.from_json(read_job_record(folder))
        except ValueError as error:
            raise ConfigError(str(error))
        record.extra['_folder'] = folder
        records.append(record)
    return records


def top1_metrics(records: List[dict],
                 partners: Optional[Dict[int, int]] = None
                 ) -> Dict[str, float]:
    """``top1_{net}`` (%) and ``prob_target_{net}`` for every scorer whose
    predictions every record has, with its motion probes and partner rate
    (:func:`leaps_mm.evaluation.record_metrics`)."""
    from leaps_mm.evaluation import record_metrics
    return record_metrics(records, partners)


# --- the run's config, class names and scorers ------------------------------
def find_run_config(work_dir: str, config: Optional[str] = None):
    """The runner config a sweep dumped into its work dir (the newest
    ``*.py`` whose ``model`` is a ``LEAPSInverter``), or ``config``; None
    when there is none."""
    from mmengine.config import Config

    from leaps_mm.apis.cli_config import ConfigError
    paths = [config] if config else sorted(
        glob.glob(osp.join(work_dir, '*.py')), key=osp.getmtime,
        reverse=True)
    for path in paths:
        try:
            cfg = Config.fromfile(path)
        except Exception as error:
            if config:
                raise ConfigError(
                    f'Cannot read the run config {path}: {error}')
            continue
        if (cfg.get('model') or {}).get('type') == 'LEAPSInverter':
            return cfg
        if config:
            raise ConfigError(
                f'{path} is not a runner config of tools/invert.py (its '
                '`model` is not a LEAPSInverter; give the config the run '
                'dumped into its work dir).')
    return None


def run_class_names(run_cfg, classes: Optional[str]) -> List[str]:
    """The target's class names: ``classes`` (a label file), else the run's
    dataset classes; [] when neither is known."""
    from leaps_mm.models.scorers import load_class_names
    if classes:
        return load_class_names(classes)
    if run_cfg is None:
        return []
    names = run_cfg.get('test_dataloader', {}).get('dataset', {}).get(
        'classes')
    if not names:
        return []
    try:
        return load_class_names(names)
    except FileNotFoundError:
        return []


def run_partners(run_cfg, class_names: Sequence[str],
                 notes: List[str]) -> Dict[int, int]:
    """The run's ``partners`` map (``test_evaluator.partners``) as indices."""
    from leaps_mm.evaluation.motion import partner_indices
    partners = ((run_cfg.get('test_evaluator') or {}).get('partners')
                if run_cfg is not None else None)
    if not partners:
        return {}
    if not class_names:
        notes.append('the run has `partners` but its class names are '
                     'unknown (give --classes); no partner rates')
        return {}
    return partner_indices(partners, class_names)


def run_judge_names(work_dir: str) -> List[str]:
    """Names of the judges already in a sweep's records."""
    from leaps_mm.evaluation import scorer_keys
    from leaps_mm.fileio.job_outputs import (finished_jobs,
                                                    read_job_record)
    folders = finished_jobs(work_dir)
    if not folders:
        return []
    try:
        record = read_job_record(folders[0])
    except ValueError:
        return []
    return [k[len('judge_'):] for k in scorer_keys(record)
            if k.startswith('judge_')]


def cli_judge_specs(configs: Sequence[str], checkpoints: Sequence[str],
                    classes: Sequence[str], names: Sequence[str],
                    taken: Sequence[str] = ()) -> List[Tuple[str, dict]]:
    """``[('judge_<name>', spec)]`` of the ``--judge*`` options (paired in
    order; ``-`` as --judge-classes: the target's order); ``taken``: names
    already in the run."""
    from leaps_mm.apis.cli_config import ConfigError
    from leaps_mm.models.scorers import resolve_scorer, scorer_name
    if not configs:
        if checkpoints or classes or names:
            raise ConfigError('--judge-checkpoint/--judge-classes/'
                              '--judge-name need --judge CONFIG.',
                              exit_code=2)
        return []
    for option, values in (('--judge-checkpoint', checkpoints),
                           ('--judge-classes', classes),
                           ('--judge-name', names)):
        if (values or option == '--judge-checkpoint') and \
                len(values) != len(configs):
            raise ConfigError(
                f'{option} is given {len(values)} time(s) for {len(configs)} '
                f'--judge: give it once per --judge, in the same order'
                + {'--judge-classes': " ('-': the target's class order).",
                   '--judge-name': " ('-': the config file stem)."}.get(
                       option, '.'), exit_code=2)
    specs, taken = [], list(taken)
    for i, config in enumerate(configs):
        label = classes[i] if classes else None
        try:
            spec = resolve_scorer(dict(
                from_config=osp.abspath(config), checkpoint=checkpoints[i],
                classes=None if label in (None, '-') else label,
                name=names[i] if names and names[i] != '-' else None))
            name = scorer_name(spec, len(taken), taken)
        except Exception as error:  # config errors, duplicate names
            raise ConfigError(f'--judge {config}: {error}')
        taken.append(name)
        specs.append((f'judge_{name}', spec))
    return specs


def build_scorers(specs: Sequence[Tuple[str, dict]],
                  class_names: Sequence[str]) -> Dict[str, object]:
    """:class:`Scorer` s of ``specs``; errors as ConfigError."""
    from leaps_mm.apis.cli_config import ConfigError
    from leaps_mm.models.scorers import build_scorer
    scorers = {}
    for key, spec in specs:
        try:
            scorers[key] = build_scorer(spec, key, class_names or None)
        except (OSError, ValueError, KeyError, RuntimeError) as error:
            raise ConfigError(f'{key}: {error}')
    return scorers


def load_synth(records: List[dict]):
    """The synthesized videos as float pixels ``(N, C, T, H, W)`` (0-255)."""
    import numpy as np
    import torch

    from leaps_mm.apis.cli_config import ConfigError
    videos = []
    for record in records:
        path = osp.join(record.extra['_folder'], 'synth.npy')
        try:
            videos.append(np.load(path))  # T, H, W, C uint8
        except (OSError, ValueError) as error:
            raise ConfigError(f'Cannot re-score: {path} is '
                              f'unreadable ({error}).')
    return torch.from_numpy(np.stack(videos)).permute(0, 4, 1, 2, 3).float()


def load_stimuli(run_cfg, records: List[dict]):
    """The stimulus clips of the jobs, decoded with the run's pipeline, as
    float pixels ``(N, C, T, H, W)``; None when a job names none."""
    import torch
    from mmengine.registry import DefaultScope

    from leaps_mm.apis.cli_config import ConfigError
    from leaps_mm.registry import DATASETS
    if any(not r.stimulus for r in records):
        return None
    dataset_cfg = dict(run_cfg.test_dataloader.dataset.to_dict(),
                       ann_file='', data_prefix=None,
                       stimuli=[dict(filename=r.stimulus, label=r.target)
                                for r in records])
    try:
        with DefaultScope.overwrite_default_scope('leaps_mm'):
            dataset = DATASETS.build(dataset_cfg)
        clips = [dataset[i]['inputs'][0] for i in range(len(dataset))]
    except Exception as error:  # unreadable or moved stimuli
        raise ConfigError(f'--reference: cannot read the stimuli '
                          f'({type(error).__name__}: {error}).')
    return torch.stack(clips).float()


def score_records(records: list, scorers: Dict[str, object], pixels,
                  class_names: Sequence[str], batch_size: int = 8) -> None:
    """Add every scorer's softmax of ``pixels`` ``(N, C, T, H, W)`` and of
    their motion probes to the JobRecords ``records`` (scorer keys ``key``
    and ``{key}_{probe}``), in place."""
    import torch

    from leaps_mm.evaluation.motion import MOTION_PROBES
    for key, scorer in scorers.items():
        for probe, transform in [('', None)] + list(MOTION_PROBES.items()):
            name = f'{key}_{probe}' if probe else key
            with torch.no_grad():
                probs = torch.cat([
                    scorer.probs(transform(chunk) if transform else chunk)
                    for chunk in pixels.split(batch_size)])
            for record, prob in zip(records, probs):
                record.add_scores({name: prob}, class_names)


def video_metrics(records: List[dict],
                  notes: List[str]) -> Dict[str, float]:
    """Consecutive-frame SSIM / PSNR of ``synth.npy`` and of the stimuli."""
    import numpy as np

    from leaps_mm.evaluation import set_frame_similarity
    from leaps_mm.fileio import VideoReadError, read_video

    synth = []
    for record in records:
        path = osp.join(record.extra['_folder'], 'synth.npy')
        try:
            synth.append(np.load(path))
        except (OSError, ValueError) as error:
            notes.append(f'{path} unreadable ({error}); left out of SSIM/PSNR')
    metrics = {}
    if synth:
        values = set_frame_similarity(synth)
        metrics.update(ssim_consecutive=values['ssim'],
                       psnr_consecutive=values['psnr'])
    stimuli, missing = [], []
    for record in records:
        path = record.stimulus
        if not path:
            missing.append(record.extra['_folder'])
            continue
        try:
            stimuli.append(read_video(path))
        except VideoReadError as error:
            missing.append(str(error))
    if missing:
        notes.append(f'{len(missing)} stimulus video(s) not readable; '
                     'stimulus SSIM/PSNR ' +
                     ('over the others' if stimuli else 'skipped') +
                     f' (first: {missing[0]})')
    if stimuli:
        values = set_frame_similarity(stimuli)
        metrics.update(ssim_consecutive_stimulus=values['ssim'],
                       psnr_consecutive_stimulus=values['psnr'])
    return metrics


def alias_first_judge(records: List[dict], scorers: Sequence[str]) -> None:
    """Copy the predictions of the first ``judge_<name>`` in ``scorers``
    to the ``judge`` keys (as the inverter records them), in place."""
    first = next((k for k in scorers if k.startswith('judge_')), None)
    if first is None:
        return
    for record in records:
        for store in (record.preds, record.prob_targets, record.probs,
                      record.pred_names):
            store.update({'judge' + k[len(first):]: v
                          for k, v in list(store.items())
                          if k == first or k[len(first) + 1:] in
                          ('reversed', 'static', 'shuffled')
                          and k.startswith(first + '_')})


def evaluate(work_dir: str, splits: int = 10,
             judges: Sequence[Tuple[str, dict]] = (),
             reference: bool = False, rescore_run: bool = False,
             classes: Optional[str] = None, config: Optional[str] = None
             ) -> Tuple[Dict[str, float], List[str]]:
    """The metrics of a finished sweep and notes about what was skipped.

    Args:
        judges: extra scorers ``[('judge_<name>', spec)]``
            (:func:`cli_judge_specs`) that re-score ``synth.npy``.
        reference: also the metrics of the stimulus clips (suffix
            ``_stimulus``) for the run's scorers and ``judges``.
        rescore_run: re-score x* with the run's own scorers.
        classes: the target's label file (default: the run config's).
        config: the run's runner config (default: found in ``work_dir``).
    """
    from leaps_mm.apis.cli_config import ConfigError
    from leaps_mm.evaluation import inception_scores
    from leaps_mm.evaluation import scorer_keys
    from leaps_mm.models.scorers import inverter_scorer_specs
    notes: List[str] = []
    records = load_records(work_dir)
    if not records:
        raise ConfigError(
            f'{work_dir!r} has no job folders (sub-folders with a '
            'result.json); is it the work dir of a finished tools/invert.py '
            'run?')
    run_cfg = find_run_config(work_dir, config)
    class_names = run_class_names(run_cfg, classes)
    if (reference or rescore_run) and run_cfg is None:
        raise ConfigError(
            '--reference/--rescore-run rebuild the run\'s networks, but '
            f'{work_dir!r} holds no runner config (the <config>.py '
            'tools/invert.py dumps there); give it with --config.')
    run_specs = (inverter_scorer_specs(run_cfg.model.to_dict())
                 if reference or rescore_run else [])
    run_scorers = build_scorers(run_specs, class_names)
    extra = build_scorers(judges, class_names)
    if extra or rescore_run:
        score_records(records, dict(run_scorers if rescore_run else {},
                                    **extra), load_synth(records),
                      class_names)
        if rescore_run:
            alias_first_judge(records, list(run_scorers))
    partners = run_partners(run_cfg, class_names, notes)

    metrics: Dict[str, float] = {'num_videos': len(records)}
    metrics.update(top1_metrics(records, partners))
    nets = scorer_keys(records[0])
    scores = inception_scores(records, nets, splits)
    for net in nets:
        if f'is_{net}' not in scores:
            notes.append(f'no Inception Score for the {net}: result.json '
                         f'lacks `{net}_probs` (written by newer runs)')
    metrics.update(scores)
    if not any(k.startswith('top1_') and k.endswith('_reversed')
               for k in metrics):
        notes.append('no motion metrics: the records have no predictions of '
                     'reversed/static/shuffled x* (a run before they were '
                     'recorded); --rescore-run computes them')
    metrics.update(video_metrics(records, notes))
    if reference:
        stimuli = load_stimuli(run_cfg, records)
        if stimuli is None:
            notes.append('a job names no stimulus; no reference metrics')
        else:
            metrics.update({f'{k}_stimulus': v for k, v in reference_metrics(
                records, dict(run_scorers, **extra), stimuli, class_names,
                partners, alias=list(run_scorers)).items()})
    return metrics, notes


def reference_metrics(records: List[dict], scorers: Dict[str, object],
                      stimuli, class_names: Sequence[str],
                      partners: Optional[Dict[int, int]] = None,
                      alias: Sequence[str] = ()) -> Dict[str, float]:
    """:func:`top1_metrics` of ``scorers`` on the stimulus clips
    ``(N, C, T, H, W)`` of ``records`` (the reference row); the first judge
    among ``alias`` (the run's scorers) also as ``judge``."""
    from leaps_mm.structures import JobRecord
    refs = [JobRecord(target=r.target) for r in records]
    score_records(refs, scorers, stimuli, class_names)
    alias_first_judge(refs, alias)
    return top1_metrics(refs, partners)


MIN_VIDEOS_PER_SPLIT = 10


def check_splits(splits: int, num_videos: int) -> Tuple[int, Optional[str]]:
    """``splits`` clamped so that every Inception-Score split holds at
    least :data:`MIN_VIDEOS_PER_SPLIT` videos (at least one split), and a
    warning when it was clamped: a split of a few videos scores about 1
    whatever they show."""
    most = max(1, num_videos // MIN_VIDEOS_PER_SPLIT)
    if splits <= most:
        return splits, None
    return most, (f'--splits {splits} would put fewer than '
                  f'{MIN_VIDEOS_PER_SPLIT} of the {num_videos} videos in a '
                  f'split (an Inception Score over a few videos is about 1 '
                  f'whatever they show); using {most} split'
                  f'{"s" if most > 1 else ""}. Give at most --splits {most}, '
                  f'or evaluate more videos.')


def to_json_value(value):
    """Floats as they are; inf / nan as None (not valid JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def format_table(metrics: Dict[str, float]) -> str:
    width = max(len(k) for k in metrics)
    lines = [f'{"metric":<{width}}  value', f'{"-" * width}  ' + '-' * 10]
    for key, value in metrics.items():
        text = (str(value) if isinstance(value, int) else
                f'{value:.4f}' if math.isfinite(value) else str(value))
        if key.startswith('is_') and not key.endswith('_std') and \
                f'{key}_std' in metrics:
            text = f'{value:.4f} ± {metrics[key + "_std"]:.4f}'
        elif key.startswith('is_') and key.endswith('_std'):
            continue
        lines.append(f'{key:<{width}}  {text}')
    return '\n'.join(lines)


def log_to_mlflow(uri: str, work_dir: str, metrics: Dict[str, float],
                  metrics_path: str) -> str:
    """Log the finite metrics and metrics.json to the sweep's parent run;
    return a line saying what happened."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    from leaps_mm.tracking import find_parent_run
    client = MlflowClient(uri)
    parent = find_parent_run(client, work_dir)
    if parent is None:
        return (f'MLflow: no parent run tagged work_dir={osp.abspath(work_dir)}'
                f' at {uri}; metrics not logged.')
    run_id = parent.info.run_id
    now = int(time.time() * 1000)
    entries = [Metric(METRIC_PREFIX + k, float(v), now, 0)
               for k, v in metrics.items()
               if isinstance(v, (int, float)) and math.isfinite(v)]
    client.log_batch(run_id, metrics=entries)
    client.log_artifact(run_id, metrics_path)
    return f'MLflow: logged {len(entries)} metrics to run {run_id} at {uri}.'


def run(work_dir: str, splits: int, judge_configs: Sequence[str],
        judge_checkpoints: Sequence[str], judge_classes: Sequence[str],
        judge_names: Sequence[str], reference: bool, rescore_run: bool,
        classes: Optional[str], config: Optional[str],
        tracking_uri: Optional[str], no_mlflow: bool) -> None:
    """Compute the metrics of a finished sweep in WORK_DIR and write
    WORK_DIR/metrics.json."""
    from leaps_mm.fileio.atomic import write_json
    from leaps_mm.tracking import resolve_tracking_uri

    num_videos = len(load_records(work_dir))
    splits, warning = (check_splits(splits, num_videos) if num_videos
                       else (splits, None))
    if warning:
        print(f'Warning: {warning}', file=sys.stderr)
    judges = cli_judge_specs(judge_configs, judge_checkpoints, judge_classes,
                             judge_names, run_judge_names(work_dir))
    metrics, notes = evaluate(work_dir, splits, judges, reference,
                              rescore_run, classes, config)
    metrics_path = osp.join(work_dir, 'metrics.json')
    write_json(metrics_path, {k: to_json_value(v) for k, v in metrics.items()})
    print(format_table(metrics))
    print(f'\nWrote {osp.abspath(metrics_path)}')
    for note in notes:
        print(f'Note: {note}')
    if no_mlflow:
        return
    # the rule of tools/invert.py, the work dir's own store only if it exists
    has_store = osp.isfile(osp.join(work_dir, 'mlflow.db'))
    tracking_uri = resolve_tracking_uri(tracking_uri,
                                        work_dir if has_store else None)
    if tracking_uri is None:
        print('MLflow: no --tracking-uri, $MLFLOW_TRACKING_URI or '
              'mlflow.db in the work dir; metrics not logged.')
        return
    try:
        print(log_to_mlflow(tracking_uri, work_dir, metrics,
                            metrics_path))
    except Exception as error:  # metrics.json is written; tracking is extra
        print(f'MLflow: logging to {tracking_uri} failed '
              f'({type(error).__name__}: {error}); metrics.json is '
              'complete.', file=sys.stderr)


EXAMPLES = """examples:
  python tools/evaluate.py work_dirs/leaps_random_x3d
  python tools/evaluate.py work_dirs/leaps_r3d --reference \\
      --judge registry_configs/demo/train_r2plus1d.py \\
      --judge-checkpoint checkpoints/demo/r2plus1d.pth --judge-name r21d
"""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            'Compute the metrics of a finished sweep in WORK_DIR and write\n'
            'WORK_DIR/metrics.json.'),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('work_dir', metavar='WORK_DIR', type=existing_dir,
                        help='Work dir of a finished tools/invert.py run.')
    parser.add_argument(
        '--splits', type=int_range(1), default=10, help='Inception Score '
        f'splits; fewer when a split would hold under {MIN_VIDEOS_PER_SPLIT} '
        'videos (default: %(default)s).')
    parser.add_argument(
        '--judge', dest='judge_configs', action='append', default=[],
        type=existing_file, metavar='CONFIG', help='Re-score the '
        'synthesized videos with the `model` of this config (repeatable).')
    parser.add_argument(
        '--judge-checkpoint', dest='judge_checkpoints', action='append',
        default=[], metavar='CHECKPOINT',
        help='Weights of each --judge, in the same order.')
    parser.add_argument(
        '--judge-classes', dest='judge_classes', action='append', default=[],
        metavar='CLASSES', help="Label file of each --judge ('-': the "
        "target's order; 'checkpoint': the names in its checkpoint's meta); "
        "its scores are mapped into the target's order by name.")
    parser.add_argument(
        '--judge-name', dest='judge_names', action='append', default=[],
        metavar='NAME', help='Name of each --judge in the metrics '
        "(top1_judge_<name>; default or '-': the config file stem).")
    parser.add_argument(
        '--reference', action='store_true', help='Also the metrics of the '
        'stimulus clips of the jobs (suffix _stimulus), for the run\'s '
        'scorers and every --judge.')
    parser.add_argument(
        '--rescore-run', action='store_true', help="Re-score x* with the "
        "run's own model, verifier and judges (motion metrics of runs "
        'recorded before them).')
    parser.add_argument(
        '--classes', type=existing_file, help="The target's label file "
        "(default: the run config's).")
    parser.add_argument(
        '--config', type=existing_file, help='The runner config of the run '
        '(default: the one tools/invert.py dumped into WORK_DIR).')
    parser.add_argument(
        '--tracking-uri', help='MLflow store of the run (default: '
        '$MLFLOW_TRACKING_URI, else sqlite:///<WORK_DIR>/mlflow.db when '
        'that file exists).')
    parser.add_argument('--no-mlflow', action='store_true',
                        help='Do not log to MLflow.')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from leaps_mm.apis.cli_config import run_command
    return run_command(lambda: run(**vars(args)))


if __name__ == '__main__':
    sys.exit(main())
