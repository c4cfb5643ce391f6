"""Hugging Face tokenizer.json files built from llama.cpp's vocab-only GGUF files (tools/fetch_vocabs.py copies
them), for the random-weight checkpoints of the small VLMs: the converter and transformers both read them.
"""
import os
import sys


def read_vocab(vocab_gguf):
    """(tokens, merges) of a vocab GGUF, read with the converter's own gguf-py (unpacked beside the vocabs)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(vocab_gguf)), "llama.cpp-converter", "gguf-py"))
    import gguf
    reader = gguf.GGUFReader(vocab_gguf)

    def strings(key):
        f = reader.fields[key]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
    return strings("tokenizer.ggml.tokens"), strings("tokenizer.ggml.merges")


def added_token(i, content):
    return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": True}


def byte_level_bpe(tokens, merges, added, pre_tokenizer, normalizer=None):
    """tokenizer.json's contents: byte-level BPE over `tokens` (id = index) and `merges`."""
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": normalizer,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {t: i for i, t in enumerate(tokens)}, "merges": merges},
    }
