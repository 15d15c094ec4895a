"""`Skylines`: a procedural stand-in for LSUN Churches.

A church (a nave with one or two towers crowned by a spire, a dome, a pyramid
or battlements) among houses and trees, under a day, sunset or night sky.

Global rules that cross block borders are built in:

* one sun (or, at night, the moon) sets the scene: at day and sunset every
  building and tree casts a ground shadow pointing away from it, and the
  building side facing it is lit while the opposite side is dark;
* the time of day tints everything: the sky, the ground, every wall;
* night means lit windows in every building (and no window is lit by day);
* twin towers match: same height, width and crown;
* the church has one material and one roof colour for nave and towers.
"""

from __future__ import annotations

import numpy as np

from ssnlib.data.procedural import ProceduralDataset
from ssnlib.data.raster import (
    Box,
    Canvas,
    Ellipse,
    Grid,
    Polygon,
    Segment,
    Union,
    cylinder_shade,
    sphere_shade,
)

SKY = {0: ((0.33, 0.58, 0.90), (0.78, 0.88, 0.97)),  # (zenith, horizon) by time of day
       1: ((0.24, 0.24, 0.52), (1.00, 0.62, 0.36)),
       2: ((0.02, 0.03, 0.10), (0.10, 0.13, 0.28))}
TINT = np.array([(1.0, 1.0, 1.0), (1.0, 0.78, 0.62), (0.30, 0.33, 0.50)], np.float32)
MATERIALS = np.array([(0.70, 0.68, 0.64), (0.68, 0.34, 0.25), (0.88, 0.76, 0.55),
                      (0.94, 0.93, 0.89)], np.float32)
ROOFS = np.array([(0.30, 0.32, 0.38), (0.62, 0.25, 0.18), (0.36, 0.62, 0.52),
                  (0.25, 0.25, 0.28)], np.float32)
WALLS = np.array([(0.92, 0.86, 0.70), (0.86, 0.70, 0.60), (0.76, 0.81, 0.86),
                  (0.92, 0.92, 0.90), (0.80, 0.74, 0.58), (0.70, 0.55, 0.45)], np.float32)
GROUND = np.array([(0.36, 0.56, 0.26), (0.62, 0.60, 0.56)], np.float32)
TREE = np.array([(0.20, 0.45, 0.18), (0.28, 0.52, 0.20), (0.15, 0.36, 0.20)], np.float32)
GLASS = {0: (0.22, 0.28, 0.38), 1: (0.50, 0.36, 0.32)}  # unlit windows by day and at sunset
LIT = np.array([1.0, 0.84, 0.42], np.float32)  # lit windows at night
UNLIT_NIGHT = np.array([0.06, 0.07, 0.12], np.float32)


