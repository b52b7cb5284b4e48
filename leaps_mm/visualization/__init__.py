from .job_outputs import (JOB_FILES, finished_jobs, read_job_record,
                          write_job_outputs)
from .video_io import (VideoReadError, read_video, write_gif, write_mp4,
                       write_strip)

__all__ = ['JOB_FILES', 'finished_jobs', 'read_job_record',
           'write_job_outputs', 'VideoReadError', 'read_video',
           'write_gif', 'write_mp4', 'write_strip']
