"""The training aid of the vision stage (not exported): linear heads that read, from each patch's features, what
the answers will need to know about the scene. Dense per-patch supervision teaches a from-scratch encoder to see
far sooner than the language loss alone would, and linear heads make the features hold each fact in a form the
decoder can read with one projection.

Per patch, about the object covering the patch centre (class 0 = background): its colour, shape, size, the 3x3
cell of its centre, and its box, each coordinate as one of the 101 values the answers use. Per patch too, facts of
the whole scene, which the encoder's attention must gather: how many objects, and how many of each shape.
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from world import COLOURS, SHAPES

SIZE_CLASSES = ("small", "large")
MAX_OBJECTS = 4


class PatchHead(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.colour = nn.Linear(width, len(COLOURS) + 1)
        self.shape = nn.Linear(width, len(SHAPES) + 1)
        self.size = nn.Linear(width, len(SIZE_CLASSES) + 1)
        self.cell = nn.Linear(width, 9 + 1)
        self.box = nn.Linear(width, 4 * 101)
        self.count = nn.Linear(width, MAX_OBJECTS)                         # 1..4 objects
        self.shape_counts = nn.Linear(width, len(SHAPES) * (MAX_OBJECTS + 1))  # 0..4 of each shape


def patch_targets(scene, grid):
    """A dict of LongTensors for one scene: per patch [N] colour, shape, size, cell; [N, 4] box; and the scene's
    count [1] and shape_counts [5]."""
    n = grid * grid
    t = {k: np.zeros(n, dtype=np.int64) for k in ("colour", "shape", "size", "cell")}
    box = np.zeros((n, 4), dtype=np.int64)
    centres = (np.arange(grid) + 0.5) * scene.side / grid
    colours = list(COLOURS)
    for o in scene.objects:
        rows = (o.y1 <= centres) & (centres <= o.y2 + 1)
        cols = (o.x1 <= centres) & (centres <= o.x2 + 1)
        covered = np.outer(rows, cols).reshape(-1)
        cx, cy = o.centre
        cell = 3 * min(2, int(3 * cy / scene.side)) + min(2, int(3 * cx / scene.side))
        t["colour"][covered] = 1 + colours.index(o.colour)
        t["shape"][covered] = 1 + SHAPES.index(o.shape)
        t["size"][covered] = 1 + SIZE_CLASSES.index(o.size)
        t["cell"][covered] = 1 + cell
        box[covered] = [math.floor(100 * v / scene.side) for v in (o.x1, o.y1, o.x2, o.y2)]
    out = {k: torch.from_numpy(v) for k, v in t.items()}
    out["box"] = torch.from_numpy(box)
    out["count"] = torch.tensor([len(scene.objects) - 1])
    out["shape_counts"] = torch.tensor([sum(o.shape == s for o in scene.objects) for s in SHAPES])
    return out


def stack_targets(targets):
    return {k: torch.stack([t[k] for t in targets]) for k in targets[0]}


def aid_loss(head, patches, t):
    """patches [B, N, D], targets from stack_targets -> one scalar (the sum of every head's cross-entropy)."""
    flat = patches.flatten(0, 1)
    loss = sum(F.cross_entropy(getattr(head, k)(flat), t[k].flatten()) for k in ("colour", "shape", "size", "cell"))
    b, n, _ = patches.shape
    loss = loss + F.cross_entropy(head.count(flat), t["count"].expand(b, n).flatten())
    shape_logits = head.shape_counts(flat).view(b * n * len(SHAPES), MAX_OBJECTS + 1)
    loss = loss + F.cross_entropy(shape_logits, t["shape_counts"][:, None, :].expand(b, n, len(SHAPES)).flatten())
    inside = t["shape"].flatten() > 0
    if inside.any():
        # Soft targets (a Gaussian one value wide): a box off by one is nearly right.
        logits = head.box(flat[inside]).view(-1, 101)
        values = torch.arange(101, dtype=torch.float32, device=logits.device)
        truth = t["box"].flatten(0, 1)[inside].reshape(-1, 1).float()
        soft = torch.exp(-0.5 * (values[None, :] - truth) ** 2)
        loss = loss + -(soft / soft.sum(-1, keepdim=True) * F.log_softmax(logits, -1)).sum(-1).mean()
    return loss