class Skylines(ProceduralDataset):
    """Procedural church skylines (an LSUN Churches stand-in); see the module docstring.

    Arguments as `ProceduralDataset`: ``Skylines(length=10_000, resolution=64, seed=0,
    return_parts=True, supersample=2)``.
    """

    PART_NAMES = ("sky", "sun", "clouds", "hills", "ground", "shadow", "houses", "roof",
                  "church", "tower", "tower_top", "windows", "trees")
    DISCRETE = {
        "time_of_day": ("day", "sunset", "night"),
        "tower_top": ("spire", "dome", "pyramid", "battlements"),
        "towers": ("one", "two"),
        "material": ("stone", "brick", "sandstone", "whitewash"),
        "houses": ("0", "1", "2", "3", "4"),
        "trees": ("none", "few", "many"),
        "sky": ("clear", "cloudy"),
        "ground": ("grass", "paving"),
    }
    CONTINUOUS = {
        "sun_x": (-1.0, 1.0),  # sun (moon at night) position: -1 left edge, +1 right edge
        "sun_height": (0.0, 1.0),  # 0 on the horizon, 1 near the top
        "horizon": (0.0, 1.0),  # 0 highest, 1 lowest horizon line
        "church_x": (-1.0, 1.0),  # church position: -1 left, +1 right
    }
    MIRROR_ODD = ("sun_x", "church_x")
    WEIGHTS = {"time_of_day": (0.45, 0.25, 0.3), "sky": (0.6, 0.4)}

    def draw(self, rng: np.random.Generator, canvas: Canvas) -> dict:
        a = self.sample_attributes(rng)
        time = a["time_of_day"]
        # The sun's height range depends on the time: low at sunset, high by day.
        lo, hi = ((0.45, 1.0), (0.0, 0.25), (0.3, 1.0))[time]
        a["sun_height"] = lo + (hi - lo) * a["sun_height"]
        P = {name: i for i, name in enumerate(self.PART_NAMES)}
        tint = TINT[time]
        hy = 0.68 + 0.12 * a["horizon"]  # horizon line
        by = hy + 0.035  # where the buildings stand
        sun_x = 0.5 + 0.42 * a["sun_x"]
        sun_y = hy - 0.06 - a["sun_height"] * (hy - 0.16)
        light = np.array([a["sun_x"], -0.3 - a["sun_height"], 0.6])
        light = tuple((light / np.linalg.norm(light)).tolist())
        scene = _Scene(canvas, rng, P, tint, time, by, a["sun_x"], a["sun_height"], light)

        zenith, horizon = SKY[time]
        canvas.gradient(zenith, horizon, 0, hy + 0.01, part=P["sky"])
        if time == 2:
            stars = rng.random((2, 60)) * np.array([[1.0], [hy - 0.1]])
            canvas.dots(stars[0], stars[1], (0.9, 0.9, 0.8))
        sun_r = (0.045, 0.06, 0.035)[time]
        sun_col = ((1.0, 0.97, 0.82), (1.0, 0.55, 0.28), (0.95, 0.95, 0.86))[time]
        canvas.fill(Ellipse(sun_x, sun_y, 2.4 * sun_r, 2.4 * sun_r), sun_col, opacity=0.18)
        canvas.fill(Ellipse(sun_x, sun_y, sun_r, sun_r), sun_col, P["sun"])
        if a["sky"]:
            cloud = np.array(((1.0, 1.0, 1.0), (1.0, 0.72, 0.62), (0.22, 0.24, 0.34))[time])
            for _ in range(rng.integers(2, 5)):
                cx, cy, w = rng.uniform(0, 1), rng.uniform(0.08, hy - 0.2), rng.uniform(0.06, 0.12)
                puffs = [Ellipse(cx + dx * w, cy - h * w, s * w, 0.55 * s * w)
                         for dx, h, s in ((-0.7, 0.0, 0.7), (0.0, 0.35, 0.9), (0.7, 0.05, 0.65))]
                canvas.fill(Union(*puffs, Box(cx, cy + 0.1 * w, 1.3 * w, 0.28 * w, 0.2 * w)),
                            cloud, P["clouds"], sphere_shade(cx, cy, 1.5 * w, w, light, 0.8, 0.25))
        ground = GROUND[a["ground"]] * tint
        haze = 0.45 * ground + 0.55 * np.asarray(horizon, np.float32)
        hills = rng.uniform((0, 0.2, 0.03), (1, 0.45, 0.08), (2, 3))
        canvas.fill(Union(*(Ellipse(x, hy + 0.01, rx, ry) for x, rx, ry in hills)), haze,
                    P["hills"])
        canvas.gradient(0.8 * ground + 0.2 * haze, 0.75 * ground, hy, 1.0, part=P["ground"])

        # Lay everything out first, so that all shadows go down in one fill beneath it.
        church = _Church(rng, a, 0.5 + 0.16 * a["church_x"])
        houses = [(x, rng.uniform(0.045, 0.085), rng.uniform(0.06, 0.15))
                  for x in np.sort(rng.uniform(0.04, 0.96, 8))
                  if abs(x - church.x) > 0.5 * church.nave_w - 0.02][:a["houses"]]
        n_trees = (0, rng.integers(1, 3), rng.integers(3, 5))[a["trees"]]
        trees = [(x, by + rng.uniform(0.02, 0.14), rng.uniform(0.035, 0.06), rng.uniform(1.6, 2.4))
                 for x in rng.uniform(0.03, 0.97, n_trees)]
        if time < 2:
            shadows = [scene.shadow(x - hw, x + hw, h) for x, hw, h in houses]
            shadows += church.shadows(scene)
            shadows += [scene.tree_shadow(x, base, r, r * k) for x, base, r, k in trees]
            canvas.fill(Union(*shadows), (0.05, 0.06, 0.1), P["shadow"], opacity=0.4)
        for x, hw, h in houses:
            scene.house(x, hw, h)
        church.draw(scene)
        for x, base, r, k in trees:
            scene.tree(x, base, r, r * k)
        return a


