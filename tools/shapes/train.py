"""Trains the built-in `shapes` model from scratch on CPU (a GPU is used when there is one), then exports it.

    python tools/shapes/train.py --out DIR [--minutes 110] [--vision-share 0.3] [--pool 16000] [--smoke]

Renders a pool of scenes (cached in ~/.cache/glimpse/shapes-data), then trains in two stages, as LLaVA trains
its projector and decoder on a frozen encoder:
1. vision (--vision-share of the time): the ViT alone, taught by the patch aid of vision_aid.py;
2. language (the rest): the ViT frozen, its features for every pool image (as drawn and mirrored) computed once,
   and the projector and decoder trained on conversations about the images (1-3 turns in MiniGPT-v2's format,
   fresh questions every time).
Why two stages: in one joint step the ViT's forward and backward passes took 0.64 s of 1.5 s (measured, batch 32,
2 cores), and the decoder spent the first half of a joint run reading features that were still changing.
Each stage runs AdamW with warmup and a cosine schedule over its share of --minutes (or its step cap, if
sooner). Writes DIR/shapes.pt (checkpoint, resumed if present) and the GGUF pair DIR/shapes.gguf +
DIR/shapes-mmproj.gguf.
"""
import argparse
import copy
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import Conversations, scene_pool  # noqa: E402
from model import Config, ShapesVLM, normalize  # noqa: E402
from vision_aid import PatchHead, aid_loss, patch_targets, stack_targets  # noqa: E402
from vocab import Tokenizer  # noqa: E402


def mirrored(scene):
    """The scene flipped left-right (shapes are symmetric; boxes and positions follow)."""
    s = copy.copy(scene)
    s.objects = []
    for o in scene.objects:
        m = copy.copy(o)
        m.x1, m.x2 = scene.side - 1 - o.x2, scene.side - 1 - o.x1
        s.objects.append(m)
    return s


COORDINATE_FREQUENCIES = 32


def coordinate_init(model, tok):
    """Box-coordinate tokens <0>..<100> start as sine-cosine features of their value (as positions in a
    transformer), mixed into the embedding space: neighbours are similar, yet the output layer (tied) can make a
    peak one value wide. With only a few low frequencies, the narrowest peak it could make spanned a dozen values
    and boxes stayed vague for a whole run (measured: 3 nats of loss per coordinate after 1575 steps)."""
    emb = model.llama_model.model.embed_tokens.weight
    ids = [tok.ids[f"<{i}>"] for i in range(101)]
    g = torch.Generator().manual_seed(0)
    k = torch.arange(1, COORDINATE_FREQUENCIES + 1, dtype=torch.float32)
    x = torch.arange(101, dtype=torch.float32)[:, None] / 100
    feats = torch.cat([torch.cos(math.pi * k * x), torch.sin(math.pi * k * x), torch.ones(101, 1)], dim=1)  # [101, 2K+1]
    basis = torch.randn(feats.shape[1], emb.shape[1], generator=g) * 0.02 * math.sqrt(8 / COORDINATE_FREQUENCIES)
    with torch.no_grad():
        emb[ids] = feats @ basis


# MARK: Stage 1, vision

def vision_batch(images, scenes, idx, rng, grid):
    """Normalized pixels [B, 3, S, S] and the patch aid's targets; half the images mirrored."""
    pix, targets = [], []
    for i in idx:
        img, scene = images[i], scenes[i]
        if rng.random() < 0.5:
            img, scene = img[:, ::-1], mirrored(scene)
        pix.append(np.ascontiguousarray(img))
        targets.append(patch_targets(scene, grid))
    return normalize(torch.from_numpy(np.stack(pix))), stack_targets(targets)


# MARK: Stage 2, language

