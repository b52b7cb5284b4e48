"""Parameterisations of x*: exact paper set-up, ranges, spectra, colours."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope

from leaps_mm.parameterizations import colour_mixing, spectrum_scale
from leaps_mm.parameterizations.base import ClampToRange
from leaps_mm.registry import MODELS

SHAPE = (2, 3, 8, 32, 32)
MEAN = torch.tensor([114.75, 114.75, 114.75]).reshape(3, 1, 1, 1)
STD = torch.tensor([57.38, 57.38, 57.38]).reshape(3, 1, 1, 1)
LOW, HIGH = (0 - 114.75) / 57.38, (255 - 114.75) / 57.38


def build(cfg, shape=SHAPE, stimulus=None, seeds=None):
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        param = MODELS.build(cfg)
    param.bind(MEAN, STD)
    seeds = seeds if seeds is not None else range(shape[0])
    param.reset(shape, [torch.Generator().manual_seed(s) for s in seeds],
                stimulus)
    return param


def test_pixel_video_is_the_papers_clamped_noise():
    param = build(dict(type='PixelVideo', init_std=1.0))
    expected = torch.stack([
        torch.randn(SHAPE[1:], generator=torch.Generator().manual_seed(j))
        for j in range(2)]).clamp(LOW, HIGH)
    assert torch.equal(param(), expected)
    assert [n for n, _ in param.named_parameters()] == ['latent']
    with torch.no_grad():
        param.latent.mul_(10)
    param.project_()
    assert param.latent.min().item() == pytest.approx(LOW)
    assert param.latent.max().item() == pytest.approx(HIGH)


def test_sigmoid_range_stays_inside_the_pixel_range():
    param = build(dict(type='PixelVideo', init_std=20.0,
                       value_range='sigmoid'))
    pixels = param() * STD + MEAN
    assert pixels.min() >= 0 and pixels.max() <= 255
    assert pixels.min() < 1 and pixels.max() > 254  # saturates, never leaves
    param().sum().backward()
    assert param.latent.grad.abs().sum() > 0


def test_low_res_video_is_the_upsampled_coarse_grid():
    param = build(dict(type='LowResVideo', factor=(2, 4, 4)))
    assert param.latent.shape == (2, 3, 4, 8, 8)
    video = param()
    assert video.shape == SHAPE
    expected = F.interpolate(param.latent, size=SHAPE[2:], mode='trilinear',
                             align_corners=False)
    assert torch.allclose(video, expected)
    # no detail finer than the grid: every 4x4 block is smooth (bilinear)
    high_freq = (video[..., 1:] - video[..., :-1]).abs().mean()
    noise = (param.latent[..., 1:] - param.latent[..., :-1]).abs().mean()
    assert high_freq < 0.5 * noise


def test_low_res_factor_must_be_three_positive_integers():
    with pytest.raises(ValueError, match='factor'):
        build(dict(type='LowResVideo', factor=(4, 4)))


def test_spectrum_scale_decays_with_frequency():
    scale = spectrum_scale((8, 32, 32), decay=1.0)
    assert scale.shape == (8, 32, 17)
    assert scale.pow(2).mean().sqrt() == pytest.approx(1.0, rel=1e-5)
    # 1/f: doubling the frequency halves the scale
    assert scale[0, 2, 0] / scale[0, 4, 0] == pytest.approx(2.0, rel=1e-5)
    # 2 cycles per 8 frames is 4 times the frequency of 2 per 32 pixels
    assert scale[0, 2, 0] / scale[2, 0, 0] == pytest.approx(4.0, rel=1e-5)
    assert scale[0, 0, 0] == scale.max()  # DC: the lowest non-zero frequency
    flat = spectrum_scale((8, 32, 32), decay=0.0)
    assert torch.allclose(flat, torch.ones_like(flat))


def test_fourier_video_starts_with_a_one_over_f_spectrum():
    param = build(dict(type='FourierVideo', decay=1.0, value_range=None,
                       init_std=1.0), shape=(4, 3, 8, 32, 32))
    video = param().detach()
    assert video.shape == (4, 3, 8, 32, 32)
    assert video.std().item() == pytest.approx(1.0, rel=0.25)
    power = torch.fft.rfftn(video, dim=(-3, -2, -1)).abs().pow(2).mean((0, 1))
    low = power[:2, :4, :4].mean()
    high = power[3:6, 12:, 8:].mean()
    assert low > 20 * high
    white = build(dict(type='FourierVideo', decay=0.0, value_range=None),
                  shape=(4, 3, 8, 32, 32))().detach()
    power = torch.fft.rfftn(white, dim=(-3, -2, -1)).abs().pow(2).mean((0, 1))
    assert power[:2, :4, :4].mean() < 3 * power[3:6, 12:, 8:].mean()


def test_colour_mixing_is_the_square_root_of_the_colour_covariance():
    g = torch.Generator().manual_seed(0)
    mix = torch.tensor([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0], [0.5, 0.3, 0.4]])
    white = torch.randn(1, 3, 4000, generator=g)
    stimulus = (mix @ white).reshape(1, 3, 10, 20, 20)
    root = colour_mixing(stimulus)[0]
    assert torch.allclose(root, root.T, atol=1e-5)
    covariance = torch.cov(stimulus.reshape(3, -1), correction=0)
    product = root @ root.T
    assert torch.allclose(product / product.max(),
                          covariance / covariance.max(), atol=0.02)
    assert root.norm(dim=0).max() == pytest.approx(1.0, rel=1e-5)


def test_a_grey_stimulus_keeps_every_colour_reachable():
    grey = torch.randn(1, 1, 4, 8, 8).expand(1, 3, 4, 8, 8)
    root = colour_mixing(grey)[0]
    assert torch.linalg.matrix_rank(root) == 3


def test_decorrelated_colour_mixes_each_job_with_its_stimulus():
    stimulus = torch.randn(2, 3, 4, 16, 16)
    stimulus[1, 1] = stimulus[1, 0]  # job 1's stimulus: red == green
    param = build(dict(type='PixelVideo', colour='decorrelated',
                       value_range=None), shape=(2, 3, 4, 16, 16),
                  stimulus=stimulus)
    video = param()
    expected = torch.einsum('cd,dthw->cthw', param.colour_matrix[1],
                            param.latent[1])
    assert torch.allclose(video[1], expected, atol=1e-6)
    r, g = video[1, 0].flatten(), video[1, 1].flatten()
    assert torch.corrcoef(torch.stack([r, g]))[0, 1] > 0.9
    r, g = video[0, 0].flatten(), video[0, 1].flatten()
    assert torch.corrcoef(torch.stack([r, g]))[0, 1].abs() < 0.3


@pytest.mark.parametrize('bad', [dict(colour='hsv'),
                                 dict(value_range='tanh')])
def test_unknown_options_are_named(bad):
    with pytest.raises(ValueError, match=list(bad)[0]):
        build(dict(type='PixelVideo', **bad))


def test_clamp_to_range_bounds_each_channel_and_passes_gradient_inside():
    x = torch.tensor([-3.0, -1.0, 0.5, 2.0, 4.0]).reshape(1, 1, 5, 1, 1)
    x = x.expand(1, 2, 5, 1, 1).clone().requires_grad_()
    low = torch.tensor([-1.0, -2.0]).reshape(2, 1, 1, 1)
    high = torch.tensor([2.0, 3.0]).reshape(2, 1, 1, 1)
    out = ClampToRange.apply(x, low, high)
    assert out[0, 0].flatten().tolist() == [-1.0, -1.0, 0.5, 2.0, 2.0]
    assert out[0, 1].flatten().tolist() == [-2.0, -1.0, 0.5, 2.0, 3.0]
    out.sum().backward()
    # the bounds themselves still pass the gradient, as torch.clamp's
    assert x.grad[0, 0].flatten().tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]
    assert x.grad[0, 1].flatten().tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]


def test_fourier_band_widens_from_coarse_to_the_full_spectrum():
    """Coarse-to-fine: at step 0 x* holds no frequency above band_start x
    the highest on any axis; the band widens every step and is full after
    band_steps, where x* is the unmasked spectrum's."""
    cfg = dict(type='FourierVideo', value_range=None, init_std=1.0)
    coarse = build(dict(cfg, band_start=0.25, band_steps=4))
    full = build(cfg)
    assert torch.equal(coarse.latent, full.latent)
    spectrum = torch.fft.fftn(coarse(), dim=(-3, -2, -1)).abs()
    f_t, f_h, f_w = (torch.fft.fftfreq(n).abs() for n in SHAPE[2:])
    outside = ((f_t[:, None, None] > 0.125) | (f_h[None, :, None] > 0.125) |
               (f_w[None, None, :] > 0.125))
    assert spectrum[..., outside].max() < 1e-4
    assert spectrum[..., ~outside].max() > 0.1
    sizes = []
    for _ in range(4):
        sizes.append(int(coarse.band().sum()))
        coarse.after_step()
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    assert coarse.band() is None
    assert torch.allclose(coarse(), full())
    assert coarse.state_dict()['_extra_state'] == dict(steps_done=4)
    with pytest.raises(ValueError, match='band_start'):
        build(dict(cfg, band_start=0.0))


