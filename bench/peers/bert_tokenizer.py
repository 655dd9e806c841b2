"""Peer for bench/tokenizer.bench.ts: BERT's standard FullTokenizer (BasicTokenizer + WordPiece,
do_lower_case=False as KR-BERT char uses it), written out in plain Python with the same algorithm
and the same per-character structure as the reference tokenization.py (no Debian package ships it,
and there is no network). The benchmark first checks that this script reproduces the reference ids
byte for byte before it trusts its timings.

usage:
  bert_tokenizer.py inproc VOCAB TSV [REPEATS]        -> JSON {"docs", "seconds", "docs_per_s"} (best run)
  bert_tokenizer.py tokenize VOCAB TSV MAX_LEN OUT    -> JSONL {"i","ids","n"} per row (like trialbook tokenize --quoting none)
"""
import collections
import csv
import json
import sys
import time
import unicodedata


def load_vocab(path):
    vocab = collections.OrderedDict()
    with open(path, "r", encoding="utf-8") as f:
        for index, line in enumerate(f):
            vocab[line.strip()] = index
    return vocab


def is_whitespace(ch):
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch).startswith("C")


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def split_whitespace(text):
    text = text.strip()
    return text.split() if text else []


class Basic:
    def __init__(self, lower=False):
        self.lower = lower

    def tokenize(self, text):
        out = []
        for ch in text:  # clean-up
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or is_control(ch):
                continue
            out.append(" " if is_whitespace(ch) else ch)
        spaced = []
        for ch in "".join(out):  # CJK characters become words
            if is_cjk(ord(ch)):
                spaced.extend((" ", ch, " "))
            else:
                spaced.append(ch)
        pieces = []
        for word in split_whitespace("".join(spaced)):
            if self.lower:
                word = word.lower()
                word = "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")
            pieces.extend(self.split_punct(word))
        return split_whitespace(" ".join(pieces))

    @staticmethod
    def split_punct(word):
        groups = []
        fresh = True
        for ch in word:
            if is_punctuation(ch):
                groups.append([ch])
                fresh = True
            else:
                if fresh:
                    groups.append([])
                fresh = False
                groups[-1].append(ch)
        return ["".join(g) for g in groups]


class WordPiece:
    def __init__(self, vocab, unk="[UNK]", max_chars=200):
        self.vocab, self.unk, self.max_chars = vocab, unk, max_chars

    def tokenize(self, text):
        out = []
        for word in split_whitespace(text):
            chars = list(word)
            if len(chars) > self.max_chars:
                out.append(self.unk)
                continue
            subs, start, bad = [], 0, False
            while start < len(chars):
                end, found = len(chars), None
                while start < end:
                    s = "".join(chars[start:end])
                    if start > 0:
                        s = "##" + s
                    if s in self.vocab:
                        found = s
                        break
                    end -= 1
                if found is None:
                    bad = True
                    break
                subs.append(found)
                start = end
            if bad:
                out.append(self.unk)
            else:
                out.extend(subs)
        return out


class Full:
    def __init__(self, vocab_path, lower=False):
        self.vocab = load_vocab(vocab_path)
        self.basic = Basic(lower)
        self.wordpiece = WordPiece(self.vocab)

    def tokenize(self, text):
        return [p for w in self.basic.tokenize(text) for p in self.wordpiece.tokenize(w)]

    def ids(self, tokens):
        return [self.vocab[t] for t in tokens]


def read_texts(path):
    with open(path, "r", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    head, body = rows[0], [r for r in rows[1:] if r]
    col = head.index("document") if "document" in head else head.index("text") if "text" in head else 1
    return [r[col] for r in body]


def encode(tok, text, max_len):
    ids = tok.ids(["[CLS]"] + tok.tokenize(text)[: max_len - 2] + ["[SEP]"])
    n = len(ids)
    return ids + [tok.vocab["[PAD]"]] * (max_len - n), n


def main():
    mode = sys.argv[1]
    tok = Full(sys.argv[2])
    texts = read_texts(sys.argv[3])
    if mode == "inproc":
        repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 3
        best = None
        for _ in range(repeats):
            t0 = time.perf_counter()
            for t in texts:
                encode(tok, t, 128)
            dt = time.perf_counter() - t0
            best = dt if best is None or dt < best else best
        print(json.dumps({"docs": len(texts), "seconds": best, "docs_per_s": len(texts) / best}))
    elif mode == "tokenize":
        max_len = int(sys.argv[4])
        with open(sys.argv[5], "w", encoding="utf-8") as f:
            for i, t in enumerate(texts):
                ids, n = encode(tok, t, max_len)
                f.write(json.dumps({"i": i, "ids": ids, "n": n}) + "\n")
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