@torch.no_grad()
def encode_pool(model, images, device, chunk=64):
    """[2, P, N, D] float16: the frozen encoder's patch features (after ln_vision) of every pool image, as drawn
    (index 0) and mirrored (index 1). 16000 images take 1.8 GB."""
    c = model.config
    out = torch.empty(2, len(images), c.grid * c.grid, c.vit_width, dtype=torch.float16)
    for flip in (0, 1):
        for s in range(0, len(images), chunk):
            block = images[s:s + chunk]
            block = np.ascontiguousarray(block[:, :, ::-1] if flip else block)
            out[flip, s:s + len(block)] = model.patch_features(normalize(torch.from_numpy(block)).to(device)).half().cpu()
    return out


def language_batch(features, scenes, idx, conv, rng):
    """Patch features [B, N, D], the shared prefix [B, Tb], conversations [B, Ta] (right-padded) and their labels
    (-100 where the loss does not count: prompts and padding)."""
    flips = rng.random(len(idx)) < 0.5
    patches = features[torch.from_numpy(flips.astype(np.int64)), torch.from_numpy(idx)].float()
    afters, masks = [], []
    for i, flip in zip(idx, flips):
        ids, mask = conv.sample(mirrored(scenes[i]) if flip else scenes[i], rng)
        afters.append(ids)
        masks.append(mask)
    t = max(len(a) for a in afters)
    after = torch.zeros(len(idx), t, dtype=torch.long)
    labels = torch.full((len(idx), t), -100, dtype=torch.long)
    for r, (a, m) in enumerate(zip(afters, masks)):
        after[r, :len(a)] = torch.tensor(a)
        labels[r, :len(a)] = torch.tensor([x if k else -100 for x, k in zip(a, m)])
    return patches, torch.tensor([conv.before] * len(idx)), after, labels


def answer_loss(model, patches, before, after, labels):
    """Cross-entropy of the answers' tokens; logits are computed only where an answer token is predicted."""
    h = model.llama_model.hidden(model.embed(patches, before, after))
    start = before.shape[1] + model.config.image_tokens - 1   # the state that predicts after[:, 0]
    h = h[:, start:start + after.shape[1]]
    keep = labels != -100
    return F.cross_entropy(h[keep] @ model.llama_model.model.embed_tokens.weight.t(), labels[keep])


# MARK: The loop

class Run:
    """Checkpointed progress: the stage, its step, optimizer and start, and the wall time spent so far."""

    def __init__(self, path, model, head, config):
        self.path, self.model, self.head, self.config = path, model, head, config
        self.stage, self.step, self.elapsed, self.stage_start, self.optimizer = "vision", 0, 0.0, 0.0, None

    def load(self):
        ck = torch.load(self.path, map_location="cpu")
        self.model.load_state_dict(ck["model"])
        self.head.load_state_dict(ck["head"])
        for k in ("stage", "step", "elapsed", "stage_start", "optimizer"):
            setattr(self, k, ck[k])
        print(f"resumed in stage {self.stage} at step {self.step}", flush=True)

    def save(self, opt=None):
        self.optimizer = opt.state_dict() if opt else None
        torch.save({"model": self.model.state_dict(), "head": self.head.state_dict(), "config": self.config.to_dict(),
                    "stage": self.stage, "step": self.step, "elapsed": self.elapsed, "stage_start": self.stage_start,
                    "optimizer": self.optimizer}, self.path + ".tmp")
        os.replace(self.path + ".tmp", self.path)

    def advance(self, stage):
        self.stage, self.step, self.stage_start, self.optimizer = stage, 0, self.elapsed, None
        self.save()


