"""Copies llama.cpp's vocab-only GGUF files and their expected tokenizations (the .inp/.out pairs of
llama.cpp's test-tokenizer-0) out of the llama-cpp-python source distribution on PyPI into FOLDER/vocab.
These are real vocabularies (LLaMA SPM, LLaMA-3 BPE, Qwen2, GPT-2, StarCoder, ...) for tokenizer tests.

Usage: fetch_vocabs.py FOLDER
"""
import os
import subprocess
import sys
import tarfile
import tempfile

VERSION = "0.3.36"
WANTED = ["llama-spm", "llama-bpe", "qwen2", "gpt-2", "starcoder", "refact", "phi-3"]


def main() -> None:
    dest = os.path.join(sys.argv[1], "vocab")
    if all(os.path.exists(os.path.join(dest, f"ggml-vocab-{w}.gguf.out")) for w in WANTED):
        return
    os.makedirs(dest, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        "-d", tmp, f"llama-cpp-python=={VERSION}"], check=True)
        archive = next(os.path.join(tmp, f) for f in os.listdir(tmp) if f.endswith(".tar.gz"))
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                base = os.path.basename(member.name)
                if any(base.startswith(f"ggml-vocab-{w}.gguf") for w in WANTED) and member.isfile():
                    with tar.extractfile(member) as src, open(os.path.join(dest, base), "wb") as out:
                        out.write(src.read())


if __name__ == "__main__":
    main()
