"""Every step's losses, read to the host once per log interval."""
import math

import pytest
import torch

from leaps_mm.loops.loss_history import StepLosses, first_non_finite


def terms_at(step: int) -> dict:
    """Two jobs, two terms; job 1's ``loss_b`` is NaN from step 3 on."""
    b = torch.tensor([0.5 * step, math.nan if step >= 3 else 2.0])
    return dict(loss_a=torch.tensor([float(step), 10.0 * step]), loss_b=b)


def test_every_step_is_kept_and_flushed_once():
    history = [[], []]
    curves = StepLosses(history)
    for step in (1, 2):
        curves.record(step, terms_at(step), lr=0.1 * step)
    steps, window = curves.flush(loss_scale=1024.0)
    assert steps == [1, 2]
    assert set(window) == {'loss_a', 'loss_b', 'loss'}
    assert window['loss'].shape == (2, 2)  # steps x jobs
    assert history[0] == [
        dict(loss_a=1.0, loss_b=0.5, loss=1.5, lr=0.1, step=1),
        dict(loss_a=2.0, loss_b=1.0, loss=3.0, lr=0.2, step=2,
             loss_scale=1024.0)]  # the read-out's extras on its own step
    assert [p['loss'] for p in history[1]] == [12.0, 22.0]
    assert curves.flush() == ([], {})  # nothing new recorded
    for step in (3, 4):
        curves.record(step, terms_at(step), lr=0.0)
    steps, window = curves.flush()
    assert steps == [3, 4] and [p['step'] for p in history[0]] == [1, 2, 3, 4]
    assert first_non_finite(steps, window) == {
        1: dict(iteration=3, term='loss_b', value=pytest.approx(math.nan,
                                                                 nan_ok=True))}
    assert first_non_finite(steps, window, skip={1}) == {}


def test_record_keeps_tensors_on_their_device_until_flush():
    curves = StepLosses([[]])
    loss = torch.tensor([1.0], requires_grad=True) * 2
    curves.record(1, dict(loss_x=loss), lr=0.0)
    assert not curves._values[0].requires_grad  # detached, no graph kept
    with pytest.raises(ValueError, match='loss terms changed'):
        curves.record(2, dict(loss_y=loss), lr=0.0)
