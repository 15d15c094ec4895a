"""Figures for the book: legible at the width the book shows them.

The book shows a chapter's figures in its main column, 752 CSS px wide in a
1280 px browser window, where a cell's output gets :data:`OUTPUT_PX` = 688 px
(``tests/browser/check_book.mjs`` measures both and fails if they shrink). A
figure rendered wider than that is scaled down, and its text with it: a 12-inch
matplotlib figure squeezed into the column turns 8 pt tick labels into 5 px ones.
So the chapters draw through this module:

- :func:`use_book_style` sets font sizes that read well at 100 dpi;
- :func:`subplots` makes figures :data:`WIDTH_IN` inches wide by default
  (670 px at :data:`DPI`, shown at natural size), never wider than the output;
- :func:`show` renders the figure as the notebook would, refuses one that is wider
  than the column or has text under :data:`MIN_TEXT_PX`, and writes the smallest
  text size into the PNG (a ``tEXt`` chunk, :data:`STAMP_KEY`), where the book's
  tests read it back: ``tests/test_book.py`` for every figure in the stored
  notebooks, the browser check for every figure on every page, at the size it
  is actually displayed.

A PNG shown at its natural size in the browser is drawn one pixel per CSS pixel,
so a font of ``p`` points at ``DPI`` dots per inch is ``p * DPI / 72`` px tall on
screen. That is the number the stamp carries.

A few drawing helpers keep the chapters' plotting cells short: :func:`matrix`
(a transition matrix with its entries written in), :func:`grouped_bars` (shares
side by side), :func:`image_grid` (images in rows, optional boxes).
"""

from __future__ import annotations

import base64
import io
import struct
import zlib
from collections.abc import Sequence

import numpy as np

COLUMN_PX = 752
"""Width of the book's main column at a 1280 px window (CSS px)."""
OUTPUT_PX = 688
"""Width a cell's output image gets in that column; a wider PNG is scaled down to it."""
DPI = 100
"""Dots per inch of the book's PNGs: one dot per CSS px at natural size."""
WIDTH_IN = 6.7
"""Default figure width in inches: 670 px, plus the 10 px margins of a tight bounding box
still under :data:`OUTPUT_PX`."""
MIN_TEXT_PX = 9.0
"""The smallest text a figure may show, in CSS px at its displayed size."""
STAMP_KEY = "ssnlib:min-text-px"
"""PNG ``tEXt`` keyword carrying the smallest text height in px at natural size."""

BOOK_STYLE = {
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.figsize": (WIDTH_IN, 3.2),
    "font.size": 11,
    "axes.titlesize": 11,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "figure.titlesize": 12,
}
"""matplotlib rc settings for the book: 10-12 pt, i.e. 14-17 px at 100 dpi."""


def use_book_style() -> None:
    """Set :data:`BOOK_STYLE` for every figure made after this call."""
    import matplotlib as mpl

    mpl.rcParams.update(BOOK_STYLE)


def subplots(nrows: int = 1, ncols: int = 1, height: float = 3.2, width: float = WIDTH_IN,
             **kwargs):
    """``plt.subplots`` with a figure ``width`` x ``height`` inches, at most the output wide,
    in constrained layout (legends go below with ``fig.legend(loc="outside lower center")``)."""
    import matplotlib.pyplot as plt

    if width * DPI > OUTPUT_PX:
        raise ValueError(f"a figure {width} in wide is {width * DPI:.0f} px at {DPI} dpi; "
                         f"the book gives an output {OUTPUT_PX} px (at most "
                         f"{OUTPUT_PX / DPI:.2f} in)")
    kwargs.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, figsize=(width, height), **kwargs)


def text_sizes(fig) -> list[float]:
    """Font sizes (points) of every piece of text the figure draws, after a draw."""
    from matplotlib.text import Text

    fig.canvas.draw()
    return [t.get_fontsize() for t in fig.findobj(Text)
            if t.get_visible() and t.get_text().strip() and t.figure is not None]


def render(fig) -> tuple[bytes, float]:
    """The PNG the book shows (tight bounding box, :data:`DPI`) and its smallest text in px.

    The PNG carries the smallest text size as a ``tEXt`` chunk :data:`STAMP_KEY`.
    """
    sizes = text_sizes(fig)
    min_px = min(sizes) * DPI / 72 if sizes else float("inf")
    buf = io.BytesIO()
    stamp = f"{min_px:.2f}" if sizes else "inf"
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight",
                metadata={STAMP_KEY: stamp})
    return buf.getvalue(), min_px


