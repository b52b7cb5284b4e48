"""Pictures of a sweep: the gallery of its synthesized videos."""
from .gallery import GALLERY_FILES, write_sweep_gallery

__all__ = ['GALLERY_FILES', 'write_sweep_gallery']
