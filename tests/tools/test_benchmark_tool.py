"""tools/benchmark.py on the demo main job at a toy size: the report's
ratios are those of its own timings, and it is written as JSON and
markdown."""
import json
import os.path as osp
import subprocess
import sys

import pytest

from conftest import REPO

MAIN_JOB = osp.join(REPO, 'registry_configs', 'demo', 'leaps_r3d.py')


@pytest.mark.slow
def test_benchmark_report(tmp_path) -> None:
    out = tmp_path / 'bench.json'
    done = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'benchmark.py'), MAIN_JOB,
         '--input-size', '4,32,32', '--iters', '3', '--batch-sizes', '1,2',
         '--out', str(out)], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    rows = {(r['batch'], r['mode']): r for r in report['rows']}
    assert set(rows) == {(1, 'floor'), (1, 'leaps'), (2, 'floor'),
                         (2, 'leaps')}
    assert report['overhead_ratio'] == pytest.approx(
        rows[1, 'leaps']['median_s'] / rows[1, 'floor']['median_s'])
    assert report['throughput']['2'] == pytest.approx(
        2 / rows[2, 'leaps']['median_s'])
    assert report['batch_gain']['1'] == pytest.approx(1.0)
    for row in report['rows']:
        assert row['min_s'] <= row['median_s'] <= row['max_s']
    assert report['input_size'] == [4, 32, 32]
    table = (tmp_path / 'bench.md').read_text()
    assert f'overhead_ratio {report["overhead_ratio"]:.3f}' in table


PEAK_AFTER_A_HIGHER_ONE = '''
import sys
sys.path.insert(0, sys.argv[1])
from benchmark import reset_rss_peak, rss_peak_mib
MiB = 2**20
set_up = bytearray(b'1') * (256 * MiB)  # written: resident
del set_up
old_base = rss_peak_mib()
base = reset_rss_peak()
step = bytearray(b'1') * (64 * MiB)
print(rss_peak_mib() - base, rss_peak_mib() - old_base)
'''


@pytest.mark.skipif(not osp.exists('/proc/self/clear_refs'),
                    reason='resetting the peak RSS needs Linux')
def test_a_step_peak_below_the_set_up_peak_is_measured() -> None:
    done = subprocess.run(
        [sys.executable, '-c', PEAK_AFTER_A_HIGHER_ONE,
         osp.join(REPO, 'tools')], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    measured, without_reset = map(float, done.stdout.split())
    assert 60 <= measured <= 80  # the step's 64 MiB
    assert without_reset <= 0  # the set-up's 256 MiB peak hid it
