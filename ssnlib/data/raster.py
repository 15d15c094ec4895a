"""Anti-aliased rasterisation of signed-distance shapes, in NumPy.

The procedural datasets draw with this module. A shape is a signed distance
function (negative inside, in image units where the picture spans [0, 1] on
each axis) plus a bounding box. `Canvas.fill` evaluates the distance only on
the pixels of that box, turns it into coverage (a one-sub-pixel linear ramp
across the edge: analytic anti-aliasing) and blends the colour in. The canvas
itself is `supersample` times finer than the output and is box-filtered down
at the end, so thin strokes and corners are anti-aliased too.

Every fill may also stamp a part label: the output part map takes, for each
pixel, the label most of its sub-pixels carry (ties go to the higher label,
which the datasets give to the smaller, later-drawn parts).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

ColourLike = Sequence[float] | np.ndarray | Callable[[np.ndarray, np.ndarray], np.ndarray]
ShadeLike = float | Callable[[np.ndarray, np.ndarray], np.ndarray]
BBox = tuple[float, float, float, float]


# NumPy 2 handles a Python number operand through its "weak scalar" promotion, which costs
# more than the arithmetic on these small windows: the hot constants are 0-d float32 arrays,
# the very values a float32 operand turns those numbers into, so the results are the same.
_ZERO, _HALF, _ONE, _MINUS_ONE, _EPS = (np.array(v, np.float32) for v in (0, 0.5, 1, -1, 1e-12))


def _clip(a, lo, hi):
    """Clip the temporary `a` in place (np.clip's Python wrapper costs more than the work)."""
    return a.clip(lo, hi, out=a)


def _floats(*values) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


class Shape:
    """A region of the plane: `sdf(x, y)` (broadcasting arrays) and `bbox` = (x0, y0, x1, y1).

    Shapes combine with ``|`` (union), ``&`` (intersection) and ``-`` (difference).
    """

    bbox: BBox

    def sdf(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __or__(self, other: Shape) -> Shape:
        return Union(self, other)

    def __and__(self, other: Shape) -> Shape:
        return Intersection(self, other)

    def __sub__(self, other: Shape) -> Shape:
        return Difference(self, other)


class Ellipse(Shape):
    """Axis-aligned ellipse; the distance is first-order exact near the outline."""

    def __init__(self, cx: float, cy: float, rx: float, ry: float):
        # Python floats keep the arithmetic in the canvas's float32 (NumPy scalars would not).
        self.cx, self.cy, self.rx, self.ry = cx, cy, rx, ry = (float(cx), float(cy), float(rx),
                                                               float(ry))
        self.bbox = (cx - rx, cy - ry, cx + rx, cy + ry)

    def sdf(self, x, y):
        # f = u^2 + v^2 - 1 is zero on the outline; f / |grad f| is its distance to first
        # order, which keeps the edge ramp one sub-pixel wide also on long, thin ellipses.
        # x is a row and y a column, so only the sums touch every pixel of the window.
        u = (x - self.cx) * (1 / self.rx)
        v = (y - self.cy) * (1 / self.ry)
        gx = u * (2 / self.rx)
        gy = v * (2 / self.ry)
        return (u * u + (v * v - _ONE)) / np.sqrt(gx * gx + (gy * gy + _EPS))


class Box(Shape):
    """Axis-aligned rectangle with centre (cx, cy), half sizes (hw, hh), corner radius r."""

    def __init__(self, cx: float, cy: float, hw: float, hh: float, radius: float = 0.0):
        self.cx, self.cy, self.hw, self.hh = cx, cy, hw, hh = (float(cx), float(cy), float(hw),
                                                               float(hh))
        self.r = min(float(radius), hw, hh)
        self.bbox = (cx - hw, cy - hh, cx + hw, cy + hh)

    def sdf(self, x, y):
        qx = np.abs(x - self.cx) - (self.hw - self.r)
        qy = np.abs(y - self.cy) - (self.hh - self.r)
        if self.r == 0:  # exact except outside the corners, which is all anti-aliasing needs
            return np.maximum(qx, qy)
        outside = np.sqrt(np.maximum(qx, _ZERO) ** 2 + np.maximum(qy, _ZERO) ** 2)
        return outside + np.minimum(np.maximum(qx, qy), _ZERO) - self.r


class Polygon(Shape):
    """Convex polygon (either winding): the largest signed distance to its edge lines."""

    def __init__(self, points: Sequence[tuple[float, float]]):
        # Plain Python: polygons are small and made by the thousand, where NumPy's per-call
        # overhead would dominate.
        xs = [float(x) for x, _ in points]
        ys = [float(y) for _, y in points]
        q = list(zip(xs, ys, xs[1:] + xs[:1], ys[1:] + ys[:1], strict=True))
        area2 = sum([x0 * y1 - x1 * y0 for x0, y0, x1, y1 in q])
        sign = 1.0 if area2 >= 0 else -1.0
        hypot, edges = math.hypot, []
        for x0, y0, x1, y1 in q:
            nx, ny = sign * (y1 - y0), -sign * (x1 - x0)
            norm = hypot(nx, ny) or 1.0
            edges.append((nx / norm, ny / norm, (nx * x0 + ny * y0) / norm))
        self.edges = edges
        self.bbox = (min(xs), min(ys), max(xs), max(ys))

    @property
    def planes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The edge lines as float32 arrays [k, 1, 1] (nx, ny, c), made on first use."""
        planes = self.__dict__.get("_planes")
        if planes is None:
            e = np.array(self.edges, np.float32).T.reshape(3, -1, 1, 1)
            planes = self._planes = (e[0], e[1], e[2])
        return planes

    def sdf(self, x, y):
        # All edges at once, stacked on a leading axis: a handful of NumPy calls instead of
        # four per edge (bit for bit the per-edge (nx * x - c) + ny * y and their maximum).
        nx, ny, c = self.planes
        return ((nx * x - c) + ny * y).max(axis=0)


class Segment(Shape):
    """Capsule: points within `radius` of the segment from (x0, y0) to (x1, y1)."""

    def __init__(self, x0: float, y0: float, x1: float, y1: float, radius: float):
        x0, y0, x1, y1, radius = float(x0), float(y0), float(x1), float(y1), float(radius)
        self.a = (x0, y0)
        self.d = (x1 - x0, y1 - y0)
        self.len2 = max(self.d[0] ** 2 + self.d[1] ** 2, 1e-12)
        self.r = radius
        self.bbox = (min(x0, x1) - radius, min(y0, y1) - radius,
                     max(x0, x1) + radius, max(y0, y1) + radius)

    def sdf(self, x, y):
        px, py = x - self.a[0], y - self.a[1]
        t = _clip((px * self.d[0] + py * self.d[1]) / self.len2, _ZERO, _ONE)
        return np.sqrt((px - t * self.d[0]) ** 2 + (py - t * self.d[1]) ** 2) - self.r


class Outline(Shape):
    """The band of half width `width` around another shape's outline (a ring, a frame)."""

    def __init__(self, shape: Shape, width: float):
        self.shape, self.width = shape, width = shape, float(width)
        x0, y0, x1, y1 = shape.bbox
        self.bbox = (x0 - width, y0 - width, x1 + width, y1 + width)

    def sdf(self, x, y):
        return np.abs(self.shape.sdf(x, y)) - self.width


class Mirror(Shape):
    """A shape and its mirror image about the vertical line x = `axis` (a pair of eyes,
    ears, brows) at the cost of one distance evaluation: x is folded onto the shape's side."""

    def __init__(self, shape: Shape, axis: float):
        self.shape, self.axis = shape, axis = shape, float(axis)
        x0, y0, x1, y1 = shape.bbox
        self.side = 1.0 if x0 + x1 >= 2 * axis else -1.0
        reach = max(abs(x0 - axis), abs(x1 - axis))
        self.bbox = (axis - reach, y0, axis + reach, y1)

    def sdf(self, x, y):
        return self.shape.sdf(self.axis + self.side * np.abs(x - self.axis), y)


class Twin(Shape):
    """A shape and its copy moved right by `dx` (irises looking the same way), evaluated
    once: x right of the midpoint is moved back onto the original."""

    def __init__(self, shape: Shape, dx: float):
        self.shape, self.dx = shape, dx = shape, float(dx)
        x0, y0, x1, y1 = shape.bbox
        self.mid = 0.5 * (x0 + x1) + 0.5 * dx
        self.bbox = (x0, y0, x1 + dx, y1)

    def sdf(self, x, y):
        return self.shape.sdf(np.where(x > self.mid, x - self.dx, x), y)


class Grid(Shape):
    """`nx` x `ny` copies of a shape (windows on a facade), `dx` and `dy` apart, evaluated
    once: each point is moved into the nearest cell. `cell(x, y)` gives the cell indices."""

    def __init__(self, shape: Shape, nx: int, ny: int, dx: float, dy: float):
        self.shape, self.nx, self.ny, self.dx, self.dy = shape, nx, ny, float(dx), float(dy)
        x0, y0, x1, y1 = shape.bbox
        self.x0, self.y0 = 0.5 * (x0 + x1), 0.5 * (y0 + y1)
        self.bbox = (x0, y0, x1 + (nx - 1) * dx, y1 + (ny - 1) * dy)

    def cell(self, x, y):
        # The colour of a grid often asks for the cells its distance just used: keep them.
        cached = self.__dict__.get("_cell")
        if cached is not None and cached[0] is x and cached[1] is y:
            return cached[2], cached[3]
        i = _nearest(x, self.x0, self.dx, self.nx)
        j = _nearest(y, self.y0, self.dy, self.ny)
        self._cell = (x, y, i, j)
        return i, j

    def sdf(self, x, y):
        i, j = self.cell(x, y)
        # A single column (row) needs no shift either: x - 0 * dx is x.
        return self.shape.sdf(x - i * self.dx if self.nx > 1 else x,
                              y - j * self.dy if self.ny > 1 else y)


def _nearest(z, z0, dz, count):
    """The index of the cell nearest to z, of `count` cells `dz` apart from z0; a single cell
    is index 0 everywhere, without the rounding."""
    return _clip(np.rint((z - z0) * (1 / dz)), _ZERO, count - 1) if count > 1 else _ZERO


class _Polygons(Shape):
    """Several convex polygons with the same number of edges, evaluated as one stack."""

    def __init__(self, polygons: Sequence[Polygon]):
        # One conversion for the stack: edge lines [m, k, (nx, ny, c)] -> three [m, k, 1, 1].
        lines = np.array([p.edges for p in polygons], np.float32)
        self.nx, self.ny, self.c = lines.transpose(2, 0, 1)[..., None, None]

    def sdf(self, x, y):
        return ((self.nx * x - self.c) + self.ny * y).max(axis=1).min(axis=0)


class _Ellipses(Shape):
    """Several ellipses evaluated as one stack (the same arithmetic as `Ellipse.sdf`)."""

    def __init__(self, ellipses: Sequence[Ellipse]):
        p = np.array([(e.cx, e.cy, 1 / e.rx, 1 / e.ry, 2 / e.rx, 2 / e.ry) for e in ellipses],
                     np.float32).T.reshape(6, -1, 1, 1)
        self.cx, self.cy, self.irx, self.iry, self.grx, self.gry = p

    def sdf(self, x, y):
        u = (x - self.cx) * self.irx
        v = (y - self.cy) * self.iry
        gx = u * self.grx
        gy = v * self.gry
        return ((u * u + (v * v - _ONE)) / np.sqrt(gx * gx + (gy * gy + _EPS))).min(axis=0)


class Union(Shape):
    def __init__(self, *shapes: Shape):
        self.shapes = shapes
        x0, y0, x1, y1 = zip(*(s.bbox for s in shapes), strict=True)
        self.bbox = (min(x0), min(y0), max(x1), max(y1))
        self._parts = None

    def _grouped(self) -> Sequence[Shape]:
        """The members with polygons (by edge count) and ellipses stacked: the minimum is
        exact, so evaluating a group at once gives the same distances as one by one."""
        if self._parts is None and len(self.shapes) < 3:
            self._parts = self.shapes  # nothing worth stacking (blocks, trees)
        if self._parts is None:
            polys: dict[int, list[Polygon]] = {}
            ellipses, rest = [], []
            for s in self.shapes:
                if type(s) is Polygon:
                    polys.setdefault(len(s.edges), []).append(s)
                elif type(s) is Ellipse:
                    ellipses.append(s)
                else:
                    rest.append(s)
            groups = [g[0] if len(g) == 1 else _Polygons(g) for g in polys.values()]
            if ellipses:
                groups.append(ellipses[0] if len(ellipses) == 1 else _Ellipses(ellipses))
            self._parts = groups + rest
        return self._parts

    def sdf(self, x, y):
        parts = self._grouped()
        d = parts[0].sdf(x, y)
        for s in parts[1:]:
            d = np.minimum(d, s.sdf(x, y))
        return d


class Intersection(Shape):
    def __init__(self, a: Shape, b: Shape):
        self.a, self.b = a, b
        self.bbox = (max(a.bbox[0], b.bbox[0]), max(a.bbox[1], b.bbox[1]),
                     min(a.bbox[2], b.bbox[2]), min(a.bbox[3], b.bbox[3]))

    def sdf(self, x, y):
        return np.maximum(self.a.sdf(x, y), self.b.sdf(x, y))


class Difference(Shape):
    def __init__(self, a: Shape, b: Shape):
        self.a, self.b = a, b
        self.bbox = a.bbox

    def sdf(self, x, y):
        return np.maximum(self.a.sdf(x, y), -self.b.sdf(x, y))


def sphere_shade(cx: float, cy: float, rx: float, ry: float, light: np.ndarray,
                 ambient: float = 0.55, diffuse: float = 0.55) -> Callable:
    """Lambert shading of an ellipsoid seen face-on, lit from unit vector `light`
    (x right, y down, z towards the viewer): returns a shade function for `Canvas.fill`."""
    lx, ly, lz = _floats(*light)

    def shade(x, y):
        u = _clip((x - cx) / rx, _MINUS_ONE, _ONE)
        v = _clip((y - cy) / ry, _MINUS_ONE, _ONE)
        nz = np.sqrt(np.maximum((_ONE - u * u) - v * v, _ZERO))
        lambert = (u * (lx * diffuse) + v * (ly * diffuse)) + nz * (lz * diffuse)
        return np.maximum(lambert, _ZERO) + ambient
    return shade


def cylinder_shade(cx: float, rx: float, light: np.ndarray,
                   ambient: float = 0.55, diffuse: float = 0.55) -> Callable:
    """Lambert shading of an upright cylinder (towers, necks, spires) of half width `rx`."""
    lx, lz = float(light[0]), float(light[2])

    def shade(x, y):
        u = _clip((x - cx) / rx, _MINUS_ONE, _ONE)
        lambert = np.maximum(u * lx + np.sqrt(_ONE - u * u) * lz, _ZERO)
        return ambient + diffuse * lambert
    return shade


_COORDS: dict[int, np.ndarray] = {}


class Canvas:
    """An RGB drawing surface `supersample` times finer than `resolution`, with a part map."""

    def __init__(self, resolution: int, supersample: int = 2, with_parts: bool = True,
                 num_parts: int = 256):
        self.resolution, self.ss = resolution, supersample
        self.n = n = resolution * supersample
        coords = _COORDS.get(n)
        if coords is None:  # the sub-pixel centres, made once per size (read-only, shared)
            coords = _COORDS[n] = ((np.arange(n) + 0.5) / n).astype(np.float32)
            coords.flags.writeable = False
        self.xs, self.ys = coords[None, :], coords[:, None]
        # Planar [3, n, n]: broadcasting a colour over a window is several times faster
        # than over an interleaved [n, n, 3] array.
        self.rgb = np.zeros((3, n, n), np.float32)
        self.parts = np.zeros((n, n), np.uint8) if with_parts else None
        self.num_parts = num_parts
        self._minus_n = np.array(-n, np.float32)

    def gradient(self, top: Sequence[float], bottom: Sequence[float], y0: float = 0.0,
                 y1: float = 1.0, part: int | None = None) -> None:
        """Paint rows y0..y1 with a vertical blend from `top` to `bottom` colour."""
        i0, i1 = int(round(y0 * self.n)), int(round(y1 * self.n))
        t = (np.arange(i1 - i0, dtype=np.float32) / max(i1 - i0 - 1, 1))[None, :, None]
        top = np.asarray(top, np.float32)[:, None, None]
        self.rgb[:, i0:i1] = top + (np.asarray(bottom, np.float32)[:, None, None] - top) * t
        if part is not None and self.parts is not None:
            self.parts[i0:i1] = part

    def dots(self, x: np.ndarray, y: np.ndarray, colour: Sequence[float]) -> None:
        """Set single sub-pixels (stars): points in image units."""
        i = _clip((y * self.n).astype(int), 0, self.n - 1)
        j = _clip((x * self.n).astype(int), 0, self.n - 1)
        self.rgb[:, i, j] = np.asarray(colour, np.float32)[:, None]

    def fill(self, shape: Shape, colour: ColourLike, part: int | None = None,
             shade: ShadeLike = 1.0, opacity: float = 1.0) -> None:
        """Blend `colour` (RGB in [0, 1], or a function of (x, y) giving [3, h, w]) into
        the shape, times `shade` (a number or a function of (x, y)), at `opacity`.
        Sub-pixels more than half covered take the label `part` (None: labels untouched)."""
        n = self.n
        x0, y0, x1, y1 = shape.bbox
        j0, j1 = max(int(x0 * n) - 1, 0), min(int(x1 * n) + 2, n)
        i0, i1 = max(int(y0 * n) - 1, 0), min(int(y1 * n) + 2, n)
        if j0 >= j1 or i0 >= i1:
            return
        x, y = self.xs[:, j0:j1], self.ys[i0:i1]
        d = shape.sdf(x, y)
        # In place: each NumPy call on these small windows costs more than its arithmetic.
        alpha = d * self._minus_n
        alpha += _HALF
        alpha.clip(_ZERO, _ONE, out=alpha)
        if opacity != 1.0:
            alpha *= opacity
        if callable(colour):
            col = colour(x, y)
        else:
            col = np.asarray(colour, np.float32).reshape(3, 1, 1)
        if callable(shade):
            col = col * shade(x, y)
        elif shade != 1.0:
            col = col * shade
        region = self.rgb[:, i0:i1, j0:j1]
        delta = col - region
        delta *= alpha
        region += delta
        if part is not None and self.parts is not None:
            # alpha > 1/2 is d < 0: the sub-pixel centre lies inside the shape.
            labels = self.parts[i0:i1, j0:j1]
            if d.shape == labels.shape:
                labels[d < 0] = part
            else:
                np.copyto(labels, part, where=d < 0, casting="unsafe")

    def image(self) -> np.ndarray:
        """The picture box-filtered to `resolution`: uint8 [H, W, 3]."""
        r, s = self.resolution, self.ss
        v = self.rgb.reshape(3, r, s, r, s)
        total = v[:, :, 0]
        for i in range(1, s):  # box filter: sum the sub-pixel rows, then the columns
            total = total + v[:, :, i]
        rgb = total[..., 0]
        for j in range(1, s):
            rgb = rgb + total[..., j]
        rgb = rgb * np.array(255 / (s * s), np.float32)  # new (rgb may view the canvas)
        rgb.clip(_ZERO, np.array(255, np.float32), out=rgb)
        rgb += _HALF
        return rgb.astype(np.uint8).transpose(1, 2, 0)

    def part_map(self) -> np.ndarray:
        """Majority part label per output pixel: uint8 [H, W]."""
        r, s, k = self.resolution, self.ss, self.num_parts
        if s == 1:
            return self.parts.copy()
        blocks = self.parts.reshape(r, s, r, s).transpose(0, 2, 1, 3).reshape(r * r, s * s)
        # Count each label per pixel with one bincount; flip so argmax breaks ties upwards.
        flat = (np.arange(r * r)[:, None] * k + blocks).ravel()
        counts = np.bincount(flat, minlength=r * r * k).reshape(r * r, k)
        return (k - 1 - np.argmax(counts[:, ::-1], axis=1)).astype(np.uint8).reshape(r, r)
