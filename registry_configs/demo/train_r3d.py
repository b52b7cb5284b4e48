# Demo TARGET model (the one LEAPS inverts): a small ResNet3d-18 (3 stages,
# base_channels 16) trained from scratch on the procedural 8-class motion
# dataset (16 x 64 x 64 clips, rendered on the fly; a split is a seed).
# Every demo model starts on clean, high-contrast clips of the same motions,
# phased out linearly over the first third of training: from the raw clips
# alone the loss sits at chance for hundreds of steps (no static cue to
# start from); on clean clips motion features form within ~60 steps.
#   python tools/train.py registry_configs/demo/train_r3d.py
# writes checkpoints/demo/r3d_stage1.pth (state_dict + meta only); the demo
# target is its noise fine-tune, train_r3d_noise.py.
default_scope = 'leaps_mm'
custom_imports = dict(imports=['leaps_mm'], allow_failed_imports=False)

num_frames = 16
size = 64
# Pixel statistics on the 0-255 scale (as MMAction2's X3D configs use).
data_preprocessor = dict(type='ActionDataPreprocessor', mean=[114.75] * 3,
                         std=[57.375] * 3, format_shape='NCTHW')
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ResNet3d', depth=18, base_channels=16, num_stages=3,
        out_indices=(2, ), spatial_strides=(1, 2, 2),
        temporal_strides=(1, 1, 1), dilations=(1, 1, 1), inflate=(1, 1, 1),
        pretrained=None, pretrained2d=False, norm_eval=False),
    cls_head=dict(type='I3DHead', in_channels=64, num_classes=8,
                  spatial_type='avg', dropout_ratio=0.2, init_std=0.01,
                  average_clips='prob'),
    data_preprocessor=data_preprocessor)

# Split seeds: train, validation and test never share a clip (the stimuli in
# data/stimuli are seed 0 without resampling, also unseen).
train_seed, val_seed, test_seed = 1, 1001, 2002
batch_size = 16
max_epochs = 24
train_dataloader = dict(
    batch_size=batch_size, num_workers=1, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='MotionDataset', num_samples=1024, seed=train_seed,
                 num_frames=num_frames, size=size, resample_each_epoch=True,
                 warmup_epochs=max_epochs // 3))
val_dataloader = dict(
    batch_size=32, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='MotionDataset', num_samples=256, seed=val_seed,
                 num_frames=num_frames, size=size, test_mode=True))
test_dataloader = dict(
    batch_size=32, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='MotionDataset', num_samples=512, seed=test_seed,
                 num_frames=num_frames, size=size, test_mode=True))
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=8)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, eta_min=1e-5,
         by_epoch=True, begin=1, end=max_epochs, convert_to_iter_based=True),
]
custom_hooks = [dict(type='MotionEpochHook')]
default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=16, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=-1, save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork'),
               dist_cfg=dict(backend='gloo'))
log_processor = dict(type='LogProcessor', window_size=16, by_epoch=True)
log_level = 'INFO'
randomness = dict(seed=0)
load_from = None
resume = False

# tools/train.py: the exported checkpoint's name, threads and memory layout.
export_name = 'r3d_stage1'
num_threads = 2
channels_last_3d = False
work_dir = 'work_dirs/demo_train_r3d'
