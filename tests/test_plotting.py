"""ssnlib.plotting: figures sized for the book's column, with their smallest text
stamped into the PNG and checked against the legibility floor."""

import base64
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from ssnlib import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def book_style():
    with matplotlib.rc_context():
        plotting.use_book_style()
        yield
    plt.close("all")


def test_the_stamp_is_the_smallest_text_in_px_at_natural_size():
    fig, ax = plotting.subplots(height=2)
    ax.plot([0, 1])
    ax.set_title("title", fontsize=14)
    ax.set_xlabel("x", fontsize=9)  # 9 pt at 100 dpi: 12.5 px
    png, min_px = plotting.render(fig)
    assert min_px == pytest.approx(9 * 100 / 72)
    assert plotting.png_text(png)[plotting.STAMP_KEY] == f"{min_px:.2f}"
    width, _ = plotting.png_size(png)
    assert width <= plotting.COLUMN_PX
    assert plotting.check_legible(png) == []


def test_small_text_wide_figures_and_unstamped_pngs_are_flagged():
    fig, ax = plt.subplots(figsize=(12, 3))  # plain matplotlib, 1200 px wide
    ax.plot([0, 1])
    ax.tick_params(labelsize=8)
    png, _ = plotting.render(fig)
    problems = plotting.check_legible(png)
    assert any("wider than" in p for p in problems)
    assert any("smallest text" in p for p in problems)  # 11 px shrunk by 688/1150
    fig, ax = plotting.subplots(height=2)
    ax.set_title("tiny", fontsize=5)  # 6.9 px
    assert any("smallest text" in p for p in plotting.check_legible(plotting.render(fig)[0]))
    fig.savefig(buf := io.BytesIO(), format="png")
    assert "no text-size stamp" in plotting.check_legible(buf.getvalue())[0]


def test_the_displayed_width_scales_the_text():
    fig, ax = plotting.subplots(height=2)
    ax.plot([0, 1])
    png, min_px = plotting.render(fig)
    width, _ = plotting.png_size(png)
    assert plotting.check_legible(png, displayed_px=width) == []
    assert plotting.check_legible(png, displayed_px=width * 8.9 / min_px)
    # A figure wider than an output is shown at OUTPUT_PX, its text scaled with it.
    fig, ax = plt.subplots(figsize=(8.6, 2))
    ax.plot([0, 1])
    ax.tick_params(labelsize=6.5)  # 9.03 px at natural size, about 710 px wide
    png, min_px = plotting.render(fig)
    width, _ = plotting.png_size(png)
    assert min_px >= 9 and width > plotting.OUTPUT_PX
    assert min_px * plotting.OUTPUT_PX / width < 9
    assert any("smallest text" in p for p in plotting.check_legible(png))


def test_subplots_refuses_a_figure_wider_than_the_column():
    with pytest.raises(ValueError, match="688 px"):
        plotting.subplots(width=7)
    plotting.subplots(width=6.88)


def test_show_refuses_an_illegible_figure_and_displays_a_stamped_png(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda data, raw: shown.append(data))
    fig, ax = plotting.subplots(height=2)
    ax.set_title("tiny", fontsize=4)
    with pytest.raises(ValueError, match="not legible"):
        plotting.show(fig)
    fig, ax = plotting.subplots(1, 2, height=2)
    plotting.show(fig)
    assert shown[0]["text/plain"] == "<Figure size 670x200 with 2 Axes>"
    png = base64.b64decode(shown[0]["image/png"])
    assert plotting.check_legible(png) == []
    assert not plt.get_fignums()  # closed: the inline backend shows nothing twice


def test_helpers_draw_legible_figures():
    fig = plotting.image_grid(np.random.default_rng(0).random((10, 8, 8, 3)), ncols=5,
                              titles=[f"step {k}" for k in range(10)],
                              boxes=[(0, 0, 4, 4)] * 10)
    assert len(fig.axes) == 10 and len(fig.axes[0].patches) == 1
    assert plotting.check_legible(plotting.render(fig)[0]) == []
    fig, ax = plotting.subplots(height=3, width=3.5)
    plotting.matrix(ax, np.eye(4), ["a", "b", "c", "d"], "identity")
    assert [t.get_text() for t in ax.texts] == ["1"] * 4
    assert plotting.check_legible(plotting.render(fig)[0]) == []
    fig, ax = plotting.subplots(height=2.5, width=3.5)
    plotting.grouped_bars(ax, ["round", "light_brown"], {"data": [0.3, 0.7], "model": [0.1, 0.9]})
    # bars of a series sit side by side, centred on their category
    assert [round(p.get_x() + p.get_width() / 2, 2) for p in ax.patches] == [-0.2, 0.8, 0.2, 1.2]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["round", "light brown"]
    assert plotting.check_legible(plotting.render(fig)[0]) == []


