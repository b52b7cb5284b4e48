"""Options for big networks: activation checkpointing of the target and the
channels-last-3d layout give the same objective and gradients as the plain
set-up (small random X3Ds), and the fused tap reductions match autograd."""
import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from leaps_mm.models.memory import checkpoint_modules
from leaps_mm.models.taps import (_BroadcastMean, _ChannelVarMean, channel_mean,
                                  channel_var_mean)
from test_inverter import SIZE, losses_and_grad, make_inverter


def same_weights(a, b):
    b.load_state_dict(a.state_dict())


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
    assert torch.allclose(grad_p, grad_c, rtol=1e-5, atol=1e-8)


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
    terms_p, grad_p = one_step(plain)
    terms_c, grad_c = one_step(cl)
    for name in terms_p:
        assert torch.allclose(terms_p[name], terms_c[name], rtol=1e-4,
                              atol=1e-5), name
    assert torch.allclose(grad_p, grad_c, rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize('memory_format', [torch.contiguous_format,
                                           torch.channels_last_3d])
def test_fused_tap_reductions_match_autograd(memory_format):
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(2, 3, 4, 5, 6, generator=g, dtype=torch.float64) * 2 +
         3).contiguous(memory_format=memory_format).requires_grad_()
    flat = x.reshape(2, 1, 3, -1).transpose(1, 2).reshape(2, 3, -1)
    var, mean = _ChannelVarMean.apply(flat, 2)
    ref_var, ref_mean = torch.var_mean(flat, dim=-1, correction=0)
    assert torch.allclose(var, ref_var) and torch.allclose(mean, ref_mean)
    w = torch.randn(2, 3, generator=g, dtype=torch.float64)
    grad, = torch.autograd.grad((var * w + mean * w.flip(0)).sum(), x)
    ref, = torch.autograd.grad((ref_var * w + ref_mean * w.flip(0)).sum(), x)
    assert torch.allclose(grad, ref)
    cm = _BroadcastMean.apply(x.reshape(2, 1, 3, -1), (1, 3))
    grad, = torch.autograd.grad((cm * w).sum(), x)
    ref, = torch.autograd.grad((x.mean(dim=(2, 3, 4)) * w).sum(), x)
    assert torch.allclose(cm, x.mean(dim=(2, 3, 4)))
    assert torch.allclose(grad, ref)
    assert torch.autograd.gradcheck(
        lambda t: _ChannelVarMean.apply(t, 2),
        (flat.detach().requires_grad_(), ))
    # the taps' entry points (channels-last inputs reduce as (N, L, C))
    var, mean = channel_var_mean(x, 2)
    assert torch.allclose(var, ref_var) and torch.allclose(mean, ref_mean)
    assert torch.allclose(channel_mean(x, 2, channels_last=False), ref_mean)
    assert torch.autograd.gradcheck(lambda t: channel_var_mean(t, 2), (x, ))
    assert torch.autograd.gradcheck(
        lambda t: channel_mean(t, 2, channels_last=False), (x, ))


def test_verifier_batchnorm_untouched_by_options():
    inverter = make_inverter(channels_last=True, checkpoint_target=True)
    before = [m.running_mean.clone() for m in inverter.verifier.modules()
              if isinstance(m, _BatchNorm)]
    one_step(inverter)
    after = [m.running_mean for m in inverter.verifier.modules()
             if isinstance(m, _BatchNorm)]
    assert all(torch.equal(a, b) for a, b in zip(before, after))
