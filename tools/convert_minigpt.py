"""MiniGPT-v2, MiniGPT-4 (Vicuna v0, BLIP-2's Q-Former) and MiniGPT-4 (LLaMA-2) checkpoints -> a language-model
GGUF and an mmproj GGUF.

Inputs (formats.md §5): the EVA ViT-g weights (eva_vit_g.pth), the MiniGPT checkpoint (.pth with
`llama_proj`, for v2 also LoRA on q_proj/v_proj, maybe `ln_vision`), the LLaMA-2-chat weights (HF layout),
and a GGUF holding LLaMA-2's tokenizer (llama.cpp's ggml-vocab-llama-spm.gguf has it).

- EVA: fused qkv with bias [q_bias, 0, v_bias]; position embeddings interpolated (bicubic, as MiniGPT does
  at load) from the 224 grid to the model's; `ln_vision` stored as v.post_ln with its own eps (1e-5).
- LLM: LoRA merged in HF layout (W += alpha/r · B·A, alpha 16, r 64), then q/k rows permuted for
  llama.cpp's adjacent-pair RoPE.

- MiniGPT-4 as published (`--variant minigpt4`): the Q-Former, its 32 queries and `ln_vision` come from BLIP-2's
  checkpoint (`--qformer`: LAVIS's blip2_pretrained_flant5xxl.pth, or a Hugging Face `blip2` checkpoint, whose
  ViT then serves when --eva is not given), `llama_proj` from MiniGPT-4's (pretrained_minigpt4.pth /
  prerained_minigpt4_7b.pth), the language model is Vicuna v0 (HF layout, no LoRA). Layout: docs/mmproj-extensions.md.

Usage: convert_minigpt.py --eva EVA.pth --minigpt CKPT.pth --llama DIR_OR_FILE --vocab VOCAB.gguf
                          --variant v2|minigpt4|minigpt4-llama2 [--qformer BLIP2] --out-llm LLM.gguf --out-mmproj MMPROJ.gguf
"""
import sys
import argparse
import re

import numpy as np
import gguf

from gguf_vocab import copy_tokenizer
from mmproj import bicubic_resize_grid, write_mmproj

LORA_SCALE = 16 / 64
VARIANTS = {"v2": 448, "minigpt4": 224, "minigpt4-llama2": 224}
# Templates by text, so the engine detects them (ChatTemplate.detect): MiniGPT-v2's "<s>[INST] ... [/INST]";
# MiniGPT-4's conversations (conversation.py) open with their system text: CONV_VISION_Vicuna0's "###Human: ",
# CONV_VISION_LLama2's "<s>[INST] " with an empty separator.
TEMPLATE = "{% for m in messages %}{% if m['role'] == 'user' %}<s>[INST] {{ m['content'] }} [/INST]{% else %} {{ m['content'] }}</s>{% endif %}{% endfor %}"
MINIGPT4_SYSTEM = ("Give the following image: <Img>ImageContent</Img>. "
                   "You will be able to see the image once I provide it to you. Please answer my questions.")
TEMPLATES = {
    "v2": TEMPLATE,
    "minigpt4": "{{ '" + MINIGPT4_SYSTEM + "' }}{% for m in messages %}{% if m['role'] == 'user' %}###Human: {{ m['content'] }}"
                "{% else %}###Assistant: {{ m['content'] }}{% endif %}{% endfor %}###Assistant: ",
    "minigpt4-llama2": "{{ '" + MINIGPT4_SYSTEM + "' }}{% for m in messages %}{% if m['role'] == 'user' %}<s>[INST] {{ m['content'] }}"
                       "{% else %} [/INST] {{ m['content'] }}{% endif %}{% endfor %} [/INST] ",
}


class ConvertError(Exception):
    """A problem with the inputs, said in one line."""


def need(sd, key, what):
    if key not in sd:
        raise ConvertError(f"{what}: missing tensor '{key}'")
    return sd[key]


