"""Files: atomic writes, video decoding and encoding (PyAV), a job's output
folder, and safe checkpoint loading."""
from .atomic import atomic_path, write_json, write_npy, write_torch
from .checkpoint import CheckpointError, load_recognizer_checkpoint
from .job_outputs import (JOB_FILES, finished_jobs, read_job_record,
                          upscale_nearest, write_job_outputs)
from .video_io import (VideoReadError, read_video, write_gif, write_mp4,
                       write_strip)

__all__ = ['atomic_path', 'write_json', 'write_npy', 'write_torch',
           'CheckpointError', 'load_recognizer_checkpoint', 'JOB_FILES',
           'finished_jobs', 'read_job_record', 'upscale_nearest',
           'write_job_outputs', 'VideoReadError', 'read_video', 'write_gif',
           'write_mp4', 'write_strip']