class _Scene:
    """The drawing state shared by one picture's objects: canvas, light, tint and ground line."""

    def __init__(self, canvas, rng, parts, tint, time, by, sun_x, sun_height, light):
        self.canvas, self.rng, self.P, self.tint, self.time = canvas, rng, parts, tint, time
        self.by, self.sun_x, self.sun_height, self.light = by, sun_x, sun_height, light
        # Walls facing the viewer are lit less as the sun sinks behind the scene.
        self.front = 0.72 + 0.2 * sun_height if time < 2 else 1.0

    def reach(self, height: float) -> float:
        """How far sideways the shadow of an object `height` tall reaches: away from the
        sun, longer when the sun is low."""
        return -self.sun_x * height * 1.1 / (0.35 + self.sun_height)

    def shadow(self, x0: float, x1: float, height: float) -> Polygon:
        """The ground shadow of a building standing on [x0, x1]: away from the sun and
        towards the viewer."""
        sx, sy, b = self.reach(height), 0.22 * height, self.by
        return Polygon([(x0, b), (x1, b), (x1 + sx, b + sy), (x0 + sx, b + sy)])

    def tree_shadow(self, x: float, base: float, r: float, h: float) -> Ellipse:
        sx = self.reach(h)
        return Ellipse(x + 0.6 * sx, base + 0.15 * h, r + 0.5 * abs(sx), 0.3 * r)

    def block(self, cx: float, top: float, hw: float, colour, part: int, depth: float) -> None:
        """A box building seen from the front, with one side face: the one turned to the
        image centre. That face is bright if the sun is on its side, dark otherwise."""
        side = 1.0 if cx < 0.5 else -1.0
        edge = cx + side * hw
        side_shade = 1.05 if self.time < 2 and side * self.sun_x > 0 else 0.55
        front = self.front

        def shade(x, y):  # depends on x alone: a row, cheap
            return np.where((x - edge) * side > 0, np.float32(side_shade), np.float32(front))

        face = Polygon([(edge, top), (edge + side * depth, top - 0.5 * depth),
                        (edge + side * depth, self.by - 0.5 * depth), (edge, self.by)])
        body = Box(cx, 0.5 * (top + self.by), hw, 0.5 * (self.by - top))
        self.canvas.fill(Union(face, body), colour * self.tint, part, shade)

    def windows(self, x0: float, x1: float, y0: float, y1: float, nx: int, ny: int,
                arched: bool = False) -> None:
        """A grid of nx x ny windows filling the wall area [x0, x1] x [y0, y1]. At night most
        are lit (always at least the first), by day they are dark glass."""
        dx, dy = (x1 - x0) / nx, (y1 - y0) / ny
        hw, hh = 0.28 * dx, 0.3 * dy
        cell = Box(x0 + 0.5 * dx, y0 + 0.5 * dy, hw, hh, radius=hw if arched else 0.15 * hw)
        grid = Grid(cell, nx, ny, dx, dy)
        if self.time < 2:
            self.canvas.fill(grid, np.asarray(GLASS[self.time]), self.P["windows"])
            return
        salt = int(self.rng.integers(1 << 16))

        def colour(x, y):
            i, j = grid.cell(x, y)
            key = (i * 7919 + j * 104729 + salt).astype(np.int64) % 5
            lit = (key != 0) | ((i == 0) & (j == 0))
            warmth = 0.8 + 0.05 * (key % 5)
            return np.where(lit, LIT[:, None, None] * warmth, UNLIT_NIGHT[:, None, None])

        self.canvas.fill(grid, colour, self.P["windows"])

    def house(self, cx: float, hw: float, h: float) -> None:
        rng = self.rng
        top = self.by - h
        roof = ROOFS[rng.integers(len(ROOFS))] * self.tint
        if rng.random() < 0.6:  # gable roof
            peak = rng.uniform(0.5, 0.9) * hw
            self.canvas.fill(Polygon([(cx - hw - 0.01, top + 0.002), (cx + hw + 0.01, top + 0.002),
                                      (cx, top - peak)]), roof, self.P["roof"])
        self.block(cx, top, hw, WALLS[rng.integers(len(WALLS))], self.P["houses"], 0.02)
        nx, ny = max(1, int(2 * hw / 0.04)), max(1, int(h / 0.045))
        self.windows(cx - hw + 0.01, cx + hw - 0.01, top + 0.01, self.by - 0.015, nx, ny)

    def tower(self, kind: int, tx: float, hw: float, top: float, material, roof) -> None:
        """A tower body with its belfry and its crown (`kind` indexes ``tower_top``)."""
        P, c = self.P, self.canvas
        self.block(tx, top, hw, material, P["tower"], 0.025)
        self.windows(tx - hw, tx + hw, top + 0.02, top + 0.08, 1, 1, arched=True)
        shade = cylinder_shade(tx, hw + 0.01, self.light, 0.5, 0.6)
        colour = roof * self.tint
        if kind == 0:  # spire, with a cross
            h = self.rng.uniform(0.12, 0.2)
            c.fill(Polygon([(tx - hw - 0.006, top + 0.002), (tx + hw + 0.006, top + 0.002),
                            (tx, top - h)]), colour, P["tower_top"], shade)
            tip = top - h
        elif kind == 1:  # dome on a short drum, with a lantern
            r = hw + 0.008
            c.fill(Ellipse(tx, top, r, 1.1 * r) & Box(tx, top - 0.6 * r, r, 0.6 * r), colour,
                   P["tower_top"], sphere_shade(tx, top, r, 1.1 * r, self.light, 0.5, 0.6))
            tip = top - 1.1 * r
        elif kind == 2:  # low pyramid roof
            c.fill(Polygon([(tx - hw - 0.01, top + 0.002), (tx + hw + 0.01, top + 0.002),
                            (tx, top - 1.1 * hw)]), colour, P["tower_top"], shade)
            return
        else:  # battlements: merlons along the top
            m = 0.4 * hw
            merlons = Grid(Box(tx - hw + 0.5 * m, top - 0.5 * m, 0.5 * m, 0.5 * m), 3, 1,
                           (2 * hw - m) / 2, 1.0)
            c.fill(merlons, material * self.tint, P["tower_top"], self.front)
            return
        c.fill(Union(Segment(tx, tip, tx, tip - 0.035, 0.004),
                     Segment(tx - 0.012, tip - 0.022, tx + 0.012, tip - 0.022, 0.004)),
               colour, P["tower_top"])

    def tree(self, x: float, base: float, r: float, h: float) -> None:
        """A round crown on a trunk, drawn in one fill: the colour switches at the crown's
        lower edge (a function of y alone, so cheap)."""
        cy = base - h
        trunk = (np.array((0.35, 0.24, 0.15), np.float32) * self.tint)[:, None, None]
        leaves = (TREE[self.rng.integers(len(TREE))] * self.tint)[:, None, None]
        crown = sphere_shade(x, cy, r, 1.15 * r, self.light, 0.5, 0.6)

        def colour(xs, ys):
            return np.where(ys > cy + 1.1 * r, trunk, leaves)

        def shade(xs, ys):
            return np.where(ys > cy + 1.1 * r, np.float32(0.9), crown(xs, ys))

        shape = Box(x, base - 0.5 * (h - r), 0.18 * r, 0.5 * (h - r)) | Ellipse(x, cy, r, 1.15 * r)
        self.canvas.fill(shape, colour, self.P["trees"], shade)


