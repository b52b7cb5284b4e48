"""AdversarialRecognizer3D: the demo target's adversarial training."""
import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.registry import DefaultScope

from leaps_mm.datasets.motion_dataset import MotionDataset
from leaps_mm.registry import MODELS

PREPROCESSOR = dict(type='ActionDataPreprocessor', mean=[114.75] * 3,
                    std=[57.375] * 3, format_shape='NCTHW')


def small_recognizer(model_type: str = 'AdversarialRecognizer3D',
                     **kwargs):
    cfg = dict(
        type=model_type,
        backbone=dict(type='ResNet3d', depth=18, base_channels=8,
                      num_stages=2, out_indices=(1, ),
                      spatial_strides=(1, 2), temporal_strides=(1, 1),
                      dilations=(1, 1), inflate=(1, 1), pretrained=None,
                      pretrained2d=False),
        cls_head=dict(type='I3DHead', in_channels=16, num_classes=8,
                      init_std=0.5),
        data_preprocessor=PREPROCESSOR, **kwargs)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        return MODELS.build(cfg)


@pytest.fixture(scope='module')
def batch():
    data = MotionDataset(num_samples=4, seed=3, num_frames=4, size=16,
                         test_mode=True)
    return small_recognizer().data_preprocessor(
        dict(inputs=[data[i]['inputs'] for i in range(4)],
             data_samples=[data[i]['data_samples'] for i in range(4)]),
        training=True)


def test_attack_stays_in_the_ball_and_pixel_range(batch):
    model = small_recognizer(epsilon=8.0, step_size=10.0)
    inputs, samples = batch['inputs'], batch['data_samples']
    attacked = model.adversarial_inputs(inputs, samples)
    assert attacked.shape == inputs.shape and not attacked.requires_grad
    to_pixels = lambda x: x * 57.375 + 114.75  # noqa: E731
    delta = to_pixels(attacked) - to_pixels(inputs)
    assert delta.abs().max() <= 8.0 + 1e-3
    # one step of 10 from a start inside +-8 ends on the ball's surface,
    # except where the pixel range cut it or no gradient reached the pixel
    # (max pooling); a random start alone is never on it
    inside_range = (to_pixels(attacked) > 1e-3) & \
        (to_pixels(attacked) < 255 - 1e-3)
    on_surface = (delta[inside_range].abs() > 8.0 - 1e-3).float().mean()
    assert on_surface > 0.5, on_surface
    assert to_pixels(attacked).min() >= -1e-3
    assert to_pixels(attacked).max() <= 255 + 1e-3


def test_attack_raises_the_loss(batch):
    model = small_recognizer(epsilon=8.0, step_size=10.0).eval()
    inputs, samples = batch['inputs'], batch['data_samples']
    with torch.no_grad():
        clean = model.classification_loss(inputs, samples)
        attacked = model.classification_loss(model.adversarial_inputs(inputs, samples),
                                 samples)
    assert attacked > clean * 1.05


def test_training_loss_uses_the_attacked_inputs(batch):
    inputs, samples = batch['inputs'], batch['data_samples']
    model = small_recognizer(epsilon=8.0, step_size=10.0).eval()
    torch.manual_seed(1)
    robust = float(model.loss(inputs, samples)['loss_cls'].detach())
    assert robust > float(model.classification_loss(inputs, samples).detach()) * 1.05
    unchanged = small_recognizer(epsilon=0.0).eval()
    assert float(unchanged.loss(inputs, samples)['loss_cls']) == \
        pytest.approx(float(
            unchanged.classification_loss(inputs, samples).detach()))


def test_checkpoint_loads_into_a_plain_recognizer():
    robust = small_recognizer()
    plain = small_recognizer('Recognizer3D')
    plain.load_state_dict(robust.state_dict(), strict=True)


def test_negative_radius_is_refused():
    with pytest.raises(ValueError, match='epsilon'):
        small_recognizer(epsilon=-1.0)