def eva_tensors(eva, image_size):
    """EVA ViT-g's tensors in mmproj names (the 39 blocks MiniGPT builds), positions interpolated to the grid."""
    for key in ["cls_token", "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias"]:
        need(eva, key, "EVA ViT-g")
    width = eva["cls_token"].shape[-1]
    patch = eva["patch_embed.proj.weight"].shape[-1]
    n_blocks = 1 + max((int(m.group(1)) for k in eva for m in [re.match(r"blocks\.(\d+)\.", k)] if m), default=-1)
    if n_blocks == 0:
        need(eva, "blocks.0.attn.qkv.weight", "EVA ViT-g")
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
    e = lambda key: need(eva, key, "EVA ViT-g")
    for i in range(depth):
        s, d = f"blocks.{i}.", f"v.blk.{i}."
        t[d + "ln1.weight"], t[d + "ln1.bias"] = e(s + "norm1.weight"), e(s + "norm1.bias")
        t[d + "attn_qkv.weight"] = e(s + "attn.qkv.weight")
        if s + "attn.qkv.bias" in eva:  # Hugging Face's blip2 stores the fused bias, [q_bias, 0, v_bias]
            t[d + "attn_qkv.bias"] = eva[s + "attn.qkv.bias"]
        else:
            q_bias, v_bias = e(s + "attn.q_bias"), e(s + "attn.v_bias")
            t[d + "attn_qkv.bias"] = np.concatenate([q_bias, np.zeros_like(q_bias), v_bias])
        t[d + "attn_out.weight"], t[d + "attn_out.bias"] = e(s + "attn.proj.weight"), e(s + "attn.proj.bias")
        t[d + "ln2.weight"], t[d + "ln2.bias"] = e(s + "norm2.weight"), e(s + "norm2.bias")
        t[d + "ffn_up.weight"], t[d + "ffn_up.bias"] = e(s + "mlp.fc1.weight"), e(s + "mlp.fc1.bias")
        t[d + "ffn_down.weight"], t[d + "ffn_down.bias"] = e(s + "mlp.fc2.weight"), e(s + "mlp.fc2.bias")
    return t, width, patch, depth


def convert_vision(eva, ckpt, out_path, image_size, eva_eps=1e-6, ln_vision_eps=1e-5, name="minigpt-v2"):
    t, width, patch, depth = eva_tensors(eva, image_size)
    # ln_vision is frozen and so not saved by MiniGPT's trainer for v2 / LLaMA-2: then it stays at its init.
    t["v.post_ln.weight"] = ckpt.get("ln_vision.weight", np.ones(width, np.float32))
    t["v.post_ln.bias"] = ckpt.get("ln_vision.bias", np.zeros(width, np.float32))
    t["mm.0.weight"], t["mm.0.bias"] = ckpt["llama_proj.weight"], ckpt["llama_proj.bias"]
    heads = width // 88 if width == 1408 else max(1, width // 64)
    write_mmproj(out_path, t, projector="minigptv2", image_size=image_size, patch_size=patch, width=width,
                 ff=t["v.blk.0.ffn_up.weight"].shape[0], blocks=depth, heads=heads, eps=eva_eps,
                 projection_dim=ckpt["llama_proj.weight"].shape[0], activation="gelu_erf",
                 post_ln_eps=ln_vision_eps, name=name)


QFORMER_PREFIX = "Qformer.bert."


def lavis_from_hf_blip2(sd):
    """A Hugging Face `blip2` checkpoint's keys -> LAVIS's (transformers' convert_blip_2_original_to_pytorch.py,
    read backwards): qformer.* -> Qformer.bert.*, `.attention.attention.` -> `.attention.self.`, the ViT's
    vision_model.* -> eva_vit_g.pth's names (its fused self_attn.qkv.bias kept as attn.qkv.bias),
    vision_model.post_layernorm -> ln_vision."""
    vit = [("embeddings.class_embedding", "cls_token"), ("embeddings.position_embedding", "pos_embed"),
           ("embeddings.patch_embedding.", "patch_embed.proj."), ("layer_norm1.", "norm1."), ("layer_norm2.", "norm2."),
           ("self_attn.projection.", "attn.proj."), ("self_attn.", "attn."), ("encoder.layers.", "blocks.")]
    qformer, eva = {}, {}
    for k, v in sd.items():
        if k == "query_tokens":
            qformer[k] = v
        elif k.startswith("qformer.layernorm."):
            qformer[QFORMER_PREFIX + "embeddings.LayerNorm." + k.rsplit(".", 1)[1]] = v
        elif k.startswith("qformer."):
            r = k[len("qformer."):].replace(".crossattention.attention.", ".crossattention.self.")
            qformer[QFORMER_PREFIX + r.replace(".attention.attention.", ".attention.self.")] = v
        elif k.startswith("vision_model.post_layernorm."):
            qformer["ln_vision." + k.rsplit(".", 1)[1]] = v
        elif k.startswith("vision_model."):
            r = k[len("vision_model."):]
            for old, new in vit:
                r = r.replace(old, new)
            eva[r] = v
    return qformer, eva


