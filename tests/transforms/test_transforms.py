"""Random differentiable transforms of x*: what each does, per-job draws."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope

from leaps_mm.registry import MODELS
from leaps_mm.transforms import apply_transforms, affine_warp, compose_affine
from leaps_mm.transforms.base import randint
from leaps_mm.transforms.blur import blur_matrices

ALL = [dict(type='RandomRoll', max_shift=3),
       dict(type='RandomScale', scale=(0.8, 1.2)),
       dict(type='RandomRotation', degrees=10),
       dict(type='RandomGaussianBlur', sigma=(0.5, 1.5), p=0.5),
       dict(type='RandomTemporalShift', max_shift=2),
       dict(type='RandomHorizontalFlip', p=0.5),
       dict(type='RandomTimeReversal', p=0.5)]


def build(cfg):
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        return MODELS.build(cfg)


def generators(*seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


def video(n=2, t=6, size=16, seed=0):
    return torch.randn(n, 3, t, size, size,
                       generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize('cfg', ALL, ids=lambda c: c['type'])
def test_a_job_is_transformed_the_same_alone_and_in_a_batch(cfg):
    transform = build(cfg)
    x = video(3).requires_grad_()
    for _ in range(4):  # several steps: the generators advance per job
        batch = transform(x, generators(10, 11, 12))
        alone = transform(x[1:2], generators(11))
        assert batch.shape == x.shape
        assert torch.allclose(batch[1:2], alone, atol=1e-6)
    batch.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_roll_shifts_each_job_by_its_own_draw():
    x = video(2)
    out = build(dict(type='RandomRoll', max_shift=3))(x, generators(1, 2))
    for j, seed in enumerate((1, 2)):
        g = generators(seed)
        dy, dx = randint(g, -3, 3).item(), randint(g, -3, 3).item()
        assert torch.equal(out[j], torch.roll(x[j], (dy, dx), dims=(2, 3)))


def test_identity_settings_change_nothing():
    x = video(2)
    for cfg in (dict(type='RandomScale', scale=(1.0, 1.0)),
                dict(type='RandomRotation', degrees=0),
                dict(type='RandomGaussianBlur', sigma=(0.5, 1.0), p=0.0),
                dict(type='RandomTemporalShift', max_shift=0),
                dict(type='RandomHorizontalFlip', p=0.0),
                dict(type='RandomTimeReversal', p=0.0)):
        out = build(cfg)(x, generators(0, 1))
        assert torch.allclose(out, x, atol=1e-5), cfg['type']


def test_rotation_turns_counterclockwise_by_the_drawn_angle():
    # a bright dot right of centre moves up (smaller row) for a positive angle
    x = torch.zeros(1, 1, 1, 33, 33)
    x[..., 16, 26] = 1.0
    rotation = build(dict(type='RandomRotation', degrees=90))
    g = generators(0)
    angle = (torch.rand((), generator=generators(0)[0]) * 180 - 90).item()
    out = rotation(x, g)[0, 0, 0]
    row, col = divmod(int(out.argmax()), 33)
    rad = math.radians(angle)
    # grid_sample maps output to input: the dot lands at R(-angle) in image
    # coordinates (y down), i.e. counterclockwise on screen for angle > 0
    exp_col = 16 + 10 * math.cos(rad)
    exp_row = 16 - 10 * math.sin(rad)
    assert abs(col - exp_col) <= 1.5 and abs(row - exp_row) <= 1.5, (
        angle, row, col)


def test_scale_above_one_zooms_in():
    x = torch.zeros(1, 1, 1, 33, 33)
    x[..., 16, 24] = 1.0  # 8 px right of centre
    out = build(dict(type='RandomScale', scale=(2.0, 2.0)))(x, generators(0))
    row, col = divmod(int(out[0, 0, 0].argmax()), 33)
    assert row == 16 and abs(col - 32) <= 1  # 16 px right of centre


def test_blur_keeps_constants_and_removes_fine_detail():
    blur = build(dict(type='RandomGaussianBlur', sigma=(1.0, 1.0), p=1.0))
    flat = torch.full((1, 3, 2, 16, 16), 0.7)
    assert torch.allclose(blur(flat, generators(0)), flat, atol=1e-6)
    checker = (torch.arange(16)[:, None] + torch.arange(16)[None]) % 2
    x = checker.float().expand(1, 3, 2, 16, 16)
    out = blur(x, generators(0))
    assert out.std() < 0.1 * x.std()
    assert out.mean().item() == pytest.approx(x.mean().item(), abs=0.02)


def test_temporal_shift_repeats_the_edge_frame_without_wrapping():
    x = torch.arange(6.0).reshape(1, 1, 6, 1, 1).expand(2, 1, 6, 2, 2)
    shift = build(dict(type='RandomTemporalShift', max_shift=2))
    g = generators(3, 4)
    draws = [randint(generators(s), -2, 2).item() for s in (3, 4)]
    out = shift(x, g)
    for j, k in enumerate(draws):
        expected = (torch.arange(6) - k).clamp(0, 5).float()
        assert torch.equal(out[j, 0, :, 0, 0], expected), k


def test_flip_and_reversal_do_what_they_say_when_drawn():
    x = video(1)
    assert torch.equal(build(dict(type='RandomHorizontalFlip', p=1.0))(
        x, generators(0)), x.flip(4))
    assert torch.equal(build(dict(type='RandomTimeReversal', p=1.0))(
        x, generators(0)), x.flip(2))


def test_blur_matrix_reflects_at_the_borders():
    kernel = torch.tensor([[0.25, 0.5, 0.25]])
    expected = torch.tensor([[0.5, 0.5, 0.0, 0.0],
                             [0.25, 0.5, 0.25, 0.0],
                             [0.0, 0.25, 0.5, 0.25],
                             [0.0, 0.0, 0.5, 0.5]])
    assert torch.equal(blur_matrices(kernel, 4)[0], expected)


def test_composed_affine_map_warps_like_the_two_in_order():
    # a quarter turn and a left-right mirror move pixel centres onto pixel
    # centres, so one warp by the composition must equal the two exactly,
    # and the order matters (turn then mirror != mirror then turn)
    x = video(1, t=2, size=8)
    turn = torch.tensor([[[0.0, -1.0, 0.0], [1.0, 0.0, 0.0]]])
    mirror = torch.tensor([[[-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    twice = affine_warp(affine_warp(x, turn), mirror)
    assert torch.allclose(affine_warp(x, compose_affine(turn, mirror)), twice,
                          atol=1e-5)
    assert not torch.allclose(affine_warp(x, compose_affine(mirror, turn)),
                              twice, atol=1e-2)


def test_warp_moves_every_frame_by_its_jobs_map():
    """Each (job, channel, frame) image is resampled alone by the job's map,
    and the gradient goes back the same way."""
    x = video(2, t=3, size=8).requires_grad_()
    theta = torch.tensor([[[0.9, -0.2, 0.1], [0.2, 0.9, 0.0]],
                          [[1.1, 0.1, 0.0], [-0.1, 1.1, -0.2]]])
    upstream = torch.randn(x.shape,
                           generator=torch.Generator().manual_seed(2))
    affine_warp(x, theta).backward(upstream)
    for j in range(2):
        frames = x[j].detach().reshape(-1, 1, 8, 8).requires_grad_()
        grid = F.affine_grid(theta[j:j + 1].expand(len(frames), 2, 3),
                             list(frames.shape), align_corners=False)
        alone = F.grid_sample(frames, grid, padding_mode='reflection',
                              align_corners=False)
        alone.backward(upstream[j].reshape(alone.shape))
        assert torch.allclose(affine_warp(x, theta)[j],
                              alone.view(x.shape[1:]), atol=1e-6)
        assert torch.allclose(x.grad[j], frames.grad.view(x.shape[1:]),
                              atol=1e-6)


def test_pipeline_fuses_scale_and_rotation_with_the_same_draws():
    transforms = [build(dict(type='RandomRoll', max_shift=2)),
                  build(dict(type='RandomScale', scale=(0.8, 1.2))),
                  build(dict(type='RandomRotation', degrees=20)),
                  build(dict(type='RandomTemporalShift', max_shift=1))]
    # a smooth video: resampling once or twice differ only by interpolation
    u = torch.arange(32.0)
    frame = torch.sin(0.3 * u)[:, None] * torch.cos(0.2 * u)[None]
    smooth = frame.expand(2, 3, 4, 32, 32) + torch.arange(4.0)[:, None, None]
    fused_gens, sequential_gens = generators(5, 6), generators(5, 6)
    fused = apply_transforms(transforms, smooth, fused_gens)
    sequential = smooth
    for transform in transforms:
        sequential = transform(sequential, sequential_gens)
    assert all(torch.equal(f.get_state(), s.get_state())
               for f, s in zip(fused_gens, sequential_gens))
    inner = (..., slice(10, -10), slice(10, -10))  # away from the borders
    assert (fused - sequential)[inner].abs().max() < 0.05 * smooth.std()
    assert (fused - smooth)[inner].abs().max() > 0.2 * smooth.std()


def test_roll_and_temporal_shift_gradients():
    """The roll's backward rolls back; the temporal shift's sends every
    frame's gradient to the frame it copied (edge frames collect several)."""
    x = video(2, t=5).requires_grad_()
    upstream = torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    build(dict(type='RandomRoll', max_shift=3))(x, generators(1, 2)).backward(
        upstream)
    for j, seed in enumerate((1, 2)):
        g = generators(seed)
        dy, dx = randint(g, -3, 3).item(), randint(g, -3, 3).item()
        assert torch.equal(x.grad[j], torch.roll(upstream[j], (-dy, -dx),
                                                 dims=(2, 3)))
    x.grad = None
    build(dict(type='RandomTemporalShift', max_shift=2))(
        x, generators(3, 4)).backward(upstream)
    for j, seed in enumerate((3, 4)):
        k = randint(generators(seed), -2, 2).item()
        source = (torch.arange(5) - k).clamp(0, 4)
        expected = torch.zeros_like(upstream[j]).index_add_(
            1, source, upstream[j])
        assert torch.allclose(x.grad[j], expected), k
