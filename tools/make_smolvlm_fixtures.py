"""Reference outputs of SmolVLM (Idefics3) from transformers, on the random-weight checkpoint
tools/make_test_smolvlm.py writes, for Tests/Fixtures/smolvlm.json:

- the processor's tiling (rows, columns) of odd image sizes, and of the test image;
- the test image's views as the encoder sees them (a sample of each view's normalized pixels);
- the image embeddings (connector output): a sample of rows, and the value range;
- the prompt's token ids for a one-image question through the chat template;
- the first answer step's logits (top 20 and a sample), through Idefics3ForConditionalGeneration.

Usage: make_smolvlm_fixtures.py   (.venv-convert/bin/python, which scripts/setup makes;
       remakes the checkpoint in a temporary folder; needs the vocabularies tools/fetch_vocabs.py copies)
"""
import json
import os
import sys
import tempfile

import numpy as np
import torch
from PIL import Image, ImageOps

import make_test_smolvlm as mts

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODELS = os.environ.get("GLIMPSE_TEST_MODELS", os.path.expanduser("~/.cache/glimpse/test-models"))
IMAGE = os.path.join(ROOT, "Tests", "Fixtures", "images", "orientation6.jpg")   # 23x37 after EXIF: portrait
QUESTION = "What is in the image?"
ODD_SIZES = [(1, 1000), (1000, 1), (5000, 20), (20, 5000), (1, 1), (37, 23), (23, 37), (512, 512), (513, 512),
             (1920, 1080), (4000, 3000), (3000, 9000)]
ROWS = [0, 1, 63, 64, 65, 200, 383, 384, 447]


def main():
    from transformers import AutoProcessor, Idefics3ForConditionalGeneration
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        mts.write_checkpoint(tmp, os.path.join(MODELS, "vocab", "ggml-vocab-starcoder.gguf"))
        processor = AutoProcessor.from_pretrained(tmp)
        model = Idefics3ForConditionalGeneration.from_pretrained(tmp, torch_dtype=torch.float32).eval()
    ip = processor.image_processor

    odd = []
    for w, h in ODD_SIZES:
        out = ip(Image.new("RGB", (w, h), (90, 140, 200)), return_tensors="np", return_row_col_info=True,
                 input_data_format="channels_last")
        odd.append({"width": w, "height": h, "rows": int(out["rows"][0][0]), "cols": int(out["cols"][0][0]),
                    "views": int(out["pixel_values"].shape[1])})

    image = ImageOps.exif_transpose(Image.open(IMAGE)).convert("RGB")
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": QUESTION}]}]
    text = processor.apply_chat_template(messages, add_generation_prompt=True)
    inputs = processor(text=text, images=[image], return_tensors="pt")
    info = ip(image, return_tensors="np", return_row_col_info=True,
                 input_data_format="channels_last")
    rows, cols = int(info["rows"][0][0]), int(info["cols"][0][0])
    pixels = inputs["pixel_values"][0]                       # [views, 3, 512, 512]
    with torch.no_grad():
        hidden = model.model.vision_model(pixel_values=pixels,
                                          patch_attention_mask=torch.ones(pixels.shape[0], 32, 32, dtype=torch.bool))
        emb = model.model.connector(hidden.last_hidden_state).reshape(-1, mts.TEXT["hidden_size"]).numpy()
        logits = model(**inputs).logits[0, -1].numpy()
    top = np.argsort(-logits)[:20]
    views = pixels.numpy().reshape(pixels.shape[0], -1)
    fixture = {
        "question": QUESTION, "prompt_text": text,
        "odd_sizes": odd,
        "image": {"rows": rows, "cols": cols, "views": int(pixels.shape[0]),
                  "pixels_every": 9973, "pixels_sample": [v[::9973].tolist() for v in views],
                  "pixels_mean": [float(v.mean()) for v in views]},
        "input_ids": inputs["input_ids"][0].tolist(),
        "image_token_id": int(model.config.image_token_id),
        "embeddings": {"tokens": int(emb.shape[0]), "width": int(emb.shape[1]), "rows": ROWS,
                       "values": [emb[r].tolist() for r in ROWS], "min": float(emb.min()), "max": float(emb.max())},
        "first_step": {"top_ids": top.tolist(), "top_values": logits[top].tolist(), "every": 97,
                       "sample": logits[::97].tolist(), "min": float(logits.min()), "max": float(logits.max())},
    }
    with open(os.path.join(ROOT, "Tests", "Fixtures", "smolvlm.json"), "w") as f:
        json.dump(fixture, f)
    print("views", fixture["image"]["views"], "tokens", len(fixture["input_ids"]), "top", top[:3].tolist())


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
