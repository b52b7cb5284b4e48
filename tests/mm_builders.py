"""Small, randomly initialised MMAction2 recognizers for the tests, built from
the configs MMAction2 ships (``mmaction::recognition/...``) the way a user's
registry config inherits them (``_base_``)."""
import os
import tempfile

import leaps_mm  # noqa: F401  (patches mmaction before anything else)
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from torch.nn.modules.batchnorm import _BatchNorm

from leaps_mm.models.inverter import build_frozen_recognizer
from leaps_mm.registry import MODELS

MMACTION = 'mmaction::recognition/'
X3D_S = MMACTION + 'x3d/x3d_s_13x6x1_facebook-kinetics400-rgb.py'
X3D_PREPROCESSOR = dict(type='mmaction.ActionDataPreprocessor',
                        mean=[114.75] * 3, std=[57.38] * 3,
                        format_shape='NCTHW')


def model_config(base: str, overrides: dict):
    """The ``model`` of a config file with ``_base_ = base`` and
    ``model = overrides``."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'config.py')
        with open(path, 'w') as file:
            file.write(f'_base_ = {base!r}\nmodel = {overrides!r}\n')
        return Config.fromfile(path).model


def x3d_config(num_classes: int = 5, gamma_d: float = 1.0,
               gamma_b: float = 2.25, head_std: float = 0.01):
    """X3D-S's config with fewer blocks (``gamma_d``) and ``num_classes``
    classes; the head's input is ``192 * gamma_b`` channels. The head's
    default init (std 0.01 for both layers) gives near-constant logits; a
    larger ``head_std`` makes a random model's scores depend on its input."""
    return model_config(X3D_S, dict(
        backbone=dict(gamma_w=1, gamma_b=gamma_b, gamma_d=gamma_d),
        cls_head=dict(in_channels=int(192 * gamma_b), num_classes=num_classes,
                      init_std=head_std),
        data_preprocessor=dict(X3D_PREPROCESSOR, _delete_=True)))


def build(base: str, overrides: dict):
    """A frozen recognizer in eval mode (SyncBN reverted), random weights."""
    return build_frozen_recognizer(model_config(base, overrides))


@torch.no_grad()
def calibrate_batchnorm(model, size, batches: int = 2, batch_size: int = 8):
    """Set a random recognizer's BatchNorm running statistics to those of
    noise videos ``(3, *size)`` in normalised space (a data-dependent init):
    with the default statistics (0, 1) a random X3D's logits hardly depend on
    its input. The model is left in eval mode."""
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            module.momentum = None  # a cumulative average
    model.train()
    try:
        for _ in range(batches):
            video = torch.randn((batch_size, 1, 3) + tuple(size)).clamp(-2, 2)
            model.extract_feat(video, stage='head')
    finally:
        model.eval()
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.momentum = 0.1


# --- a small LEAPSInverter: X3D target and verifier, random weights --------
NUM_CLASSES = 5
INVERTER_SIZE = (4, 32, 32)
INVERTER_LOSSES = [
    dict(type='ClassificationLoss'),
    dict(type='PrimingLoss'),
    dict(type='TemporalCoherenceLoss', weight=0.1),
    dict(type='FeatureDiversityLoss', weight=0.01),
]


def make_inverter(losses=INVERTER_LOSSES, calibrate=True, **kwargs):
    """A LEAPSInverter of x* 4x32^2 over two small random X3Ds (target and
    BatchNorm verifier, calibrated on noise); ``kwargs`` override its
    config."""
    torch.manual_seed(0)
    cfg = dict(
        type='LEAPSInverter',
        target=x3d_config(num_classes=NUM_CLASSES, gamma_d=1.0, head_std=0.1),
        verifier=x3d_config(num_classes=NUM_CLASSES, gamma_d=0.5,
                            gamma_b=1.0, head_std=0.1),
        losses=losses,
        taps=dict(module_types=('BatchNorm3d', ),
                  temporal_layer='backbone.conv5.bn'),
        input_size=INVERTER_SIZE)
    cfg.update(kwargs)
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        inverter = MODELS.build(cfg)
    for net in (inverter.target, inverter.verifier):
        if net is not None and calibrate:
            calibrate_batchnorm(net, INVERTER_SIZE)
    return inverter


def total(terms):
    """The sum of every term over every sample."""
    return sum(v.sum() for v in terms.values())


def losses_and_grad(inverter, targets, stim, video):
    """The terms and the gradient of their sum for x*'s latent ``video``."""
    inverter.reset(targets, stim)
    latent = inverter.parameterization.latent
    with torch.no_grad():
        latent.copy_(video)
    terms = inverter(mode='loss')
    total(terms).backward()
    grad = latent.grad.clone()
    latent.grad = None
    return {k: v.detach() for k, v in terms.items()}, grad