def check_legible(png: bytes, displayed_px: float | None = None) -> list[str]:
    """Why a PNG figure would be hard to read in the book's column (empty when it is fine).

    ``displayed_px``: the width it is shown at (default: its natural width, capped
    at :data:`OUTPUT_PX`, as the book's CSS does).
    """
    width, _ = png_size(png)
    stamp = png_text(png).get(STAMP_KEY)
    if stamp is None:
        return ["no text-size stamp: draw it with ssnlib.plotting.show(fig)"]
    shown = min(width, OUTPUT_PX) if displayed_px is None else displayed_px
    problems = []
    if width > COLUMN_PX:
        problems.append(f"{width} px wide, wider than the {COLUMN_PX} px column")
    smallest = float(stamp) * shown / width
    if smallest < MIN_TEXT_PX:
        problems.append(f"smallest text {smallest:.1f} px at {shown:.0f} px wide "
                        f"(minimum {MIN_TEXT_PX:g} px)")
    return problems


def show(fig) -> None:
    """Display ``fig`` in the notebook as a stamped PNG and close it.

    Raises ``ValueError`` for a figure wider than the column or with text under
    :data:`MIN_TEXT_PX`, so an illegible figure fails when the chapter runs.
    """
    import matplotlib.pyplot as plt
    from IPython.display import display

    png, _ = render(fig)
    plt.close(fig)
    problems = check_legible(png)
    if problems:
        raise ValueError("figure not legible in the book: " + "; ".join(problems))
    w, h = (round(v * DPI) for v in fig.get_size_inches())
    display({"image/png": base64.b64encode(png).decode("ascii"),
             "text/plain": f"<Figure size {w}x{h} with {len(fig.axes)} Axes>"}, raw=True)


def show_table(header: Sequence[str], rows: Sequence[Sequence], caption: str = "") -> None:
    """Display a table as the book renders it (HTML, numbers right-aligned, wrapping to the
    column's width) with a plain-text twin for consoles and ``nbval``; cells are shown as
    ``str(cell)``."""
    from html import escape

    from IPython.display import display

    cells = [[str(c) for c in row] for row in rows]
    if any(len(row) != len(header) for row in cells):
        raise ValueError(f"every row needs {len(header)} cells, one per column of {header}")
    blank = ("", "-", "N/A")                    # a missing number keeps its column numeric
    numeric = [all(_is_number(row[k]) or row[k] in blank for row in cells)
               and any(_is_number(row[k]) for row in cells) for k in range(len(header))]

    def line(values, tag):
        return "<tr>" + "".join(
            f'<{tag}{" class=num" if numeric[k] else ""}>{escape(v)}</{tag}>'
            for k, v in enumerate(values)) + "</tr>"
    head = f"<caption>{escape(caption)}</caption>" if caption else ""
    html = (f'<table class="ssn-table">{head}<thead>{line(header, "th")}</thead><tbody>'
            + "".join(line(row, "td") for row in cells) + "</tbody></table>")
    widths = [max(len(r[k]) for r in [list(header), *cells]) for k in range(len(header))]
    text = [caption] if caption else []
    text += ["  ".join(v.rjust(w) if numeric[k] else v.ljust(w)
                       for k, (v, w) in enumerate(zip(r, widths, strict=True))).rstrip()
             for r in [list(header), *cells]]
    display({"text/html": html, "text/plain": "\n".join(text)}, raw=True)


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "").rstrip("%x×k"))     # 1,234  56%  1.3x  416k
    except ValueError:
        return False
    return True


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's header."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return struct.unpack(">II", png[16:24])


