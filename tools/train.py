"""Train a demo recognizer on the procedural motion dataset with mmengine's
Runner, test it on the held-out split, and export a small checkpoint.

    python tools/train.py registry_configs/demo/train_r3d_robust.py

The export (``<export_dir>/<export_name>.pth``, by default
``checkpoints/demo/<export_name>.pth``, unless ``--out``) holds
only ``state_dict`` (fp32) and ``meta`` (``dataset_meta.classes``, the
held-out top-1, the config), written atomically; no optimizer state.

A stage that fine-tunes another names it: ``load_from`` is the earlier
stage's export and ``load_from_config`` the config that makes it. When
``load_from`` does not exist yet, that config is trained first (and its own
earlier stages before it), so one command reproduces a whole chain;
``--from-scratch`` retrains the earlier stages even when their exports exist.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys
import time
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import _omp  # noqa: E402,F401  (OpenMP wait policy, before torch)
from _argtypes import key_value, not_dir  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_train_config(config: str, cfg_options: dict,
                      work_dir: str | None):
    from leaps_mm.apis.cli_config import ConfigError, load_config
    from leaps_mm.apis.validation import ConfigValueError, validate_options
    cfg = load_config(config, cfg_options)
    try:  # each --cfg-options key against the class its dict builds
        validate_options(cfg, list(cfg_options))
    except ConfigValueError as error:
        raise ConfigError(str(error)) from error
    if work_dir:
        cfg.work_dir = work_dir
    cfg.setdefault('work_dir', osp.join(
        'work_dirs', osp.splitext(osp.basename(config))[0]))
    return cfg


def export_checkpoint(model, path: str, meta: dict) -> int:
    """Write ``{'state_dict', 'meta'}`` (fp32, standard memory layout)
    atomically to ``path``; return its size in bytes."""
    import torch
    state = {}
    for key, value in model.state_dict().items():
        value = value.detach().cpu()
        if value.is_floating_point():
            value = value.float()
        state[key] = value.contiguous().clone()
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(path)}.tmp{os.getpid()}')
    try:
        torch.save({'state_dict': state, 'meta': meta}, tmp)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return osp.getsize(path)


def export_path(cfg) -> str:
    """Where a config's model is exported: ``<export_dir>/<export_name>.pth``
    (default ``checkpoints/demo/`` of this repository)."""
    folder = cfg.get('export_dir') or osp.join(REPO, 'checkpoints', 'demo')
    return osp.join(folder, f"{cfg.get('export_name', 'model')}.pth")


def prerequisite(cfg, config: str, from_scratch: bool) -> str | None:
    """The config that makes ``cfg.load_from`` when that file is missing
    (or always, ``from_scratch``), else None. A missing file that no config
    makes, or a config that exports elsewhere, is an error naming the keys
    (before any training)."""
    from leaps_mm.apis.cli_config import ConfigError
    load_from = cfg.get('load_from')
    stage = cfg.get('load_from_config')
    if not load_from or (osp.exists(load_from)
                         and not (from_scratch and stage)):
        return None
    if not stage:
        raise ConfigError(
            f'{config}: load_from {load_from!r} does not exist and the config '
            'sets no load_from_config that trains it; train that model first '
            'or set load_from=None.')
    made = export_path(load_train_config(stage, {}, None))
    if osp.abspath(made) != osp.abspath(load_from):
        raise ConfigError(
            f'{config}: load_from_config {stage} exports {made}, not '
            f'load_from {load_from!r}: make them name the same file.')
    return stage


def train(config: str, cfg_options: dict, work_dir: str | None,
          out: str | None, export: bool, from_scratch: bool = False
          ) -> str | None:
    """Train CONFIG (after any missing earlier stage, or every earlier
    stage with ``from_scratch``), test it on the held-out split and export
    it; return the export's path."""
    import torch
    cfg = load_train_config(config, cfg_options, work_dir)
    stage = prerequisite(cfg, config, from_scratch)
    if stage is not None:
        print(f'Training {stage} first: it makes {cfg.load_from}.')
        train(stage, {}, None, None, export=True, from_scratch=from_scratch)
    torch.set_num_threads(int(cfg.get('num_threads', 2)))

    import leaps_mm  # noqa: F401  (patches mmaction, registers components)
    from mmengine.runner import Runner

    from leaps_mm.datasets.motion import MOTION_CLASSES
    from leaps_mm.fileio.checkpoint import safe_unpickling

    start = time.time()
    runner = Runner.from_cfg(cfg)
    if cfg.get('channels_last_3d', False):
        # Only the backbone: the preprocessor's buffers are 4-D.
        runner.model.backbone.to(memory_format=torch.channels_last_3d)
    with safe_unpickling():  # load_from / resume: no arbitrary pickles
        runner.train()
    train_s = time.time() - start
    metrics = runner.test()
    top1 = float(metrics.get('acc/top1', float('nan')))
    test_set = cfg.test_dataloader.dataset
    print(f'{config}: held-out top-1 {top1:.4f} on '
          f'{test_set.num_samples} clips (seed {test_set.seed}); '
          f'training took {train_s:.0f} s', flush=True)
    if not export:
        return None
    model = runner.model.module if hasattr(runner.model, 'module') \
        else runner.model
    path = out or export_path(cfg)
    meta = dict(
        dataset_meta=dict(classes=list(MOTION_CLASSES)),
        held_out_top1=top1,
        held_out=dict(seed=int(test_set.seed),
                      num_samples=int(test_set.num_samples)),
        epochs=int(cfg.train_cfg.max_epochs),
        init_from=cfg.get('load_from'),
        train_seconds=round(train_s, 1),
        mmengine_version=__import__('mmengine').__version__,
        mmaction2_version=__import__('mmaction').__version__,
        config=cfg.pretty_text,
    )
    size = export_checkpoint(model, path, meta)
    print(f'exported {path} ({size / 1024:.0f} KiB)')
    return path


EXAMPLES = """examples:
  python tools/train.py registry_configs/demo/train_r3d_robust.py
  python tools/train.py registry_configs/demo/train_r3d.py --no-export \\
      --cfg-options train_cfg.max_epochs=2 train_dataloader.batch_size=8
"""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            'Train the demo recognizer of CONFIG\n'
            '(registry_configs/demo/train_*.py), after any missing earlier\n'
            'stage it fine-tunes, report its held-out top-1 and export it.'),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', metavar='CONFIG', type=not_dir,
                        help='Training config file.')
    parser.add_argument(
        '--work-dir', help='Runner work dir (logs, full checkpoints); '
        'default: the config\'s work_dir.')
    parser.add_argument(
        '--cfg-options', nargs='+', type=key_value, action=DictAction,
        metavar='KEY=VALUE', help='Override config keys, e.g. '
        'train_cfg.max_epochs=2 (several after one flag, or repeat it).')
    parser.add_argument(
        '--out', type=not_dir, help='Exported checkpoint; default '
        'checkpoints/demo/<export_name>.pth.')
    parser.add_argument(
        '--no-export', action='store_true',
        help='Train and test only; write no exported checkpoint.')
    parser.add_argument(
        '--from-scratch', action='store_true',
        help='Also retrain every earlier stage (load_from_config) whose '
        'export exists, overwriting it.')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from leaps_mm.apis.cli_config import run_command
    return run_command(lambda: train(
        args.config, args.cfg_options or {}, args.work_dir, args.out,
        export=not args.no_export, from_scratch=args.from_scratch))


if __name__ == '__main__':
    sys.exit(main())
