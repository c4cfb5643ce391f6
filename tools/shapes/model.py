"""The built-in model in PyTorch: MiniGPT-v2's structure at a small scale, with MiniGPT's own parameter names so
the exported files go through the same converter as a real MiniGPT-v2 checkpoint (tools/convert_minigpt.py).

- `visual_encoder`: an EVA-style ViT (class token, learned positions, pre-norm blocks, fused qkv with q and v
  biases only, exact GELU);
- `ln_vision`, then every 4 consecutive patch tokens concatenated and mapped by `llama_proj` (MiniGPT-v2);
- `llama_model`: a LLaMA decoder in Hugging Face's layout (RMSNorm, rotate-half RoPE, SwiGLU, tied embeddings).
Works with torch 1.13 (Debian's python3-torch) and 2.x.
"""
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass
class Config:
    image_size: int = 192
    patch: int = 16
    vit_width: int = 192
    vit_layers: int = 6
    vit_heads: int = 3
    vit_ff: int = 768
    llm_width: int = 256
    llm_layers: int = 4
    llm_heads: int = 4
    llm_ff: int = 768
    vocab: int = 1358
    rope_base: float = 10000.0
    context: int = 2048

    @property
    def grid(self):
        return self.image_size // self.patch

    @property
    def image_tokens(self):
        return self.grid * self.grid // 4

    def to_dict(self):
        return asdict(self)


# Model sizes a run can train (train.py --size). "base" is the shipped model's. "small" has half the widths and
# about half the parameters and arithmetic a conversation; writing the conversations costs the same, so in the
# 2-core recipe's 108 minutes it saw 1.35 times as many and scored higher on identify, caption and grounding,
# level on the rest (docs/shapes-training.md).
SIZES = {
    "base": {},
    "small": {"vit_width": 128, "vit_heads": 2, "vit_ff": 512, "llm_width": 192, "llm_heads": 3, "llm_ff": 512},
}


def attention(q, k, v, causal):
    """[B, H, T, d] -> [B, H, T, d]."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if causal:
        t = q.shape[-2]
        scores = scores.masked_fill(torch.ones(t, t, dtype=torch.bool, device=q.device).triu(1), float("-inf"))
    return scores.softmax(-1) @ v


# MARK: Vision encoder (EVA names)

class EvaAttention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width, bias=False)   # [3D, D]
        self.q_bias = nn.Parameter(torch.zeros(width))       # [D]
        self.v_bias = nn.Parameter(torch.zeros(width))       # [D]
        self.proj = nn.Linear(width, width)                  # [D, D]

    def forward(self, x):
        b, t, d = x.shape
        bias = torch.cat([self.q_bias, torch.zeros_like(self.q_bias), self.v_bias])
        qkv = F.linear(x, self.qkv.weight, bias).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        y = attention(qkv[0], qkv[1], qkv[2], causal=False)
        return self.proj(y.transpose(1, 2).reshape(b, t, d))


class EvaMlp(nn.Module):
    def __init__(self, width, ff):
        super().__init__()
        self.fc1 = nn.Linear(width, ff)  # [F, D]
        self.fc2 = nn.Linear(ff, width)  # [D, F]

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class EvaBlock(nn.Module):
    def __init__(self, width, heads, ff):
        super().__init__()
        self.norm1 = nn.LayerNorm(width, eps=1e-6)
        self.attn = EvaAttention(width, heads)
        self.norm2 = nn.LayerNorm(width, eps=1e-6)
        self.mlp = EvaMlp(width, ff)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, patch, width):
        super().__init__()
        self.proj = nn.Conv2d(3, width, patch, patch)  # [D, 3, P, P]


def grid_positions(grid, width):
    """[1, 1+N, D] start values for the learned positions: 2D sine-cosine (half the channels for x, half for y;
    zeros for the class token). From random starts a from-scratch ViT spends most of a short run discovering
    where its patches are, and every box the model reads or writes depends on that."""
    quarter = width // 4
    freq = 1.0 / (100.0 ** (torch.arange(quarter, dtype=torch.float32) / quarter))
    ys, xs = torch.meshgrid(torch.arange(grid, dtype=torch.float32), torch.arange(grid, dtype=torch.float32), indexing="ij")
    parts = []
    for coord in (xs.flatten(), ys.flatten()):
        ang = coord[:, None] * freq[None, :]
        parts += [ang.sin(), ang.cos()]
    table = torch.cat(parts, dim=1)                               # [N, 4 * quarter]
    table = F.pad(table, (0, width - table.shape[1]))
    return torch.cat([torch.zeros(1, width), table], dim=0).unsqueeze(0)


class VisionEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c.vit_width
        self.patch_embed = PatchEmbed(c.patch, d)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))                       # [1, 1, D]
        self.pos_embed = nn.Parameter(grid_positions(c.grid, d))                   # [1, 1+N, D]
        self.blocks = nn.ModuleList(EvaBlock(d, c.vit_heads, c.vit_ff) for _ in range(c.vit_layers))

    def forward(self, pixels):
        x = self.patch_embed.proj(pixels).flatten(2).transpose(1, 2)   # [B, N, D] in raster order
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return x


# MARK: Language model (Hugging Face LLaMA names)

class RMSNorm(nn.Module):
    def __init__(self, width, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rope(x, base):
    """Rotate-half RoPE (HF layout; the converter permutes q/k rows into llama.cpp's adjacent pairs)."""
    t, d = x.shape[-2], x.shape[-1]
    inv = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.float32, device=x.device) / d))
    ang = torch.arange(t, dtype=torch.float32, device=x.device)[:, None] * inv[None, :]
    cos, sin = torch.cat([ang.cos(), ang.cos()], -1), torch.cat([ang.sin(), ang.sin()], -1)
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


class LlamaAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        w = c.llm_width
        self.heads, self.base = c.llm_heads, c.rope_base
        self.q_proj = nn.Linear(w, w, bias=False)  # [W, W]
        self.k_proj = nn.Linear(w, w, bias=False)  # [W, W]
        self.v_proj = nn.Linear(w, w, bias=False)  # [W, W]
        self.o_proj = nn.Linear(w, w, bias=False)  # [W, W]

    def forward(self, x):
        b, t, w = x.shape
        split = lambda y: y.view(b, t, self.heads, w // self.heads).transpose(1, 2)
        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        y = attention(rope(q, self.base), rope(k, self.base), v, causal=True)
        return self.o_proj(y.transpose(1, 2).reshape(b, t, w))


class LlamaMLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c.llm_width, c.llm_ff, bias=False)  # [F, W]
        self.up_proj = nn.Linear(c.llm_width, c.llm_ff, bias=False)    # [F, W]
        self.down_proj = nn.Linear(c.llm_ff, c.llm_width, bias=False)  # [W, F]

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c.llm_width)
        self.self_attn = LlamaAttention(c)
        self.post_attention_layernorm = RMSNorm(c.llm_width)
        self.mlp = LlamaMLP(c)

    def forward(self, x):
        x = x + self.self_attn(self.input_layernorm(x))
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c.vocab, c.llm_width)  # [V, W], tied with the output
        self.layers = nn.ModuleList(LlamaLayer(c) for _ in range(c.llm_layers))
        self.norm = RMSNorm(c.llm_width)


class LlamaForCausalLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.model = LlamaModel(c)

    def forward(self, embeds, only=None):
        """[B, T, W] -> logits [B, T, V], or [K, V] at the K positions where the [B, T] mask `only` is true (the
        training loss needs only the answers' positions, and the output layer is the decoder's widest matmul)."""
        x = embeds
        for layer in self.model.layers:
            x = layer(x)
        x = self.model.norm(x)
        return (x if only is None else x[only]) @ self.model.embed_tokens.weight.t()


# MARK: The whole model

class ShapesVLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.visual_encoder = VisionEncoder(c)
        self.ln_vision = nn.LayerNorm(c.vit_width, eps=1e-5)
        self.llama_proj = nn.Linear(4 * c.vit_width, c.llm_width)  # [W, 4D]
        self.llama_model = LlamaForCausalLM(c)
        self.apply(self._init)
        for name, p in self.named_parameters():
            if name.endswith(("proj.weight", "o_proj.weight", "down_proj.weight", "fc2.weight")) and "llama_proj" not in name:
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * max(c.vit_layers, c.llm_layers)))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def patch_features(self, pixels):
        """[B, 3, S, S] normalized -> [B, N, D]: ln_vision of the encoder's patch tokens (class token dropped)."""
        return self.ln_vision(self.visual_encoder(pixels))[:, 1:]

    def project(self, patches):
        """MiniGPT-v2's concat-4 projection: [B, N, D] -> [B, N/4, W]."""
        b, n, d = patches.shape
        return self.llama_proj(patches.reshape(b, n // 4, 4 * d))

    def encode_images(self, pixels):
        """[B, 3, S, S] normalized -> [B, N/4, W] image tokens (MiniGPT-v2's encode_img)."""
        return self.project(self.patch_features(pixels))

    def forward(self, pixels, before, after, return_patches=False, only=None):
        """Logits for [before tokens][image][after tokens]; before: [B, Tb], after: [B, Ta] (right-padded); with
        `only` ([B, Tb + image tokens + Ta] bool), just those positions' logits, [K, V]."""
        emb = self.llama_model.model.embed_tokens
        patches = self.patch_features(pixels)
        x = torch.cat([emb(before), self.project(patches), emb(after)], dim=1)
        logits = self.llama_model(x, only)
        return (logits, patches) if return_patches else logits


def normalize(images_uint8):
    """[B, S, S, 3] uint8 -> [B, 3, S, S] float, CLIP mean/std (Blip2ImageEvalProcessor)."""
    x = images_uint8.permute(0, 3, 1, 2).float() / 255
    mean = torch.tensor(CLIP_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std