def qformer_checkpoint(sd, path):
    """BLIP-2's Q-Former in LAVIS's names, from either layout, and the ViT when the checkpoint holds one."""
    if "query_tokens" not in sd:
        raise ConvertError(f"{path}: not a BLIP-2 checkpoint (no query_tokens)")
    if any(k.startswith(QFORMER_PREFIX) for k in sd):
        # blip2_pretrained_flant5xxl.pth has no ViT; a whole BLIP-2 model's state dict would (visual_encoder.*).
        eva = {k[len("visual_encoder."):]: v for k, v in sd.items() if k.startswith("visual_encoder.")}
        return sd, eva
    if any(k.startswith("qformer.encoder.") for k in sd):
        return lavis_from_hf_blip2(sd)
    raise ConvertError(f"{path}: holds query_tokens but neither LAVIS's Qformer.bert.* nor Hugging Face's qformer.* keys")


def qformer_tensors(qf, llama_proj_width, what):
    """The Q-Former's query path in mmproj names (docs/mmproj-extensions.md); the text half is left out."""
    g = lambda key: need(qf, key, what)
    width = g("query_tokens").shape[-1]
    if llama_proj_width != width:
        raise ConvertError(f"llama_proj takes {llama_proj_width}-wide inputs but the Q-Former is {width} wide: not a pair")
    t = {"mm.qformer.query": g("query_tokens").reshape(-1, width),
         "mm.qformer.ln.weight": g(QFORMER_PREFIX + "embeddings.LayerNorm.weight"),
         "mm.qformer.ln.bias": g(QFORMER_PREFIX + "embeddings.LayerNorm.bias")}
    layers = 1 + max((int(m.group(1)) for k in qf for m in [re.match(r"Qformer\.bert\.encoder\.layer\.(\d+)\.", k)] if m),
                     default=-1)
    if layers == 0:
        g(QFORMER_PREFIX + "encoder.layer.0.attention.self.query.weight")
    cross = [i for i in range(layers) if QFORMER_PREFIX + f"encoder.layer.{i}.crossattention.self.query.weight" in qf]
    freq = cross[1] - cross[0] if len(cross) > 1 else layers
    if not cross or cross[0] != 0 or cross != list(range(0, layers, freq)):
        raise ConvertError(f"{what}: cross-attention in layers {cross}, not every k-th from layer 0")
    parts = [("attention.self.query", "attn_q"), ("attention.self.key", "attn_k"), ("attention.self.value", "attn_v"),
             ("attention.output.dense", "attn_out"), ("attention.output.LayerNorm", "attn_ln")]
    cross_parts = [("crossattention.self.query", "cross_q"), ("crossattention.self.key", "cross_k"),
                   ("crossattention.self.value", "cross_v"), ("crossattention.output.dense", "cross_out"),
                   ("crossattention.output.LayerNorm", "cross_ln")]
    ffn = [("intermediate_query.dense", "ffn_up"), ("output_query.dense", "ffn_down"), ("output_query.LayerNorm", "ffn_ln")]
    for i in range(layers):
        s, d = QFORMER_PREFIX + f"encoder.layer.{i}.", f"mm.qformer.blk.{i}."
        for src, dst in parts + (cross_parts if i in cross else []) + ffn:
            for kind in ["weight", "bias"]:
                t[d + dst + "." + kind] = g(s + src + "." + kind)
    heads = width // 64  # BERT-base's head width (LAVIS builds the Q-Former from bert-base-uncased's config)
    return t, {"clip.vision.qformer.block_count": layers, "clip.vision.qformer.head_count": heads,
               "clip.vision.qformer.layer_norm_epsilon": 1e-12, "clip.vision.qformer.cross_attention_freq": freq}


