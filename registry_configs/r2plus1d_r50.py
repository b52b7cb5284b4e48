# R(2+1)D-50. MMAction2 ships only R(2+1)D-34 (basic blocks); ResNet2Plus1d
# also builds depth 50: ResNet3d's Bottleneck3d blocks (3, 4, 6, 3) whose 3x3x3
# conv is factorised into a 1x3x3 spatial + 3x1x1 temporal conv (Conv2plus1d,
# mid-width of Tran et al.), head input 512 * 4 = 2048 channels. No zoo
# checkpoint fits (the R34 weights do not, nor PyTorchVideo's R2PLUS1D_16x4_R50
# that the paper used, whose stem/strides differ): bring your own R50 weights
# in MMAction2 format (--checkpoint), e.g. trained with this config.
# Time is halved in layers 2-4 (T/8): at x*'s 8 frames layer4 has one time
# step, so coherence is read before its temporal stride (T' = 2).
_base_ = ['mmaction::recognition/r2plus1d/r2plus1d_r34_8xb8-8x8x1-180e_kinetics400-rgb.py',
          '_base_/leaps.py']
model = dict(backbone=dict(depth=50, pretrained=None), cls_head=dict(in_channels=2048))
leaps = dict(inverter=dict(
    target_checkpoint=None,
    taps=dict(module_types=('BatchNorm3d', '_BatchNormXd'), temporal_layer='backbone.layer4.0.conv1.bn')))
