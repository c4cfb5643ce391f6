#!/usr/bin/env python3
"""Bad files of every kind Glimpse reads, tried through the command line as a user would: each must give one
clear line on stderr (naming the file) and a non-zero exit, never a crash or a traceback. Prints a Markdown
table of what was tried and the message; exits 1 when any case fails.

    tools/bad_files.py [--binary .build/release/glimpse]
"""
import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def png(width, height):
    """A PNG whose header claims this size, with a little image data."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(100))) + chunk(b"IEND", b""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/release/glimpse"))
    models = os.environ.get("GLIMPSE_TEST_MODELS", os.path.expanduser("~/.cache/glimpse/test-models"))
    args = ap.parse_args()
    w = tempfile.mkdtemp(prefix="glimpse-bad-")

    def path(name, data):
        p = os.path.join(w, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        return p

    tiny = os.path.join(models, "tiny-llama-q8_0.gguf")
    with open(tiny, "rb") as f:
        model = f.read()
    with open(os.path.join(ROOT, "examples/three-shapes.png"), "rb") as f:
        image = f.read()
    flipped = bytearray(model[:200000])
    flipped[4:8] = struct.pack("<I", 99)
    huge_count = bytearray(model[:4096])
    huge_count[8:16] = struct.pack("<Q", 1 << 60)
    g = f"{args.binary} ask -m {tiny} -n 4"
    cases = [
        ("GGUF", "a text file named .gguf", f"{args.binary} info {path('text.gguf', b'hello, not a model')}"),
        ("GGUF", "cut short (first 4 KB)", f"{args.binary} info {path('cut.gguf', model[:4096])}"),
        ("GGUF", "cut short mid-tensor", f"{args.binary} ask -m {path('half.gguf', model[: len(model) // 2])} hi"),
        ("GGUF", "unknown GGUF version", f"{args.binary} info {path('version.gguf', bytes(flipped))}"),
        ("GGUF", "2^60 tensors claimed", f"{args.binary} info {path('count.gguf', bytes(huge_count))}"),
        ("GGUF", "an mmproj given as the model", f"{args.binary} ask -m {os.path.join(models, 'test-llava-mmproj.gguf')} hi"),
        ("GGUF", "a model given as the mmproj",
         f"{g} --mmproj {tiny} --image {os.path.join(ROOT, 'examples/three-shapes.png')} hi"),
        ("GGUF", "a folder given as the model", f"{args.binary} ask -m {w} hi"),
        ("GGUF", "no such file", f"{args.binary} ask -m {w}/missing.gguf hi"),
        ("image", "PNG cut in half", f"{g} --image {path('half.png', image[: len(image) // 2])} hi"),
        ("image", "PNG with flipped bytes", f"{g} --image {path('flip.png', image[:100] + bytes(b ^ 0x55 for b in image[100:400]) + image[400:])} hi"),
        ("image", "PNG header of 100000x100000", f"{g} --image {path('huge.png', png(100000, 100000))} hi"),
        ("image", "JPEG markers only", f"{g} --image {path('bad.jpg', bytes([0xFF, 0xD8, 0xFF, 0xE0, 0, 16]) + b'JFIF' + bytes(20))} hi"),
        ("image", "an empty file", f"{g} --image {path('empty.png', b'')} hi"),
        ("image", "a text file", f"{g} --image {path('notes.txt', b'just words')} hi"),
        ("image", "no such file", f"{g} --image {w}/nothere.png hi"),
        # A batch goes on past a bad line: its error is that line's answer, on stdout.
        ("batch", "a line that is not JSON", f"{g} --batch {path('q.jsonl', b'{not json}')} | sed 's/^/glimpse: (stdout) /' >&2"),
        ("config.toml", "a table header typo",
         f"XDG_CONFIG_HOME={w}/c1 {args.binary} ask -m nosuchmodel hi",
         ("c1/glimpse/config.toml", b"[{models]]\npath = 1\n")),
        ("config.toml", "a model with a wrong type",
         f"XDG_CONFIG_HOME={w}/c2 {args.binary} ask -m llava hi",
         ("c2/glimpse/config.toml", b"[models.llava]\npath = 42\n")),
        ("theme", "a colour that is not one",
         f"XDG_CONFIG_HOME={w}/c3 {args.binary} --theme bad",
         ("c3/glimpse/themes/bad.toml", b'border = { fg = "#12345" }\n')),
        ("theme", "not TOML", f"XDG_CONFIG_HOME={w}/c4 {args.binary} --theme bad",
         ("c4/glimpse/themes/bad.toml", b'border = { fg = "#123456"\n')),
        ("history", "a damaged history.sqlite", f"XDG_DATA_HOME={w}/d1 {args.binary} history",
         ("d1/glimpse/history.sqlite", b"\x42" * 4096)),
        ("history", "a saved conversation that is not JSON", f"XDG_DATA_HOME={w}/d2 {args.binary} history",
         ("d2/glimpse/conversations/2026-01-01-000000.json", b"{ broken")),
        ("history", "an unknown conversation id", f"XDG_DATA_HOME={w}/d2 {args.binary} history --show 1999-01-01-000000"),
    ]
    rows, failures = [], 0
    for case in cases:
        kind, what, command = case[:3]
        if len(case) > 3:
            path(case[3][0], case[3][1])
        r = subprocess.run(["bash", "-c", "exec </dev/null; " + command], capture_output=True, text=True, timeout=120)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        crashed = r.returncode < 0 or r.returncode >= 128 or "Program crashed" in r.stderr or "Fatal error" in r.stderr
        ok = not crashed and len(lines) >= 1 and lines[0].startswith("glimpse: ") or (kind == "history" and r.returncode == 0 and lines)
        if kind in ("config.toml",) and lines:
            ok = not crashed and any("config.toml:" in l for l in lines)
        message = lines[0] if lines else "(nothing on stderr)"
        if not ok:
            failures += 1
        message = message.replace(w, "…").replace(models, "…").replace("|", "\\|")
        rows.append(f"| {kind} | {what} | {'ok' if ok else 'FAIL (exit %d, %d lines)' % (r.returncode, len(lines))} | {message[:160]} |")
    print("| file | what was wrong | outcome | the message |")
    print("| --- | --- | --- | --- |")
    print("\n".join(rows))
    print(f"\n{len(cases)} cases, {failures} failures")
    shutil.rmtree(w, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
