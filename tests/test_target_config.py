"""`target = dict(from_config=...)`: a recipe applied to another model."""
import pytest


def test_target_from_config_replaces_the_recipes_model():
    from mmengine.config import Config

    from leaps_mm.apis import build_runner_config
    cfg = Config.fromfile('registry_configs/demo/leaps_r3d.py')
    cfg.merge_from_dict({
        'target.from_config': 'train_mvit.py',  # relative to the recipe
        'target.checkpoint': 'checkpoints/demo/mvit.pth',
        'leaps.tracking.enabled': False})
    model = build_runner_config(cfg).model
    assert model.target.backbone.type == 'MViT'
    assert model.target_checkpoint == 'checkpoints/demo/mvit.pth'
    cfg.target = dict(from_config='train_mvit.py', weights='x.pth')
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['weights'\]"):
        build_runner_config(cfg)
