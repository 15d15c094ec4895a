"""`CartoonFaces`: a procedural stand-in for FFHQ.

Aligned, front-facing cartoon portraits. Every picture is drawn from a handful
of discrete choices (head shape, skin tone, hair style and colour, eye colour,
glasses, mouth, beard, hat, background) and a few continuous ones (light
direction, head turn, head size), recorded as its attributes.

The rules that tie distant blocks of the image together are what make block
resampling differ from inpainting, so they are built in:

* one light direction shades every rounded object (head, ears, nose, neck,
  hair, hat, clothes), and both eyes' catch-lights sit on the lit side;
* glasses always frame both eyes, joined by a bridge;
* eyebrows and beard (or moustache) have the hair colour, also when bald;
* the head turn (``yaw``) shifts eyes, nose and mouth together.
"""

from __future__ import annotations

import numpy as np

from ssnlib.data.procedural import ProceduralDataset
from ssnlib.data.raster import (
    Box,
    Canvas,
    Ellipse,
    Mirror,
    Outline,
    Segment,
    Twin,
    Union,
    cylinder_shade,
    sphere_shade,
)

SKIN = np.array([(1.00, 0.88, 0.80), (0.96, 0.79, 0.66), (0.87, 0.66, 0.50),
                 (0.74, 0.53, 0.36), (0.55, 0.37, 0.24), (0.36, 0.24, 0.16)], np.float32)
HAIR = np.array([(0.10, 0.09, 0.09), (0.32, 0.19, 0.10), (0.60, 0.40, 0.22),
                 (0.95, 0.82, 0.48), (0.78, 0.30, 0.10), (0.75, 0.75, 0.78)], np.float32)
EYES = np.array([(0.42, 0.24, 0.10), (0.20, 0.48, 0.88), (0.22, 0.62, 0.30),
                 (0.55, 0.60, 0.66)], np.float32)
BACKGROUND = np.array([(0.30, 0.66, 0.66), (0.98, 0.76, 0.62), (0.72, 0.64, 0.88),
                       (0.55, 0.74, 0.95), (0.62, 0.88, 0.70), (0.93, 0.78, 0.35)], np.float32)
CLOTHES = np.array([(0.85, 0.25, 0.25), (0.20, 0.35, 0.70), (0.95, 0.95, 0.92),
                    (0.25, 0.25, 0.28), (0.35, 0.60, 0.35), (0.95, 0.65, 0.20),
                    (0.55, 0.30, 0.60)], np.float32)
HATS = np.array([(0.80, 0.15, 0.15), (0.15, 0.25, 0.55), (0.20, 0.20, 0.22),
                 (0.90, 0.75, 0.20), (0.25, 0.55, 0.35)], np.float32)
FRAMES = np.array([(0.07, 0.07, 0.08), (0.45, 0.24, 0.10), (0.80, 0.62, 0.25),
                   (0.62, 0.10, 0.14)], np.float32)
WHITE = (0.97, 0.97, 0.95)
DARK = (0.05, 0.04, 0.05)


