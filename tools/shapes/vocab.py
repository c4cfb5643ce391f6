"""The built-in model's SentencePiece-style vocabulary and a tokenizer that reproduces llama.cpp's `llama`
(SPM) tokenizer on it exactly (checked against llama-cpp-python by check_tokenizer.py).

Layout: <unk>, <s>, </s>; 256 byte-fallback pieces; user-defined pieces for the prompt and box markup (the
template's [INST] [/INST] <Img> </Img>, the task tags, <p> </p> <delim>, <0>..<100>); printable ASCII
characters; then every word of the shapes world with and without the SentencePiece space mark, and all their
prefixes, so the bigram merges build whole words. Scores grow with length, so a word merges from its start.
`add_space_prefix` is off: text is tokenized exactly as written.
"""
import heapq

SPACE = "\u2581"
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, BYTE = 1, 2, 3, 4, 6
TASK_TAGS = ["[vqa]", "[caption]", "[grounding]", "[refer]", "[detection]", "[identify]"]
MARKUP = ["[INST]", "[/INST]", "<Img>", "</Img>"] + TASK_TAGS + ["<p>", "</p>", "<delim>"] + [f"<{i}>" for i in range(101)]
# Words of the world's task language and free chat (world.py), and common words of questions people type.
WORDS = """
a an and are at bottom briefly center circle circles color colors colour colours cross crosses describe detail
green how image in is large left many no none objects object of on one or orange purple red right shape shapes
small square squares star stars the there this top triangle triangles what where yellow yes blue
detail picture see do you which biggest smallest any count it its with objects: hello hi please can tell me
about thing things big kind
""".split()


def pieces():
    """[(text, score, type)] in id order."""
    out = [("<unk>", 0.0, UNKNOWN), ("<s>", 0.0, CONTROL), ("</s>", 0.0, CONTROL)]
    out += [(f"<0x{b:02X}>", 0.0, BYTE) for b in range(256)]
    out += [(m, 0.0, USER_DEFINED) for m in MARKUP]
    seen = {p for p, _, _ in out}
    chars = [SPACE] + [chr(c) for c in range(0x21, 0x7F)]
    for c in chars:
        out.append((c, -1.0, NORMAL))
        seen.add(c)
    words = sorted(set(WORDS) | {str(d) for d in range(10)})
    for w in words:
        for form in (w, SPACE + w, w.capitalize(), SPACE + w.capitalize()):
            for n in range(2, len(form) + 1):
                p = form[:n]
                if p not in seen:
                    seen.add(p)
                    out.append((p, float(n), NORMAL))
    return out


class Tokenizer:
    def __init__(self, vocab=None):
        self.vocab = vocab or pieces()
        self.ids = {p: i for i, (p, _, _) in enumerate(self.vocab)}
        self.scores = [s for _, s, _ in self.vocab]
        self.special = sorted((p for p, _, t in self.vocab if t in (CONTROL, USER_DEFINED)), key=len, reverse=True)
        self.user_defined = [p for p in self.special if self.vocab[self.ids[p]][2] == USER_DEFINED]
        self.bos, self.eos = 1, 2

    def encode(self, text, parse_special=True):
        """llama.cpp's tokenize with add_special=False (the template writes <s> itself)."""
        specials = self.special if parse_special else self.user_defined
        out, start, i = [], 0, 0
        while i < len(text):
            match = next((s for s in specials if text.startswith(s, i)), None)
            if match:
                if start < i:
                    out += self._spm(text[start:i])
                out.append(self.ids[match])
                i += len(match)
                start = i
            else:
                i += 1
        if start < len(text):
            out += self._spm(text[start:])
        return out

    def _spm(self, text):
        """llama.cpp's llm_tokenizer_spm: bigram merges by score (ties: leftmost), then byte fallback."""
        syms = list(text.replace(" ", SPACE))
        prev = list(range(-1, len(syms) - 1))
        nxt = list(range(1, len(syms) + 1))
        nxt[-1] = -1
        heap = []

        def add(left, right):
            if left == -1 or right == -1:
                return
            merged = syms[left] + syms[right]
            if merged in self.ids:
                heapq.heappush(heap, (-self.scores[self.ids[merged]], left, right, len(merged.encode())))

        for i in range(1, len(syms)):
            add(i - 1, i)
        while heap:
            _, left, right, size = heapq.heappop(heap)
            if not syms[left] or not syms[right] or len((syms[left] + syms[right]).encode()) != size:
                continue
            syms[left] += syms[right]
            syms[right] = ""
            nxt[left] = nxt[right]
            if nxt[right] != -1:
                prev[nxt[right]] = left
            add(prev[left], left)
            add(left, nxt[left])
        out, i = [], 0
        while i != -1:
            s = syms[i]
            if s in self.ids:
                out.append(self.ids[s])
            else:
                out += [self.ids[f"<0x{b:02X}>"] for b in s.encode()]
            i = nxt[i]
        return out

    def decode(self, ids):
        text = b""
        for i in ids:
            p, _, t = self.vocab[i]
            if t == BYTE:
                text += bytes([int(p[3:5], 16)])
            elif t != CONTROL:
                text += p.replace(SPACE, " ").encode()
        return text.decode(errors="replace")
