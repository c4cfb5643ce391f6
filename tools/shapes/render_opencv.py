"""A third way of drawing scenes, for the evaluation only: OpenCV's own polygon, ellipse and anti-aliasing code,
its own background and noise, and OpenCV's encoders. It shares nothing with render.py but the scene's layout
(render.sample_scene), and the training never sees its pictures.

Why: the spec judges the model on scenes other programs drew, and Pillow's polygon fill and our NumPy rasterizer
are both driven by render.py, with its backgrounds, noise and encoder settings. A model that had learnt their quirks
would score well on both and fail here.
"""
import math

import cv2
import numpy as np

SUBPIXEL_BITS = 4   # OpenCV takes fixed-point coordinates: 1/16 pixel


def _background(rng, side):
    """Grey-ish as the spec allows: channels 90..235 and within 30 of each other; flat, or graded across the image
    along a random direction by up to 20 levels."""
    base = rng.integers(105, 221)
    near = np.clip(base + rng.integers(-12, 13, 3), 90, 235).astype(np.float32)
    if rng.random() < 0.5:
        return np.broadcast_to(near, (side, side, 3)).copy()
    far = np.clip(near + rng.integers(-20, 21) + rng.integers(-3, 4, 3), 90, 235)
    angle = rng.uniform(0, 2 * math.pi)
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float32) / side
    t = (xs * math.cos(angle) + ys * math.sin(angle))
    t = ((t - t.min()) / max(1e-6, t.max() - t.min()))[..., None]
    return near * (1 - t) + far * t


def _star(x0, y0, x1, y1, inner):
    """Five points pointing up, scaled into the box."""
    points = np.array([(math.cos(-math.pi / 2 + k * math.pi / 5) * (1 if k % 2 == 0 else inner),
                        math.sin(-math.pi / 2 + k * math.pi / 5) * (1 if k % 2 == 0 else inner)) for k in range(10)])
    lo, hi = points.min(0), points.max(0)
    return (points - lo) / (hi - lo) * [x1 - x0, y1 - y0] + [x0, y0]


def _polygons(o, rng):
    x0, y0, x1, y1 = o.params["rect"]
    w, h = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if o.shape == "square":
        return [[(x0, y0), (x1, y0), (x1, y1), (x0, y1)]]
    if o.shape == "triangle":
        return [[(x0, y1), (x1, y1), (cx, y0)]]
    if o.shape == "star":
        return [_star(x0, y0, x1, y1, rng.uniform(0.38, 0.5))]
    if o.shape == "cross":
        a = w * rng.uniform(0.3, 0.36) / 2
        return [[(cx - a, y0), (cx + a, y0), (cx + a, y1), (cx - a, y1)],
                [(x0, cy - a), (x1, cy - a), (x1, cy + a), (x0, cy + a)]]
    raise ValueError(o.shape)


def draw(scene, rng):
    """The scene's encoded file; fills in each object's tight pixel box. Returns (bytes, fmt, quality)."""
    side = scene.side
    img = _background(rng, side)
    line = cv2.LINE_AA if rng.random() < 0.5 else cv2.LINE_8
    scale = 1 << SUBPIXEL_BITS
    for o in scene.objects:
        mask = np.zeros((side, side), np.uint8)
        if o.shape == "circle":
            x0, y0, x1, y1 = o.params["rect"]
            centre = (round((x0 + x1) / 2 * scale), round((y0 + y1) / 2 * scale))
            axes = (round((x1 - x0) / 2 * scale), round((y1 - y0) / 2 * scale))
            cv2.ellipse(mask, centre, axes, 0, 0, 360, 255, -1, line, SUBPIXEL_BITS)
        else:
            for polygon in _polygons(o, rng):
                points = np.round(np.asarray(polygon) * scale).astype(np.int32)
                cv2.fillPoly(mask, [points], 255, line, SUBPIXEL_BITS)
        cover = (mask.astype(np.float32) / 255)[..., None]
        img = img * (1 - cover) + np.array(o.rgb, np.float32) * cover
        rows, cols = np.nonzero(mask >= 128)
        o.x1, o.x2, o.y1, o.y2 = int(cols.min()), int(cols.max()), int(rows.min()), int(rows.max())
    if rng.random() < 0.5:
        img = img + rng.normal(0, rng.uniform(1, 8), img.shape)
    bgr = np.clip(np.rint(img), 0, 255).astype(np.uint8)[..., ::-1]
    if rng.random() < 0.5:
        q = int(rng.integers(70, 96))
        return cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, q])[1].tobytes(), "jpeg", q
    return cv2.imencode(".png", bgr)[1].tobytes(), "png", None
