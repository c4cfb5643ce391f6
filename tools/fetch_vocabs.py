"""Copies llama.cpp's vocab-only GGUF files and their expected tokenizations (the .inp/.out pairs of
llama.cpp's test-tokenizer-0) out of the llama-cpp-python source distribution on PyPI into FOLDER/vocab.
These are real vocabularies (LLaMA SPM, LLaMA-3 BPE, Qwen2, GPT-2, StarCoder, ...) for tokenizer tests.
It also unpacks that llama.cpp's Hugging Face converter (convert_hf_to_gguf.py, its conversion/ package and
gguf-py) into FOLDER/llama.cpp-converter, which makes the test checkpoints of the small VLMs.

Usage: fetch_vocabs.py FOLDER

The archive is fetched from PyPI's simple index (where pip looks) rather than by `pip download`: pip prepares an
sdist's metadata before saving it, and with --no-binary :all: that meant building CMake from source first, over
20 minutes of a fresh machine's setup on 2 cores (seen 2026-11-23).
"""
import hashlib
import os
import re
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request

VERSION = "0.3.36"
SHA256 = "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"   # llama_cpp_python-0.3.36.tar.gz
INDEX = "https://pypi.org/simple/llama-cpp-python/"
WANTED = ["llama-spm", "llama-bpe", "qwen2", "gpt-2", "starcoder", "refact", "phi-3"]


CONVERTER_FILE, CONVERTER_FOLDERS = "convert_hf_to_gguf.py", ("conversion/", "gguf-py/")


def main() -> None:
    dest = os.path.join(sys.argv[1], "vocab")
    converter = os.path.join(sys.argv[1], "llama.cpp-converter")
    stamp = os.path.join(converter, "VERSION")
    have_converter = os.path.exists(stamp) and open(stamp).read() == VERSION
    if have_converter and all(os.path.exists(os.path.join(dest, f"ggml-vocab-{w}.gguf.out")) for w in WANTED):
        return
    os.makedirs(dest, exist_ok=True)
    os.makedirs(converter, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        archive = os.path.join(tmp, f"llama_cpp_python-{VERSION}.tar.gz")
        download_sdist(archive)
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                base = os.path.basename(member.name)
                if any(base.startswith(f"ggml-vocab-{w}.gguf") for w in WANTED) and member.isfile():
                    with tar.extractfile(member) as src, open(os.path.join(dest, base), "wb") as out:
                        out.write(src.read())
                inside = member.name.split("/vendor/llama.cpp/", 1)[-1] if "/vendor/llama.cpp/" in member.name else None
                if inside and member.isfile() and (inside == CONVERTER_FILE or inside.startswith(CONVERTER_FOLDERS)):
                    target = os.path.join(converter, inside)
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    with tar.extractfile(member) as src, open(target, "wb") as out:
                        out.write(src.read())
    with open(stamp, "w") as f:
        f.write(VERSION)


def download_sdist(path):
    """The pinned sdist, checked against its SHA-256, to `path`."""
    page = urllib.request.urlopen(INDEX, timeout=60).read().decode()
    name = re.escape(f"llama_cpp_python-{VERSION}.tar.gz")
    found = re.search(r'href="([^"#]*' + name + r')[^"]*"', page)
    if not found:
        sys.exit(f"fetch_vocabs: {INDEX} lists no llama_cpp_python-{VERSION}.tar.gz")
    url = urllib.parse.urljoin(INDEX, found.group(1))   # an index may give links relative to itself
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=300) as src, open(path, "wb") as out:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != SHA256:
        sys.exit(f"fetch_vocabs: {url} has SHA-256 {digest.hexdigest()}, expected {SHA256}")


if __name__ == "__main__":
    main()
