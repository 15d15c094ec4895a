"""BlockPicker: pick blocks on a generated image and resample them (paper, Figure 2).

The image is drawn with its block grid; a transparent button sits on each block, so
a click on a block of the image selects it (a second click deselects it), and the selection is
tinted on the image itself.
*Resample* redraws the selected blocks of z from N(0, I) (the noise inputs stay fixed, as in
the paper's resamplings), *Undo* steps back, *Reset* returns to the first image, *New image*
draws a new z and noise, and *New u* (a generator with a global latent) redraws u and keeps every
block. Beside the picker: the image before the last step with the resampled
blocks outlined, and a heat map of |after - before| (mean over RGB, scaled to its maximum).

Only core ipywidgets are used and images are PNG bytes from PIL (no matplotlib per click), so
a notebook's saved widget state renders in the static book, where the buttons show but need a
kernel to act: there the widget says so (:data:`NEEDS_KERNEL`, a line hidden by its layout and
shown by the book's stylesheet, which a live notebook does not load). Every random draw comes
from one ``torch.Generator`` seeded by ``seed``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import ipywidgets as widgets
import torch

from ssnlib.blocks import grid_of
from ssnlib.resample.core import change_locality, redraw_global, resample_blocks
from ssnlib.resample.render import difference, draw_blocks, heatmap, png_bytes
from ssnlib.resample.select import Selection, selected_indices, selection_mask
from ssnlib.utils import to_uint8

CLEAR = "rgba(0, 0, 0, 0)"
NEEDS_KERNEL = ("<b>A saved copy:</b> no Python runs behind this page, so the buttons do "
                "nothing here. Open the chapter in Jupyter (<code>make lab</code>) to click "
                "blocks and resample them.")


@dataclass
class _State:
    """What one undo step restores: the latent, its image, and the comparison panels."""

    z: torch.Tensor
    noise: list[torch.Tensor]
    image: torch.Tensor
    before: torch.Tensor
    changed: list[int]


# rows that wrap on a narrow screen (a phone) instead of running off it
WRAP = widgets.Layout(flex_flow="row wrap")


class BlockPicker(widgets.VBox):
    """An interactive block resampler for any generator with ``sample_z``/``make_noise``.

    Args:
        G: the generator. SSN and SPADE models use their ``grid``; a StyleGAN2 model has one
            global z, so it shows a single block covering the image and *Resample* draws a
            whole new image (stated in the widget's status line).
        z: the starting latent ``[1, *z_shape]`` (or without the batch axis); default: drawn.
        noise: the noise list for ``G`` (see ``G.make_noise``); default: drawn. It is kept
            through resamplings and replaced only by *New image*.
        seed: seeds the ``torch.Generator`` behind every draw (z, noise, resampled blocks).
        display: the on-screen size of each image in pixels (the image is enlarged by an
            integer factor, nearest neighbour, so blocks stay crisp).

    Drive it from Python with :meth:`select` and ``.click()`` on the buttons (``cells[a]`` is
    the transparent button over block ``a``); :attr:`selected`, :attr:`z`, :attr:`noise` and
    :attr:`image` read the state.
    """

    def __init__(self, G, z: torch.Tensor | None = None,
                 noise: list[torch.Tensor] | None = None, seed: int = 0, display: int = 256):
        self.G, self.grid = G, grid_of(G)
        self.generator = torch.Generator().manual_seed(seed)
        self.scale = max(1, display // max(self.grid.height, self.grid.width))
        if z is None:
            z = G.sample_z(1, self.generator)
        z = z[None] if z.ndim == len(G.z_shape) else z
        if z.shape[0] != 1:
            raise ValueError(f"BlockPicker shows one image: z must have batch 1, "
                             f"got {tuple(z.shape)}")
        G.check_z(z)
        if noise is None:
            noise = G.make_noise(1, self.generator, device=z.device)
        image = self._render(z, noise)
        self._start = _State(z, list(noise), image, image, [])
        self._state, self._history = self._start, []
        self._selected: set[int] = set()

        super().__init__()
        self._build()
        self.add_class("ssn-blockpicker")
        self._show()

    # -- layout ----------------------------------------------------------------------------

    def _size(self) -> dict:
        return dict(width=f"{self.grid.width * self.scale}px",
                    height=f"{self.grid.height * self.scale}px")

    def _build_picker(self) -> widgets.GridBox:
        """The current image under a grid of transparent buttons, one per block."""
        size = self._size()
        self.current = widgets.Image(format="png", layout=widgets.Layout(
            grid_area=f"1 / 1 / {self.grid.n_h + 1} / {self.grid.n_w + 1}", margin="0", **size))
        self.cells = []
        for a in range(self.grid.n_blocks):
            r, c = self.grid.position(a)
            cell = widgets.Button(
                tooltip=f"block {a} (row {r}, column {c})",
                layout=widgets.Layout(grid_area=f"{r + 1} / {c + 1} / {r + 2} / {c + 2}",
                                      width="auto", height="auto", margin="0", padding="0",
                                      border="none"),
                style=dict(button_color=CLEAR))
            cell.add_class("ssn-block")
            cell.on_click(lambda _, a=a: self._toggle(a))
            self.cells.append(cell)
        picker = widgets.GridBox([self.current, *self.cells], layout=widgets.Layout(
            grid_template_columns=f"repeat({self.grid.n_w}, 1fr)",
            grid_template_rows=f"repeat({self.grid.n_h}, 1fr)", grid_gap="0px", **size))
        picker.add_class("ssn-picker")
        return picker

    def _build(self) -> None:
        """The three image columns (now, before, change), the buttons and the status line."""
        self.picker = self._build_picker()
        self.before = widgets.Image(format="png", layout=widgets.Layout(margin="0",
                                                                        **self._size()))
        self.change = widgets.Image(format="png", layout=widgets.Layout(margin="0",
                                                                        **self._size()))

        def button(name, tip, action):
            b = widgets.Button(description=name, tooltip=tip)
            b.add_class("ssn-" + name.lower().replace(" ", "-"))
            b.on_click(lambda _: action())
            return b

        self.resample_button = button("Resample", "redraw the selected blocks of z",
                                      self.resample)
        self.undo_button = button("Undo", "go back one step", self.undo)
        self.reset_button = button("Reset", "back to the first image, nothing selected",
                                   self.reset)
        self.new_button = button("New image", "draw a new z and new noise", self.new_image)
        # a generator with a global latent u: redraw u, keep every block
        self.global_button = button("New u", "redraw the global latent u, keep every block",
                                    self.redraw_u) if getattr(self.G, "global_dim", 0) else None
        self.strength = widgets.FloatSlider(
            value=1.0, min=0.0, max=1.0, step=0.05, description="strength",
            tooltip="1: redraw the blocks; less: move them part of the way, cos(t) z + sin(t) "
                    "z_fresh with t = strength * pi/2")
        self.status = widgets.HTML()
        self.status.add_class("ssn-status")
        # hidden here; jupyter_book/_js/book.css shows it in the static book
        needs_kernel = widgets.HTML(NEEDS_KERNEL, layout=widgets.Layout(display="none"))
        needs_kernel.add_class("ssn-needs-kernel")
        self.change_title = widgets.HTML()

        def column(title, image):                # fixed width, so the three images align
            return widgets.VBox([title, image], layout=widgets.Layout(
                width=f"{self.grid.width * self.scale + 16}px", margin="0 8px 0 0"))

        self.children = [
            widgets.HBox([column(widgets.HTML("<b>now</b>: click blocks"), self.picker),
                          column(widgets.HTML("<b>before</b> (last step)"), self.before),
                          column(self.change_title, self.change)], layout=WRAP),
            widgets.HBox([self.resample_button, self.undo_button, self.reset_button,
                          self.new_button, *[b for b in (self.global_button,) if b],
                          self.strength], layout=WRAP),
            self.status, needs_kernel]

    # -- state ---------------------------------------------------------------------------

    @property
    def z(self) -> torch.Tensor:
        """The current latent [1, *z_shape]."""
        return self._state.z

    @property
    def noise(self) -> list[torch.Tensor]:
        return self._state.noise

    @property
    def image(self) -> torch.Tensor:
        """The current image [3, R, R] in [-1, 1]."""
        return self._state.image

    @property
    def selected(self) -> list[int]:
        """The selected block indices, row-major."""
        return sorted(self._selected)

    def select(self, blocks: Selection, threshold: float = 0.5) -> None:
        """Select exactly ``blocks`` (anything :func:`~ssnlib.resample.selection_mask` takes:
        indices, ``(row, col)`` pairs, a boolean grid, a pixel mask)."""
        self._selected = set(selected_indices(selection_mask(self.grid, blocks, threshold)[0]))
        self._show_current()

    # -- actions (the buttons) -----------------------------------------------------------

    def resample(self) -> None:
        """Redraw the selected blocks of z; nothing happens when no block is selected."""
        chosen = self.selected
        if not chosen:
            self._status("select one or more blocks first (click them on the image)")
            return
        z = resample_blocks(self.G, self.z, chosen, self.generator,
                            t=self.strength.value * math.pi / 2)
        self._push(_State(z, self.noise, self._render(z, self.noise), self.image, chosen))

    def undo(self) -> None:
        """Back to the state before the last Resample or New image."""
        if self._history:
            self._state = self._history.pop()
            self._show()

    def reset(self) -> None:
        """Back to the first image, with no block selected and nothing to undo."""
        self._history.clear()
        self._state, self._selected = self._start, set()
        self._show()

    def new_image(self) -> None:
        """A new z and new noise (undoable)."""
        z = self.G.sample_z(1, self.generator, device=self.z.device)
        noise = self.G.make_noise(1, self.generator, device=self.z.device)
        image = self._render(z, noise)
        self._push(_State(z, noise, image, image, []))

    def redraw_u(self) -> None:
        """Redraw the global latent u (a generator with one), every block of z kept; graded
        by the strength slider like a resample (undoable)."""
        noise = redraw_global(self.G, self.noise, self.generator,
                              t=self.strength.value * math.pi / 2)
        self._push(_State(self.z, noise, self._render(self.z, noise), self.image, []))

    # -- drawing -------------------------------------------------------------------------

    def _render(self, z: torch.Tensor, noise: list[torch.Tensor]) -> torch.Tensor:
        with torch.no_grad():
            return self.G(z, noise=noise)[0].detach().float().cpu()

    def _push(self, state: _State) -> None:
        self._history.append(self._state)
        self._state = state
        self._show()

    def _toggle(self, a: int) -> None:
        """A click on block ``a``: select it, or deselect it if it was selected."""
        self._selected ^= {a}
        self._show_current()

    def _show_current(self) -> None:
        self.current.value = png_bytes(draw_blocks(to_uint8(self.image), self.grid,
                                                   self.selected, self.scale))
        self._status()

    def _show(self) -> None:
        s = self._state
        self.before.value = png_bytes(draw_blocks(to_uint8(s.before), self.grid, s.changed,
                                                  self.scale))
        diff = difference(s.before, s.image)
        peak = float(diff.max())
        self.change.value = png_bytes(draw_blocks(heatmap(diff, vmax=max(peak, 1e-3)),
                                                  self.grid, (), self.scale))
        self.change_title.value = f"<b>change</b> (max {peak:.2f})"
        self.undo_button.disabled = not self._history
        self._show_current()

    def _status(self, message: str | None = None) -> None:
        if message is None:
            n = len(self.selected)
            message = (f"{n} of {self.grid.n_blocks} blocks selected, "
                       f"{len(self._history)} step(s) to undo")
            s = self._state
            if s.changed:
                where = change_locality(s.before, s.image, self.grid, s.changed)
                message += (f"; the last step changed {where['energy_inside']:.0%} of its "
                            f"squared change inside blocks {s.changed} (mean |change| "
                            f"{where['inside']:.2f} inside, {where['outside']:.2f} outside)")
            if not getattr(self.G, "spatial", False):
                message += (". This generator has one global z (no block grid): the whole "
                            "image is one block and resampling draws a new image")
        self.status.value = message
