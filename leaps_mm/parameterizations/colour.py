"""Colour decorrelation from a stimulus' colour statistics."""
import torch


def colour_mixing(stimulus: torch.Tensor, floor: float = 0.01) -> torch.Tensor:
    """Square root of each video's colour covariance, ``(N, C, C)``.

    Args:
        stimulus: normalised videos ``(N, C, T, H, W)``.
        floor: eigenvalues below ``floor`` times the largest are raised to it,
            so every colour stays reachable (even for a grey stimulus).

    Returns:
        ``M`` with ``M Mᵀ = Σ`` (floored), scaled so its largest column norm
        is 1: unit steps along the main colour axis keep their size.
    """
    n, c = stimulus.shape[:2]
    pixels = stimulus.reshape(n, c, -1).double()
    centred = pixels - pixels.mean(-1, keepdim=True)
    covariance = centred @ centred.transpose(1, 2) / pixels.shape[-1]
    values, vectors = torch.linalg.eigh(covariance)
    values = values.clamp(min=0)
    values = torch.maximum(values, floor * values.amax(-1, keepdim=True)
                           ).clamp(min=1e-12)
    root = vectors @ torch.diag_embed(values.sqrt()) @ vectors.transpose(1, 2)
    root = root / root.norm(dim=1).amax(-1)[:, None, None]
    return root.float()
