"""Training data: a pool of rendered scenes (cached on disk) and conversations about them in MiniGPT-v2's
prompt format, tokenized exactly as Glimpse's engine tokenizes them (see ChatTemplate.minigptv2 and
PromptChunk.build in Sources/)."""
import json
import os
from multiprocessing import Pool

import numpy as np

import world
from render import Style, draw, model_input, sample_scene
from vocab import Tokenizer

BEFORE_IMAGE = "<s>[INST] <Img>"          # the first chunk; the image's tokens follow
CHAT_PARAPHRASES = ["describe the image", "what is in the image?", "what do you see?", "describe the picture",
                    "what is in this picture?", "tell me about the image"]
POOL_SEED = 1                             # the shipped model's pool; train.py's --seed default
TASK_WEIGHTS = {"vqa": 0.26, "caption": 0.09, "grounding": 0.17, "refer": 0.14, "detection": 0.14,
                "identify": 0.10, "chat": 0.10}


def pool_item(args):
    """Item index of the training pool (seed, index, size) -> (model input [size, size, 3] uint8, scene)."""
    seed, index, size = args
    rng = np.random.default_rng([seed, index])
    style = Style()
    side = int(rng.integers(224, 513)) if rng.random() < 0.7 else None
    scene = sample_scene(rng, style, side)
    encoded, _, _ = draw(scene, rng, style)
    for o in scene.objects:
        o.params = {}
    return model_input(encoded, size), scene


def _scene_record(scene):
    return {"side": int(scene.side), "objects": [
        {"shape": o.shape, "colour": o.colour, "size": o.size, "x1": int(o.x1), "y1": int(o.y1), "x2": int(o.x2),
         "y2": int(o.y2), "rgb": [int(v) for v in o.rgb]} for o in scene.objects]}


def _scene_from(record):
    objects = [world.Obj(**{**o, "rgb": tuple(o["rgb"])}) for o in record["objects"]]
    return world.Scene(record["side"], objects)


def scene_pool(count, seed, size, cache_dir, workers=2):
    """[count, size, size, 3] uint8 images and their scenes; rendered once, then read from the cache.
    The cache is an .npy file and JSON (not a pickle), so numpy 1 and 2 both read what either wrote."""
    stem = os.path.join(cache_dir, f"pool-{seed}-{count}-{size}")
    if os.path.exists(stem + ".json") and os.path.exists(stem + ".npy"):
        with open(stem + ".json") as f:
            scenes = [_scene_from(r) for r in json.load(f)]
        return np.load(stem + ".npy"), scenes
    jobs = [(seed, i, size) for i in range(count)]
    if workers > 1:
        with Pool(workers) as p:
            items = p.map(pool_item, jobs, chunksize=64)
    else:
        items = [pool_item(j) for j in jobs]
    images = np.stack([im for im, _ in items])
    scenes = [s for _, s in items]
    os.makedirs(cache_dir, exist_ok=True)
    with open(stem + ".tmp.npy", "wb") as f:
        np.save(f, images)
    with open(stem + ".json.tmp", "w") as f:
        json.dump([_scene_record(s) for s in scenes], f)
    os.replace(stem + ".tmp.npy", stem + ".npy")
    os.replace(stem + ".json.tmp", stem + ".json")
    return images, scenes


def pick(rng, items):
    return items[int(rng.integers(len(items)))]


def sample_turn(scene, rng, task=None):
    """(user text, answer) for one turn; the user text carries the task tag."""
    task = task or rng.choice(list(TASK_WEIGHTS), p=list(TASK_WEIGHTS.values()))
    if task == "chat":
        if rng.random() < 0.6:
            return pick(rng, CHAT_PARAPHRASES), world.describe(scene)
        return pick(rng, world.vqa_questions(scene))
    pairs = world.prompts(scene, task)
    if task == "vqa":
        kinds = {}
        for q, a in pairs:
            kind = world.kind_of_vqa(q) + (a if q.startswith("is there") else "")
            kinds.setdefault(kind, []).append((q, a))
        pairs = kinds[pick(rng, sorted(kinds))]
    instruction, answer = pick(rng, pairs)
    if task == "identify" and rng.random() < 0.5:  # people draw boxes a little off
        box = [min(100, max(0, v + int(rng.integers(-1, 2)))) for v in world.boxes_in(instruction)[0]]
        instruction = "what is this {" + "".join(f"<{v}>" for v in box) + "}"
    if rng.random() < 0.1:
        instruction = instruction[:1].upper() + instruction[1:]
    return f"[{task}] {instruction}", answer


class Conversations:
    """Token ids for training: `before` (same for all), and `after` with the positions whose loss counts."""

    def __init__(self, tokenizer=None):
        self.tok = tokenizer or Tokenizer()
        self.before = self.tok.encode(BEFORE_IMAGE)

    def encode_turn(self, index, user, answer):
        """(ids, loss mask) of one turn; the first follows the image."""
        p = self.tok.encode(("</Img> " if index == 0 else "<s>[INST] ") + user + " [/INST]")
        a = self.tok.encode(" " + answer + "</s>")
        return p + a, [0] * len(p) + [1] * len(a)

    def encode(self, turns):
        ids, mask = [], []
        for i, (user, answer) in enumerate(turns):
            turn_ids, turn_mask = self.encode_turn(i, user, answer)
            ids += turn_ids
            mask += turn_mask
        return ids, mask

    def sample(self, scene, rng, min_tokens=90):
        """Turns until the conversation is at least min_tokens long. A batch's rows are padded to the longest, so
        the decoder pays for the longest row anyway: with 1-3 turns a row, 61% of its positions were padding
        (measured over 50 batches of 32); rows filled to 90 tokens carry 2.3x the answer tokens for a quarter more
        decoder positions."""
        ids, mask, turn = [], [], 0
        while len(ids) < min_tokens:
            turn_ids, turn_mask = self.encode_turn(turn, *sample_turn(scene, rng))
            ids += turn_ids
            mask += turn_mask
            turn += 1
        return ids, mask
