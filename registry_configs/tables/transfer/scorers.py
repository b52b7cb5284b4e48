# The scorers of the transfer grid (registry_configs/tables/transfer_demo.py):
# the three ordinarily trained demo recognizers, of two families, as judges
# named like the grid's scorers. Every synthesized video is scored by all of
# them; the grid knows which one was inverted.
_demo = '{{ fileDirname }}/../../demo/'
judges = [
    dict(name='r3d', from_config=_demo + 'train_r3d.py',
         checkpoint='checkpoints/demo/r3d_noise.pth', classes='checkpoint'),
    dict(name='r2plus1d', from_config=_demo + 'train_r2plus1d.py',
         checkpoint='checkpoints/demo/r2plus1d.pth', classes='checkpoint'),
    dict(name='mvit', from_config=_demo + 'train_mvit.py',
         checkpoint='checkpoints/demo/mvit.pth', classes='checkpoint'),
]
