"""An eval-mode BatchNorm that returns its input's channel sums: values
against the layer and sums by hand, gradients against finite differences
and against autograd on the separate ops, in every combination of outputs
used and memory formats."""
import pytest
import torch
from torch import nn

from leaps_mm.models.batchnorm_sums import BatchNormSums, can_fuse


def frozen_batchnorm(channels, affine=True, dtype=torch.float64):
    g = torch.Generator().manual_seed(0)
    bn = nn.BatchNorm3d(channels, affine=affine).to(dtype)
    bn.running_mean.copy_(torch.randn(channels, generator=g))
    bn.running_var.copy_(torch.rand(channels, generator=g) + 0.5)
    if affine:
        bn.weight.data.copy_(torch.randn(channels, generator=g))
        bn.bias.data.copy_(torch.randn(channels, generator=g))
    return bn.eval().requires_grad_(False)


def video(channels_last=False, dtype=torch.float64):
    x = torch.randn(2, 3, 2, 3, 4, dtype=dtype,
                    generator=torch.Generator().manual_seed(1)) * 2 + 1
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last_3d)
    return x.requires_grad_()


def test_only_eval_layers_with_frozen_running_statistics_fuse():
    bn = frozen_batchnorm(3)
    assert can_fuse(bn)
    assert not can_fuse(frozen_batchnorm(3).train())
    assert not can_fuse(frozen_batchnorm(3).requires_grad_(True))
    no_stats = nn.BatchNorm3d(3, track_running_stats=False).eval()
    assert not can_fuse(no_stats.requires_grad_(False))


@pytest.mark.parametrize('channels_last', [False, True])
@pytest.mark.parametrize('affine', [True, False])
def test_values_are_the_layer_and_its_input_sums(channels_last, affine):
    bn = frozen_batchnorm(3, affine)
    x = video(channels_last)
    y, total, squares = BatchNormSums()(bn, x, variance=True)
    assert torch.allclose(y, bn(x))
    assert torch.allclose(total, x.sum((2, 3, 4)))
    assert torch.allclose(squares, (x * x).sum((2, 3, 4)))
    y, total = BatchNormSums()(bn, x, variance=False)
    assert total.shape == (2, 3)


@pytest.mark.parametrize('channels_last', [False, True])
@pytest.mark.parametrize('used', ['all', 'y', 'sums', 'squares'])
def test_gradients_match_finite_differences(channels_last, used):
    """Any subset of the outputs in the loss (the others get no gradient)."""
    bn = frozen_batchnorm(3)
    sums = BatchNormSums()
    g = torch.Generator().manual_seed(2)
    weights = [torch.randn(s, dtype=torch.float64, generator=g)
               for s in ((2, 3, 2, 3, 4), (2, 3), (2, 3))]

    def loss(x):
        y, total, squares = sums(bn, x, variance=True)
        terms = dict(y=(y * weights[0]).sum(),
                     sums=(total * weights[1]).sum(),
                     squares=(squares * weights[2]).sum())
        if used == 'all':
            return sum(terms.values())
        return terms[used]

    assert torch.autograd.gradcheck(loss, (video(channels_last), ))


def test_the_scale_follows_the_layers_statistics():
    """The cached ``γ/σ`` is made again when the running variance changes
    in place (e.g. a checkpoint loaded into the same tensors)."""
    bn = frozen_batchnorm(3)
    sums = BatchNormSums()
    x = video()

    def grad():
        y, _ = sums(bn, x, variance=False)
        return torch.autograd.grad(y.sum(), x)[0]

    before = grad()
    bn.running_var.mul_(4)
    after = grad()
    assert torch.allclose(after, before / 2)
    x_ref = x.detach().clone().requires_grad_()
    ref, = torch.autograd.grad(bn(x_ref).sum(), x_ref)
    assert torch.allclose(after, ref)


def test_bf16_input_gives_bf16_output_and_gradient_fp32_sums():
    bn = frozen_batchnorm(3, dtype=torch.float32)
    x = video(dtype=torch.bfloat16)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        y, total, squares = BatchNormSums()(bn, x, variance=True)
        assert y.dtype == bn(x).dtype == torch.bfloat16
    assert total.dtype == squares.dtype == torch.float32
    grad, = torch.autograd.grad(y.float().sum() + total.sum()
                                + squares.sum(), x)
    assert grad.dtype == torch.bfloat16
    x32 = x.detach().float().requires_grad_()
    ref, = torch.autograd.grad(
        bn(x32).sum() + x32.sum() + (x32 * x32).sum(), x32)
    assert torch.allclose(grad.float(), ref, rtol=2e-2, atol=2e-2)