def train_stage(run, params, loss_fn, lr, max_steps, until_elapsed, log_name):
    """AdamW with warmup and a cosine decay to 5% over the stage, which ends after max_steps or when the run's
    elapsed time reaches until_elapsed seconds, whichever is sooner."""
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.98), weight_decay=0.05)
    if run.optimizer:
        opt.load_state_dict(run.optimizer)
    began, began_elapsed, smoothed, warmup = time.time(), run.elapsed, None, 150
    span = max(1.0, until_elapsed - run.stage_start)
    while True:
        run.elapsed = began_elapsed + time.time() - began
        progress = max(run.step / max_steps, (run.elapsed - run.stage_start) / span)
        if progress >= 1:
            break
        rate = lr * min(1, (run.step + 1) / warmup) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))
        for g in opt.param_groups:
            g["lr"] = rate
        loss = loss_fn()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        run.step += 1
        smoothed = loss.item() if smoothed is None else 0.95 * smoothed + 0.05 * loss.item()
        if run.step % 50 == 0 or max_steps < 50:
            print(f"{run.stage} step {run.step} {log_name} {smoothed:.4f} lr {rate:.2e} {run.elapsed / 60:.1f} min", flush=True)
        if run.step % 250 == 0:
            run.save(opt)
    run.save(opt)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=110, help="both stages together, the pool's features included")
    ap.add_argument("--vision-share", type=float, default=0.3, help="the vision stage's share of --minutes")
    ap.add_argument("--vision-steps", type=int, default=100000, help="the vision stage's step cap")
    ap.add_argument("--steps", type=int, default=100000, help="the language stage's step cap")
    ap.add_argument("--vision-from", help="a checkpoint whose encoder to keep: skips the vision stage")
    ap.add_argument("--pool", type=int, default=16000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--workers", type=int, default=min(os.cpu_count(), 16), help="processes rendering the pool")
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/glimpse/shapes-data"))
    ap.add_argument("--smoke", action="store_true", help="a few steps of each stage on a small pool (CI)")
    a = ap.parse_args()
    if a.smoke:
        a.vision_steps, a.steps, a.pool, a.batch = 2, 2, 64, 4
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    os.makedirs(a.out, exist_ok=True)

    tok = Tokenizer()
    conv = Conversations(tok)
    config = Config(vocab=len(tok.vocab))
    t0 = time.time()
    images, scenes = scene_pool(a.pool, a.seed, config.image_size, a.cache, workers=1 if a.smoke else a.workers)
    print(f"pool: {len(scenes)} scenes in {time.time() - t0:.0f} s", flush=True)

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model, head = ShapesVLM(config), PatchHead(config.vit_width)
    coordinate_init(model, tok)
    run = Run(os.path.join(a.out, "shapes.pt"), model, head, config)
    if os.path.exists(run.path) and not a.smoke:
        run.load()
    elif a.vision_from:
        kept = torch.load(a.vision_from, map_location="cpu")["model"]
        model.load_state_dict({k: v for k, v in kept.items() if k.startswith(("visual_encoder.", "ln_vision."))}, strict=False)
        run.advance("language")
    model.to(device)
    head.to(device)
    print(f"training on {device}", flush=True)
    total = 60 * a.minutes

    if run.stage == "vision":
        def vision_loss():
            pixels, t = vision_batch(images, scenes, rng.integers(len(scenes), size=a.batch), rng, config.grid)
            return aid_loss(head, model.patch_features(pixels.to(device)), {k: v.to(device) for k, v in t.items()})
        vision = list(model.visual_encoder.parameters()) + list(model.ln_vision.parameters()) + list(head.parameters())
        train_stage(run, vision, vision_loss, a.lr, a.vision_steps, a.vision_share * total, "aid loss")
        run.advance("language")

    if run.stage == "language":
        for p in list(model.visual_encoder.parameters()) + list(model.ln_vision.parameters()):
            p.requires_grad_(False)
        began = time.time()
        features = encode_pool(model, images, device)
        run.elapsed += time.time() - began
        print(f"encoded the pool in {time.time() - began:.0f} s", flush=True)

        def language_loss():
            batch = language_batch(features, scenes, rng.integers(len(scenes), size=a.batch), conv, rng)
            return answer_loss(model, *(t.to(device) for t in batch))
        language = list(model.llama_proj.parameters()) + list(model.llama_model.parameters())
        train_stage(run, language, language_loss, a.lr, a.steps, total, "answer loss")
        run.advance("done")
    print(f"trained in {run.elapsed / 60:.1f} min", flush=True)

    import export
    export.export(model.cpu(), tok, a.out)
    print(f"exported {a.out}/shapes.gguf and {a.out}/shapes-mmproj.gguf", flush=True)


if __name__ == "__main__":
    main()
