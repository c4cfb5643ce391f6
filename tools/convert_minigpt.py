"""MiniGPT-v2 and MiniGPT-4 (LLaMA-2) checkpoints -> a language-model GGUF and an mmproj GGUF.

Inputs (formats.md §5): the EVA ViT-g weights (eva_vit_g.pth), the MiniGPT checkpoint (.pth with
`llama_proj`, for v2 also LoRA on q_proj/v_proj, maybe `ln_vision`), the LLaMA-2-chat weights (HF layout),
and a GGUF holding LLaMA-2's tokenizer (llama.cpp's ggml-vocab-llama-spm.gguf has it).

- EVA: fused qkv with bias [q_bias, 0, v_bias]; position embeddings interpolated (bicubic, as MiniGPT does
  at load) from the 224 grid to the model's; `ln_vision` stored as v.post_ln with its own eps (1e-5).
- LLM: LoRA merged in HF layout (W += alpha/r · B·A, alpha 16, r 64), then q/k rows permuted for
  llama.cpp's adjacent-pair RoPE.

Usage: convert_minigpt.py --eva EVA.pth --minigpt CKPT.pth --llama DIR_OR_FILE --vocab VOCAB.gguf
                          --variant v2|minigpt4-llama2 --out-llm LLM.gguf --out-mmproj MMPROJ.gguf
"""
import argparse
import re

import numpy as np
import gguf

from gguf_vocab import copy_tokenizer
from mmproj import bicubic_resize_grid, write_mmproj

LORA_SCALE = 16 / 64
VARIANTS = {"v2": 448, "minigpt4-llama2": 224}
# Templates by text, so the engine detects them (ChatTemplate.detect): MiniGPT-v2's "<s>[INST] ... [/INST]".
TEMPLATE = "{% for m in messages %}{% if m['role'] == 'user' %}<s>[INST] {{ m['content'] }} [/INST]{% else %} {{ m['content'] }}</s>{% endif %}{% endfor %}"


def convert_vision(eva, ckpt, out_path, image_size, eva_eps=1e-6, ln_vision_eps=1e-5, name="minigpt-v2"):
    width = eva["cls_token"].shape[-1]
    patch = eva["patch_embed.proj.weight"].shape[-1]
    n_blocks = 1 + max(int(m.group(1)) for k in eva for m in [re.match(r"blocks\.(\d+)\.", k)] if m)
    # MiniGPT builds depth 39 and loads eva_vit_g.pth (40 blocks) with strict=False: the last block is unused.
    depth = min(n_blocks, 39)
    pos = eva["pos_embed"].reshape(-1, width)
    side = image_size // patch
    if pos.shape[0] != side * side + 1:
        old = int(round((pos.shape[0] - 1) ** 0.5))
        grid = bicubic_resize_grid(pos[1:].reshape(old, old, width), side).reshape(side * side, width)
        pos = np.concatenate([pos[:1], grid], axis=0)
    t = {
        "v.class_embd": eva["cls_token"].reshape(width),
        "v.patch_embd.weight": eva["patch_embed.proj.weight"],
        "v.patch_embd.bias": eva["patch_embed.proj.bias"],
        "v.position_embd.weight": pos,
    }
    for i in range(depth):
        s, d = f"blocks.{i}.", f"v.blk.{i}."
        t[d + "ln1.weight"], t[d + "ln1.bias"] = eva[s + "norm1.weight"], eva[s + "norm1.bias"]
        t[d + "attn_qkv.weight"] = eva[s + "attn.qkv.weight"]
        q_bias, v_bias = eva[s + "attn.q_bias"], eva[s + "attn.v_bias"]
        t[d + "attn_qkv.bias"] = np.concatenate([q_bias, np.zeros_like(q_bias), v_bias])
        t[d + "attn_out.weight"], t[d + "attn_out.bias"] = eva[s + "attn.proj.weight"], eva[s + "attn.proj.bias"]
        t[d + "ln2.weight"], t[d + "ln2.bias"] = eva[s + "norm2.weight"], eva[s + "norm2.bias"]
        t[d + "ffn_up.weight"], t[d + "ffn_up.bias"] = eva[s + "mlp.fc1.weight"], eva[s + "mlp.fc1.bias"]
        t[d + "ffn_down.weight"], t[d + "ffn_down.bias"] = eva[s + "mlp.fc2.weight"], eva[s + "mlp.fc2.bias"]
    # ln_vision is frozen and so not saved by MiniGPT's trainer for v2 / LLaMA-2: then it stays at its init.
    t["v.post_ln.weight"] = ckpt.get("ln_vision.weight", np.ones(width, np.float32))
    t["v.post_ln.bias"] = ckpt.get("ln_vision.bias", np.zeros(width, np.float32))
    t["mm.0.weight"], t["mm.0.bias"] = ckpt["llama_proj.weight"], ckpt["llama_proj.bias"]
    heads = width // 88 if width == 1408 else max(1, width // 64)
    write_mmproj(out_path, t, projector="minigptv2", image_size=image_size, patch_size=patch, width=width,
                 ff=t["v.blk.0.ffn_up.weight"].shape[0], blocks=depth, heads=heads, eps=eva_eps,
                 projection_dim=ckpt["llama_proj.weight"].shape[0], activation="gelu_erf",
                 post_ln_eps=ln_vision_eps, name=name)


