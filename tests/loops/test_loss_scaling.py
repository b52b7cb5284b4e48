"""fp16 autocast scales the loss: gradients through fp16 networks that
underflow to zero without it come back, and a step whose gradients overflow
is skipped (small random X3Ds on CPU)."""
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope

from leaps_mm.loops import LossScaleOptimWrapper, build_optim_wrapper
from mm_builders import INVERTER_LOSSES as LOSSES
from mm_builders import INVERTER_SIZE as SIZE
from mm_builders import make_inverter

ADAM = dict(optimizer=dict(type='Adam', lr=0.1, fused=True))
# the objective at a millionth of its weights: most gradients reaching the
# networks' early layers are below fp16's smallest subnormal (6e-8)
TINY = [dict(term, weight=term.get('weight', 1.0) * 1e-6) for term in LOSSES]


def prepared(inverter):
    """``inverter`` reset to two jobs whose x* is a fixed video."""
    g = torch.Generator().manual_seed(5)
    inverter.reset(torch.tensor([1, 3]),
                   torch.randn((2, 3) + SIZE, generator=g).clamp(-2, 2))
    with torch.no_grad():
        # inside the image of [0, 255]: no pixel is clipped
        inverter.parameterization.latent.copy_(
            0.1 * torch.randn((2, 3) + SIZE, generator=g))
    return inverter


def build(cfg, inverter):
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        return build_optim_wrapper(
            cfg, list(inverter.parameterization.parameters()),
            inverter.autocast_dtype)


def backward(inverter, wrapper):
    """The loss terms and the wrapper's backward; x*'s latent gradient,
    unscaled."""
    with wrapper.optim_context(inverter):
        loss, _ = inverter.parse_losses(inverter(mode='loss'))
    wrapper.backward(loss)
    if isinstance(wrapper, LossScaleOptimWrapper):
        wrapper.loss_scaler.unscale_(wrapper.optimizer)
    return inverter.parameterization.latent.grad.clone()


@pytest.mark.parametrize('autocast,wrapper_type', [
    (None, OptimWrapper), ('bf16', OptimWrapper),
    ('fp16', LossScaleOptimWrapper)])
def test_fp16_gets_loss_scaling_and_others_do_not(autocast, wrapper_type):
    wrapper = build(dict(type='OptimWrapper', **ADAM),
                    prepared(make_inverter(autocast=autocast)))
    assert type(wrapper) is wrapper_type


def test_a_wrapper_named_in_the_config_is_kept():
    inverter = prepared(make_inverter())
    wrapper = build(dict(type='LossScaleOptimWrapper', loss_scale=1024.0,
                         **ADAM), inverter)
    assert wrapper.loss_scaler.get_scale() == 1024.0
    with pytest.raises(TypeError, match="loss_scale must be 'dynamic'"):
        build(dict(type='LossScaleOptimWrapper', loss_scale='auto', **ADAM),
              inverter)


def test_loss_scaling_recovers_gradients_that_fp16_flushes_to_zero():
    plain = make_inverter(losses=TINY)
    half = make_inverter(losses=TINY, autocast='fp16')
    half.load_state_dict(plain.state_dict())
    reference = backward(prepared(plain), build(ADAM, plain))
    prepared(half)
    unscaled = backward(half, OptimWrapper(
        optimizer=torch.optim.Adam(half.parameterization.parameters())))
    half.parameterization.latent.grad = None
    scaled = backward(half, build(ADAM, half))

    def cosine(grad):
        return torch.nn.functional.cosine_similarity(
            grad.flatten(), reference.flatten(), dim=0)

    assert (reference != 0).all()
    # without scaling nearly all of x*'s gradient underflowed in the fp16
    # backward, and what is left points elsewhere
    assert (unscaled == 0).float().mean() > 0.9
    assert cosine(unscaled) < 0.95
    assert (scaled == 0).float().mean() < 0.05
    assert cosine(scaled) > 0.99


def test_a_step_with_overflowing_gradients_is_skipped():
    inverter = prepared(make_inverter(losses=TINY, autocast='fp16'))
    wrapper = build(ADAM, inverter)
    latent = inverter.parameterization.latent
    scale = wrapper.loss_scaler.get_scale()

    def step(overflow: bool) -> None:
        with wrapper.optim_context(inverter):
            loss, _ = inverter.parse_losses(inverter(mode='loss'))
        if overflow:
            loss = loss * float('inf')
        wrapper.update_params(loss)

    before = latent.detach().clone()
    step(overflow=True)
    assert torch.equal(latent.detach(), before)
    assert wrapper.loss_scaler.get_scale() == scale / 2
    # the next finite step moves x*, and the scaler's state is resumable
    step(overflow=False)
    assert not torch.equal(latent.detach(), before)
    assert torch.isfinite(latent).all()
    resumed = build(ADAM, inverter)  # as from a job's partial.pt
    resumed.load_state_dict(wrapper.state_dict())
    assert resumed.loss_scaler.get_scale() == scale / 2