def test_generator_video_is_each_jobs_own_decoder_of_a_fixed_code():
    """GeneratorVideo: x* starts with std init_std; job j's video depends
    only on job j's weights (one grouped convolution for all jobs, as a
    per-job loop computes it), and its seed alone makes it."""
    cfg = dict(type='GeneratorVideo', widths=(8, 4), code_channels=4,
               init_std=0.5, value_range=None)
    param = build(cfg)
    video = param()
    assert video.shape == SHAPE
    assert param.code.shape == (2, 4, 8, 16, 16)  # one upsampling stage
    assert [w.shape for w in param.weights] == [
        (2, 8, 4, 3, 3, 3), (2, 4, 8, 3, 3, 3), (2, 3, 4, 1, 1, 1)]
    assert video.detach().flatten(1).std(1).tolist() == pytest.approx(
        [0.5, 0.5], rel=1e-4)
    # job 1 alone, from its own seed, is row 1 of the batch
    alone = build(cfg, shape=(1, ) + SHAPE[1:], seeds=[1])
    assert torch.allclose(alone()[0], video[1], atol=1e-5)
    # gradients stay in the job's own weights
    video[0].sum().backward()
    assert all(w.grad[0].abs().sum() > 0 and w.grad[1].abs().sum() == 0
               for w in param.weights)
    # the decoder is piecewise smooth: neighbouring pixels differ far less
    # than in white noise of the same std (which differs by ~1.13 std)
    step = (video[..., 1:] - video[..., :-1]).abs().mean()
    assert step < 0.8 * video.std()
    with pytest.raises(ValueError, match='kernel_size'):
        build(dict(cfg, kernel_size=2))
    with pytest.raises(ValueError, match='widths'):
        build(dict(cfg, widths=()))
