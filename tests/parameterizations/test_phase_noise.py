"""PhaseFourierVideo (fixed amplitude, free phase) and RandomGaussianNoise."""
import pytest
import torch
from mmengine.registry import DefaultScope

from leaps_mm.registry import MODELS

SHAPE = (2, 3, 4, 16, 16)
MEAN = torch.full((3, 1, 1, 1), 114.75)
STD = torch.full((3, 1, 1, 1), 57.38)


def build(cfg, stimulus=None, shape=SHAPE):
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        param = MODELS.build(cfg)
    param.bind(MEAN, STD)
    param.reset(shape, [torch.Generator().manual_seed(j)
                        for j in range(shape[0])], stimulus)
    return param


def amplitude(video):
    return torch.fft.rfftn(video, dim=(-3, -2, -1), norm='ortho').abs()


def test_phase_video_keeps_the_stimulus_amplitude():
    stimulus = torch.randn(SHAPE, generator=torch.Generator().manual_seed(5))
    param = build(dict(type='PhaseFourierVideo', amplitude='stimulus',
                       value_range=None), stimulus)
    assert [n for n, _ in param.named_parameters()] == ['latent']
    # a random phase: not the stimulus, but the same amplitude spectrum
    # (up to the conjugate-symmetry planes a real signal enforces)
    video = param()
    assert not torch.allclose(video, stimulus, atol=0.1)
    interior = (slice(None), ) * 4 + (slice(1, SHAPE[-1] // 2), )
    assert torch.allclose(amplitude(video)[interior],
                          amplitude(stimulus)[interior], atol=1e-4)
    assert video.pow(2).sum().item() == pytest.approx(
        stimulus.pow(2).sum().item(), rel=0.25)
    # only the phase moves
    video.sum().backward()
    assert param.latent.grad.abs().sum() > 0


def test_phase_video_batch_amplitude_is_shared_and_needs_a_stimulus():
    stimulus = torch.randn(SHAPE, generator=torch.Generator().manual_seed(5))
    param = build(dict(type='PhaseFourierVideo', amplitude='batch',
                       value_range=None), stimulus)
    assert torch.equal(param.amplitude[0], param.amplitude[1])
    assert torch.allclose(param.amplitude[0], amplitude(stimulus).mean(0))
    with pytest.raises(ValueError, match="amplitude='natural'"):
        build(dict(type='PhaseFourierVideo', amplitude='stimulus'))
    with pytest.raises(ValueError, match="one of"):
        build(dict(type='PhaseFourierVideo', amplitude='white'))
    natural = build(dict(type='PhaseFourierVideo', amplitude='natural',
                         init_std=0.5, value_range=None))
    assert natural().std().item() == pytest.approx(0.5, rel=0.3)


def test_gaussian_noise_std_per_job():
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        noise = MODELS.build(dict(type='RandomGaussianNoise', std=(0.2, 0.2)))
    video = torch.zeros(3, 3, 4, 32, 32)
    out = noise(video, [torch.Generator().manual_seed(j) for j in range(3)])
    assert out.shape == video.shape
    assert out.std(dim=(1, 2, 3, 4)).tolist() == pytest.approx([0.2] * 3,
                                                                 rel=0.05)
    again = noise(video, [torch.Generator().manual_seed(j) for j in range(3)])
    assert torch.equal(out, again)  # seeded per job
    off = MODELS.build(dict(type='leaps_mm.RandomGaussianNoise', std=(0, 0)))
    assert torch.equal(off(video, [torch.Generator()] * 3), video)