def png_text(png: bytes) -> dict[str, str]:
    """The ``tEXt``/``zTXt``/``iTXt`` entries of a PNG."""
    out, pos = {}, 8
    while pos + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        body = png[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            out[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"zTXt":
            key, _, rest = body.partition(b"\0")
            out[key.decode("latin-1")] = zlib.decompress(rest[1:]).decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\0")
            compressed, rest = rest[0], rest[2:]
            _, _, rest = rest.partition(b"\0")  # language tag
            _, _, value = rest.partition(b"\0")  # translated keyword
            out[key.decode("latin-1")] = (zlib.decompress(value) if compressed
                                          else value).decode("utf-8")
        elif kind == b"IEND":
            break
    return out


def matrix(ax, values: np.ndarray, labels: Sequence[str], title: str = "",
           cmap: str = "Blues") -> None:
    """A square matrix as a heat map with its non-zero entries written in (rows: from,
    columns: to), e.g. a transition matrix of chapter 2."""
    values = np.asarray(values)
    ax.imshow(values, cmap=cmap, vmin=0, vmax=1)
    for (i, j), v in np.ndenumerate(values):
        if v > 0:
            ax.text(j, i, f"{v:.2g}", ha="center", va="center",
                    color="white" if v > 0.6 else "black")
    ticks = range(len(labels))
    ax.set(title=title, xticks=ticks, yticks=ticks, xlabel="to")
    ax.set_xticklabels(labels, rotation=90)
    ax.set_yticklabels(labels)


def grouped_bars(ax, categories: Sequence[str], series: dict[str, Sequence[float]],
                 title: str = "", ylabel: str = "") -> None:
    """One group of bars per category, one bar per series (a legend names them), e.g. the
    share of each class of an attribute in the data and in each model's samples."""
    width = 0.8 / len(series)
    for k, (name, values) in enumerate(series.items()):
        x = np.arange(len(categories)) + (k - (len(series) - 1) / 2) * width
        ax.bar(x, values, width, label=name)
    ax.set(title=title, ylabel=ylabel, xticks=range(len(categories)))
    ax.set_xticklabels([c.replace("_", " ") for c in categories], rotation=30, ha="right")


def image_grid(images: Sequence, ncols: int, titles: Sequence[str] | None = None,
               boxes: Sequence | None = None, width: float = WIDTH_IN,
               height: float | None = None, cmap: str | None = None,
               vmax: float | None = None):
    """Images in rows of ``ncols`` (H x W x 3 in [0, 1], or H x W for ``cmap``), with
    optional titles and boxes ``(y0, x0, y1, x1)`` outlined in cyan. Returns the figure.

    Each panel is ``width / ncols`` inches wide (134 px for 5 columns at the
    default width); ``height`` defaults to square panels with room for a title.
    Unused panels are left blank.
    """
    n = len(images)
    nrows = -(-n // ncols)
    side = width / ncols
    fig, axes = subplots(nrows, ncols, height=height or side * nrows * 1.2, width=width,
                         squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set(xticks=[], yticks=[])
        if k >= n:
            ax.axis("off")
            continue
        ax.imshow(np.asarray(images[k]), cmap=cmap, vmin=0 if cmap else None, vmax=vmax)
        if titles is not None:
            ax.set_title(titles[k])
        if boxes is not None and boxes[k] is not None:
            y0, x0, y1, x1 = boxes[k]
            ax.add_patch(_rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0))
    return fig


# where a point's label may go, in points from the point: right-up first, then around it
LABEL_OFFSETS = ((4, 4), (4, -11), (-8, 6), (-8, -13), (6, -2), (-12, -2), (4, 12), (4, -19))


def place_labels(ax, points: Sequence[tuple[float, float]], texts: Sequence[str],
                 fontsize: float = 8) -> list:
    """Label data points so that no two labels overlap and no label covers a point: each label
    takes the first of :data:`LABEL_OFFSETS` whose box is free (measured on the drawn figure),
    else the first offset. Points are labelled from the top of the axes down, so of two close
    points the upper one keeps the label above. Returns the text artists, in input order."""
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    marks = [ax.transData.transform(p) for p in points]  # each point's own few pixels

    def label_at(i: int, dx: float, dy: float):
        """The label of point i at offset (dx, dy) points and its box (a little padded)."""
        label = ax.annotate(texts[i], points[i], textcoords="offset points", xytext=(dx, dy),
                            fontsize=fontsize, ha="right" if dx < 0 else "left")
        return label, label.get_window_extent(renderer).expanded(1.05, 1.1)

    taken, placed = [], {}
    for i in sorted(range(len(points)), key=lambda i: -marks[i][1]):
        for dx, dy in LABEL_OFFSETS:
            label, box = label_at(i, dx, dy)
            if not any(box.overlaps(b) for b in taken) and not any(box.contains(*m)
                                                                   for m in marks):
                break
            label.remove()
        else:                                          # nowhere free: the first offset
            label, box = label_at(i, *LABEL_OFFSETS[0])
        taken.append(box)
        placed[i] = label
    return [placed[i] for i in range(len(points))]


def draw_data_flow(ax, stages: Sequence, style_label: str) -> None:
    """A generator's data flow as two columns of boxes (``stages`` as from
    :func:`ssnlib.diagnostics.data_flow`: name, how, shape, latent): the latent path on the
    left, the synthesis path on the right, and one arrow from the last latent stage (the
    w-map) to the bracket of synthesis layers it conditions, labelled ``style_label``."""
    columns = {True: [s for s in stages if s.latent], False: [s for s in stages if not s.latent]}
    xs, n = {True: 0.2, False: 0.75}, max(len(c) for c in columns.values())
    box = {"boxstyle": "round,pad=0.3", "fc": "#eef3fb", "ec": "#4a6fa5"}
    where = {}
    for latent, column in columns.items():
        for i, stage in enumerate(column):
            y = 1 - (i + 0.5) / n
            shape = ", ".join(map(str, stage.shape))
            ax.text(xs[latent], y, f"{stage.name}  [{shape}]\n{stage.how}", ha="center",
                    va="center", bbox=box | ({} if latent else {"fc": "#f6f1e8", "ec": "#a57a4a"}))
            if i:
                ax.annotate("", (xs[latent], y + 0.32 / n), (xs[latent], y + 0.68 / n),
                            arrowprops={"arrowstyle": "->", "color": "0.3"})
            where[stage] = y
    last = where[columns[True][-1]]                  # the w-map feeds the style maps
    ax.annotate("", (xs[True], last - 0.82 / n), (xs[True], last - 0.32 / n),
                arrowprops={"arrowstyle": "->", "color": "#4a6fa5", "lw": 1.5})
    convs = [s for s in columns[False] if "eq. 1" in s.how]
    top, bottom = where[convs[0]], where[convs[-1]]
    ax.plot([0.53, 0.53], [bottom, top], color="#4a6fa5", lw=2)
    ax.annotate(style_label, (0.53, (top + bottom) / 2), (xs[True], last - 0.9 / n),
                ha="center", va="top", arrowprops={"arrowstyle": "->", "color": "#4a6fa5",
                                                   "lw": 1.5})
    ax.set(xlim=(0, 1), ylim=(0, 1))
    ax.axis("off")


def _rectangle(xy, w, h):
    from matplotlib.patches import Rectangle

    return Rectangle(xy, w, h, fill=False, ec="cyan", lw=2)


def resample_gallery(rows: Sequence[Sequence], titles: Sequence[str],
                     row_labels: Sequence[str] | None = None, boxes: Sequence | None = None,
                     vmax: float = 1.0, bar_label: str = "mean |change| over RGB",
                     width: float = WIDTH_IN):
    """Rows of resampling panels, each an RGB image H x W x 3 in [0, 1] or a difference map
    H x W, all maps on one inferno scale from 0 to ``vmax`` with one colour bar below.

    ``titles`` name the columns (shown above the first row), ``row_labels`` the rows (left of
    each row); ``boxes[r][c]`` lists the pixel boxes ``(y0, x0, y1, x1)`` to outline on panel
    ``c`` of row ``r`` (the redrawn blocks; empty or None for none). Returns the figure."""
    nrows, ncols = len(rows), len(rows[0])
    side = width / (ncols + 0.4)
    fig, axes = subplots(nrows, ncols, height=side * nrows + 1.1, width=width, squeeze=False)
    heat = None
    for r, row in enumerate(rows):
        for c, panel in enumerate(row):
            ax, panel = axes[r, c], np.asarray(panel)
            ax.set(xticks=[], yticks=[])
            if panel.ndim == 2:
                heat = ax.imshow(panel, cmap="inferno", vmin=0, vmax=vmax)
            else:
                ax.imshow(panel)
            for y0, x0, y1, x1 in (boxes[r][c] or ()) if boxes is not None else ():
                ax.add_patch(_rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0))
            if r == 0:
                ax.set_title(titles[c])
        if row_labels is not None:
            axes[r, 0].set_ylabel(row_labels[r])
    if heat is not None:
        fig.colorbar(heat, ax=axes, location="bottom", shrink=0.6, aspect=40, label=bar_label)
    return fig
