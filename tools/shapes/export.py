"""Exports the trained model through the MiniGPT-v2 converter (tools/convert_minigpt.py), exactly as a real
MiniGPT-v2 checkpoint is converted: the EVA-style encoder, ln_vision and llama_proj into an mmproj GGUF, and
the LLaMA decoder with this model's vocabulary into a language-model GGUF.

    python tools/shapes/export.py CHECKPOINT.pt OUT_DIR
"""
import os
import sys
import tempfile

import gguf
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import convert_minigpt  # noqa: E402
from vocab import Tokenizer  # noqa: E402

NAME = "shapes"


def write_vocab(path, tok):
    w = gguf.GGUFWriter(path, "llama")
    w.add_tokenizer_model("llama")
    w.add_token_list([p for p, _, _ in tok.vocab])
    w.add_token_scores([s for _, s, _ in tok.vocab])
    w.add_token_types([t for _, _, t in tok.vocab])
    w.add_unk_token_id(0)
    w.add_bos_token_id(tok.bos)
    w.add_eos_token_id(tok.eos)
    w.add_add_bos_token(False)   # the template writes <s> itself
    w.add_add_eos_token(False)
    w.add_add_space_prefix(False)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def state_dicts(model):
    sd = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    eva = {k[len("visual_encoder."):]: v for k, v in sd.items() if k.startswith("visual_encoder.")}
    eva = {k: v for k, v in eva.items()}
    ckpt = {k: v for k, v in sd.items() if k.startswith(("ln_vision.", "llama_proj."))}
    llama = {k[len("llama_model."):]: v for k, v in sd.items() if k.startswith("llama_model.")}
    return eva, ckpt, llama


def export(model, tok, out_dir, weight_dtype=np.float16):
    c = model.config
    eva, ckpt, llama = state_dicts(model)
    os.makedirs(out_dir, exist_ok=True)
    mmproj = os.path.join(out_dir, f"{NAME}-mmproj.gguf")
    llm = os.path.join(out_dir, f"{NAME}.gguf")
    convert_minigpt.convert_vision(eva, ckpt, mmproj + ".tmp", c.image_size, name=NAME)
    with tempfile.TemporaryDirectory() as tmp:
        vocab = os.path.join(tmp, "vocab.gguf")
        write_vocab(vocab, tok)
        convert_minigpt.convert_llm(llama, ckpt, vocab, llm + ".tmp", heads=c.llm_heads, context=c.context,
                                    rope_base=c.rope_base, name=NAME, weight_dtype=weight_dtype)
    os.replace(mmproj + ".tmp", mmproj)
    os.replace(llm + ".tmp", llm)
    return llm, mmproj


def load(checkpoint):
    import torch
    from model import Config, ShapesVLM
    ck = torch.load(checkpoint, map_location="cpu")
    model = ShapesVLM(Config(**ck["config"]))
    model.load_state_dict(ck["model"])
    return model.eval()


if __name__ == "__main__":
    export(load(sys.argv[1]), Tokenizer(), sys.argv[2])
