"""Writes the fuzzers' seed corpora into Tests/Fixtures/fuzz/corpus/TARGET/: small valid inputs of every kind
Glimpse reads, for libFuzzer to mutate (scripts/fuzz). Deterministic; the files are committed.

    tools/make_fuzz_seeds.py [TEST_MODELS]   (TEST_MODELS: where scripts/setup put test-llava-mmproj.gguf)
"""
import json
import os
import shutil
import sys

import numpy as np
import gguf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "fuzz", "corpus")


def folder(target):
    path = os.path.join(OUT, target)
    os.makedirs(path, exist_ok=True)
    return path


def tiny_decoder(path, arch):
    """A one-layer decoder 8 wide with an 8-token SentencePiece vocabulary: every key and tensor a load reads."""
    w = gguf.GGUFWriter(path, arch)
    w.add_context_length(64)
    w.add_embedding_length(8)
    w.add_block_count(1)
    w.add_feed_forward_length(16)
    w.add_head_count(2)
    w.add_head_count_kv(1)
    w.add_layer_norm_rms_eps(1e-6)
    if arch == "gemma3":
        w.add_key_length(4)
        w.add_value_length(4)
    tokens = ["<unk>", "<s>", "</s>", "<start_of_turn>", "\u2581Hello", "\u2581world", "a", "<0x0A>"]
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0, 0.0, 0.0, 0.0, -1.0, -2.0, -3.0, -4.0])
    w.add_token_types([2, 3, 3, 4, 1, 1, 1, 6])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    rng = np.random.default_rng(1)

    def t(name, *shape):
        w.add_tensor(name, rng.standard_normal(shape).astype(np.float32))

    t("token_embd.weight", 8, 8)
    t("output_norm.weight", 8)
    p = "blk.0."
    for name, shape in (("attn_norm", (8,)), ("attn_q", (8, 8)), ("attn_k", (4, 8)), ("attn_v", (4, 8)),
                        ("attn_output", (8, 8)), ("ffn_norm", (8,)), ("ffn_gate", (16, 8)), ("ffn_up", (16, 8)),
                        ("ffn_down", (8, 16))):
        t(p + name + ".weight", *shape)
    if arch == "gemma3":
        for name in ("attn_q_norm", "attn_k_norm"):
            t(p + name + ".weight", 4)
        for name in ("post_attention_norm", "post_ffw_norm"):
            t(p + name + ".weight", 8)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def mmproj_metadata(source, path):
    """An mmproj's metadata (a real converter's keys and values) without its tensors."""
    reader = gguf.GGUFReader(source)
    w = gguf.GGUFWriter(path, "clip")
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue
        kind = field.types[0]
        if kind == gguf.GGUFValueType.ARRAY:
            values = [field.parts[i].tolist()[0] if field.types[1] != gguf.GGUFValueType.STRING
                      else bytes(field.parts[i]).decode() for i in field.data]
            w.add_array(field.name, values)
        elif kind == gguf.GGUFValueType.STRING:
            w.add_string(field.name, bytes(field.parts[field.data[0]]).decode())
        else:
            w.add_key_value(field.name, field.parts[field.data[0]].tolist()[0], kind)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.close()


def main():
    models = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/glimpse/test-models")
    g = folder("gguf")
    tiny_decoder(os.path.join(g, "llama.gguf"), "llama")
    tiny_decoder(os.path.join(g, "gemma3.gguf"), "gemma3")
    for name in ("test-llava-mmproj.gguf", "test-minigptv2-mmproj.gguf"):
        if os.path.exists(os.path.join(models, name)):
            mmproj_metadata(os.path.join(models, name), os.path.join(g, name.replace(".gguf", "-metadata.gguf")))

    images = folder("image")
    for name in ("rgb.png", "palette.png", "gray-alpha.png", "bilevel.png", "gray.jpg", "progressive.jpg",
                 "subsampled420.jpg", "truncated.png.bad"):
        shutil.copy(os.path.join(ROOT, "Tests", "Fixtures", "images", name), os.path.join(images, name))

    texts = {
        "tokenizer": [b"\x00Hello world", b"\x06<start_of_turn>user\nwhat color is the star?<end_of_turn>\n",
                      b"\x07\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80  \t\n tabs", b"\x1f" + bytes(range(1, 64))],
        "grounded": [b"<p>large red circle</p> {<8><10><40><42>} and <p>star</p>{<50><50><60><60>}<delim>{<1><2><3><4>}",
                     b"[grounding] a {<0><0><100><100>} box", b"<p>unclosed {<1><2>"],
        "config": [open(os.path.join(ROOT, "themes", "light.toml"), "rb").read(),
                   b'default_model = "shapes"\ntheme = "light"\nsave_conversations = true\ngraphics = "sixel"\n'
                   b'[[models]]\nname = "llava"\npath = "/m/llava.gguf"\nmmproj = "/m/mmproj.gguf"\ntask = "vqa"\n'
                   b'[keys]\nregenerate = "ctrl-g"\n'],
    }
    for target, seeds in texts.items():
        for i, seed in enumerate(seeds):
            with open(os.path.join(folder(target), f"seed-{i}"), "wb") as f:
                f.write(seed)
    conversation = {"version": 1, "images": ["/tmp/scene.png"], "panes": [
        {"model": "shapes", "path": "/m/shapes.gguf", "task": "grounding", "ocr": True,
         "settings": {"temperature": 0.6, "topP": 0.9, "topK": 40, "maxTokens": 500, "seed": 7, "systemPrompt": "be brief"},
         "turns": [{"role": "user", "text": "[grounding] describe this image in detail", "ocr": True},
                   {"role": "assistant", "text": "<p>a red circle</p>{<8><10><40><42>}"}]},
        {"model": None, "task": "chat", "settings": {"temperature": 0, "topP": 1, "topK": 1, "maxTokens": 10}, "turns": []}]}
    with open(os.path.join(folder("conversation"), "two-panes.json"), "w") as f:
        json.dump(conversation, f, indent=1)


if __name__ == "__main__":
    main()
