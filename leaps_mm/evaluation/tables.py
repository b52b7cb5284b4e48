"""Grids of inversion runs and the paper's tables made from their metrics.

A grid is a small python config (``registry_configs/tables/*.py``)::

    title = 'Table 1 (demo models)'
    layout = 'table1'            # 'table1' | 'table2' | 'generic' | 'transfer'
    iters = 200                  # optional: steps per video for every row
    cfg_options = dict(...)      # optional: for every row (dotted keys)
    rows = [dict(name='3D DeepDream',
                 config='registry_configs/baselines/deepdream_3d.py'),
            dict(name='LEAPS', config='registry_configs/ablations/full.py',
                 cfg_options={'leaps.seed': 1})]

A ``'transfer'`` grid also has ``scorers`` (name -> family) and rows with
``target``, ``recipe`` and ``shared`` (see :mod:`.transfer`).
Optional too: ``columns`` (metric names of ``metrics.json``) and
``is_splits`` (Inception Score splits; default: each row config's).
:func:`load_grid` checks all of it and raises :class:`GridError` with one
message naming the grid, the row and the key; :func:`render_markdown` turns
rows with their metrics into the table.
"""
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config, DictAction

from .markdown import metric_value, table_line
from .transfer import render_transfer

TOP1 = ('top1_model', 'top1_verifier', 'top1_judge')
# default columns per layout; a default column no row has is left out
LAYOUTS: Dict[str, Tuple[str, ...]] = {
    'table1': TOP1 + ('is_model', 'is_verifier'),  # paper Table 1
    'table2': TOP1,  # paper Table 2: metrics as rows, grid rows as columns
    'generic': TOP1 + ('is_model', 'is_verifier', 'ssim_consecutive',
                       'psnr_consecutive'),
    'transfer': (),  # leaps_mm.evaluation.transfer: a matrix per recipe
}
LABELS = {'top1_model': 'top-1 model', 'top1_verifier': 'top-1 verifier',
          'top1_judge': 'top-1 judge', 'is_model': 'IS model',
          'is_verifier': 'IS verifier', 'is_judge': 'IS judge',
          'ssim_consecutive': 'SSIM', 'psnr_consecutive': 'PSNR (dB)',
          'num_videos': 'videos'}
TABLE2_LABELS = {'top1_model': 'top-1 (m)', 'top1_verifier': 'top-1 (v)',
                 'top1_judge': 'top-1 (j)'}
GRID_KEYS = {'rows', 'title', 'layout', 'columns', 'iters', 'is_splits',
             'cfg_options', 'scorers'}
ROW_KEYS = {'name', 'config', 'cfg_options', 'target', 'recipe', 'shared',
            'family'}
MISSING = '–'
PROBES = ('reversed', 'static', 'shuffled')  # evaluation/motion.py
_KINDS = (('top1_', 'top-1'), ('prob_target_', 'p(target)'),
          ('partner_rate_', 'partner rate'), ('is_', 'IS'))


def metric_label(key: str) -> str:
    """A column label: :data:`LABELS`, else composed from the metric's
    parts (``top1_judge_mvit_reversed_stimulus`` -> ``top-1 judge mvit,
    reversed (stimuli)``); unknown keys as they are."""
    if key in LABELS:
        return LABELS[key]
    rest, where = key, ''
    if rest.endswith('_stimulus'):
        rest, where = rest[:-len('_stimulus')], ' (stimuli)'
    kind = next(((p, label) for p, label in _KINDS if rest.startswith(p)),
                None)
    if kind is None:
        return key
    net = rest[len(kind[0]):]
    probe = next((p for p in PROBES if net.endswith('_' + p)), None)
    if probe:
        net = net[:-len(probe) - 1]
    net = net.replace('judge_', 'judge ', 1)
    return (f'{kind[1]} {net}' + (f', {probe}' if probe else '') + where)


