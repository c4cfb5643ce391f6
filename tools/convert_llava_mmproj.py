"""LLaVA-1.5 vision tower and projector -> an mmproj GGUF (projector type `mlp`).

Takes HF key names (`vision_tower.vision_model.*` / `vision_model.*` of CLIPVisionModel, and
`multi_modal_projector.linear_{1,2}.*` or LLaVA's `model.mm_projector.{0,2}.*`). The penultimate layer is the
feature layer (LLaVA's mm_vision_select_layer = -2): only the blocks before it are stored, and no post-norm,
which is exactly the computation LLaVA runs.

Usage: convert_llava_mmproj.py CHECKPOINT(.safetensors|.bin|.pth) OUT.gguf   (torch/safetensors to read)
"""
import re
import sys

import numpy as np

from mmproj import write_mmproj


CLIP_BLOCK_PARTS = [("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"), ("self_attn.v_proj", "attn_v"),
                    ("self_attn.out_proj", "attn_out"), ("layer_norm1", "ln1"), ("layer_norm2", "ln2"),
                    ("mlp.fc1", "ffn_up"), ("mlp.fc2", "ffn_down")]


def clip_tensors(sd, select_layer=-2, pre="vision_model."):
    """CLIPVisionModel's tower up to the feature layer in mmproj names (`v.*`, no post-norm): (tensors, blocks kept).
    `sd`: any mapping with the `vision_model.*` keys (its KeyError, or its own error, names a missing tensor)."""
    n_layers = 1 + max((int(m.group(1)) for k in sd for m in [re.match(re.escape(pre) + r"encoder\.layers\.(\d+)\.", k)] if m),
                       default=-1)
    keep = n_layers + select_layer + 1  # hidden_states[-2] = output of block n_layers-2 (index from 0)
    t = {
        "v.class_embd": sd[pre + "embeddings.class_embedding"],
        "v.patch_embd.weight": sd[pre + "embeddings.patch_embedding.weight"],
        "v.position_embd.weight": sd[pre + "embeddings.position_embedding.weight"],
        "v.pre_ln.weight": sd[pre + "pre_layrnorm.weight"],
        "v.pre_ln.bias": sd[pre + "pre_layrnorm.bias"],
    }
    for i in range(max(keep, 1)):  # no blocks at all: the first block's absence is the error
        s = f"{pre}encoder.layers.{i}."
        d = f"v.blk.{i}."
        for src, dst in CLIP_BLOCK_PARTS:
            t[d + dst + ".weight"] = sd[s + src + ".weight"]
            t[d + dst + ".bias"] = sd[s + src + ".bias"]
    return t, keep


def convert(sd, out_path, *, image_size=336, patch_size=14, heads=16, eps=1e-5, select_layer=-2, name="llava-1.5",
            extra=None, extra_tensors=None):
    sd = {re.sub(r"^(model\.)?(vision_tower\.)+", "", k): np.asarray(v, dtype=np.float32) for k, v in sd.items()}
    t, keep = clip_tensors(sd, select_layer)
    width = t["v.class_embd"].shape[0]
    proj = {k: v for k, v in sd.items() if "projector" in k}
    first = next(v for k, v in proj.items() if re.search(r"(linear_1|mm_projector\.0)\.weight$", k))
    first_b = next(v for k, v in proj.items() if re.search(r"(linear_1|mm_projector\.0)\.bias$", k))
    second = next(v for k, v in proj.items() if re.search(r"(linear_2|mm_projector\.2)\.weight$", k))
    second_b = next(v for k, v in proj.items() if re.search(r"(linear_2|mm_projector\.2)\.bias$", k))
    t.update({"mm.0.weight": first, "mm.0.bias": first_b, "mm.2.weight": second, "mm.2.bias": second_b})
    t.update(extra_tensors or {})
    ff = t["v.blk.0.ffn_up.weight"].shape[0]
    write_mmproj(out_path, t, projector="mlp", image_size=image_size, patch_size=patch_size, width=width, ff=ff,
                 blocks=keep, heads=heads, eps=eps, projection_dim=second.shape[0], activation="quick_gelu", name=name,
                 extra=extra)


def main():
    path, out = sys.argv[1], sys.argv[2]
    if path.endswith(".safetensors"):
        from safetensors.numpy import load_file
        sd = load_file(path)
    else:
        import torch
        sd = {k: v.float().numpy() for k, v in torch.load(path, map_location="cpu").items()}
    convert(sd, out)


if __name__ == "__main__":
    main()
