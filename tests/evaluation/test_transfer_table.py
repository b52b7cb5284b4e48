"""The transfer grid: loading, the summary computed by hand, the matrix."""
import pytest

from leaps_mm.evaluation.tables import GridError, load_grid, render_markdown
from leaps_mm.evaluation.transfer import transfer_summary

SCORERS = dict(a='CNN', b='CNN', t='transformer')


def row(target, recipe, shared=(), status='done', **top1):
    metrics = {}
    for scorer, (top, prob, rate, static) in top1.items():
        metrics.update({f'top1_judge_{scorer}': top,
                        f'prob_target_judge_{scorer}': prob,
                        f'partner_rate_judge_{scorer}': rate,
                        f'top1_judge_{scorer}_static': static})
    return dict(name=f'{recipe} {target}', target=target, recipe=recipe,
                shared=list(shared), status=status, metrics=metrics)


ROWS = [
    row('a', 'R', a=(100, 1.0, 80, 50), b=(80, .7, 60, 10),
        t=(40, .4, 50, 0)),
    row('t', 'R', shared=['b'], a=(60, .5, 70, 20), b=(90, .9, 90, 0),
        t=(100, 1.0, 100, 10)),
    row('b', 'S', status='failed'),
]


def test_summary_uses_independent_pairs_only():
    summary = transfer_summary(ROWS, SCORERS)
    r = summary['R']
    # independent pairs: a->b 80, a->t 40, t->a 60 (t->b is shared)
    assert r['pairs'] == 3
    assert r['mean_top1'] == pytest.approx(60.0)
    assert r['mean_prob_target'] == pytest.approx((.7 + .4 + .5) / 3)
    # cross-family: a->t 40, t->a 60
    assert r['min_cross_family_top1'] == 40
    assert r['partner_rate'] == pytest.approx((50 + 70) / 2)
    # static over every scorer of every done row, the target's included
    assert r['static_top1'] == pytest.approx((50 + 10 + 0 + 20 + 0 + 10) / 6)
    assert summary['S'] == dict(mean_top1=None, pairs=0,
                                min_cross_family_top1=None,
                                mean_prob_target=None, partner_rate=None,
                                static_top1=None)


def test_matrix_marks_the_diagonal_and_shared_scorers():
    text = render_markdown('T', 'transfer', ROWS, scorers=SCORERS)
    assert '| R | 60.0 | 40.0 | 0.533 | 60.0 | 15.0 | 3 |' in text
    assert '| a | [100.0 (1.00)] | 80.0 (0.70) | 40.0 (0.40) |' in text
    assert '| t | 60.0 (0.50) | 90.0 (0.90) † | [100.0 (1.00)] |' in text
    assert '| b | failed | failed | failed |' in text


def write_grid(tmp_path, body):
    path = tmp_path / 'grid.py'
    path.write_text("layout = 'transfer'\n" + body)
    return str(path)


def test_transfer_grid_checks(tmp_path):
    config = 'registry_configs/demo/leaps_r3d.py'
    good = (f"scorers = dict(a='CNN', t='ViT')\n"
            f"rows = [dict(name='x', config='{config}', target='a', "
            "recipe='R', shared=['t'])]\n")
    grid = load_grid(write_grid(tmp_path, good))
    assert grid.scorers == dict(a='CNN', t='ViT')
    assert grid.rows[0].shared == ('t', ) and grid.rows[0].recipe == 'R'
    with pytest.raises(GridError, match='needs `scorers`'):
        load_grid(write_grid(tmp_path, good.split('\n', 1)[1]))
    with pytest.raises(GridError, match=r"shared \['z'\] are not scorers"):
        load_grid(write_grid(tmp_path, good.replace("['t']", "['z']")))
    with pytest.raises(GridError, match='needs `recipe`'):
        load_grid(write_grid(tmp_path, good.replace("recipe='R', ", '')))
    with pytest.raises(GridError, match='needs `target`'):
        load_grid(write_grid(tmp_path, good.replace("target='a', ", '')))
    # a target that is no scorer must say its family
    with pytest.raises(GridError, match="target 'z' is no scorer.*`family`"):
        load_grid(write_grid(tmp_path, good.replace("target='a'",
                                                    "target='z'")))
    grid = load_grid(write_grid(tmp_path, good.replace(
        "target='a'", "target='z', family='CNN'")))
    assert grid.rows[0].family == 'CNN'


def test_a_target_that_is_no_scorer_counts_pairs_by_its_family():
    """A CNN target outside the scorers (e.g. a fine-tune of scorer a,
    shared): only the transformer is of another family."""
    rows = [dict(row('z', 'Q', shared=['a'], a=(100, 1.0, 90, 0),
                     b=(70, .6, 40, 0), t=(50, .5, 80, 0)), family='CNN')]
    q = transfer_summary(rows, SCORERS)['Q']
    assert q['pairs'] == 2 and q['mean_top1'] == pytest.approx(60.0)
    assert q['min_cross_family_top1'] == 50
    assert q['partner_rate'] == pytest.approx(80.0)
    # without the family every scorer would count as another family
    del rows[0]['family']
    assert transfer_summary(rows, SCORERS)['Q']['min_cross_family_top1'] == 50
    assert transfer_summary(rows, SCORERS)['Q']['partner_rate'] == \
        pytest.approx(60.0)
