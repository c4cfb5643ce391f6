"""How well a training checkpoint's vision encoder sees, apart from the decoder: the patch head's colour and shape
for each object of held-out scenes, by the vote of the patches the object owns (train.patch_targets), split by size.

    python tools/shapes/probe_encoder.py CHECKPOINT.pt [--scenes 300]

The evaluation scores whole answers; this says whether a miss starts in the encoder. Run 7's head named the shape
of 90% of large objects but 48% of small ones (200 scenes), which is why the trainer now weighs small objects'
patches more; the model trained after that change names 95% and 62%, the one trained the same way in steps of
16 conversations instead of 32 (twice the steps) 99% and 86%, and the GPU-trained one shipped now every object.
"""
import argparse
import collections
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Config, ShapesVLM, normalize  # noqa: E402
from render import Style, draw, model_input, sample_scene  # noqa: E402
from train import PatchHead, patch_targets  # noqa: E402
from world import COLOURS, SHAPES  # noqa: E402


def heldout(count, seed, size):
    """(model inputs [count, size, size, 3] uint8, scenes), drawn as evaluate.py draws its held-out set."""
    rng = np.random.default_rng(seed)
    style = Style.heldout()
    images, scenes = [], []
    for i in range(count):
        scene = sample_scene(rng, style, side=int(rng.integers(224, 1025)))
        encoded, _, _ = draw(scene, rng, style, renderer=["pil", "numpy"][i % 2])
        images.append(model_input(encoded, size))
        scenes.append(scene)
    return np.stack(images), scenes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--scenes", type=int, default=300)
    ap.add_argument("--seed", type=int, default=20261123)
    a = ap.parse_args()
    ck = torch.load(a.checkpoint, map_location="cpu")
    config = Config(**ck["config"])
    model, head = ShapesVLM(config), PatchHead(config.vit_width)
    model.load_state_dict(ck["model"])
    head.load_state_dict(ck["head"])
    images, scenes = heldout(a.scenes, a.seed, config.image_size)
    with torch.no_grad():
        patches = torch.cat([model.patch_features(normalize(torch.from_numpy(images[i:i + 50])))
                             for i in range(0, len(images), 50)])
        shape_of = head.shape(patches).argmax(-1)     # [scenes, patches]
        colour_of = head.colour(patches).argmax(-1)
    right = collections.Counter()
    total = collections.Counter()
    for i, scene in enumerate(scenes):
        owned_colour, owned_shape, _, _ = patch_targets(scene, config.grid, config.image_size)
        for o in scene.objects:
            shape, colour = 1 + SHAPES.index(o.shape), 1 + list(COLOURS).index(o.colour)
            # No two objects of a scene share colour and shape (the spec), so these are the object's patches.
            mine = ((owned_shape == shape) & (owned_colour == colour)).nonzero().flatten()
            total[o.size] += 1
            if len(mine) == 0:
                continue                                # owns no patch: counted as a miss
            for what, predicted, want in (("shape", shape_of[i, mine], shape), ("colour", colour_of[i, mine], colour)):
                votes = torch.bincount(predicted, minlength=8)
                votes[0] = 0                            # background votes do not name anything
                right[(o.size, what)] += int(votes.argmax().item() == want)
    print(f"{a.scenes} held-out scenes, checkpoint {a.checkpoint} (step {ck['step']})")
    print("| size | objects | shape | colour |\n| --- | ---: | ---: | ---: |")
    for size in ["small", "large"]:
        n = total[size]
        print(f"| {size} | {n} | {right[(size, 'shape')] / n:.3f} | {right[(size, 'colour')] / n:.3f} |")


if __name__ == "__main__":
    main()
