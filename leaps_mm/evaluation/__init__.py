from .frame_similarity import (ConsecutiveFrameMetric, consecutive_frame_similarity,
                               consecutive_psnr, consecutive_ssim, finite_mean,
                               set_frame_similarity)
from .inception_score import (InceptionScoreMetric, inception_score,
                              inception_scores)
from .inversion_metric import InversionMetric
from .motion import (MOTION_PROBES, partner_indices, partner_rate,
                     reverse_time, shuffle_frames, static_first_frame)
from .record_metrics import (count_correct, mean_prob_target, record_metrics,
                             scorer_keys, top1)

__all__ = ['InversionMetric', 'InceptionScoreMetric', 'inception_score',
           'inception_scores', 'ConsecutiveFrameMetric', 'consecutive_ssim',
           'consecutive_psnr', 'consecutive_frame_similarity', 'finite_mean',
           'set_frame_similarity', 'MOTION_PROBES', 'reverse_time',
           'static_first_frame', 'shuffle_frames', 'partner_indices',
           'partner_rate', 'record_metrics', 'count_correct', 'top1',
           'mean_prob_target', 'scorer_keys']
