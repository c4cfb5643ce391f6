"""Mini-Gemini (MGM) checkpoints (a Hugging Face folder as MGM's training saves it) -> a language-model GGUF in
llama.cpp's layout and an mmproj GGUF of projector type `mgm` (docs/mmproj-extensions.md, "Projector type `mgm`").

- mmproj: CLIP (`model.vision_tower.vision_tower.vision_model.*`) up to the feature layer as for `mlp`; the ConvNeXt
  trunk (`model.vision_tower_aux.vision_{stem,stages}.*`) as `hr.*`; the mining layers (`model.vlm_uni_{query,aux,
  val}_projector`) as `mm.mgm.*`; `model.mm_projector.{0,2}` as `mm.0` / `mm.2`. F16 weights, F32 norms and biases.
- language model: MGM-2B (`mgm_gemma`) as llama.cpp's `gemma` (norm weights stored +1, embeddings tied: an lm_head
  that differs from them is refused); MGM-7B/13B (Vicuna-1.5) and MGM-8B (LLaMA-3) (`mgm`) as `llama`, q/k rows
  permuted for llama.cpp's RoPE. tokenizer.chat_template is MGM's conversation as Jinja, marked
  `{# MGM conv_gemma #}`, `{# MGM conv_vicuna_v1 #}` or `{# MGM conv_llama_3 #}` (mgm/conversation.py).
- The towers: MGM runs the CLIP and ConvNeXt it loads from openai/clip-vit-large-patch14-336 and
  laion/CLIP-convnext_large_d_320.laion2B-s29B-b131K-ft-soup (both frozen in training, so the copies in the
  checkpoint, when it has them, are the same weights). `--clip DIR` / `--convnext FILE` take them from those
  checkpoints instead (HF CLIP's `vision_model.*`; open_clip's `visual.trunk.{stem,stages}.*`).

Usage: convert_mgm.py CHECKPOINT_DIR --out-llm LLM.gguf --out-mmproj MMPROJ.gguf [--vocab VOCAB.gguf]
                      [--clip CLIP_DIR] [--convnext open_clip_pytorch_model.bin] [--conv-mode gemma|vicuna_v1|llama_3]
       (weights: *.safetensors, through model.safetensors.index.json when there is one, or pytorch_model*.bin with
       torch; the vocabulary: --vocab, any GGUF with the model's tokenizer, or the folder's tokenizer.model when
       sentencepiece is installed)
"""
import argparse
import glob
import json
import os
import re
import struct
import sys

import numpy as np
import gguf

from convert_llava_mmproj import clip_tensors
from convert_minigpt import ConvertError, permute
from gguf_vocab import copy_tokenizer
from mmproj import write_mmproj

GEMMA_TYPES = ("mgm_gemma", "mini_gemini_gemma")
LLAMA_TYPES = ("mgm", "mini_gemini")
OTHER_TYPES = {"mgm_mixtral": "MGM-8x7B (Mixtral)", "mini_gemini_mixtral": "MGM-8x7B (Mixtral)",
               "mgm_mistral": "MGM on Mistral", "mini_gemini_mistral": "MGM on Mistral"}
CLIP_PREFIX = "model.vision_tower.vision_tower."
HR_PREFIX = "model.vision_tower_aux."
FUSION = "bilinear_concat"  # OpenCLIPVisionTower.backbone: stages upsampled bilinearly to stage 0 and concatenated

# ---------------------------------------------------------------------------------------------------------------
# Chat templates: MGM's Conversation.get_prompt for each, as Jinja. The prompt strings carry no BOS: MGM's
# tokenizer adds it (tokenizer_image_token keeps it once), as llama.cpp does from tokenizer.ggml.add_bos_token.

VICUNA_SYSTEM = ("A chat between a curious user and an artificial intelligence assistant. "
                 "The assistant gives helpful, detailed, and polite answers to the user's questions.")
LLAMA3_SYSTEM = ("You are a helpful language and vision assistant. You are able to understand the visual content "
                 "that the user provides, and assist the user with a variety of tasks using natural language.")
