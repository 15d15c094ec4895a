"""Block resampling (paper, section 3; Definition 1): choose blocks, redraw them, show the
change. ``select``: what the user picked -> latent blocks; ``core``: resampling, the all-blocks
chain and a global latent's redraw; ``render``: grid overlays and difference heat maps;
``parts``: resampling the blocks of a named part; ``inpaint``: inpainting with the same
generator, the baseline a resample is compared with; ``ssn resample`` and the BlockPicker sit
on top of these (:mod:`ssnlib.commands.resample`, :mod:`ssnlib.widgets`).
"""

from ssnlib.resample.core import (
    Chain,
    change_locality,
    redraw_global,
    resample_blocks,
    resample_chain,
)
from ssnlib.resample.render import (
    difference,
    draw_blocks,
    heatmap,
    png_bytes,
    resample_figure,
)
from ssnlib.resample.select import selected_indices, selection_mask

__all__ = ["Chain", "change_locality", "difference", "draw_blocks", "heatmap", "png_bytes",
           "redraw_global", "resample_blocks", "resample_chain", "resample_figure",
           "selected_indices", "selection_mask"]
