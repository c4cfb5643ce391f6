"""Draws shapes-world scenes (../shared/specs/shapes-world.md), seeded and reproducible.

Two independent rasterizers, so a model trained on them learns the spec rather than one program's pixels:
- `pil`: Pillow's polygon and ellipse fill on a supersampled mask (factor 1 = aliased, 2..4 = anti-aliased);
- `numpy`: analytic point-in-shape tests at sub-pixel sample points (a different edge rule and AA pattern).
`Style` holds every drawing parameter; `Style.heldout()` draws from ranges the training never sees, where the
spec leaves room (image sides, shape proportions, JPEG quality, gradients).
"""
import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from world import COLOURS, SHAPES, SIZES, Obj, Scene


@dataclass
class Style:
    side_range: tuple = (224, 1024)
    triangle_aspect: tuple = (0.78, 1.12)   # height / base
    star_inner: tuple = (0.36, 0.50)        # inner / outer radius
    cross_arm: tuple = (0.28, 0.38)         # arm thickness / width
    jpeg_quality: tuple = (75, 95)
    jpeg_p: float = 0.4
    noise_p: float = 0.6
    renderers: tuple = ("pil", "numpy")

    @staticmethod
    def heldout():
        return Style(triangle_aspect=(0.70, 1.20), star_inner=(0.33, 0.55), cross_arm=(0.25, 0.42),
                     jpeg_quality=(70, 74), jpeg_p=0.5)


# MARK: Scene sampling

def _separated(a, b, gap):
    return (a[0] - b[2] >= gap or b[0] - a[2] >= gap or a[1] - b[3] >= gap or b[1] - a[3] >= gap)


def sample_scene(rng, style=Style(), side=None):
    side = side or int(rng.integers(style.side_range[0], style.side_range[1] + 1))
    n = int(rng.integers(1, 5))
    pairs = rng.permutation([(c, s) for c in COLOURS for s in SHAPES])
    objects, rects = [], []
    for colour, shape in pairs:
        colour, shape = str(colour), str(shape)
        if len(objects) == n:
            break
        for _ in range(30):
            size = "small" if rng.random() < 0.5 else "large"
            lo, hi = SIZES[size]
            extent = rng.uniform(lo + 0.004, hi - 0.004) * side  # the larger of width and height
            params = {}
            if shape == "triangle":
                aspect = rng.uniform(*style.triangle_aspect)
                params["aspect"] = aspect
                w, h = (extent, extent * aspect) if aspect <= 1 else (extent / aspect, extent)
            elif shape == "star":
                params["inner"] = rng.uniform(*style.star_inner)
                w = extent
                h = extent * (1 + math.cos(math.pi / 5)) / (2 * math.sin(2 * math.pi / 5))
            else:
                w = h = extent
                if shape == "cross":
                    params["arm"] = rng.uniform(*style.cross_arm)
            x = rng.uniform(1, side - w - 1)
            y = rng.uniform(1, side - h - 1)
            rect = (x, y, x + w, y + h)
            if all(_separated(rect, r, 0.02 * side + 2) for r in rects):
                rgb = tuple(int(np.clip(v + rng.integers(-25, 26), 0, 255)) for v in COLOURS[colour])
                params["rect"] = rect
                objects.append(Obj(shape, colour, size, 0, 0, 0, 0, rgb, params))
                rects.append(rect)
                break
    return Scene(side, objects)


# MARK: Geometry

def outline(o, samples=96):
    """The shape's polygon (circle approximated finely) in image coordinates."""
    x0, y0, x1, y1 = o.params["rect"]
    w, h = x1 - x0, y1 - y0
    cx = (x0 + x1) / 2
    if o.shape == "circle":
        return [(cx + w / 2 * math.cos(t), (y0 + y1) / 2 + h / 2 * math.sin(t))
                for t in np.linspace(0, 2 * math.pi, samples, endpoint=False)]
    if o.shape == "square":
        return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    if o.shape == "triangle":
        return [(cx, y0), (x1, y1), (x0, y1)]
    if o.shape == "cross":
        t = o.params["arm"] * w
        a, b = cx - t / 2, cx + t / 2
        cy = (y0 + y1) / 2
        c, d = cy - t / 2, cy + t / 2
        return [(a, y0), (b, y0), (b, c), (x1, c), (x1, d), (b, d), (b, y1), (a, y1), (a, d), (x0, d), (x0, c), (a, c)]
    if o.shape == "star":
        R = w / (2 * math.sin(2 * math.pi / 5))
        r = R * o.params["inner"]
        cy = y0 + R
        pts = []
        for k in range(10):
            ang = -math.pi / 2 + k * math.pi / 5
            rad = R if k % 2 == 0 else r
            pts.append((cx + rad * math.cos(ang), cy + rad * math.sin(ang)))
        return pts
    raise ValueError(o.shape)