_SYSTEM = ("{% if messages and messages[0]['role'] == 'system' %}{% set system = messages[0]['content'] %}"
           "{% set turns = messages[1:] %}{% else %}{% set system = DEFAULT %}{% set turns = messages %}{% endif %}")
TEMPLATES = {
    # SeparatorStyle.GEMMA, sep "" and sep2 "<eos>": every turn "<start_of_turn>ROLE\nTEXT<end_of_turn>\n", answers
    # followed by "<eos>"; no system prompt (a system message, if any, opens the first user turn).
    "gemma": ("{# MGM conv_gemma #}" + _SYSTEM.replace("DEFAULT", "''") +
              "{% for m in turns %}"
              "{% if m['role'] == 'user' %}<start_of_turn>user\n{% if system and loop.first %}{{ system }}\n\n{% endif %}"
              "{{ m['content'] }}<end_of_turn>\n"
              "{% else %}<start_of_turn>model\n{{ m['content'] }}<end_of_turn>\n<eos>{% endif %}"
              "{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"),
    # SeparatorStyle.TWO, sep " " and sep2 "</s>": "SYSTEM USER: Q ASSISTANT: A</s>USER: ... ASSISTANT:".
    "vicuna_v1": ("{# MGM conv_vicuna_v1 #}" + _SYSTEM.replace("DEFAULT", '"' + VICUNA_SYSTEM + '"') + "{{ system }} "
                  "{% for m in turns %}"
                  "{% if m['role'] == 'user' %}USER: {{ m['content'] }} "
                  "{% else %}ASSISTANT: {{ m['content'] }}</s>{% endif %}"
                  "{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}"),
    # SeparatorStyle.LLAMA_3: system (with its header) + "<|eot_id|>", then ROLE + TEXT + "<|eot_id|>"; MGM's
    # assistant role string is the *system* header, and so is the generation prompt.
    "llama_3": ("{# MGM conv_llama_3 #}" + _SYSTEM.replace("DEFAULT", "'" + LLAMA3_SYSTEM + "'") +
                "<|start_header_id|>system<|end_header_id|>\n\n{{ system }}<|eot_id|>"
                "{% for m in turns %}"
                "{% if m['role'] == 'user' %}<|start_header_id|>user<|end_header_id|>\n\n{{ m['content'] }}<|eot_id|>"
                "{% else %}<|start_header_id|>system<|end_header_id|>\n\n{{ m['content'] }}<|eot_id|>{% endif %}"
                "{% endfor %}{% if add_generation_prompt %}<|start_header_id|>system<|end_header_id|>\n\n{% endif %}"),
}


def conv_mode_for(config):
    """MGM's CLI picks by the model's name ('2b' -> gemma, else vicuna_v1; MGM-8B is run with --conv-mode llama_3):
    here by the config: Gemma -> gemma, LLaMA-3's vocabulary (128256) -> llama_3, else vicuna_v1."""
    if config.get("model_type") in GEMMA_TYPES:
        return "gemma"
    if config.get("vocab_size") == 128256:
        return "llama_3"
    return "vicuna_v1"


# ---------------------------------------------------------------------------------------------------------------
# Reading checkpoints tensor by tensor.

SAFETENSORS_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16}