class CartoonFaces(ProceduralDataset):
    """Procedural cartoon portraits (an FFHQ stand-in); see the module docstring.

    Arguments as `ProceduralDataset`: ``CartoonFaces(length=10_000, resolution=64,
    seed=0, return_parts=True, supersample=2)``.
    """

    PART_NAMES = ("background", "clothes", "neck", "face", "hair", "beard", "nose", "mouth",
                  "eyes", "eyebrows", "glasses", "hat")
    DISCRETE = {
        "head_shape": ("round", "oval", "square"),
        "skin_tone": ("porcelain", "light", "medium", "tan", "brown", "dark"),
        "hair_style": ("bald", "short", "long", "afro", "bun"),
        "hair_colour": ("black", "dark_brown", "light_brown", "blonde", "red", "grey"),
        "eye_colour": ("brown", "blue", "green", "grey"),
        "glasses": ("none", "round", "square"),
        "mouth": ("neutral", "smile", "open"),
        "beard": ("none", "moustache", "full"),
        "hat": ("none", "cap", "beanie"),
        "background": ("teal", "peach", "lavender", "sky", "mint", "mustard"),
    }
    CONTINUOUS = {
        "light_x": (-1.0, 1.0),  # where the light comes from: -1 left, +1 right
        "yaw": (-1.0, 1.0),  # head turn: features shift left (-1) or right (+1)
        "head_size": (0.0, 1.0),  # 0 smallest, 1 largest head
    }
    MIRROR_ODD = ("light_x", "yaw")
    # How often each class is drawn (uniform where not listed).
    WEIGHTS = {
        "hair_style": (0.1, 0.35, 0.3, 0.1, 0.15),
        "glasses": (0.6, 0.2, 0.2),
        "beard": (0.65, 0.15, 0.2),
        "hat": (0.7, 0.15, 0.15),
    }

    def draw(self, rng: np.random.Generator, canvas: Canvas) -> dict:
        a = self.sample_attributes(rng)
        light = np.array([0.8 * a["light_x"], -0.45, 0.75])
        light = tuple((light / np.linalg.norm(light)).tolist())  # unit vector: x right, y down
        ry = 0.245 + 0.05 * a["head_size"]
        rx = ry * (0.88, 0.75, 0.84)[a["head_shape"]]
        cx, cy = 0.5 + rng.uniform(-0.03, 0.03), 0.47
        fx = cx + 0.13 * rx * a["yaw"]  # centre line of the features, moved by the head turn
        skin, hair = SKIN[a["skin_tone"]], HAIR[a["hair_colour"]]
        hair_shade = sphere_shade(cx, cy - 0.2 * ry, 1.4 * rx, 1.3 * ry, light, 0.6, 0.5)
        P = {name: i for i, name in enumerate(self.PART_NAMES)}

        bg = BACKGROUND[a["background"]]
        canvas.gradient(np.minimum(bg * 1.1, 1), bg * 0.82, part=P["background"])
        canvas.fill(Ellipse(cx, 1.08, 0.42, 0.26), CLOTHES[rng.integers(len(CLOTHES))],
                    P["clothes"], sphere_shade(cx, 1.08, 0.42, 0.26, light, 0.55, 0.5))
        self._back_hair(canvas, a["hair_style"], cx, cy, rx, ry, hair, hair_shade, P["hair"])
        canvas.fill(Box(cx, cy + 0.98 * ry, 0.36 * rx, 0.5 * ry), skin * 0.88, P["neck"],
                    cylinder_shade(cx, 0.36 * rx, light, 0.5, 0.55))
        canvas.fill(Mirror(Ellipse(cx + 0.97 * rx, cy + 0.08 * ry, 0.17 * rx, 0.25 * ry), cx),
                    skin, P["face"], sphere_shade(cx, cy, rx, ry, light))
        head = (Ellipse(cx, cy, rx, ry) if a["head_shape"] < 2
                else Box(cx, cy, rx, 0.97 * ry, radius=0.6 * rx))
        canvas.fill(head, skin, P["face"], sphere_shade(cx, cy, rx, ry, light))
        canvas.fill(Mirror(Ellipse(fx + 0.5 * rx, cy + 0.36 * ry, 0.16 * rx, 0.09 * ry), fx),
                    (0.95, 0.42, 0.42), opacity=0.2)
        beard_shade = sphere_shade(cx, cy, rx, ry, light, 0.7, 0.4)
        if a["beard"] == 2:
            jaw = ((Ellipse(cx, cy + 0.03 * ry, 1.04 * rx, 1.04 * ry) if a["head_shape"] < 2
                    else Box(cx, cy + 0.03 * ry, 1.04 * rx, ry, radius=0.6 * rx))
                   & Box(cx, cy + 0.7 * ry, 1.2 * rx, 0.62 * ry))
            beard = (jaw - Ellipse(fx, cy + 0.08 * ry, 0.78 * rx, 0.45 * ry)
                     - Ellipse(fx, cy + 0.56 * ry, 0.26 * rx, 0.11 * ry))
            canvas.fill(beard, hair, P["beard"], beard_shade)
        canvas.fill(Ellipse(fx + 0.04 * rx * a["yaw"], cy + 0.25 * ry, 0.1 * rx, 0.14 * ry),
                    skin, P["nose"], sphere_shade(fx, cy + 0.25 * ry, 0.1 * rx, 0.14 * ry,
                                                  light, 0.45, 0.65))
        self._mouth(canvas, a["mouth"], fx, cy + 0.56 * ry, rx, ry, skin, P["mouth"])
        if a["beard"] == 1:
            moustache = Mirror(Ellipse(fx + 0.13 * rx, cy + 0.43 * ry, 0.16 * rx, 0.055 * ry), fx)
            canvas.fill(moustache, hair, P["beard"], beard_shade)
        self._eyes(canvas, rng, a, fx, cy, rx, ry, light, hair, P)
        self._front_hair(canvas, a["hair_style"], cx, cy, rx, ry, hair, hair_shade, P["hair"])
        if a["glasses"]:
            self._glasses(canvas, rng, a["glasses"], fx, cx, cy, rx, ry, light, P["glasses"])
        if a["hat"]:
            self._hat(canvas, rng, a["hat"], cx, cy, rx, ry, light, P["hat"])
        return a

    @staticmethod
    def _back_hair(canvas, style, cx, cy, rx, ry, hair, shade, part):
        """Hair behind the head: long hair down to the shoulders, the afro's halo, the bun."""
        if style == 2:
            canvas.fill(Box(cx, cy + 0.3 * ry, 1.22 * rx, 1.12 * ry, radius=0.9 * rx),
                        hair, part, shade)
        elif style == 3:
            bumps = [Ellipse(cx + 1.35 * rx * np.cos(t), cy - 0.15 * ry + 1.1 * ry * np.sin(t),
                             0.32 * rx, 0.32 * rx) for t in np.linspace(-np.pi, 0.3, 9)]
            canvas.fill(Union(Ellipse(cx, cy - 0.15 * ry, 1.38 * rx, 1.12 * ry), *bumps),
                        hair, part, shade)
        elif style == 4:
            canvas.fill(Ellipse(cx, cy - 1.08 * ry, 0.36 * rx, 0.3 * ry), hair, part, shade)

    @staticmethod
    def _front_hair(canvas, style, cx, cy, rx, ry, hair, shade, part):
        """The hair over the forehead: a crescent cut by the hairline."""
        if style == 0:
            return
        fringe = 0.12 * rx * (1 if style % 2 else -1)  # the parting side varies with the style
        top = Ellipse(cx, cy - 0.06 * ry, 1.07 * rx, 1.03 * ry)
        if style == 3:
            top = Ellipse(cx, cy - 0.1 * ry, 1.12 * rx, 1.06 * ry)
        canvas.fill(top - Ellipse(cx + fringe, cy + 0.3 * ry, 1.02 * rx, 1.0 * ry),
                    hair, part, shade)

    @staticmethod
    def _mouth(canvas, style, mx, my, rx, ry, skin, part):
        lip = 0.5 * skin + 0.5 * np.array([0.72, 0.25, 0.28], np.float32)
        if style == 0:
            canvas.fill(Segment(mx - 0.2 * rx, my, mx + 0.2 * rx, my, 0.03 * ry), lip * 0.8, part)
        elif style == 1:
            smile = (Outline(Ellipse(mx, my - 0.1 * ry, 0.25 * rx, 0.13 * ry), 0.03 * ry)
                     & Box(mx, my + 0.05 * ry, 0.32 * rx, 0.1 * ry))
            canvas.fill(smile, lip * 0.8, part)
        else:
            inside = Ellipse(mx, my, 0.17 * rx, 0.1 * ry)
            canvas.fill(inside, (0.35, 0.07, 0.1), part)
            canvas.fill(inside & Box(mx, my - 0.075 * ry, 0.2 * rx, 0.04 * ry), WHITE, part)
            canvas.fill(Outline(inside, 0.02 * ry), lip, part)

    @staticmethod
    def _eyes(canvas, rng, a, fx, cy, rx, ry, light, hair, P):
        """Both eyes share iris colour, gaze and catch-light side; brows have the hair colour."""
        ey = cy - 0.03 * ry
        gaze = 0.04 * rx * a["yaw"]
        brow_tilt, brow_width = rng.uniform(-0.05, 0.07) * ry, rng.uniform(0.025, 0.042) * ry
        ex, dx = fx - 0.37 * rx, 0.74 * rx  # the left eye's centre; the right one is dx away
        sclera = Mirror(Ellipse(ex, ey, 0.16 * rx, 0.085 * ry), fx)
        canvas.fill(sclera, WHITE, P["eyes"])
        canvas.fill(Twin(Ellipse(ex + gaze, ey, 0.075 * ry, 0.075 * ry), dx) & sclera,
                    EYES[a["eye_colour"]], P["eyes"])
        canvas.fill(Twin(Ellipse(ex + gaze, ey, 0.036 * ry, 0.036 * ry), dx), DARK, P["eyes"])
        canvas.fill(Twin(Ellipse(ex + gaze + 0.03 * ry * light[0], ey - 0.025 * ry,
                                 0.018 * ry, 0.018 * ry), dx), (1, 1, 1))
        canvas.fill(Outline(sclera, 0.012 * ry) & Box(fx, ey - 0.06 * ry, 0.6 * rx, 0.06 * ry),
                    DARK, P["eyes"])
        by = ey - 0.19 * ry
        canvas.fill(Mirror(Segment(ex + 0.12 * rx, by + brow_tilt, ex - 0.17 * rx,
                                   by - brow_tilt, brow_width), fx), hair, P["eyebrows"])

    @staticmethod
    def _glasses(canvas, rng, style, fx, cx, cy, rx, ry, light, part):
        """One frame over both eyes: two rims, a bridge and the temples to the ears."""
        ey, t = cy - 0.02 * ry, 0.028 * ry
        ex = fx - 0.37 * rx
        lenses = Mirror(Ellipse(ex, ey, 0.26 * rx, 0.21 * ry) if style == 1
                        else Box(ex, ey, 0.27 * rx, 0.17 * ry, radius=0.07 * rx), fx)
        canvas.fill(lenses, (0.8, 0.9, 1.0), opacity=0.18)
        gx = fx + 0.37 * rx * (1 if light[0] > 0 else -1) + 0.08 * rx * light[0]
        canvas.fill(Segment(gx - 0.05 * rx, ey + 0.06 * ry, gx + 0.05 * rx, ey - 0.08 * ry,
                            0.02 * ry), (1, 1, 1), opacity=0.45)
        inner = fx + 0.11 * rx
        # The temples reach the ears of the head (centred on cx), not of the turned features.
        frame = Union(Outline(lenses, t),
                      Segment(2 * fx - inner, ey - 0.04 * ry, inner, ey - 0.04 * ry, t),
                      Segment(fx - 0.63 * rx, ey - 0.05 * ry, cx - 0.98 * rx, ey - 0.1 * ry, t),
                      Segment(fx + 0.63 * rx, ey - 0.05 * ry, cx + 0.98 * rx, ey - 0.1 * ry, t))
        canvas.fill(frame, FRAMES[rng.integers(len(FRAMES))], part)

    @staticmethod
    def _hat(canvas, rng, style, cx, cy, rx, ry, light, part):
        colour = HATS[rng.integers(len(HATS))]
        base = cy - 0.42 * ry
        shade = sphere_shade(cx, base, 1.1 * rx, 0.85 * ry, light)
        if style == 1:  # cap: a dome with a brim seen from the front and a button
            canvas.fill(Ellipse(cx, base, 1.07 * rx, 0.75 * ry)
                        & Box(cx, base - 0.4 * ry, 1.2 * rx, 0.4 * ry), colour, part, shade)
            canvas.fill(Ellipse(cx, base + 0.02 * ry, 1.15 * rx, 0.1 * ry), colour * 0.75, part)
            canvas.fill(Ellipse(cx, base - 0.75 * ry, 0.08 * rx, 0.05 * ry), colour * 0.8, part)
        else:  # beanie: a taller dome, a folded band and a pompom
            canvas.fill(Ellipse(cx, base, 1.1 * rx, 0.88 * ry)
                        & Box(cx, base - 0.45 * ry, 1.2 * rx, 0.45 * ry), colour, part, shade)
            canvas.fill(Box(cx, base + 0.02 * ry, 1.12 * rx, 0.1 * ry, radius=0.05 * ry),
                        colour * 0.8, part, shade)
            r = 0.2 * rx
            canvas.fill(Ellipse(cx, base - 0.88 * ry - 0.5 * r, r, r), np.array(WHITE), part,
                        sphere_shade(cx, base - 0.88 * ry - 0.5 * r, r, r, light))
