"""Block resampling (paper, section 3; Definition 1): choose blocks, redraw them, show the
change. ``select``: what the user picked -> latent blocks; ``core``: resampling and the
all-blocks chain; ``render``: grid overlays and difference heat maps; ``command``: ``ssn
resample``.
"""

from ssnlib.resample.core import Chain, resample_blocks, resample_chain
from ssnlib.resample.render import (
    difference,
    draw_blocks,
    heatmap,
    png_bytes,
    resample_figure,
    to_uint8,
)
from ssnlib.resample.select import grid_of, selected_indices, selection_mask

__all__ = ["Chain", "difference", "draw_blocks", "grid_of", "heatmap", "png_bytes",
           "resample_blocks", "resample_chain", "resample_figure", "selected_indices",
           "selection_mask", "to_uint8"]