def _is_probe(key: str) -> bool:
    """A motion-probe metric (reversed/static/shuffled), whose highest value
    is not the best."""
    key = key[:-len('_stimulus')] if key.endswith('_stimulus') else key
    return key.endswith(tuple('_' + p for p in PROBES))


class GridError(ValueError):
    """A grid file that cannot be used; the message names what is wrong."""


@dataclass
class Row:
    name: str
    slug: str  # its work dir under the table's output folder
    config: str
    cfg_options: Dict[str, object] = field(default_factory=dict)
    target: Optional[str] = None  # transfer grids: the scorer inverted
    recipe: Optional[str] = None
    shared: Tuple[str, ...] = ()
    family: Optional[str] = None  # a target that is no scorer: its family


@dataclass
class Grid:
    path: str
    title: str
    layout: str
    rows: List[Row]
    columns: Optional[Tuple[str, ...]] = None
    iters: Optional[int] = None
    is_splits: Optional[int] = None
    scorers: Dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return osp.splitext(osp.basename(self.path))[0]


def slugify(name: str) -> str:
    """``'LEAPS (L_prim + R_feat)'`` -> ``'leaps_l_prim_r_feat'``."""
    return re.sub(r'[^a-z0-9]+', '_', name.lower()).strip('_')


def option_text(value) -> str:
    """``value`` in ``--cfg-options`` syntax (mmengine's DictAction)."""
    if value is None:
        return 'None'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (int, float, str)):
        return str(value) if isinstance(value, str) else repr(value)
    if isinstance(value, (list, tuple)):
        inner = ','.join(option_text(v) for v in value)
        return f'[{inner}]' if isinstance(value, list) else f'({inner})'
    raise TypeError(type(value).__name__)


def flatten_options(options: dict, where: str,
                    prefix: str = '') -> Dict[str, object]:
    """Nested dicts to dotted keys; every value must survive the trip
    through ``KEY=VALUE`` text unchanged."""
    if not isinstance(options, dict):
        raise GridError(f'{where}: cfg_options must be a dict of '
                        f'{{"dotted.key": value}}, not {options!r}.')
    flat: Dict[str, object] = {}
    for key, value in options.items():
        full = f'{prefix}{key}'
        if isinstance(value, dict):
            flat.update(flatten_options(value, where, full + '.'))
            continue
        try:
            text = option_text(value)
            same = DictAction._parse_iterable(text) == value
        except TypeError:
            same = False
        if not same:
            raise GridError(
                f'{where}: cfg_options {full}={value!r} cannot be passed as '
                '--cfg-options KEY=VALUE (numbers, booleans, None, plain '
                'strings and lists/tuples of them can); put it in a config '
                'file instead.')
        flat[full] = value
    return flat


def option_args(options: Dict[str, object]) -> List[str]:
    """``['--cfg-options', 'k=v', ...]`` for :mod:`tools.invert`."""
    args: List[str] = []
    for key, value in options.items():
        args += ['--cfg-options', f'{key}={option_text(value)}']
    return args


def _positive_int(value, what: str) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise GridError(f'{what} must be a positive integer, not {value!r}.')
    return value


def _load_row(index: int, spec, where: str, common: dict) -> Row:
    if not isinstance(spec, dict):
        raise GridError(f'{where}: rows[{index}] must be dict(name=..., '
                        f'config=...), not {spec!r}.')
    unknown = sorted(set(spec) - ROW_KEYS)
    name = spec.get('name')
    label = f'{where}, row {name!r}' if name else f'{where}, rows[{index}]'
    if unknown:
        raise GridError(f'{label}: unknown key(s) {unknown}; a row has '
                        f'{sorted(ROW_KEYS)}.')
    for key in ('name', 'config'):
        if not isinstance(spec.get(key), str) or not spec[key].strip():
            raise GridError(f'{label}: needs `{key}` (a non-empty string).')
    if not osp.isfile(spec['config']):
        raise GridError(f'{label}: config {spec["config"]!r} does not exist '
                        '(paths are relative to the current directory).')
    options = dict(common)
    options.update(flatten_options(spec.get('cfg_options', {}), label))
    shared = spec.get('shared', ())
    if isinstance(shared, str) or not all(isinstance(s, str)
                                           for s in shared):
        raise GridError(f'{label}: shared must be a list of scorer names, '
                        f'not {shared!r}.')
    return Row(name=name, slug=slugify(name) or f'row{index}',
               config=spec['config'], cfg_options=options,
               target=spec.get('target'), recipe=spec.get('recipe'),
               shared=tuple(shared), family=spec.get('family'))


