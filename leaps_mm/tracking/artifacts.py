"""What a sweep's tracking adds to the work dir and logs as artifacts."""
from __future__ import annotations

import os.path as osp
from typing import TYPE_CHECKING, Iterable, List

import cv2
import numpy as np

from leaps_mm.fileio.video_io import read_video, write_gif

if TYPE_CHECKING:
    from mlflow import MlflowClient

# a job folder's files logged on its child run
JOB_ARTIFACTS = ('synth.gif', 'synth.mp4', 'strip.png', 'stimulus.gif',
                 'result.json')
# the parent run's folder of the sweep gallery (gallery.png/.gif/.mp4)
GALLERY_ARTIFACT_PATH = 'gallery'
# in a work dir: the parent run of its last sweep (store, experiment, run)
PARENT_RUN_FILE = 'mlflow_parent.json'
# in a job folder: the child run that tracks the job (written once logged)
TRACKED_FILE = 'tracked.json'


def write_stimulus_gif(src: str, dst: str, fps: float = 8,
                       max_frames: int = 64, max_side: int = 256) -> None:
    """Write the stimulus video ``src`` as a gif at ``dst``: at most
    ``max_frames`` evenly spaced frames, the longer side at most
    ``max_side`` pixels (a gif of a full-size clip would be huge), a small
    clip enlarged by nearest neighbour by the largest whole factor that
    keeps it so."""
    frames = read_video(src)
    frames = frames[np.unique(np.linspace(0, len(frames) - 1,
                                          min(len(frames), max_frames))
                              .round().astype(int))]
    scale = max_side / max(frames.shape[1:3])
    if scale < 1:
        size = (max(round(frames.shape[2] * scale), 1),
                max(round(frames.shape[1] * scale), 1))
        frames = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA)
                           for f in frames])
    else:  # e.g. 64 px -> 256 px, as large as synth.gif beside it
        k = int(max_side // max(frames.shape[1:3]))
        if k > 1:
            frames = frames.repeat(k, axis=1).repeat(k, axis=2)
    write_gif(dst, frames, fps=fps)


def log_gallery(client: 'MlflowClient', run_id: str,
                paths: Iterable[str]) -> List[str]:
    """Log the existing files of ``paths`` (a sweep gallery) to ``run_id``
    under ``gallery/``; return the artifact paths logged."""
    logged = []
    for path in paths:
        if osp.isfile(path):
            client.log_artifact(run_id, path, GALLERY_ARTIFACT_PATH)
            logged.append(f'{GALLERY_ARTIFACT_PATH}/{osp.basename(path)}')
    return logged
