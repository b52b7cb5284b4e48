from .frame_similarity import (ConsecutiveFrameMetric, consecutive_frame_similarity,
                               consecutive_psnr, consecutive_ssim, finite_mean,
                               set_frame_similarity)
from .inception_score import (InceptionScoreMetric, inception_score,
                              inception_scores)
from .inversion_metric import InversionMetric
from .motion import (MOTION_PROBES, partner_indices, partner_rate,
                     record_metrics, reverse_time, shuffle_frames,
                     static_first_frame)

__all__ = ['InversionMetric', 'InceptionScoreMetric', 'inception_score',
           'inception_scores', 'ConsecutiveFrameMetric', 'consecutive_ssim',
           'consecutive_psnr', 'consecutive_frame_similarity', 'finite_mean',
           'set_frame_similarity', 'MOTION_PROBES', 'reverse_time',
           'static_first_frame', 'shuffle_frames', 'partner_indices',
           'partner_rate', 'record_metrics']
