"""Scores the built-in model through the Swift engine on held-out scenes, as the spec's last section says.

Renders scenes with another seed and drawing parameters the training never used (Style.heldout(): image sides
of any value, JPEG quality 70-74, wider triangle/star/cross proportions), a third each by render.py's two
rasterizers and by OpenCV (render_opencv.py, which the training never uses), asks one question per task per scene
through `glimpse ask --batch` (greedy), and prints a table.

    python tools/shapes/evaluate.py [--scenes 120] [--glimpse .build/release/glimpse] [--model shapes]
                                    [--training-pool] [--require-bar]

--training-pool asks the same questions about the first scenes of the training pool instead, as the model saw them
in training: scores there no higher than on held-out scenes mean the model underfits rather than overfits.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import world  # noqa: E402
from data import POOL_SEED, pick, pool_item  # noqa: E402
from render import Style, draw, sample_scene  # noqa: E402

try:
    import render_opencv  # noqa: E402
except ImportError:
    sys.exit("evaluate.py draws a third of its scenes with OpenCV: run scripts/setup-train (python3-opencv), or "
             "scripts/setup-train --pypi-torch (opencv-python-headless)")

RENDERERS = ["pil", "numpy", "opencv"]

BAR = {"vqa": 0.95, "identify": 0.95, "refer": 0.90, "caption": 0.90, "grounding": 0.80, "detection": 0.90}
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def questions(scene, rng):
    """One question per task (three for [vqa], of different kinds)."""
    out = []
    for task in ["caption", "grounding", "refer", "detection", "identify"]:
        instruction, answer = pick(rng, world.prompts(scene, task))
        out.append((task, instruction, answer))
    kinds = collections.defaultdict(list)
    for q, a in world.vqa_questions(scene):
        kinds[world.kind_of_vqa(q) + (a if q.startswith("is there") else "")].append((q, a))
    for kind in rng.permutation(sorted(kinds))[:3]:
        q, a = pick(rng, kinds[kind])
        out.append(("vqa", q, a))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenes", type=int, default=120)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--glimpse", default=os.path.join(ROOT, ".build/release/glimpse"))
    ap.add_argument("--model", default="shapes")
    ap.add_argument("--keep", help="keep the rendered scenes and answers in this folder")
    ap.add_argument("--training-pool", action="store_true", help="the training pool's first scenes, as the model saw them")
    ap.add_argument("--require-bar", action="store_true", help="exit with status 1 unless every task meets the bar")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    style = Style.heldout()
    folder = a.keep or tempfile.mkdtemp(prefix="shapes-eval-")
    os.makedirs(folder, exist_ok=True)
    lines, truth = [], {}
    if a.training_pool:
        from model import Config  # torch only for this mode: the side the pool is drawn at is the model's
        side = Config().image_size
    for i in range(a.scenes):
        if a.training_pool:
            pixels, scene = pool_item((POOL_SEED, i, side))
            renderer, path = "pool", os.path.join(folder, f"pool{i:04d}.png")
            Image.fromarray(pixels).save(path)
        else:
            renderer = RENDERERS[i % len(RENDERERS)]
            scene = sample_scene(rng, style, side=int(rng.integers(224, 1025)))
            if renderer == "opencv":
                encoded, fmt, _ = render_opencv.draw(scene, rng)
            else:
                encoded, fmt, _ = draw(scene, rng, style, renderer=renderer)
            path = os.path.join(folder, f"scene{i:04d}.{'jpg' if fmt == 'jpeg' else 'png'}")
            with open(path, "wb") as f:
                f.write(encoded)
        for j, (task, instruction, answer) in enumerate(questions(scene, rng)):
            key = f"{i}-{j}"
            truth[key] = (task, scene, instruction, answer, renderer)
            lines.append(json.dumps({"id": key, "image": path, "prompt": f"[{task}] {instruction}"}))
    batch = os.path.join(folder, "batch.jsonl")
    with open(batch, "w") as f:
        f.write("\n".join(lines) + "\n")
    run = subprocess.run([a.glimpse, "ask", "--model", a.model, "--batch", batch, "--temp", "0", "-n", "120"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"glimpse failed: {run.stderr}")
    scores = collections.defaultdict(list)
    by_renderer = collections.defaultdict(list)
    misses = []
    for line in run.stdout.splitlines():
        r = json.loads(line)
        task, scene, instruction, answer, renderer = truth[r["id"]]
        s = world.score(task, scene, instruction, answer, r.get("text", ""))
        scores[task].append(s)
        by_renderer[(task, renderer)].append(s)
        if s < 1:
            misses.append(f"{r['id']} [{task}] {instruction} | want: {answer} | got: {r.get('text', r.get('error'))}")
    with open(os.path.join(folder, "misses.txt"), "w") as f:
        f.write("\n".join(misses) + "\n")
    which = "training-pool" if a.training_pool else "held-out"
    print(f"{a.scenes} {which} scenes, {len(lines)} questions, model {a.model}; misses in {folder}/misses.txt\n")
    renderers = [] if a.training_pool else RENDERERS
    print("| task | questions | score | " + "".join(f"{r} | " for r in renderers) + "bar |")
    print("| --- | ---: | ---: | " + "---: | " * len(renderers) + "---: |")
    ok = True
    for task in ["vqa", "identify", "refer", "caption", "grounding", "detection"]:
        v = scores[task]
        mean = sum(v) / len(v)
        per = "".join(f"{sum(by_renderer[(task, r)]) / max(1, len(by_renderer[(task, r)])):.3f} | " for r in renderers)
        label = "F1 " if task == "detection" else ""
        print(f"| `[{task}]` | {len(v)} | {label}{mean:.3f} | {per}{BAR[task]:.2f} |")
        ok &= mean >= BAR[task]
    print("\nall bars met" if ok else "\nsome bars not met")
    if a.require_bar and not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
