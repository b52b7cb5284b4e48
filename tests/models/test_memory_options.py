"""Options for big networks: activation checkpointing of the target and the
channels-last-3d layout give the same objective and gradients as the plain
set-up (small random X3Ds)."""
import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from leaps_mm.models.memory import checkpoint_modules
from mm_builders import INVERTER_SIZE as SIZE
from mm_builders import losses_and_grad, make_inverter


def same_weights(a, b):
    b.load_state_dict(a.state_dict())


def fused_batchnorms(network):
    """BatchNorm layers whose taps take the sums inside the layer."""
    return [m for m in network.modules()
            if isinstance(m, _BatchNorm) and 'forward' in vars(m)]


def assert_same_step(plain, other):
    """The same loss terms and x* gradient up to float reassociation."""
    terms_p, grad_p = one_step(plain)
    terms_o, grad_o = one_step(other)
    for name in terms_p:
        assert torch.allclose(terms_p[name], terms_o[name], rtol=1e-4,
                              atol=1e-5), name
    assert torch.allclose(grad_p, grad_o, rtol=1e-3, atol=1e-6)


def one_step(inverter):
    g = torch.Generator().manual_seed(5)
    video = torch.randn((2, 3) + SIZE, generator=g).clamp(-2, 2)
    stim = torch.randn((2, 3) + SIZE, generator=g).clamp(-2, 2)
    return losses_and_grad(inverter, torch.tensor([1, 3]), stim, video)


def test_checkpointed_target_gives_the_same_losses_and_gradients():
    plain = make_inverter()
    ckpt = make_inverter(checkpoint_target=True)
    same_weights(plain, ckpt)
    # the residual blocks of every stage, not the stages or inner layers
    assert 'backbone.layer1.0' in ckpt.checkpointed
    assert all(n.count('.') == 2 for n in ckpt.checkpointed)
    assert not plain.checkpointed
    # recomputed layers must save what the first pass saved: not fused
    assert not fused_batchnorms(ckpt.target) and fused_batchnorms(plain.target)
    assert fused_batchnorms(ckpt.verifier)

    # a block's inner conv runs twice per step when checkpointed: once in
    # the forward pass and once when backward recomputes its activations
    calls = []
    conv = ckpt.target.backbone.layer1[0].conv2
    handle = conv.register_forward_hook(lambda *_: calls.append(1))
    terms_c, grad_c = one_step(ckpt)
    handle.remove()
    assert len(calls) == 3  # the stimulus pass (no grad) + 2

    terms_p, grad_p = one_step(plain)
    for name in terms_p:
        assert torch.allclose(terms_p[name], terms_c[name], rtol=1e-6,
                              atol=1e-7), name
    assert grad_p.abs().sum() > 0
    # the plain target takes its BatchNorm sums inside the layers, the
    # checkpointed one with separate nodes: float reassociation (~1e-6)
    assert torch.allclose(grad_p, grad_c, rtol=1e-5, atol=2e-6)


def test_checkpoint_rule_as_regex_and_errors():
    inverter = make_inverter(checkpoint_target=r'backbone\.layer[12]')
    assert inverter.checkpointed == ['backbone.layer1', 'backbone.layer2']
    with pytest.raises(ValueError, match='selects no module'):
        checkpoint_modules(inverter.verifier, r'backbone\.nothing')


def test_channels_last_gives_the_same_losses_and_gradients():
    plain = make_inverter()
    cl = make_inverter(channels_last=True)
    same_weights(plain, cl)
    conv = cl.target.backbone.layer1[0].conv1.conv
    assert conv.weight.is_contiguous(memory_format=torch.channels_last_3d)
    assert cl._layout(torch.zeros((1, 3) + SIZE)).is_contiguous(
        memory_format=torch.channels_last_3d)
    assert_same_step(plain, cl)


@pytest.mark.slow
def test_compiled_networks_give_the_same_losses_and_gradients():
    """``compile=True``: backbones and heads compiled in place (names and
    weights unchanged, the taps' hooks traced with them); objective and
    gradients as in eager mode."""
    plain = make_inverter()
    compiled = make_inverter(compile=True, calibrate=False)
    compiled.load_state_dict(plain.state_dict())  # same keys: in place
    for network in (compiled.target, compiled.verifier):
        assert network.backbone._compiled_call_impl is not None
        assert not fused_batchnorms(network)  # the compiler fuses the sums
    assert_same_step(plain, compiled)


def test_verifier_batchnorm_untouched_by_options():
    inverter = make_inverter(channels_last=True, checkpoint_target=True)
    before = [m.running_mean.clone() for m in inverter.verifier.modules()
              if isinstance(m, _BatchNorm)]
    one_step(inverter)
    after = [m.running_mean for m in inverter.verifier.modules()
             if isinstance(m, _BatchNorm)]
    assert all(torch.equal(a, b) for a, b in zip(before, after))


@pytest.mark.parametrize('dtype, rtol', [('bf16', 2e-2), ('fp16', 2e-3)])
def test_autocast_step_follows_the_fp32_step(dtype, rtol):
    """``autocast='bf16'`` or ``'fp16'`` (both run on CPUs) through the
    BatchNorm layers that take their sums inside: loss terms within the
    16-bit rounding of fp32's, and a video gradient pointing the same way
    (fp32, like x*)."""
    plain = make_inverter()
    half = make_inverter(autocast=dtype)
    same_weights(plain, half)
    assert fused_batchnorms(half.target) and fused_batchnorms(half.verifier)
    terms_p, grad_p = one_step(plain)
    terms_h, grad_h = one_step(half)
    for name in terms_p:
        assert torch.allclose(terms_p[name], terms_h[name], rtol=rtol,
                              atol=1e-3), name
    # the networks did run in 16 bits: not a bit-identical fp32 step
    assert not torch.equal(grad_p, grad_h)
    assert grad_h.dtype == torch.float32
    cosine = torch.nn.functional.cosine_similarity(
        grad_p.flatten(), grad_h.flatten(), dim=0)
    assert cosine > 0.9
