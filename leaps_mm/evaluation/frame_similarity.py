"""SSIM and PSNR between consecutive frames of a video (paper §4.3, Fig. 7):
how much a video changes from frame to frame; lower values mean larger
cross-frame differences. Computed with scikit-image on uint8 RGB frames
(``data_range=255``; SSIM with ``channel_axis=-1`` and scikit-image's default
7x7 Gaussian-free window).

PSNR of two identical frames is infinite. A video's PSNR is the mean over its
*finite* consecutive pairs (identical pairs are left out), and ``inf`` only
when every pair is identical (a static video); a set's PSNR is likewise the
mean of its finite per-video values. SSIM is always finite (1 for identical
frames).
"""
import math
from typing import Dict, Iterable, List, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from leaps_mm.registry import METRICS


def _check_video(video: np.ndarray) -> np.ndarray:
    video = np.asarray(video)
    if video.ndim != 4 or video.shape[-1] != 3:
        raise ValueError('expected a video of shape (T, H, W, 3); got '
                         f'{video.shape}.')
    if video.dtype != np.uint8:
        raise ValueError(f'expected uint8 frames; got {video.dtype}.')
    if video.shape[0] < 2:
        raise ValueError('consecutive-frame metrics need at least 2 frames; '
                         f'got {video.shape[0]}.')
    return video


def consecutive_ssim(video: np.ndarray) -> np.ndarray:
    """SSIM of every consecutive frame pair of a uint8 ``(T, H, W, 3)``
    video: ``(T - 1,)`` values in [-1, 1]. Frames need H, W >= 7."""
    from skimage.metrics import structural_similarity
    video = _check_video(video)
    return np.array([structural_similarity(a, b, channel_axis=-1,
                                           data_range=255)
                     for a, b in zip(video[:-1], video[1:])])


def consecutive_psnr(video: np.ndarray) -> np.ndarray:
    """PSNR (dB) of every consecutive frame pair of a uint8 ``(T, H, W, 3)``
    video: ``(T - 1,)`` values, ``inf`` for identical pairs."""
    from skimage.metrics import peak_signal_noise_ratio
    video = _check_video(video)
    values = []
    for a, b in zip(video[:-1], video[1:]):
        if np.array_equal(a, b):  # skimage would warn on the division by 0
            values.append(math.inf)
        else:
            values.append(peak_signal_noise_ratio(a, b, data_range=255))
    return np.array(values, dtype=np.float64)


def finite_mean(values: Iterable[float]) -> float:
    """Mean of the finite values; ``inf`` if all are ``+inf``; ``nan`` if
    there are none."""
    values = np.asarray(list(values), dtype=np.float64)
    finite = values[np.isfinite(values)]
    if finite.size:
        return float(finite.mean())
    if values.size and (values == math.inf).all():
        return math.inf
    return math.nan


def consecutive_frame_similarity(video: np.ndarray) -> Dict[str, float]:
    """``{'ssim': mean SSIM, 'psnr': mean finite PSNR}`` over the
    consecutive frame pairs of a uint8 ``(T, H, W, 3)`` video."""
    return dict(ssim=float(consecutive_ssim(video).mean()),
                psnr=finite_mean(consecutive_psnr(video)))


def set_frame_similarity(videos: Sequence[np.ndarray]) -> Dict[str, float]:
    """Per-video :func:`consecutive_frame_similarity` averaged over a set
    (PSNR: mean of the finite per-video values)."""
    per_video: List[Dict[str, float]] = [consecutive_frame_similarity(v)
                                         for v in videos]
    return dict(ssim=float(np.mean([v['ssim'] for v in per_video]))
                if per_video else math.nan,
                psnr=finite_mean(v['psnr'] for v in per_video))


@METRICS.register_module()
class ConsecutiveFrameMetric(BaseMetric):
    """Mean consecutive-frame SSIM and PSNR of a set of videos:
    ``ssim_consecutive``, ``psnr_consecutive``.

    ``process`` takes dicts holding the uint8 ``(T, H, W, 3)`` frames under
    ``key`` (an array, or a path to a ``.npy`` file such as a job's
    ``synth.npy``).
    """
    default_prefix = 'inversion'

    def __init__(self, key: str = 'synth', **kwargs) -> None:
        super().__init__(**kwargs)
        self.key = key

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            video = sample[self.key]
            if isinstance(video, str):
                video = np.load(video)
            self.results.append(consecutive_frame_similarity(video))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        return dict(
            ssim_consecutive=float(np.mean([r['ssim'] for r in results])),
            psnr_consecutive=finite_mean(r['psnr'] for r in results))