def _coverage_pil(o, window, ss):
    wx, wy, ww, wh = window
    mask = Image.new("L", (ww * ss, wh * ss), 0)
    draw = ImageDraw.Draw(mask)
    if o.shape == "circle":
        x0, y0, x1, y1 = o.params["rect"]
        draw.ellipse([(x0 - wx) * ss, (y0 - wy) * ss, (x1 - wx) * ss - 1, (y1 - wy) * ss - 1], fill=255)
    else:
        draw.polygon([((x - wx) * ss, (y - wy) * ss) for x, y in outline(o)], fill=255)
    if ss > 1:
        mask = mask.reduce(ss)
    return np.asarray(mask, dtype=np.float32) / 255


def _inside(o, px, py):
    x0, y0, x1, y1 = o.params["rect"]
    if o.shape == "circle":
        rx, ry = (x1 - x0) / 2, (y1 - y0) / 2
        return ((px - (x0 + rx)) / rx) ** 2 + ((py - (y0 + ry)) / ry) ** 2 <= 1
    # Even-odd rule against the polygon's edges.
    poly = outline(o)
    inside = np.zeros(px.shape, dtype=bool)
    for (ax, ay), (bx, by) in zip(poly, poly[1:] + poly[:1]):
        crosses = (ay > py) != (by > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            xs = ax + (py - ay) * (bx - ax) / (by - ay)
        inside ^= crosses & (px < xs)
    return inside


def _coverage_numpy(o, window, ss):
    wx, wy, ww, wh = window
    offsets = (np.arange(ss) + 0.5) / ss
    acc = np.zeros((wh, ww), dtype=np.float32)
    ys, xs = np.mgrid[0:wh, 0:ww].astype(np.float64)
    for oy in offsets:
        for ox in offsets:
            acc += _inside(o, xs + wx + ox, ys + wy + oy)
    return acc / (ss * ss)


# MARK: Drawing

def background(rng, side):
    base = rng.uniform(90, 235)
    tint = np.clip(base + rng.uniform(-15, 15, 3), 90, 235)
    img = np.empty((side, side, 3), dtype=np.float32)
    img[:] = tint
    if rng.random() < 0.5:  # gentle gradient in a random direction
        ang = rng.uniform(0, 2 * math.pi)
        amp = rng.uniform(5, 25)
        ramp = (np.cos(ang) * np.arange(side)[None, :] + np.sin(ang) * np.arange(side)[:, None]) / side
        img += (amp * (ramp - ramp.mean()))[:, :, None]
    return img


def draw(scene, rng, style=Style(), renderer=None):
    """Pixels (uint8 HxWx3) of the scene; fills in each object's tight pixel box. Returns (array, fmt, quality)."""
    renderer = renderer or style.renderers[int(rng.integers(len(style.renderers)))]
    side = scene.side
    img = background(rng, side)
    ss = int(rng.choice([1, 2, 4])) if renderer == "pil" else int(rng.choice([1, 3]))
    for o in scene.objects:
        x0, y0, x1, y1 = o.params["rect"]
        window = (int(x0) - 1, int(y0) - 1, int(math.ceil(x1 - x0)) + 3, int(math.ceil(y1 - y0)) + 3)
        cov = _coverage_pil(o, window, ss) if renderer == "pil" else _coverage_numpy(o, window, ss)
        wx, wy, ww, wh = window
        region = img[wy:wy + wh, wx:wx + ww]
        cov = cov[:region.shape[0], :region.shape[1], None]
        region[:] = region * (1 - cov) + np.array(o.rgb, np.float32) * cov
        rows = np.nonzero(cov[:, :, 0].max(axis=1) >= 0.5)[0]
        cols = np.nonzero(cov[:, :, 0].max(axis=0) >= 0.5)[0]
        o.x1, o.x2 = wx + int(cols[0]), wx + int(cols[-1])
        o.y1, o.y2 = wy + int(rows[0]), wy + int(rows[-1])
    noise = rng.uniform(0, 8) if rng.random() < style.noise_p else 0
    if noise:
        img += rng.standard_normal(img.shape, dtype=np.float32) * noise
    pixels = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    if rng.random() < style.jpeg_p:
        q = int(rng.integers(style.jpeg_quality[0], style.jpeg_quality[1] + 1))
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format="JPEG", quality=q)
        return buf.getvalue(), "jpeg", q
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", compress_level=1)
    return buf.getvalue(), "png", None


def model_input(encoded, size):
    """What the model sees: the file decoded and resized to size x size, bicubic (as Glimpse's preprocessor)."""
    im = Image.open(io.BytesIO(encoded)).convert("RGB")
    return np.asarray(im.resize((size, size), Image.BICUBIC))
