"""Tune an inversion config's loss weights, learning rate or any other key
with an Optuna search; every trial is a short tools/invert.py run.

    python tools/tune.py registry_configs/ablations/full.py \\
        --space registry_configs/tuning/leaps_demo_space.py --n-trials 12

Rerun the same command to resume; start it several times (or pass
--n-jobs) to run trials in parallel on the same study.
"""
import argparse
import os.path as osp
import shlex
import sys
from typing import Optional, Sequence

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import _omp  # noqa: E402,F401  (OpenMP wait policy, before torch)
from _argtypes import int_range, key_value  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

DEFAULT_TRIALS = 20


def parse_options(options: Sequence[str]) -> dict:
    """``KEY=VALUE`` strings (the space file's ``cfg_options``, then
    --cfg-options) as one dict, each value parsed as by mmengine's
    DictAction."""
    from leaps_mm.apis.cli_config import ConfigError
    parsed = {}
    for option in options:
        if '=' not in option:
            raise ConfigError(f'cfg_options {option!r} is not KEY=VALUE '
                              '(e.g. leaps.loop.iters=100).')
        key, value = option.split('=', 1)
        parsed[key] = DictAction._parse_iterable(value)
    return parsed


def _pick(cli, settings: dict, key: str, default=None):
    """The command line's value, else the space file's, else ``default``."""
    return cli if cli is not None else settings.get(key, default)


def run(config: str, space_file: str, out: Optional[str],
        n_trials: Optional[int], iters: Optional[int],
        stimuli: Optional[str], objective_net: Optional[str], n_jobs: int,
        study_name: Optional[str], storage: Optional[str],
        sampler_seed: Optional[int], gifs: Optional[int],
        cfg_options: Optional[dict], no_config_trial: bool,
        tracking_uri: Optional[str], experiment: str,
        no_mlflow: bool) -> None:
    """Search the keys in SPACE for the values that make CONFIG's
    inversions best recognised by the verifier (or --objective-net), and
    write them as <out>/best_config.py, a config inheriting CONFIG."""
    from leaps_mm.apis.cli_config import ConfigError, load_config
    from leaps_mm.evaluation.tables import option_text
    from leaps_mm.tuning import (Search, SearchError, SearchSettings,
                                 SpaceError, load_space)
    from leaps_mm.tuning.space import lookup
    from leaps_mm.tuning.trial import count_jobs, pick_stimuli

    stem = osp.splitext(osp.basename(config))[0]
    try:
        cfg0 = load_config(config, {})
        space0 = load_space(space_file, cfg0)
        fixed = list(space0.settings.get('cfg_options') or []) + [
            f'{k}={option_text(v)}' for k, v in (cfg_options or {}).items()]
        cfg = load_config(config, parse_options(fixed))
        space = load_space(space_file, cfg)
        settings = space.settings
        for option in fixed:
            key = option.split('=', 1)[0]
            if any(key in p.keys for p in space.params):
                raise SpaceError(f'--cfg-options {key} is also searched in '
                                 f'{space_file}; drop one.')
        net = _pick(objective_net, settings, 'objective_net', 'verifier')
        if net != 'model' and not cfg.get(net):
            raise SpaceError(f'{config} has no {net}: pick another '
                             '--objective-net.')
        total = count_jobs(cfg)
        indices = pick_stimuli(total, _pick(stimuli, settings, 'stimuli'))
        run_iters = _pick(iters, settings, 'iters')
        search = Search(SearchSettings(
            config=config, space_file=space_file,
            out_dir=out or osp.join('work_dirs', f'tune_{stem}'),
            n_trials=_pick(n_trials, settings, 'n_trials', DEFAULT_TRIALS),
            iters=run_iters, stimuli=indices,
            num_jobs=len(indices) if indices is not None else total,
            objective_net=net, n_jobs=n_jobs, study_name=study_name or stem,
            storage=storage, tracking=not no_mlflow,
            tracking_uri=tracking_uri, experiment=experiment,
            sampler_seed=_pick(sampler_seed, settings, 'sampler_seed'),
            gifs=_pick(gifs, settings, 'gifs', 4), fixed_options=fixed,
            config_trial=not no_config_trial,
            command=shlex.join(sys.argv)), cfg, space,
            echo=lambda message: print(message, flush=True))
        study = search.run()
    except (SpaceError, SearchError) as error:
        raise ConfigError(str(error)) from error
    except KeyboardInterrupt:
        print('\nInterrupted: rerun the same command to resume.',
              file=sys.stderr)
        sys.exit(130)
    report(study, search, cfg, space, lookup)


