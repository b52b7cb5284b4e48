from .gallery import GALLERY_FILES, write_sweep_gallery
from .job_outputs import (JOB_FILES, finished_jobs, read_job_record,
                          upscale_nearest, write_job_outputs)
from .video_io import (VideoReadError, read_video, write_gif, write_mp4,
                       write_strip)

__all__ = ['GALLERY_FILES', 'write_sweep_gallery', 'JOB_FILES',
           'finished_jobs', 'read_job_record', 'upscale_nearest',
           'write_job_outputs', 'VideoReadError', 'read_video',
           'write_gif', 'write_mp4', 'write_strip']