class _Church:
    """The church's layout: a nave and one or two towers of one material and roof colour."""

    def __init__(self, rng: np.random.Generator, a: dict, x: float):
        self.rng, self.kind, self.x = rng, a["tower_top"], x
        self.material, self.roof = MATERIALS[a["material"]], ROOFS[rng.integers(len(ROOFS))]
        self.nave_w, self.nave_h = rng.uniform(0.28, 0.4), rng.uniform(0.12, 0.18)
        self.tower_hw = rng.uniform(0.035, 0.052)
        self.tower_h = self.nave_h + rng.uniform(0.16, 0.3)
        half = 0.5 * self.nave_w
        # Twin towers flank the nave; a single one stands at either end or in the middle.
        self.tower_xs = ([x - half, x + half] if a["towers"]
                         else [x + half * rng.choice((-1.0, 0.0, 1.0))])
        self.rise = rng.uniform(0.05, 0.09)

    def shadows(self, scene: _Scene) -> list[Polygon]:
        half, hw = 0.5 * self.nave_w, self.tower_hw
        return [scene.shadow(self.x - half, self.x + half, self.nave_h)] + [
            scene.shadow(tx - hw, tx + hw, self.tower_h + 0.08) for tx in self.tower_xs]

    def draw(self, scene: _Scene) -> None:
        P, half, top = scene.P, 0.5 * self.nave_w, scene.by - self.nave_h
        x, rise = self.x, self.rise
        scene.canvas.fill(Polygon([(x - half - 0.01, top + 0.003), (x + half + 0.01, top + 0.003),
                                   (x + half - rise, top - rise), (x - half + rise, top - rise)]),
                          self.roof * scene.tint, P["roof"])
        scene.block(x, top, half, self.material, P["church"], 0.03)
        scene.windows(x - half + 0.02, x + half - 0.02, top + 0.02, scene.by - 0.02,
                      max(2, int(self.nave_w / 0.05)), 1, arched=True)
        for tx in self.tower_xs:
            scene.tower(self.kind, tx, self.tower_hw, scene.by - self.tower_h, self.material,
                        self.roof)