def load_grid(path: str) -> Grid:
    """Read and check a grid file (see the module docstring)."""
    if not osp.isfile(path):
        raise GridError(f'Grid file {path!r} does not exist.')
    try:
        cfg = Config.fromfile(path).to_dict()
    except Exception as error:  # syntax errors, bad _base_
        raise GridError(f'Could not read grid {path!r}: '
                        f'{type(error).__name__}: {error}') from error
    where = f'Grid {path!r}'
    unknown = sorted(k for k in set(cfg) - GRID_KEYS if not k.startswith('_'))
    if unknown:
        raise GridError(f'{where}: unknown key(s) {unknown}; a grid has '
                        f'{sorted(GRID_KEYS)}.')
    rows = cfg.get('rows')
    if not isinstance(rows, (list, tuple)) or not rows:
        raise GridError(f'{where}: needs `rows`, a non-empty list of '
                        "dict(name=..., config=..., cfg_options={...}).")
    layout = cfg.get('layout', 'table1')
    if layout not in LAYOUTS:
        raise GridError(f'{where}: layout {layout!r} is not one of '
                        f'{sorted(LAYOUTS)}.')
    columns = cfg.get('columns')
    if columns is not None and (
            not isinstance(columns, (list, tuple)) or not columns
            or not all(isinstance(c, str) for c in columns)):
        raise GridError(f'{where}: columns must be a non-empty list of metric '
                        f'names (e.g. {list(LAYOUTS["table1"])}).')
    common = flatten_options(cfg.get('cfg_options', {}), where)
    loaded = [_load_row(i, spec, where, common) for i, spec in enumerate(rows)]
    scorers = cfg.get('scorers') or {}
    if layout == 'transfer':
        _check_transfer(where, scorers, loaded)
    for attr in ('name', 'slug'):
        seen: Dict[str, str] = {}
        for row in loaded:
            value = getattr(row, attr)
            if value in seen:
                raise GridError(
                    f'{where}: rows {seen[value]!r} and {row.name!r} have the '
                    f'same {attr} {value!r}; names must differ in letters or '
                    'digits.')
            seen[value] = row.name
    return Grid(path=path, title=str(cfg.get('title', osp.basename(path))),
                layout=layout, rows=loaded,
                columns=tuple(columns) if columns else None,
                iters=_positive_int(cfg.get('iters'), f'{where}: iters'),
                is_splits=_positive_int(cfg.get('is_splits'),
                                        f'{where}: is_splits'),
                scorers=dict(scorers))


def _check_transfer(where: str, scorers, rows: Sequence[Row]) -> None:
    """A transfer grid names its scorers (name -> family), every row its
    target, recipe and the scorers it shares (among the scorers)."""
    if not isinstance(scorers, dict) or not scorers:
        raise GridError(f'{where}: a transfer grid needs `scorers`, a dict of '
                        "scorer name -> family (e.g. dict(r3d='CNN 3D')).")
    for row in rows:
        if not isinstance(row.target, str) or not row.target:
            raise GridError(f'{where}, row {row.name!r}: needs `target`, the '
                            f'scorer it inverts (one of {sorted(scorers)}).')
        if not row.recipe:
            raise GridError(f'{where}, row {row.name!r}: needs `recipe` (the '
                            'matrix it belongs to).')
        if row.target not in scorers and not isinstance(row.family, str):
            raise GridError(
                f'{where}, row {row.name!r}: target {row.target!r} is no '
                f'scorer ({sorted(scorers)}), so the row needs `family` (its '
                "model's family, e.g. family='3-D CNN'), which says which "
                'pairs are of different families.')
        unknown = sorted(set(row.shared) - set(scorers))
        if unknown:
            raise GridError(f'{where}, row {row.name!r}: shared {unknown} '
                            f'are not scorers ({sorted(scorers)}).')


