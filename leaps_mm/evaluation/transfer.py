"""The transfer matrix of a grid: every model inverted in turn (rows), every
synthesized video scored by every model (columns).

A transfer grid (``layout = 'transfer'``) names its scorers and their
families, ``scorers = dict(r3d='CNN 3D', mvit='transformer', ...)``; each
row says which model it inverts (``target``, a scorer name, or another
name for a model that is no scorer, which then names its ``family``), the
recipe it belongs to (``recipe``: one matrix per recipe) and which scorers
are not independent of it (``shared``: the verifier that supplies R_feat's
statistics, or a model the target was fine-tuned from). Every row's config
scores x* with all scorers as judges named like the grid's scorers, so a
row's ``metrics.json`` holds
``top1_judge_<scorer>`` for each. A pair is *independent* when the scorer is
neither the target nor shared; the headline figures use only those.
"""
from typing import Dict, List, Optional, Sequence

from .markdown import metric_value, table_line


def _mean(values: Sequence[float]) -> Optional[float]:
    return sum(values) / len(values) if values else None


def recipes(rows: Sequence[dict]) -> List[str]:
    """Recipe names in the order rows first name them."""
    seen: List[str] = []
    for row in rows:
        if row.get('recipe') not in seen:
            seen.append(row.get('recipe'))
    return seen


def transfer_summary(rows: Sequence[dict],
                     scorers: Dict[str, str]) -> Dict[str, dict]:
    """Per recipe: ``mean_top1`` (mean top-1 over independent pairs),
    ``min_cross_family_top1`` (the worst independent pair of two families),
    ``mean_prob_target``, ``partner_rate`` (reversed x* named as the partner
    class, mean over independent pairs of another family), ``static_top1``
    (frame 0 repeated, mean over every scorer, the target's own included),
    ``pairs`` (how many independent pairs went into the means)."""
    summary: Dict[str, dict] = {}
    for recipe in recipes(rows):
        top1, cross, prob, partner, static = [], [], [], [], []
        for row in rows:
            if row.get('recipe') != recipe or row['status'] != 'done':
                continue
            target, metrics = row['target'], row['metrics']
            target_family = row.get('family') or scorers.get(target)
            for scorer, family in scorers.items():
                value = metric_value(metrics, f'top1_judge_{scorer}_static')
                if value is not None:
                    static.append(value)
                if scorer == target or scorer in row.get('shared', ()):
                    continue
                value = metric_value(metrics, f'top1_judge_{scorer}')
                if value is None:
                    continue
                top1.append(value)
                p = metric_value(metrics, f'prob_target_judge_{scorer}')
                if p is not None:
                    prob.append(p)
                if family != target_family:
                    cross.append(value)
                    rate = metric_value(metrics, f'partner_rate_judge_{scorer}')
                    if rate is not None:
                        partner.append(rate)
        summary[recipe] = dict(
            mean_top1=_mean(top1), pairs=len(top1),
            min_cross_family_top1=min(cross) if cross else None,
            mean_prob_target=_mean(prob), partner_rate=_mean(partner),
            static_top1=_mean(static))
    return summary


def _text(value: Optional[float], digits: int = 1) -> str:
    return '–' if value is None else f'{value:.{digits}f}'


def render_transfer(title: str, rows: Sequence[dict],
                    scorers: Dict[str, str],
                    notes: Sequence[str] = ()) -> str:
    """Markdown: a summary line per recipe, then one matrix per recipe
    (inverted model x scorer: top-1 % and mean target probability; the
    target's own column in brackets, a scorer that shared the loss with a
    dagger for a scorer in the row's ``shared``)."""
    summary = transfer_summary(rows, scorers)
    lines = [f'## {title}', '',
             table_line(['Recipe', 'mean top-1, independent pairs',
                    'worst cross-family pair', 'mean p(target)',
                    'reversed → partner (cross-family)',
                    'static top-1 (all scorers)', 'pairs']),
             '| --- |' + ' ---: |' * 6]
    for recipe, stats in summary.items():
        lines.append(table_line([
            str(recipe), _text(stats['mean_top1']),
            _text(stats['min_cross_family_top1']),
            _text(stats['mean_prob_target'], 3), _text(stats['partner_rate']),
            _text(stats['static_top1']), str(stats['pairs'])]))
    names = list(scorers)
    for recipe in summary:
        lines += ['', f'### {recipe}', '',
                  table_line(['inverted \\ scored by']
                        + [f'{n} ({scorers[n]})' for n in names]),
                  '| --- |' + ' ---: |' * len(names)]
        for row in rows:
            if row.get('recipe') != recipe:
                continue
            if row['status'] != 'done':
                lines.append(table_line([row['target']]
                                   + [row['status']] * len(names)))
                continue
            cells = []
            for scorer in names:
                top1 = metric_value(row['metrics'], f'top1_judge_{scorer}')
                prob = metric_value(row['metrics'], f'prob_target_judge_{scorer}')
                cell = f'{_text(top1)} ({_text(prob, 2)})'
                if scorer == row['target']:
                    cell = f'[{cell}]'
                elif scorer in row.get('shared', ()):
                    cell += ' †'
                cells.append(cell)
            lines.append(table_line([row['target']] + cells))
    lines += ['', 'Cells: top-1 % (mean probability of the target class). '
              '[ ]: the inverted model scoring its own videos; †: the '
              'scorer is not independent of the target (it took part in '
              'the loss or shares its weights). Both are left out of the '
              'summary.']
    if notes:
        lines += [''] + list(notes)
    return '\n'.join(lines) + '\n'
