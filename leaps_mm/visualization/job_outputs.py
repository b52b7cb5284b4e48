"""The files of one synthesized video (the contract other tools rely on)."""
import json
import os
import os.path as osp
from typing import List

import numpy as np

from leaps_mm.utils.fileio import write_json, write_npy
from .video_io import write_gif, write_mp4, write_strip

JOB_FILES = ('synth.npy', 'synth.mp4', 'synth.gif', 'strip.png',
             'result.json')


def write_job_outputs(folder: str, synth: np.ndarray, stimulus: np.ndarray,
                      result: dict, fps: float = 8) -> None:
    """Write ``synth.npy`` (uint8 ``T,H,W,3``), ``synth.mp4``, ``synth.gif``,
    ``strip.png`` (stimulus frames above synthesized frames) and, last,
    ``result.json``; each file appears complete or not at all, and a folder
    with ``result.json`` is a finished job."""
    write_npy(osp.join(folder, 'synth.npy'), synth)
    write_mp4(osp.join(folder, 'synth.mp4'), synth, fps=fps)
    write_gif(osp.join(folder, 'synth.gif'), synth, fps=fps)
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