class Tensors:
    """Named float32 arrays read on demand; a missing one is a ConvertError naming it. Built from a checkpoint
    folder or file (`open`), or from a dict of arrays (`Tensors(d)`); `alias` adds another source's tensors under
    new names (later sources win)."""

    def __init__(self, arrays=None, what="checkpoint"):
        self.what = what
        self.loaders = {k: (lambda v=v: np.asarray(v, dtype=np.float32)) for k, v in (arrays or {}).items()}
        self.shapes = {k: tuple(np.shape(v)) for k, v in (arrays or {}).items()}

    @classmethod
    def open(cls, path):
        t = cls(what=path)
        if os.path.isdir(path):
            index = os.path.join(path, "model.safetensors.index.json")
            if os.path.exists(index):
                files = sorted({os.path.join(path, f) for f in json.load(open(index))["weight_map"].values()})
            else:
                files = sorted(glob.glob(os.path.join(path, "*.safetensors")))
            if not files:
                bins = os.path.join(path, "pytorch_model.bin.index.json")
                files = (sorted({os.path.join(path, f) for f in json.load(open(bins))["weight_map"].values()})
                         if os.path.exists(bins) else sorted(glob.glob(os.path.join(path, "*.bin"))))
            if not files:
                raise ConvertError(f"{path}: no *.safetensors or *.bin weights in the folder")
        elif os.path.exists(path):
            files = [path]
        else:
            raise ConvertError(f"{path}: no such file or folder")
        for f in files:
            if not os.path.exists(f):
                raise ConvertError(f"{f}: named by the folder's index but missing")
            t._add_safetensors(f) if f.endswith(".safetensors") else t._add_torch(f)
        return t

    def _add_safetensors(self, path):
        with open(path, "rb") as f:
            size = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(size))
        base = 8 + size
        for k, info in header.items():
            if k == "__metadata__" or info["dtype"] not in ("BF16", *SAFETENSORS_DTYPES):
                continue

            def load(info=info):
                begin, end = info["data_offsets"]
                raw = np.fromfile(path, dtype=np.uint8, count=end - begin, offset=base + begin)
                if info["dtype"] == "BF16":
                    a = (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
                else:
                    a = raw.view(SAFETENSORS_DTYPES[info["dtype"]]).astype(np.float32)
                return a.reshape(info["shape"])
            self.loaders[k], self.shapes[k] = load, tuple(info["shape"])

    def _add_torch(self, path):
        try:
            import torch
        except ImportError:
            raise ConvertError(f"{path}: reading PyTorch .bin weights needs torch (pip install torch), or give safetensors")
        try:
            obj = torch.load(path, map_location="cpu", mmap=True)
        except (TypeError, RuntimeError):  # torch < 2.1, or the legacy (non-zip) format
            obj = torch.load(path, map_location="cpu")
        obj = obj.get("state_dict", obj.get("model", obj)) if isinstance(obj, dict) else obj
        for k, v in obj.items():
            if hasattr(v, "is_floating_point") and v.is_floating_point():
                self.loaders[k], self.shapes[k] = (lambda v=v: v.float().numpy()), tuple(v.shape)

    def alias(self, other, rename):
        """other's tensors whose `rename(key)` is not None, under that name."""
        for k in list(other.loaders):
            new = rename(k)
            if new is not None:
                self.loaders[new], self.shapes[new] = other.loaders[k], other.shapes[k]

    def __contains__(self, key):
        return key in self.loaders

    def __iter__(self):
        return iter(self.loaders)

    def keys(self):
        return self.loaders.keys()

    def shape(self, key):
        self.need(key)
        return self.shapes[key]

    def need(self, key):
        if key not in self.loaders:
            raise ConvertError(f"{self.what}: missing tensor '{key}'")

    def __getitem__(self, key):
        self.need(key)
        return self.loaders[key]()


class Prefixed:
    """A view of `Tensors` under a prefix, for code that reads unprefixed names (clip_tensors)."""

    def __init__(self, tensors, prefix):
        self.t, self.prefix = tensors, prefix

    def __iter__(self):
        return (k[len(self.prefix):] for k in self.t if k.startswith(self.prefix))

    def __getitem__(self, key):
        return self.t[self.prefix + key]


# ---------------------------------------------------------------------------------------------------------------
# The mmproj.

def count(t, pattern):
    """1 + the largest index that `pattern` (one group) finds in the tensors' names, 0 when none."""
    return 1 + max((int(m.group(1)) for k in t for m in [re.match(pattern, k)] if m), default=-1)


def convnext_tensors(t):
    """The ConvNeXt trunk (timm's stem and stages, as MGM keeps them) in mmproj names: (tensors, widths, depths)."""
    p = HR_PREFIX
    out = {"hr.stem.conv.weight": t[p + "vision_stem.0.weight"], "hr.stem.conv.bias": t[p + "vision_stem.0.bias"],
           "hr.stem.ln.weight": t[p + "vision_stem.1.weight"], "hr.stem.ln.bias": t[p + "vision_stem.1.bias"]}
    stages = count(t, re.escape(p) + r"vision_stages\.(\d+)\.")
    if stages != 4:
        t.need(p + f"vision_stages.{stages}.blocks.0.conv_dw.weight")  # names the first stage missing
        raise ConvertError(f"{t.what}: the ConvNeXt has {stages} stages, MGM's has 4")
    widths, depths = [out["hr.stem.conv.weight"].shape[0]], []
    for s in range(stages):
        src, dst = f"{p}vision_stages.{s}.", f"hr.s.{s}."
        if s > 0:
            for i, part in [(0, "ln"), (1, "conv")]:
                for kind in ["weight", "bias"]:
                    out[f"{dst}down.{part}.{kind}"] = t[f"{src}downsample.{i}.{kind}"]
            widths.append(out[dst + "down.conv.weight"].shape[0])
        depth = count(t, re.escape(src) + r"blocks\.(\d+)\.")
        for b in range(max(depth, 1)):
            s_b, d_b = f"{src}blocks.{b}.", f"{dst}blk.{b}."
            for a, c in [("conv_dw", "dw"), ("norm", "ln"), ("mlp.fc1", "fc1"), ("mlp.fc2", "fc2")]:
                out[d_b + c + ".weight"], out[d_b + c + ".bias"] = t[s_b + a + ".weight"], t[s_b + a + ".bias"]
            # timm's layer scale; a ConvNeXt built without one (ls_init_value None) scales by 1.
            out[d_b + "gamma"] = t[s_b + "gamma"] if s_b + "gamma" in t else np.ones(widths[-1], np.float32)
        depths.append(depth)
    return out, widths, depths


def mining_tensors(t):
    out = {}
    for src, dst in [("vlm_uni_query_projector", "query"), ("vlm_uni_aux_projector", "key"), ("vlm_uni_val_projector", "value")]:
        for kind in ["weight", "bias"]:
            out[f"mm.mgm.{dst}.ln.{kind}"] = t[f"model.{src}.0.{kind}"]
            out[f"mm.mgm.{dst}.{kind}"] = t[f"model.{src}.1.{kind}"]
    for i in (0, 2):
        for kind in ["weight", "bias"]:
            out[f"mm.{i}.{kind}"] = t[f"model.mm_projector.{i}.{kind}"]
    return out


def check_towers(t, config):
    if not any(k.startswith(CLIP_PREFIX) for k in t) or not any(k.startswith(HR_PREFIX) for k in t):
        which = " and ".join(n for n, p in [("CLIP (model.vision_tower.*)", CLIP_PREFIX),
                                             ("ConvNeXt (model.vision_tower_aux.*)", HR_PREFIX)]
                             if not any(k.startswith(p) for k in t))
        raise ConvertError(f"{t.what}: the checkpoint lacks the vision towers ({which}); MGM loads them from "
                           "openai/clip-vit-large-patch14-336 and laion/CLIP-convnext_large_d_320.laion2B-s29B-b131K-ft-soup: "
                           "give --clip CLIP_DIR and --convnext open_clip_pytorch_model.bin")


def write_mgm_mmproj(t, out_path, *, image_size_aux, image_grid=1, image_global=False, select_layer=-2, clip_heads=None,
                     clip_eps=1e-5, clip_activation="quick_gelu", fusion=FUSION, name="mgm"):
    """Every tensor read (a missing one named) before the file is written."""
    v, blocks = clip_tensors(Prefixed(t, CLIP_PREFIX), select_layer)
    if blocks < 1:
        raise ConvertError(f"{t.what}: feature layer {select_layer} leaves no CLIP block to run")
    hr, widths, depths = convnext_tensors(t)
    mm = mining_tensors(t)
    width = v["v.class_embd"].shape[0]
    patch = v["v.patch_embd.weight"].shape[-1]
    side = int(round((v["v.position_embd.weight"].shape[0] - 1) ** 0.5))
    if mm["mm.mgm.query.weight"].shape != (width, width) or mm["mm.mgm.key.weight"].shape != (width, sum(widths)):
        raise ConvertError(f"{t.what}: the mining layers map {mm['mm.mgm.key.weight'].shape[1]}-wide HR features and "
                           f"{mm['mm.mgm.query.weight'].shape[1]}-wide CLIP tokens, the towers give {sum(widths)} and {width}")
    tensors = {**v, **hr, **mm}
    extra = {"clip.vision.mgm.image_size_aux": int(image_size_aux), "clip.vision.mgm.image_grid": int(image_grid),
             "clip.vision.mgm.image_global": bool(image_global), "clip.vision.mgm.fusion": fusion,
             "clip.vision.mgm.layer_norm_epsilon": 1e-5,
             "clip.vision.convnext.block_counts": np.array(depths, np.uint32),
             "clip.vision.convnext.widths": np.array(widths, np.uint32),
             "clip.vision.convnext.layer_norm_epsilon": 1e-6}
    write_mmproj(out_path, tensors, projector="mgm", image_size=side * patch, patch_size=patch, width=width,
                 ff=v["v.blk.0.ffn_up.weight"].shape[0], blocks=blocks, heads=clip_heads or width // 64, eps=clip_eps,
                 projection_dim=mm["mm.2.weight"].shape[0], activation=clip_activation, name=name, extra=extra)


# ---------------------------------------------------------------------------------------------------------------
# The language model.

LAYER_PARTS = ["input_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
               "post_attention_layernorm", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
GGUF_NAMES = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
              "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output", "post_attention_layernorm": "ffn_norm",
              "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}


def check_llm(t, arch):
    """Every tensor the decoder needs is there (named if not); for gemma the lm_head is the embeddings. -> layers."""
    for key in ["model.embed_tokens.weight", "model.norm.weight"]:
        t.need(key)
    layers = count(t, r"model\.layers\.(\d+)\.")
    for i in range(max(layers, 1)):
        for part in LAYER_PARTS:
            t.need(f"model.layers.{i}.{part}.weight")
    if arch == "gemma" and "lm_head.weight" in t:
        if not np.array_equal(t["lm_head.weight"], t["model.embed_tokens.weight"]):
            raise ConvertError(f"{t.what}: lm_head.weight differs from model.embed_tokens.weight (an untied lm_head): "
                               "llama.cpp's gemma ties them, so this checkpoint cannot be written as gemma")
    return layers


def check_vocab(vocab, folder):
    """Where the tokenizer comes from: ("gguf", path) or ("spm", tokenizer.model); refused in one line if nowhere."""
    if vocab:
        if not os.path.exists(vocab):
            raise ConvertError(f"{vocab}: no such vocabulary file")
        return "gguf", vocab
    model = os.path.join(folder, "tokenizer.model") if folder and os.path.isdir(folder) else None
    if model and os.path.exists(model):
        try:
            import sentencepiece  # noqa: F401
        except ImportError:
            raise ConvertError(f"{model}: reading it needs sentencepiece (pip install sentencepiece); or pass --vocab VOCAB.gguf")
        return "spm", model
    raise ConvertError(f"{folder}: no tokenizer.model (LLaMA-3's tokenizer.json is not read here): pass --vocab VOCAB.gguf, "
                       "a GGUF with the model's tokenizer")


def vocab_writer(w, config, vocab, folder):
    """The tokenizer.* keys, from --vocab or the folder's tokenizer.model; the number of tokens."""
    kind, path = check_vocab(vocab, folder)
    if kind == "gguf":
        return copy_tokenizer(w, path, skip=("tokenizer.chat_template",))
    return spm_vocab(w, path, config)


def spm_vocab(w, path, config):
    """A SentencePiece tokenizer.model as llama.cpp's converter writes it (tokens, scores, types, special ids)."""
    from sentencepiece import SentencePieceProcessor
    sp = SentencePieceProcessor()
    sp.LoadFromFile(path)
    n = sp.vocab_size()
    tokens, scores, types = [], [], []
    for i in range(n):
        piece = sp.IdToPiece(i)
        kind = gguf.TokenType.NORMAL
        if sp.IsUnknown(i):
            kind = gguf.TokenType.UNKNOWN
        elif sp.IsControl(i):
            kind = gguf.TokenType.CONTROL
        elif sp.IsUnused(i):
            kind = gguf.TokenType.UNUSED
        elif sp.IsByte(i):
            kind = gguf.TokenType.BYTE
        tokens.append(piece.encode("utf-8"))
        scores.append(sp.GetScore(i))
        types.append(kind)
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    for key, setter in [("bos_token_id", w.add_bos_token_id), ("eos_token_id", w.add_eos_token_id),
                        ("pad_token_id", w.add_pad_token_id)]:
        if isinstance(config.get(key), int) and config[key] >= 0:
            setter(config[key])
    if sp.unk_id() >= 0:
        w.add_unk_token_id(sp.unk_id())
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    return n


def write_llm(t, config, out_path, *, vocab=None, folder=None, conv_mode=None, name="mgm", weight_dtype=np.float16):
    """MGM's decoder as llama.cpp's `gemma` or `llama` (by model_type), with MGM's chat template."""
    mtype = config.get("model_type")
    arch = "gemma" if mtype in GEMMA_TYPES else "llama"
    layers = check_llm(t, arch)
    d = t.shape("model.embed_tokens.weight")[1]
    heads = config.get("num_attention_heads") or max(1, d // 128)
    kv_heads = config.get("num_key_value_heads") or heads
    head_dim = config.get("head_dim") or d // heads
    w = gguf.GGUFWriter(out_path, arch, use_temp_file=True)
    w.add_name(name)
    w.add_context_length(config.get("max_position_embeddings", 8192 if arch == "gemma" else 4096))
    w.add_embedding_length(d)
    w.add_block_count(layers)
    w.add_feed_forward_length(t.shape("model.layers.0.mlp.gate_proj.weight")[0])
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_layer_norm_rms_eps(config.get("rms_norm_eps", 1e-6 if arch == "gemma" else 1e-5))
    if arch == "gemma":
        w.add_key_length(head_dim)
        w.add_value_length(head_dim)
    else:
        w.add_rope_dimension_count(head_dim)
    w.add_rope_freq_base(float(config.get("rope_theta", 10000.0)))
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if weight_dtype == np.float16 else gguf.LlamaFileType.ALL_F32)
    n_vocab = vocab_writer(w, config, vocab, folder)
    w.add_chat_template(TEMPLATES[conv_mode or conv_mode_for(config)])
    rows = t.shape("model.embed_tokens.weight")[0]
    if rows != n_vocab:
        raise ConvertError(f"the embeddings have {rows} rows but the vocabulary {n_vocab} tokens")

    def put(gname, a, norm=False):
        a = np.ascontiguousarray(a, dtype=np.float32)
        if norm and arch == "gemma":
            a = a + 1  # Gemma's RMSNorm multiplies by (1 + w); llama.cpp's gemma stores 1 + w
        w.add_tensor(gname, a if a.ndim == 1 else a.astype(weight_dtype))

    put("token_embd.weight", t["model.embed_tokens.weight"])
    for i in range(layers):
        s, b = f"model.layers.{i}.", f"blk.{i}."
        for part in LAYER_PARTS:
            a = t[s + part + ".weight"]
            if arch == "llama" and part in ("self_attn.q_proj", "self_attn.k_proj"):
                a = permute(a, heads if part == "self_attn.q_proj" else kv_heads)
            put(b + GGUF_NAMES[part] + ".weight", a, norm=part.endswith("layernorm"))
    put("output_norm.weight", t["model.norm.weight"], norm=True)
    if arch == "llama" and "lm_head.weight" in t:
        put("output.weight", t["lm_head.weight"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# ---------------------------------------------------------------------------------------------------------------

def load_config(folder):
    path = os.path.join(folder, "config.json")
    if not os.path.isdir(folder) or not os.path.exists(path):
        raise ConvertError(f"{folder}: not a Hugging Face checkpoint folder (no config.json)")
    config = json.load(open(path))
    mtype = config.get("model_type")
    if mtype in OTHER_TYPES:
        raise ConvertError(f"{folder}: model_type '{mtype}' ({OTHER_TYPES[mtype]}) is not supported: "
                           "Glimpse converts mgm_gemma (MGM-2B) and mgm (Vicuna, LLaMA-3)")
    if mtype not in GEMMA_TYPES + LLAMA_TYPES:
        raise ConvertError(f"{folder}: unknown model_type '{mtype}': not an MGM checkpoint "
                           f"(MGM's are {', '.join(GEMMA_TYPES + LLAMA_TYPES)})")
    if config.get("mm_projector_type", "mlp2x_gelu") != "mlp2x_gelu":
        raise ConvertError(f"{folder}: mm_projector_type '{config['mm_projector_type']}': MGM's `mgm` projector is mlp2x_gelu")
    if config.get("mm_vision_select_feature", "patch") != "patch":
        raise ConvertError(f"{folder}: mm_vision_select_feature '{config['mm_vision_select_feature']}': only 'patch' (the class token dropped)")
    if config.get("image_aspect_ratio", "pad") != "pad":
        print(f"convert_mgm: note: image_aspect_ratio is '{config['image_aspect_ratio']}'; Glimpse pads to a square as "
              "MGM's released models ('pad') do", file=sys.stderr)
    return config


def hf_clip_config(folder):
    path = os.path.join(folder, "config.json")
    if not os.path.exists(path):
        return {}
    c = json.load(open(path))
    return c.get("vision_config", c)


def convert(folder, out_llm, out_mmproj, *, vocab=None, clip=None, convnext=None, conv_mode=None, name=None):
    config = load_config(folder)
    t = Tensors.open(folder)
    clip_config = {}
    if clip:
        c = Tensors.open(clip)
        t.alias(c, lambda k: CLIP_PREFIX + k[k.index("vision_model."):] if "vision_model." in k else None)
        clip_config = hf_clip_config(clip)
    if convnext:
        c = Tensors.open(convnext)

        def rename(k):
            m = re.match(r"^(?:module\.)?(?:visual\.)?trunk\.(stem|stages)\.(.*)$", k)
            return f"{HR_PREFIX}vision_{m.group(1)}.{m.group(2)}" if m else None
        t.alias(c, rename)
    check_towers(t, config)
    name = name or os.path.basename(os.path.normpath(folder))
    arch = "gemma" if config["model_type"] in GEMMA_TYPES else "llama"
    check_llm(t, arch)  # a missing decoder tensor, or a missing vocabulary, is refused before anything is written
    check_vocab(vocab, folder)
    write_mgm_mmproj(t, out_mmproj, image_size_aux=config.get("image_size_aux", 320), image_grid=config.get("image_grid", 1),
                     image_global=config.get("image_global", False), select_layer=config.get("mm_vision_select_layer", -2),
                     clip_heads=clip_config.get("num_attention_heads"), clip_eps=clip_config.get("layer_norm_eps", 1e-5),
                     clip_activation=clip_config.get("hidden_act", "quick_gelu"), name=name)
    write_llm(t, config, out_llm, vocab=vocab, folder=folder, conv_mode=conv_mode, name=name)


def main():
    ap = argparse.ArgumentParser(description="Mini-Gemini checkpoint -> language-model GGUF + mmproj GGUF")
    ap.add_argument("checkpoint", help="the MGM checkpoint folder (config.json, safetensors or bin shards)")
    ap.add_argument("--out-llm", required=True)
    ap.add_argument("--out-mmproj", required=True)
    ap.add_argument("--vocab", help="a GGUF holding the model's tokenizer (default: the folder's tokenizer.model)")
    ap.add_argument("--clip", help="CLIP from a Hugging Face CLIP checkpoint (openai/clip-vit-large-patch14-336)")
    ap.add_argument("--convnext", help="ConvNeXt from open_clip's checkpoint (open_clip_pytorch_model.bin of "
                                       "laion/CLIP-convnext_large_d_320.laion2B-s29B-b131K-ft-soup)")
    ap.add_argument("--conv-mode", choices=sorted(TEMPLATES), help="MGM's conversation (default: by the config)")
    ap.add_argument("--name", help="general.name (default: the folder's name)")
    a = ap.parse_args()
    try:
        convert(a.checkpoint, a.out_llm, a.out_mmproj, vocab=a.vocab, clip=a.clip, convnext=a.convnext,
                conv_mode=a.conv_mode, name=a.name)
    except ConvertError as e:
        sys.exit(f"convert_mgm: {e}")


if __name__ == "__main__":
    main()
