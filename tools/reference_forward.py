"""An independent float64 forward pass of a gemma3, qwen2 or llama GGUF in NumPy (weights dequantized by the gguf
package, no activation rounding, no fp16 KV cache): "exact math" for judging how far Glimpse and llama.cpp
each drift on quantized files.

Usage: reference_forward.py MODEL.gguf TOKEN_ID [TOKEN_ID ...]   -> top-10 next-token logits as JSON
"""
import json
import sys

import numpy as np
import gguf
from gguf.quants import dequantize


def load(path):
    r = gguf.GGUFReader(path)
    f = {k: v.contents() for k, v in r.fields.items() if not k.startswith("GGUF.") and not k.startswith("tokenizer.")}
    w = {}
    for t in r.tensors:
        shape = [int(x) for x in reversed(t.shape)]
        w[t.name] = dequantize(t.data, t.tensor_type).reshape(shape).astype(np.float64)
    return f, w


def rms(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope(x, pos, base, neox):
    # x: [T, H, D]
    d = x.shape[-1]
    inv = base ** (-np.arange(0, d // 2) * 2.0 / d)
    ang = pos[:, None] * inv[None, :]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    if neox:
        x0, x1 = x[..., : d // 2], x[..., d // 2:]
        return np.concatenate([x0 * c - x1 * s, x0 * s + x1 * c], axis=-1)
    x0, x1 = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2], out[..., 1::2] = x0 * c - x1 * s, x0 * s + x1 * c
    return out


def forward(f, w, ids):
    arch = f["general.architecture"]
    p = arch + "."
    n_embd, n_layer = f[p + "embedding_length"], f[p + "block_count"]
    n_head = f[p + "attention.head_count"]
    n_kv = f.get(p + "attention.head_count_kv", n_head)
    hd = f.get(p + "attention.key_length", n_embd // n_head)
    eps = f.get(p + "attention.layer_norm_rms_epsilon", 1e-6)
    gemma = arch == "gemma3"
    neox = arch in ("gemma3", "qwen2")
    T = len(ids)
    pos = np.arange(T, dtype=np.float64)
    x = w["token_embd.weight"][ids]
    if gemma:
        x = x * np.sqrt(n_embd)
    window = f.get(p + "attention.sliding_window", 0) if gemma else 0
    for il in range(n_layer):
        b = f"blk.{il}."
        local = gemma and window > 0 and il % 6 < 5
        base = 10000.0 if local else f.get(p + "rope.freq_base", 1e6 if gemma else 1e4)
        n = rms(x, w[b + "attn_norm.weight"], eps)
        q, k, v = (n @ w[b + f"attn_{x}.weight"].T + w.get(b + f"attn_{x}.bias", 0.0) for x in "qkv")
        q, k, v = q.reshape(T, n_head, hd), k.reshape(T, n_kv, hd), v.reshape(T, n_kv, hd)
        if gemma:
            q = rms(q, w[b + "attn_q_norm.weight"], eps)
            k = rms(k, w[b + "attn_k_norm.weight"], eps)
        q, k = rope(q, pos, base, neox), rope(k, pos, base, neox)
        g = n_head // n_kv
        out = np.zeros((T, n_head, hd))
        mask = np.tril(np.ones((T, T), dtype=bool))
        if local:
            mask &= (np.arange(T)[:, None] - np.arange(T)[None, :]) < window
        for h in range(n_head):
            s = q[:, h] @ k[:, h // g].T / np.sqrt(hd)
            s = np.where(mask, s, -np.inf)
            s = np.exp(s - s.max(axis=1, keepdims=True))
            s /= s.sum(axis=1, keepdims=True)
            out[:, h] = s @ v[:, h // g]
        a = out.reshape(T, n_head * hd) @ w[b + "attn_output.weight"].T
        if gemma:
            a = rms(a, w[b + "post_attention_norm.weight"], eps)
        x = x + a
        m = rms(x, w[b + "ffn_norm.weight"], eps)
        gt, up = m @ w[b + "ffn_gate.weight"].T, m @ w[b + "ffn_up.weight"].T
        if gemma:
            act = 0.5 * gt * (1 + np.tanh(0.7978845608 * (gt + 0.044715 * gt ** 3)))
        else:
            act = gt / (1 + np.exp(-gt))
        y = (act * up) @ w[b + "ffn_down.weight"].T
        if gemma:
            y = rms(y, w[b + "post_ffw_norm.weight"], eps)
        x = x + y
    last = rms(x[-1], w["output_norm.weight"], eps)
    out_w = w.get("output.weight", w["token_embd.weight"])
    return out_w @ last


if __name__ == "__main__":
    f, w = load(sys.argv[1])
    logits = forward(f, w, [int(t) for t in sys.argv[2:]])
    top = np.argsort(-logits)[:10]
    print(json.dumps({"top_ids": [int(t) for t in top], "top_logits": [float(logits[t]) for t in top]}))
