"""Reference outputs of Qwen2-VL from transformers, on the random-weight checkpoint tools/make_test_qwen2vl.py
writes, for Tests/Fixtures/qwen2vl.json: smart_resize's grid for several image sizes (or the processor's refusal),
the test image's patches as the ViT reads them (a sample), the merger's image embeddings, the prompt's token ids
through the chat template, the multimodal rope positions (get_rope_index), and the first answer step's logits.

Usage: make_qwen2vl_fixtures.py [--qwen25]   (.venv-convert/bin/python, which scripts/setup makes; --qwen25 for
       Qwen2.5-VL's checkpoint, into Tests/Fixtures/qwen25vl.json)
"""
import json
import os
import sys
import tempfile

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_test_qwen2vl as mtq   # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODELS = os.environ.get("GLIMPSE_TEST_MODELS", os.path.expanduser("~/.cache/glimpse/test-models"))
IMAGE = os.path.join(ROOT, "Tests", "Fixtures", "images", "resize-source.png")   # 150x90
QUESTION = "What is in the image?"
SIZES = [(150, 90), (28, 28), (56, 56), (1000, 1000), (1920, 1080), (4000, 3000), (29, 1000), (27, 100), (6000, 20),
         (640, 480), (100, 41)]


def main():
    from transformers import AutoProcessor, Qwen2_5_VLForConditionalGeneration, Qwen2VLForConditionalGeneration
    qwen25 = "--qwen25" in sys.argv
    model_class = Qwen2_5_VLForConditionalGeneration if qwen25 else Qwen2VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        mtq.write_checkpoint(tmp, os.path.join(MODELS, "vocab", "ggml-vocab-qwen2.gguf"), qwen25)
        processor = AutoProcessor.from_pretrained(tmp)
        model = model_class.from_pretrained(tmp, torch_dtype=torch.float32,
                                                                attn_implementation="eager").eval()
    sizes = []
    for w, h in SIZES:
        try:
            rh, rw = smart_resize(h, w, factor=28, min_pixels=3136, max_pixels=4096 * 28 * 28)
            sizes.append({"width": w, "height": h, "resized_width": rw, "resized_height": rh})
        except ValueError as e:
            sizes.append({"width": w, "height": h, "refused": str(e)})
    image = Image.open(IMAGE).convert("RGB")
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": QUESTION}]}]
    text = processor.apply_chat_template(messages, add_generation_prompt=True)
    inputs = processor(text=[text], images=[image], return_tensors="pt")
    with torch.no_grad():
        emb = model.visual(inputs["pixel_values"], grid_thw=inputs["image_grid_thw"]).numpy()
        positions, _ = model.get_rope_index(inputs["input_ids"], inputs["image_grid_thw"], None,
                                            attention_mask=inputs["attention_mask"])
        logits = model(**inputs).logits[0, -1].numpy()
    patches = inputs["pixel_values"].numpy()
    top = np.argsort(-logits)[:20]
    fixture = {
        "question": QUESTION, "prompt_text": text, "sizes": sizes,
        "grid_thw": inputs["image_grid_thw"][0].tolist(),
        "patches": {"shape": list(patches.shape), "every": 101, "sample": patches.reshape(-1)[::101].tolist()},
        "embeddings": {"tokens": int(emb.shape[0]), "width": int(emb.shape[1]), "values": emb.tolist(),
                       "min": float(emb.min()), "max": float(emb.max())},
        "input_ids": inputs["input_ids"][0].tolist(), "image_token_id": 151655,
        "positions": positions[:, 0].tolist(),
        "first_step": {"top_ids": top.tolist(), "top_values": logits[top].tolist(), "every": 97,
                       "sample": logits[::97].tolist(), "min": float(logits.min()), "max": float(logits.max())},
    }
    with open(os.path.join(ROOT, "Tests", "Fixtures", "qwen25vl.json" if qwen25 else "qwen2vl.json"), "w") as f:
        json.dump(fixture, f)
    print("grid", fixture["grid_thw"], "tokens", len(fixture["input_ids"]), "top", top[:3].tolist(), sizes)


if __name__ == "__main__":
    main()