def test_png_text_reads_every_text_chunk_kind():
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("plain", "1")
    info.add_text("packed", "2" * 200, zip=True)
    info.add_itxt("intl", "drei", lang="de", tkey="three")
    buf = io.BytesIO()
    Image.new("L", (3, 2)).save(buf, format="png", pnginfo=info)
    assert plotting.png_size(buf.getvalue()) == (3, 2)
    assert plotting.png_text(buf.getvalue()) == {"plain": "1", "packed": "2" * 200,
                                                 "intl": "drei"}


def test_the_data_flow_figure_is_legible_in_the_book():
    from ssnlib import diagnostics as dg
    from ssnlib.models import build_generator

    stages = dg.data_flow(build_generator("ssn", "tiny", channel_max=8, z_dim=8, w_dim=8))
    fig, ax = plotting.subplots(height=5.6)
    plotting.draw_data_flow(ax, stages, "style maps")
    png, smallest = plotting.render(fig)
    plt.close(fig)
    assert smallest >= 9 and plotting.png_size(png)[0] <= plotting.OUTPUT_PX
    texts = [t.get_text() for t in ax.texts]
    assert sum("[" in t for t in texts) == len(stages) and "style maps" in texts


def test_place_labels_keeps_labels_apart_and_off_the_points():
    """Six points in a tight cluster, the situation of the Pareto plot's lambda_D = 0/10 corner:
    no two labels overlap and no label covers a point; of two points one above the other,
    the labels keep their order."""
    fig, ax = plotting.subplots(height=3)
    points = [(1.0, 1.0), (1.02, 1.01), (1.0, 1.03), (0.98, 0.99), (1.01, 0.97), (2.0, 2.0)]
    ax.plot(*zip(*points, strict=True), "o")
    ax.set(xlim=(0, 3), ylim=(0, 3))
    labels = plotting.place_labels(ax, points, [f"λ={k}" for k in range(len(points))])
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert all(not a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    marks = [ax.transData.transform(p) for p in points]
    assert not any(b.contains(*m) for b in boxes for m in marks)
    plt.close(fig)
    # two points one above the other (the paper's lambda_D = 0 and 1): labels in that order
    fig, ax = plotting.subplots(height=3)
    ax.set(xlim=(0, 3), ylim=(0, 3))
    low, high = plotting.place_labels(ax, [(1.0, 1.0), (1.0, 1.15)], ["low", "high"])
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert high.get_window_extent(renderer).y0 >= low.get_window_extent(renderer).y1
    plt.close(fig)


def test_resample_gallery_shares_one_scale_and_outlines_the_given_panels():
    rng = np.random.default_rng(0)
    rows = [[rng.random((8, 8, 3)), rng.random((8, 8)) * 0.5, rng.random((8, 8))]
            for _ in range(2)]
    boxes = [[[(0, 0, 4, 4)], None, [(0, 0, 4, 4), (4, 4, 8, 8)]], [None, None, None]]
    fig = plotting.resample_gallery(rows, ["image", "Δ a", "Δ b"], ["one", "two"],
                                    boxes=boxes, vmax=0.8)
    panels = fig.axes[:6]
    assert [len(ax.patches) for ax in panels] == [1, 0, 2, 0, 0, 0]
    assert {ax.images[0].get_clim() for ax in panels if ax.images[0].get_array().ndim == 2} \
        == {(0.0, 0.8)}
    assert len(fig.axes) == 7                                    # the six panels and one bar
    assert plotting.check_legible(plotting.render(fig)[0]) == []


def test_show_table_renders_html_and_an_aligned_text_twin(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda data, raw: shown.append(data))
    plotting.show_table(["model", "FID"], [["a <b>", "16.3"], ["c", "1,234"], ["d", "N/A"]],
                        caption="cap")
    html, text = shown[0]["text/html"], shown[0]["text/plain"]
    assert "<caption>cap</caption>" in html and "a &lt;b&gt;" in html   # escaped
    assert html.count("class=num") == 4            # the FID header and its cells, N/A too
    assert text.splitlines() == ["cap", "model    FID", "a <b>   16.3", "c      1,234",
                                 "d        N/A"]
    with pytest.raises(ValueError, match="2 cells"):
        plotting.show_table(["a", "b"], [["only one"]])