def merge_lora(llama, ckpt):
    """W += alpha/r · B·A for every LoRA pair in the MiniGPT checkpoint (peft 0.2 or newer key names)."""
    merged = dict(llama)
    for k, a in ckpt.items():
        m = re.match(r".*layers\.(\d+)\.self_attn\.(q_proj|v_proj)\.lora_A(?:\.default)?\.weight$", k)
        if not m:
            continue
        b = ckpt[k.replace("lora_A", "lora_B")]
        target = f"model.layers.{m.group(1)}.self_attn.{m.group(2)}.weight"
        merged[target] = merged[target] + LORA_SCALE * (b @ a)
    return merged


def permute(w, heads):
    """HF rotate-half order -> llama.cpp adjacent pairs (convert_hf_to_gguf's LlamaModel.permute)."""
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def convert_llm(llama, ckpt, vocab_path, out_path, *, heads, kv_heads=None, eps=1e-5, context=4096,
                rope_base=10000.0, name="minigpt-v2", weight_dtype=np.float16):
    kv_heads = kv_heads or heads
    sd = merge_lora(llama, ckpt)
    n_layers = 1 + max(int(m.group(1)) for k in sd for m in [re.match(r"model\.layers\.(\d+)\.", k)] if m)
    embd = sd["model.embed_tokens.weight"]
    width = embd.shape[1]
    w = gguf.GGUFWriter(out_path, "llama")
    w.add_name(name)
    w.add_context_length(context)
    w.add_embedding_length(width)
    w.add_block_count(n_layers)
    w.add_feed_forward_length(sd["model.layers.0.mlp.gate_proj.weight"].shape[0])
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_layer_norm_rms_eps(eps)
    w.add_rope_dimension_count(width // heads)
    w.add_rope_freq_base(rope_base)
    copy_tokenizer(w, vocab_path, skip=("tokenizer.chat_template",))
    w.add_chat_template(TEMPLATE)

    def put(name, array, keep_f32=False):
        a = np.ascontiguousarray(array, dtype=np.float32)
        w.add_tensor(name, a if (keep_f32 or a.ndim == 1) else a.astype(weight_dtype))

    put("token_embd.weight", embd)
    for i in range(n_layers):
        s, d = f"model.layers.{i}.", f"blk.{i}."
        put(d + "attn_norm.weight", sd[s + "input_layernorm.weight"])
        put(d + "attn_q.weight", permute(sd[s + "self_attn.q_proj.weight"], heads))
        put(d + "attn_k.weight", permute(sd[s + "self_attn.k_proj.weight"], kv_heads))
        put(d + "attn_v.weight", sd[s + "self_attn.v_proj.weight"])
        put(d + "attn_output.weight", sd[s + "self_attn.o_proj.weight"])
        put(d + "ffn_norm.weight", sd[s + "post_attention_layernorm.weight"])
        put(d + "ffn_gate.weight", sd[s + "mlp.gate_proj.weight"])
        put(d + "ffn_up.weight", sd[s + "mlp.up_proj.weight"])
        put(d + "ffn_down.weight", sd[s + "mlp.down_proj.weight"])
    put("output_norm.weight", sd["model.norm.weight"])
    if "lm_head.weight" in sd:
        put("output.weight", sd["lm_head.weight"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def load_state_dict(path):
    import torch
    obj = torch.load(path, map_location="cpu")
    obj = obj.get("model", obj) if isinstance(obj, dict) else obj
    return {k: v.float().numpy() for k, v in obj.items() if hasattr(v, "float")}


def load_llama(path):
    import glob
    import os
    if os.path.isdir(path):
        from safetensors.numpy import load_file
        sd = {}
        for f in sorted(glob.glob(os.path.join(path, "*.safetensors"))):
            sd.update({k: v.astype(np.float32) for k, v in load_file(f).items()})
        if sd:
            return sd
        for f in sorted(glob.glob(os.path.join(path, "*.bin"))):
            sd.update(load_state_dict(f))
        return sd
    return load_state_dict(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eva", required=True)
    ap.add_argument("--minigpt", required=True)
    ap.add_argument("--llama", required=True)
    ap.add_argument("--vocab", required=True)
    ap.add_argument("--variant", choices=VARIANTS, default="v2")
    ap.add_argument("--heads", type=int, default=32)
    ap.add_argument("--out-llm", required=True)
    ap.add_argument("--out-mmproj", required=True)
    a = ap.parse_args()
    ckpt = load_state_dict(a.minigpt)
    convert_vision(load_state_dict(a.eva), ckpt, a.out_mmproj, VARIANTS[a.variant], name=f"minigpt-{a.variant}")
    convert_llm(load_llama(a.llama), ckpt, a.vocab, a.out_llm, heads=a.heads, name=f"minigpt-{a.variant}")


if __name__ == "__main__":
    main()
