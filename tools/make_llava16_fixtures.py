"""Reference outputs of LLaVA-1.6's "anyres" image path from transformers (LlavaNextImageProcessor and
LlavaNextForConditionalGeneration's get_image_features + pack_image_features: tiles, unpadding, image_newline), on
the weights of test-llava16-mmproj.gguf (tools/make_test_vision.py: CLIP ViT-L/14-336 blocks with LLaVA's MLP), for
Tests/Fixtures/llava16.json: the chosen grid and token count for odd image sizes, a sample of each view's pixels
for the test image, and a sample of its packed embeddings.

Usage: make_llava16_fixtures.py   (.venv-convert/bin/python, which scripts/setup makes; reads the test models folder)
"""
import json
import os
import sys

import numpy as np
import torch
from PIL import Image, ImageOps

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODELS = os.environ.get("GLIMPSE_TEST_MODELS", os.path.expanduser("~/.cache/glimpse/test-models"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(MODELS, "llama.cpp-converter", "gguf-py"))   # the gguf reader, as setup unpacks it
import gguf   # noqa: E402
import make_test_vision as mtv   # noqa: E402
from mmproj import CLIP_MEAN, CLIP_STD   # noqa: E402
IMAGE = os.path.join(ROOT, "Tests", "Fixtures", "images", "orientation6.jpg")   # 23x37 after EXIF
PINPOINTS = [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]]
ODD_SIZES = [(1, 1000), (1000, 1), (5000, 20), (20, 5000), (1, 1), (37, 23), (23, 37), (336, 336), (337, 336),
             (1920, 1080), (640, 480), (500, 333), (333, 500), (1000, 999)]
ROWS = [0, 1, 575, 576, 577, 600, 700]


def newline_from_file():
    reader = gguf.GGUFReader(os.path.join(MODELS, "test-llava16-mmproj.gguf"))
    t = next(t for t in reader.tensors if t.name.endswith("image_newline"))
    return np.asarray(t.data, dtype=np.float32).reshape(-1)


def build():
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaNextConfig, LlavaNextForConditionalGeneration, \
        LlavaNextImageProcessor
    vision = CLIPVisionConfig(hidden_size=1024, intermediate_size=4096, num_hidden_layers=3, num_attention_heads=16,
                              image_size=336, patch_size=14, hidden_act="quick_gelu", layer_norm_eps=1e-5)
    text = LlamaConfig(hidden_size=mtv.LLM_WIDTH, intermediate_size=512, num_hidden_layers=1, num_attention_heads=4,
                       vocab_size=1000)
    config = LlavaNextConfig(vision_config=vision.to_dict(), text_config=text.to_dict(), image_grid_pinpoints=PINPOINTS,
                             vision_feature_layer=-2, vision_feature_select_strategy="default", projector_hidden_act="gelu",
                             image_token_index=999)
    model = LlavaNextForConditionalGeneration(config).eval()
    sd = mtv.llava_state_dict()
    weights = {}
    for k, v in sd.items():
        key = "vision_tower." + k if k.startswith("vision_model.") else k
        weights[key] = torch.from_numpy(v)
    weights["image_newline"] = torch.from_numpy(newline_from_file())
    own = model.state_dict()
    renamed = {}
    for k, v in weights.items():   # transformers versions differ in prefixes ("model." or none)
        match = [o for o in own if o == k or o.endswith("." + k)]
        assert len(match) == 1, (k, match[:3])
        renamed[match[0]] = v
    missing, unexpected = model.load_state_dict(renamed, strict=False)
    assert not unexpected, unexpected
    assert all(m.startswith(("language_model", "model.language_model", "lm_head")) or "position_ids" in m for m in missing), missing
    processor = LlavaNextImageProcessor(size={"shortest_edge": 336}, crop_size={"height": 336, "width": 336},
                                        image_grid_pinpoints=PINPOINTS, image_mean=CLIP_MEAN, image_std=CLIP_STD)
    return model, processor


def packed(model, processor, image):
    inputs = processor(image, return_tensors="pt", input_data_format="channels_last")
    with torch.no_grad():
        features = model.get_image_features(inputs["pixel_values"], inputs["image_sizes"], vision_feature_layer=-2,
                                            vision_feature_select_strategy="default")
        packed_features, _ = model.pack_image_features(features, inputs["image_sizes"], "default",
                                                       image_newline=model.image_newline)
    if isinstance(packed_features, (list, tuple)):   # a list per image in some versions, one tensor in others
        packed_features = packed_features[0]
    return inputs, packed_features.numpy()


def main():
    torch.set_num_threads(2)
    model, processor = build()
    odd = []
    for w, h in ODD_SIZES:
        inputs, emb = packed(model, processor, Image.new("RGB", (w, h), (90, 140, 200)))
        odd.append({"width": w, "height": h, "views": int(inputs["pixel_values"].shape[1]), "tokens": int(emb.shape[0])})
    image = ImageOps.exif_transpose(Image.open(IMAGE)).convert("RGB")
    inputs, emb = packed(model, processor, image)
    views = inputs["pixel_values"][0].numpy().reshape(inputs["pixel_values"].shape[1], -1)
    fixture = {
        "pinpoints": PINPOINTS, "odd_sizes": odd,
        "image": {"views": int(views.shape[0]), "pixels_every": 997, "pixels_sample": [v[::997].tolist() for v in views],
                  "pixels_mean": [float(v.mean()) for v in views]},
        "embeddings": {"tokens": int(emb.shape[0]), "width": int(emb.shape[1]), "rows": ROWS,
                       "values": [emb[r].tolist() for r in ROWS], "min": float(emb.min()), "max": float(emb.max())},
    }
    with open(os.path.join(ROOT, "Tests", "Fixtures", "llava16.json"), "w") as f:
        json.dump(fixture, f)
    print("views", fixture["image"]["views"], "tokens", emb.shape[0], [(o["width"], o["height"], o["tokens"]) for o in odd])


if __name__ == "__main__":
    main()
