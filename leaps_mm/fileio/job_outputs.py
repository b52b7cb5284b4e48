"""The files of one synthesized video (the contract other tools rely on)."""
import json
import math
import os
import os.path as osp
from typing import List

import numpy as np

from leaps_mm.fileio.atomic import write_json, write_npy
from .video_io import write_gif, write_mp4, write_strip

JOB_FILES = ('synth.npy', 'synth.mp4', 'synth.gif', 'strip.png',
             'result.json')
# short side of synth.mp4 / synth.gif at least this (x* is often 64 px)
VIEW_MIN_SIDE = 256


def upscale_nearest(frames: np.ndarray,
                    min_side: int = VIEW_MIN_SIDE) -> np.ndarray:
    """Enlarge a ``(T, H, W, C)`` video by the smallest integer factor ``k``
    that makes ``min(H, W) >= min_side``, by nearest neighbour (every pixel a
    ``k x k`` block); returns ``(T, kH, kW, C)``, the input when ``k == 1``."""
    k = max(1, math.ceil(min_side / max(min(frames.shape[1:3]), 1)))
    if k == 1:
        return frames
    return frames.repeat(k, axis=1).repeat(k, axis=2)


def write_job_outputs(folder: str, synth: np.ndarray, stimulus: np.ndarray,
                      result: dict, fps: float = 8) -> None:
    """Write ``synth.npy`` (uint8 ``T,H,W,3``, x* as optimised),
    ``synth.mp4`` and ``synth.gif`` (x* enlarged by nearest neighbour to a
    short side of at least ``VIEW_MIN_SIDE``), ``strip.png`` (stimulus frames
    above synthesized frames) and, last, ``result.json``; each file appears
    complete or not at all, and a folder with ``result.json`` is a finished
    job."""
    write_npy(osp.join(folder, 'synth.npy'), synth)
    view = upscale_nearest(synth)
    write_mp4(osp.join(folder, 'synth.mp4'), view, fps=fps)
    write_gif(osp.join(folder, 'synth.gif'), view, fps=fps)
    write_strip(osp.join(folder, 'strip.png'), [stimulus, synth],
                num_frames=synth.shape[0], frame_size=synth.shape[1:3])
    write_json(osp.join(folder, 'result.json'), result)


def finished_jobs(work_dir: str) -> List[str]:
    """Job folders of a sweep that hold ``result.json`` (finished jobs), in
    name order (their names start with the job index)."""
    return sorted(osp.join(work_dir, name) for name in os.listdir(work_dir)
                  if osp.isfile(osp.join(work_dir, name, 'result.json')))


def read_job_record(folder: str) -> dict:
    """A finished job's ``result.json``; ValueError naming the file when it
    cannot be read."""
    path = osp.join(folder, 'result.json')
    try:
        with open(path) as file:
            return json.load(file)
    except (OSError, ValueError) as error:
        raise ValueError(f'Cannot read {path}: {error}') from error
