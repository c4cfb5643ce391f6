"""The sample scenes shipped in examples/ (hand-placed, drawn by render.py), with their true answers in
examples/scenes.json.

    python tools/shapes/make_examples.py examples
"""
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import world  # noqa: E402
from render import Style, draw  # noqa: E402
from world import COLOURS, Obj, Scene  # noqa: E402

SCENES = {
    # name: (side, format, [(size, colour, shape, fraction of side, centre x, centre y)])
    "three-shapes.png": (512, "png", [("large", "red", "circle", 0.32, 0.25, 0.27), ("small", "blue", "star", 0.15, 0.55, 0.55),
                                      ("small", "green", "cross", 0.14, 0.80, 0.82)]),
    "four-shapes.jpg": (640, "jpeg", [("large", "yellow", "square", 0.30, 0.25, 0.25), ("small", "purple", "triangle", 0.16, 0.75, 0.22),
                                      ("large", "orange", "star", 0.34, 0.72, 0.70), ("small", "blue", "circle", 0.12, 0.22, 0.78)]),
    "one-star.png": (300, "png", [("large", "green", "star", 0.36, 0.5, 0.5)]),
    "crosses.png": (800, "png", [("small", "red", "cross", 0.13, 0.2, 0.5), ("large", "blue", "cross", 0.3, 0.55, 0.3),
                                 ("small", "orange", "triangle", 0.15, 0.8, 0.8)]),
}


def place(size, colour, shape, frac, cx, cy, side):
    w = frac * side
    h = w * (1 + math.cos(math.pi / 5)) / (2 * math.sin(2 * math.pi / 5)) if shape == "star" else w
    params = {"rect": (cx * side - w / 2, cy * side - h / 2, cx * side + w / 2, cy * side + h / 2),
              "aspect": 0.95, "inner": 0.42, "arm": 0.33}
    return Obj(shape, colour, size, 0, 0, 0, 0, COLOURS[colour], params)


def main():
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    truths = {}
    for i, (name, (side, fmt, objs)) in enumerate(SCENES.items()):
        scene = Scene(side, [place(*o, side) for o in objs])
        style = Style(jpeg_p=1.0 if fmt == "jpeg" else 0.0, jpeg_quality=(90, 90), noise_p=0.0)
        encoded, got, _ = draw(scene, np.random.default_rng(100 + i), style, renderer="pil")
        assert got == fmt, (name, got)
        with open(os.path.join(folder, name), "wb") as f:
            f.write(encoded)
        truths[name] = {"side": side, "caption": world.caption(scene), "grounding": world.grounding(scene),
                        "objects": [{"phrase": o.phrase, "box": scene.box(o), "position": scene.position(o)}
                                    for o in scene.ordered()]}
    with open(os.path.join(folder, "scenes.json"), "w") as f:
        json.dump(truths, f, indent=1)


if __name__ == "__main__":
    main()
