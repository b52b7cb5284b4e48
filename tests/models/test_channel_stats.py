"""Per-sample channel statistics of tapped activations against torch's own
mean and variance, for every layout the taps meet: values and gradients,
many layers concatenated or one at a time."""
import pytest
import torch

from leaps_mm.models.channel_stats import LayerSums, Layout

N = 2


def layers(dtype=torch.float64):
    """Tapped inputs of every layout, with their per-sample values as
    ``(N, -1, C)`` to reduce by hand."""
    g = torch.Generator().manual_seed(0)

    def randn(*shape):
        return torch.randn(*shape, generator=g, dtype=dtype) * 2 + 3

    bn = randn(N, 3, 4, 5, 6)  # BatchNorm (N, C, T, H, W)
    bn_cl = randn(N, 4, 2, 3, 4).contiguous(
        memory_format=torch.channels_last_3d)
    merged = randn(N * 2, 5, 3, 2)  # BatchNorm2d on (N*T, C, H, W)
    tokens = randn(N, 7, 6)  # LayerNorm (N, L, C)
    seq_first = randn(3, N * 2, 5)  # LayerNorm (L, N*T, C), batch_dim=1
    return [
        (bn, Layout(False), bn.flatten(2).transpose(1, 2)),
        (bn_cl, Layout(False), bn_cl.flatten(2).transpose(1, 2)),
        (merged, Layout(False),
         merged.reshape(N, 2, 5, 6).transpose(1, 2).reshape(N, 5, -1)
         .transpose(1, 2)),
        (tokens, Layout(True), tokens),
        (seq_first, Layout(True, batch_dim=1),
         seq_first.reshape(3, N, 2, 5).transpose(0, 1).reshape(N, -1, 5)),
    ]


def concatenated(inputs, layouts, variance):
    sums = LayerSums(variance)
    for x, layout in zip(inputs, layouts):
        sums.add(x, N, layout)
    assert sums.sizes == [3, 4, 5, 6, 5]
    return sums.moments()


def one_at_a_time(inputs, layouts, variance):
    stats = []
    for x, layout in zip(inputs, layouts):
        sums = LayerSums(variance)
        sums.add(x, N, layout)
        stats.append(sums.moments())
    mean = torch.cat([m for m, _ in stats], -1)
    return mean, (torch.cat([v for _, v in stats], -1) if variance else None)


@pytest.mark.parametrize('reduce', [concatenated, one_at_a_time])
def test_means_and_variances_of_every_layout(reduce):
    inputs, layouts, by_hand = zip(*layers())
    mean, var = reduce(inputs, layouts, True)
    assert mean.shape == var.shape == (N, 3 + 4 + 5 + 6 + 5)
    assert torch.allclose(mean, torch.cat([h.mean(1) for h in by_hand], -1))
    assert torch.allclose(var, torch.cat(
        [h.var(1, correction=0) for h in by_hand], -1))
    mean_only, none = reduce(inputs, layouts, False)
    assert none is None and torch.equal(mean_only, mean)


@pytest.mark.parametrize('variance', [False, True])
def test_gradients_match_finite_differences(variance):
    inputs = [x.requires_grad_() for x, _, _ in layers()]
    layouts = [layout for _, layout, _ in layers()]

    def stats(*xs):
        mean, var = concatenated(xs, layouts, variance)
        return (mean, var) if variance else mean
    assert torch.autograd.gradcheck(stats, inputs)


def test_bf16_activations_give_fp32_statistics():
    x = (torch.randn(N, 3, 2, 4, 4) + 1).bfloat16().requires_grad_()
    sums = LayerSums(variance=True)
    sums.add(x, N, Layout(False))
    mean, var = sums.moments()
    assert mean.dtype == var.dtype == torch.float32
    assert torch.allclose(mean, x.detach().float().mean((2, 3, 4)),
                          atol=1e-2)
    (grad, ) = torch.autograd.grad((mean + var).sum(), x)
    assert grad.dtype == torch.bfloat16 and grad.shape == x.shape
