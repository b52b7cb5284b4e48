"""The main job's quality on a reduced set: the demo config as shipped,
one stimulus per class (8 videos), its 200 steps (at 100 the heavy pixel
noise of the recipe leaves the target short of one video)."""
import os.path as osp
import sys

import pytest

from conftest import REPO, run_tool
from leaps_mm.fileio.job_outputs import finished_jobs, read_job_record

sys.path.insert(0, osp.join(REPO, 'tools'))
from invert import main  # noqa: E402

MAIN_JOB = osp.join(REPO, 'registry_configs', 'demo', 'leaps_r3d.py')
ONE_PER_CLASS = osp.join(REPO, 'data', 'stimuli', 'stimuli_one_per_class.txt')


@pytest.mark.slow
def test_main_job_fools_its_target_and_transfers(tmp_path):
    result = run_tool(main, [
        MAIN_JOB, '--cfg-options', f'leaps.stimuli.ann_file={ONE_PER_CLASS}',
        '--iters', '200', '--work-dir', str(tmp_path), '--no-mlflow'])
    assert result.exit_code == 0, result.output
    records = [read_job_record(f) for f in finished_jobs(str(tmp_path))]
    assert sorted(r['target_index'] for r in records) == list(range(8))
    model_top1 = sum(r['model_pred'] == r['target'] for r in records) / 8
    assert model_top1 >= 0.9, [r['model_pred'] for r in records]
    assert min(r['model_prob_target'] for r in records) > 0.3
    # Independent models see the class (chance 1/8). Measured at this
    # budget on the ordinarily trained target (r3d_noise.pth, 2026-12-07,
    # pixel noise U(1.0, 1.5)): verifier 6/8, judge (the stage-4 MViT) 6/8;
    # the bars are one video below that. The full figures (16 stimuli,
    # every demo model inverted) are in docs/results.md, "Transfer matrix".
    top1 = {net: sum(r[f'{net}_pred'] == r['target'] for r in records) / 8
            for net in ('verifier', 'judge')}
    assert top1['verifier'] >= 5 / 8, [r['verifier_pred'] for r in records]
    assert top1['judge'] >= 5 / 8, [r['judge_pred'] for r in records]