def report(study, search, cfg, space, lookup) -> None:
    """The best trial against the config's own values, and where things
    are."""
    from optuna.trial import TrialState
    complete = [t for t in study.get_trials(deepcopy=False)
                if t.state == TrialState.COMPLETE]
    if not complete:
        print('No trial has finished yet.')
        return
    best = max(complete, key=lambda t: t.value)
    attrs = best.user_attrs
    print(f'\nBest: trial {best.number}, objective {best.value:.4f} '
          f'({attrs["net"]} top-1 {attrs["correct"]}/{attrs["num_jobs"]}'
          f', mean target probability {attrs["mean_prob"]:.3f})')
    baseline = [t for t in complete if t.user_attrs.get('config_values')]
    if baseline:
        base = baseline[0]
        print(f'Config values (trial {base.number}): objective '
              f'{base.value:.4f} (top-1 {base.user_attrs["correct"]}/'
              f'{base.user_attrs["num_jobs"]}, mean target probability '
              f'{base.user_attrs["mean_prob"]:.3f})')
    for param in space.params:
        current = lookup(cfg, param.keys[0])
        value = best.params.get(param.name)
        shown = f'{value:.4g}' if isinstance(value, float) else value
        print(f'  {param.name} = {shown}   (config: {current!r}; '
              f'{", ".join(param.keys)})')
    out = search.out
    print(f'Best config: {osp.join(out, "best_config.py")}  (run: '
          f'python tools/invert.py {osp.join(out, "best_config.py")})')
    print(f'Study: {search.storage_url} (study {study.study_name!r})')
    if search.tracker is not None:
        from leaps_mm.tracking import ui_hint
        tracker = search.tracker
        print(ui_hint(tracker.uri, tracker.experiment_id, tracker.parent_id))


EXAMPLES = """examples:
  python tools/tune.py registry_configs/ablations/full.py \\
      --space registry_configs/tuning/leaps_demo_space.py --n-trials 12
  python tools/tune.py registry_configs/ablations/full.py \\
      --space registry_configs/tuning/leaps_demo_space.py --n-jobs 2 \\
      --cfg-options leaps.batch_size=2 leaps.seed=1

Rerun the same command to resume; start it several times (or pass
--n-jobs) to run trials in parallel on the same study.
"""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Search the keys in SPACE for the values that make CONFIG's\n"
            'inversions best recognised by the verifier (or --objective-\n'
            'net), and write them as <out>/best_config.py, a config\n'
            'inheriting CONFIG.'),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', metavar='CONFIG',
                        help='Inversion config file.')
    parser.add_argument(
        '--space', dest='space_file', required=True, metavar='SPACE',
        help='Space file: `space` (config keys and their ranges or choices) '
        'and optional `tuning` settings.')
    parser.add_argument(
        '--out', help='Search folder: study.db, trial_<n>/, best_config.py '
        '(default: work_dirs/tune_<config name>).')
    parser.add_argument(
        '--n-trials', type=int_range(1), help='Finished trials the study '
        "should have (default: the space file's, else "
        f'{DEFAULT_TRIALS}); a resumed study runs the rest.')
    parser.add_argument(
        '--iters', type=int_range(1), help='Steps per video in a trial '
        "(default: the space file's, else the config's).")
    parser.add_argument(
        '--stimuli', help='Videos per trial: a count, spread evenly over '
        'the job list, or job indices "0,5,9" (default: the space '
        "file's, else all).")
    parser.add_argument(
        '--objective-net', choices=['verifier', 'judge', 'model'],
        help='Net whose top-1 / target probability is maximised (default: '
        "the space file's, else verifier).")
    parser.add_argument(
        '--n-jobs', type=int_range(1), default=1, help='Trials run at once '
        'by this process (default: %(default)s).')
    parser.add_argument('--study-name',
                        help='Optuna study (default: the config name).')
    parser.add_argument(
        '--storage', help='Optuna storage URL (default: '
        'sqlite:///<out>/study.db).')
    parser.add_argument(
        '--sampler-seed', type=int, help='Seed of the TPE sampler (give '
        'each parallel process its own).')
    parser.add_argument(
        '--gifs', type=int_range(0), help='Synthesized gifs logged per '
        'trial (default 4).')
    parser.add_argument(
        '--cfg-options', nargs='+', type=key_value, action=DictAction,
        metavar='KEY=VALUE', help='Fixed overrides for every trial (several '
        'after one flag, or repeat it).')
    parser.add_argument(
        '--no-config-trial', action='store_true', help="Do not run the "
        "config's own values as the first trial.")
    parser.add_argument(
        '--tracking-uri', help='MLflow tracking URI (default: '
        '$MLFLOW_TRACKING_URI, else sqlite:///<out>/mlflow.db).')
    parser.add_argument('--experiment', default='leaps_tuning',
                        help='MLflow experiment (default: %(default)s).')
    parser.add_argument('--no-mlflow', action='store_true',
                        help='Do not track in MLflow.')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from leaps_mm.apis.cli_config import run_command
    return run_command(lambda: run(**vars(args)))


if __name__ == '__main__':
    sys.exit(main())