# --- markdown ---------------------------------------------------------------
def format_cell(metrics: dict, key: str) -> str:
    """Top-1 with one decimal, IS as ``mean ± std``, others with three."""
    value = metric_value(metrics, key)
    if value is None:
        return MISSING
    std = metric_value(metrics, f'{key}_std')
    if key.startswith('is_') and std is not None:
        return f'{value:.2f} ± {std:.2f}'
    if key.startswith(('top1', 'partner_rate')):
        return f'{value:.1f}'
    if isinstance(value, int):
        return str(value)
    return f'{value:.3f}'


def _best(rows: Sequence[dict], key: str) -> Optional[float]:
    """The value to bold: the highest top-1 / IS / partner rate, unless all
    are equal (none for the motion probes: there lower can be better)."""
    if not key.startswith(('top1', 'is_', 'partner_rate')) or \
            key.endswith('_std') or _is_probe(key):
        return None
    values = [v for r in rows if r['status'] == 'done'
              for v in [metric_value(r['metrics'], key)] if v is not None]
    return max(values) if len(set(values)) > 1 else None


def _cell(row: dict, key: str, best: Optional[float]) -> str:
    if row['status'] != 'done':
        return row['status']
    text = format_cell(row['metrics'], key)
    if best is not None and metric_value(row['metrics'], key) == best:
        return f'**{text}**'
    return text


def table_columns(layout: str, columns: Optional[Sequence[str]],
                  rows: Sequence[dict]) -> List[str]:
    """``columns`` if given, else the layout's minus metrics no row has."""
    if columns:
        return list(columns)
    return [key for key in LAYOUTS[layout]
            if any(metric_value(r.get('metrics') or {}, key) is not None
                   for r in rows)]


def render_markdown(title: str, layout: str, rows: Sequence[dict],
                    columns: Optional[Sequence[str]] = None,
                    notes: Sequence[str] = (),
                    scorers: Optional[Dict[str, str]] = None) -> str:
    """A markdown table of ``rows`` (``dict(name, status, metrics)``, status
    ``'done'``, ``'failed'`` or ``'not run'``). ``table1``/``generic``: a line
    per row, a column per metric; ``table2``: a line per metric, a column per
    row. The best top-1 / IS of each metric is bold. ``transfer``: see
    :func:`~leaps_mm.evaluation.transfer.render_transfer`."""
    if layout == 'transfer':
        return render_transfer(title, rows, scorers or {}, notes)
    keys = table_columns(layout, columns, rows)
    best = {key: _best(rows, key) for key in keys}
    if layout == 'table2':
        header = ['Metric'] + [r['name'] for r in rows]
        body = [[TABLE2_LABELS.get(k, metric_label(k))]
                + [_cell(r, k, best[k]) for r in rows] for k in keys]
        width = len(rows)
    else:
        header = ['Method'] + [metric_label(k) for k in keys]
        body = [[r['name']] + [_cell(r, k, best[k]) for k in keys]
                for r in rows]
        width = len(keys)
    lines = [f'## {title}', '', table_line(header),
             '| --- |' + ' ---: |' * width]
    lines += [table_line(cells) for cells in body]
    if notes:
        lines += [''] + list(notes)
    return '\n'.join(lines) + '\n'