def convert_qformer_vision(eva, qformer, ckpt, out_path, *, what="BLIP-2 checkpoint", eva_eps=1e-6, ln_vision_eps=1e-5,
                           name="minigpt4"):
    """MiniGPT-4 (Vicuna v0): EVA at 224 px + ln_vision (from BLIP-2) + Q-Former + llama_proj -> `qformer` mmproj."""
    t, width, patch, depth = eva_tensors(eva, 224)
    t["v.post_ln.weight"] = need(qformer, "ln_vision.weight", what)
    t["v.post_ln.bias"] = need(qformer, "ln_vision.bias", what)
    proj = need(ckpt, "llama_proj.weight", "MiniGPT-4 checkpoint")
    q, keys = qformer_tensors(qformer, proj.shape[1], what)
    if q["mm.qformer.blk.0.cross_k.weight"].shape[1] != width:
        raise ConvertError(f"{what}: the Q-Former cross-attends to {q['mm.qformer.blk.0.cross_k.weight'].shape[1]}-wide tokens, the ViT is {width} wide")
    t.update(q)
    t["mm.0.weight"], t["mm.0.bias"] = proj, need(ckpt, "llama_proj.bias", "MiniGPT-4 checkpoint")
    write_mmproj(out_path, t, projector="qformer", image_size=224, patch_size=patch, width=width,
                 ff=t["v.blk.0.ffn_up.weight"].shape[0], blocks=depth, heads=width // 88 if width == 1408 else max(1, width // 64),
                 eps=eva_eps, projection_dim=proj.shape[0], activation="gelu_erf", post_ln_eps=ln_vision_eps, name=name,
                 extra=keys)


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
                rope_base=10000.0, name="minigpt-v2", weight_dtype=np.float16, template=TEMPLATE):
    kv_heads = kv_heads or heads
    sd = merge_lora(llama, ckpt)
    for key in ["model.embed_tokens.weight", "model.norm.weight", "model.layers.0.mlp.gate_proj.weight"]:
        need(sd, key, "language model")
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
    n_vocab = copy_tokenizer(w, vocab_path, skip=("tokenizer.chat_template",))
    w.add_chat_template(template)
    if embd.shape[0] == n_vocab + 1:
        # Vicuna v0's delta added a pad row (vocab_size 32001) that the tokenizer never produces.
        print(f"{name}: dropping row {n_vocab} of the embeddings and output (Vicuna v0's pad row: the vocabulary has {n_vocab} tokens)")
        embd = embd[:n_vocab]
        if "lm_head.weight" in sd:
            sd["lm_head.weight"] = sd["lm_head.weight"][:n_vocab]
    elif embd.shape[0] != n_vocab:
        raise ConvertError(f"the embeddings have {embd.shape[0]} rows but the vocabulary {n_vocab} tokens")

    def put(name, array, keep_f32=False):
        a = np.ascontiguousarray(array, dtype=np.float32)
        w.add_tensor(name, a if (keep_f32 or a.ndim == 1) else a.astype(weight_dtype))

    put("token_embd.weight", embd)
    for i in range(n_layers):
        s, d = f"model.layers.{i}.", f"blk.{i}."
        for part in ["input_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                     "post_attention_layernorm", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]:
            need(sd, s + part + ".weight", "language model")
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


def load_state_dict(path, keep=None):
    """A PyTorch checkpoint (.pth / .bin; LAVIS's and MiniGPT's {"model": ...} unwrapped) as float32 arrays, only the
    keys `keep` accepts (all without it), converted one by one (memory-mapped where torch can)."""
    import torch
    try:
        obj = torch.load(path, map_location="cpu", mmap=True)
    except (TypeError, RuntimeError):  # torch < 2.1, or a file in the legacy (non-zip) format
        obj = torch.load(path, map_location="cpu")
    obj = obj.get("model", obj) if isinstance(obj, dict) else obj
    return {k: v.float().numpy() for k, v in obj.items()
            if hasattr(v, "float") and v.is_floating_point() and (keep is None or keep(k))}


SAFETENSORS_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16}


