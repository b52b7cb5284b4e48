"""Stimulus decoding for the MMAction2 pipeline: PyAV with clear errors.

MMAction2's ``PyAVInit`` takes the frame count from the container, which
mkv/webm files do not keep (it reads 0, and ``SampleFrames`` then repeats the
first frame for the whole clip); a damaged or empty file ends in a
``ZeroDivisionError`` or an FFmpeg traceback. These two transforms replace
``PyAVInit``/``PyAVDecode`` (and Decord/OpenCV) in a stimulus pipeline:

- :class:`StimulusVideoInit` opens the file (errors name it and say what to
  do), counts frames (demuxing packets where the container keeps no count)
  and refuses a video with no frames.
- :class:`StimulusVideoDecode` decodes frames in order up to the last index
  ``SampleFrames`` asked for, as RGB whatever the pixel format (grayscale,
  palette, alpha, 4:4:4), and wraps indices past the last decodable frame
  around (``i % n``, as MMAction2's ``PyAVDecode`` does).

Short videos: ``SampleFrames`` in test mode starts a clip that does not fit
at frame 0 and, with its default ``out_of_bound_opt='loop'``, takes indices
modulo the frame count, so a 5-frame video read as a 16-frame clip is frames
0-4, 0-4, 0-4, 0 (``'repeat_last'`` in the config repeats the last frame
instead). A warning names the file.
"""
import logging
import os

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from leaps_mm.registry import TRANSFORMS
from leaps_mm.fileio.video_io import (VideoReadError, count_frames,
                                             iter_frames, open_video)


@TRANSFORMS.register_module()
class StimulusVideoInit(BaseTransform):
    """Open ``results['filename']``; add ``video_reader`` (a PyAV container)
    and ``total_frames``. Raises :class:`VideoReadError` for a missing,
    non-video or frameless file."""

    def transform(self, results: dict) -> dict:
        name = os.fspath(results['filename'])
        container = open_video(name)
        try:
            total = count_frames(container)
        except BaseException:
            container.close()
            raise
        if total < 1:
            container.close()
            raise VideoReadError(
                f'video {name!r} has zero frames; give a stimulus with at '
                'least one frame.')
        results['video_reader'] = container
        results['total_frames'] = total
        return results


@TRANSFORMS.register_module()
class StimulusVideoDecode(BaseTransform):
    """Decode the frames at ``results['frame_inds']`` into ``imgs`` (RGB
    ``uint8`` arrays) and close the container."""

    def transform(self, results: dict) -> dict:
        container = results['video_reader']
        name = container.name
        inds = np.asarray(results['frame_inds']).reshape(-1)
        try:
            frames = list(iter_frames(container, limit=int(inds.max()) + 1))
        finally:
            container.close()
        if not frames:
            raise VideoReadError(
                f'video {name!r} has no decodable frame (its container '
                f'announces {results["total_frames"]}); re-encode it, e.g. '
                '`ffmpeg -i IN -c:v libx264 -pix_fmt yuv420p OUT.mp4`.')
        span = (results.get('clip_len', 1) - 1) * results.get(
            'frame_interval', 1) + 1
        available = min(len(frames), results['total_frames'])
        if available < span:
            print_log(f'Stimulus {name!r} has {available} frames, fewer '
                      f'than the {span} the clip spans: SampleFrames wraps '
                      'indices around (its default out_of_bound_opt="loop" '
                      'loops the video from the start).', logger='current',
                      level=logging.WARNING)
        results['imgs'] = [frames[i % len(frames)] for i in inds]
        results['original_shape'] = results['img_shape'] = \
            results['imgs'][0].shape[:2]
        results['video_reader'] = None
        return results
