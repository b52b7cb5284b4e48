"""Motion probes: is the motion in a video what a recognizer reads?

A video is scored as it is and after three pure transforms of its time axis
(:data:`MOTION_PROBES`): played backwards, frozen on frame 0, and with its
frames shuffled (a fixed permutation). A recognizer that reads motion loses
the class on the static and shuffled copies, and on the reversed copy names
the *partner* class where the class list has one (the demo's ``move left``
↔ ``move right``, ``rotate clockwise`` ↔ ``rotate counterclockwise``, ...).

All transforms take and return ``(N, C, T, H, W)`` tensors (any dtype,
any value scale); they commute with per-channel normalisation.
"""
from typing import Callable, Dict, Mapping, Optional, Sequence

import torch

from leaps_mm.structures import PROBES

SHUFFLE_SEED = 0


def reverse_time(video: torch.Tensor) -> torch.Tensor:
    """``(N, C, T, H, W)`` played backwards: frame ``t`` is frame
    ``T - 1 - t``."""
    return video.flip(2)


def static_first_frame(video: torch.Tensor) -> torch.Tensor:
    """``(N, C, T, H, W)`` with every frame replaced by frame 0 (a still
    image shown for ``T`` frames)."""
    return video[:, :, :1].expand_as(video).contiguous()


def shuffle_permutation(num_frames: int, seed: int = SHUFFLE_SEED
                        ) -> torch.Tensor:
    """The fixed frame order ``(T,)`` of :func:`shuffle_frames`: a random
    permutation from ``seed``, redrawn (next draws of the same generator)
    while it is the identity (T >= 2)."""
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(num_frames, generator=generator)
    while num_frames > 1 and torch.equal(order, torch.arange(num_frames)):
        order = torch.randperm(num_frames, generator=generator)
    return order


def shuffle_frames(video: torch.Tensor, seed: int = SHUFFLE_SEED
                   ) -> torch.Tensor:
    """``(N, C, T, H, W)`` with its frames in the order
    :func:`shuffle_permutation` ``(T, seed)`` (the same for every video)."""
    order = shuffle_permutation(video.shape[2], seed).to(video.device)
    return video.index_select(2, order)


# the probe names are the records' (JobRecord tells a probe from a scorer)
MOTION_PROBES: Dict[str, Callable[[torch.Tensor], torch.Tensor]] = dict(
    zip(PROBES, (reverse_time, static_first_frame, shuffle_frames)))


def apply_probe(name: str, video: torch.Tensor) -> torch.Tensor:
    """``MOTION_PROBES[name](video)``; ValueError naming the known probes."""
    if name not in MOTION_PROBES:
        raise ValueError(f'Unknown motion probe {name!r}; known: '
                         f'{sorted(MOTION_PROBES)}.')
    return MOTION_PROBES[name](video)


def check_probes(probes: Sequence[str]) -> tuple:
    """``probes`` as a tuple, every name one of :data:`MOTION_PROBES`."""
    unknown = [p for p in probes if p not in MOTION_PROBES]
    if unknown:
        raise ValueError(f'Unknown motion probe(s) {unknown}; known: '
                         f'{sorted(MOTION_PROBES)}.')
    return tuple(probes)


# --- partner classes ---------------------------------------------------------
def _normal(name: str) -> str:
    return ' '.join(str(name).lower().replace('_', ' ').split())


def partner_indices(partners: Optional[Mapping[str, str]],
                    class_names: Sequence[str]) -> Dict[int, int]:
    """``{class index: partner class index}`` from a map of class names
    (either direction suffices: ``a -> b`` implies ``b -> a``). Names match
    after normalising case/underscores; unknown names or a class given two
    partners raise ValueError."""
    if not partners:
        return {}
    position = {_normal(c): i for i, c in enumerate(class_names)}
    unknown = sorted({n for pair in partners.items() for n in pair
                      if _normal(n) not in position})
    if unknown:
        raise ValueError(f'`partners` names class(es) {unknown} that are not '
                         f'among the {len(class_names)} classes '
                         f'({list(class_names)[:10]}...).')
    out: Dict[int, int] = {}
    for a, b in partners.items():
        i, j = position[_normal(a)], position[_normal(b)]
        for x, y in ((i, j), (j, i)):
            if out.setdefault(x, y) != y:
                raise ValueError(
                    f'`partners` gives {class_names[x]!r} two partners: '
                    f'{class_names[out[x]]!r} and {class_names[y]!r}.')
    return out


def partner_rate(preds: Sequence[int], targets: Sequence[int],
                 partners: Mapping[int, int]) -> Optional[float]:
    """% of the videos whose target has a partner class that are classified
    as that partner (``preds``: e.g. the predictions of the reversed
    videos); None when no target has a partner."""
    hits = [int(p) == partners[int(t)] for p, t in zip(preds, targets)
            if int(t) in partners]
    return 100.0 * sum(hits) / len(hits) if hits else None