def load_safetensors(path, keep=None):
    """A .safetensors file's floating-point tensors as float32 arrays (BF16 too, which NumPy lacks), read through a
    memory map so that only the kept ones are read; integer buffers are left out."""
    import json
    import struct
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size)
    out = {}
    for k, info in header.items():
        if k == "__metadata__" or (keep is not None and not keep(k)):
            continue
        begin, end = info["data_offsets"]
        raw = np.array(data[begin:end])
        if info["dtype"] == "BF16":
            a = (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
        elif info["dtype"] in SAFETENSORS_DTYPES:
            a = raw.view(SAFETENSORS_DTYPES[info["dtype"]]).astype(np.float32)
        else:
            continue
        out[k] = a.reshape(info["shape"])
    return out


def load_llama(path, keep=None):
    """A checkpoint file (.pth, .bin, .safetensors) or a Hugging Face folder of shards (safetensors preferred)."""
    import glob
    import os
    if os.path.isdir(path):
        sd = {}
        for f in sorted(glob.glob(os.path.join(path, "*.safetensors"))):
            sd.update(load_safetensors(f, keep))
        if sd:
            return sd
        for f in sorted(glob.glob(os.path.join(path, "*.bin"))):
            sd.update(load_state_dict(f, keep))
        if not sd:
            raise ConvertError(f"{path}: no *.safetensors or *.bin weights in the folder")
        return sd
    if path.endswith(".safetensors"):
        return load_safetensors(path, keep)
    return load_state_dict(path, keep)


# What convert_qformer_vision reads from BLIP-2's checkpoint, in both layouts (the language model's half is skipped:
# a Hugging Face blip2-flan-t5-xxl folder is mostly T5).
BLIP2_PREFIXES = ("query_tokens", "ln_vision.", "Qformer.bert.", "visual_encoder.", "qformer.", "vision_model.")


def llama_config(path):
    """heads, rms eps and context from a Hugging Face folder's config.json, when it has one."""
    import json
    import os
    f = os.path.join(path, "config.json") if os.path.isdir(path) else None
    if not f or not os.path.exists(f):
        return {}
    c = json.load(open(f))
    out = {"heads": c.get("num_attention_heads"), "kv_heads": c.get("num_key_value_heads"), "eps": c.get("rms_norm_eps"),
           "context": c.get("max_position_embeddings", c.get("max_sequence_length"))}  # LLaMA-1-era configs: the latter
    return {k: v for k, v in out.items() if v is not None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eva", help="eva_vit_g.pth (LAVIS); optional with a Hugging Face blip2 --qformer")
    ap.add_argument("--minigpt", required=True)
    ap.add_argument("--qformer", help="minigpt4: BLIP-2's checkpoint (blip2_pretrained_flant5xxl.pth, or a Hugging Face blip2 folder)")
    ap.add_argument("--llama", required=True)
    ap.add_argument("--vocab", required=True)
    ap.add_argument("--variant", choices=VARIANTS, default="v2")
    ap.add_argument("--heads", type=int, help="attention heads (default: config.json's, else 32)")
    ap.add_argument("--out-llm", required=True)
    ap.add_argument("--out-mmproj", required=True)
    a = ap.parse_args()
    try:
        ckpt = load_state_dict(a.minigpt)
        name = f"minigpt-{a.variant}"
        if a.variant == "minigpt4":
            if not a.qformer:
                raise ConvertError("--variant minigpt4 needs --qformer (BLIP-2's checkpoint)")
            qformer, hf_eva = qformer_checkpoint(load_llama(a.qformer, keep=lambda k: k.startswith(BLIP2_PREFIXES)), a.qformer)
            eva = load_state_dict(a.eva) if a.eva else hf_eva
            if not eva:
                raise ConvertError(f"{a.qformer} holds no ViT: give --eva eva_vit_g.pth")
            convert_qformer_vision(eva, qformer, ckpt, a.out_mmproj, what=a.qformer, name=name)
        else:
            if not a.eva:
                raise ConvertError(f"--variant {a.variant} needs --eva eva_vit_g.pth")
            convert_vision(load_state_dict(a.eva), ckpt, a.out_mmproj, VARIANTS[a.variant], name=name)
        config = llama_config(a.llama)
        if a.variant == "minigpt4":  # Vicuna v0 is LLaMA-1: rms eps 1e-6, 2048 positions, unless its config says otherwise
            options = {"eps": 1e-6, "context": 2048, **config}
        else:  # LLaMA-2-chat: eps 1e-5 and 4096 positions as before (early HF configs said 1e-6); heads from the config
            options = {k: v for k, v in config.items() if k in ("heads", "kv_heads")}
        options["heads"] = a.heads or options.get("heads", 32)
        convert_llm(load_llama(a.llama), ckpt, a.vocab, a.out_llm, name=name, template=TEMPLATES[a.variant], **options)
    except ConvertError as e:
        sys.exit(f"convert_minigpt: {e}")


if __name__ == "__main__":
    main()
