"""Regenerates bpe_cases.json: extra differential cases for the CLIP BPE tokenizer.

The reference is OpenAI CLIP's simple_tokenizer.py, copied below, except that
ftfy.fix_text is replaced by the identity (ftfy is not available here, and
the Go tokenizer does not implement it either). Needs the `regex` module.

    python3 gen_bpe_cases.py ../../../shared/golden/clip_files/bpe_simple_vocab_16e6.txt.gz > bpe_cases.json
"""
import gzip
import html
import json
import random
import sys
import unicodedata
from functools import lru_cache

import regex as re


@lru_cache()
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    cs = [chr(n) for n in cs]
    return dict(zip(bs, cs))


def get_pairs(word):
    pairs = set()
    prev_char = word[0]
    for char in word[1:]:
        pairs.add((prev_char, char))
        prev_char = char
    return pairs


def basic_clean(text):
    # ftfy.fix_text(text) omitted
    text = html.unescape(html.unescape(text))
    return text.strip()


def whitespace_clean(text):
    text = re.sub(r'\s+', ' ', text)
    text = text.strip()
    return text


class SimpleTokenizer(object):
    def __init__(self, bpe_path):
        self.byte_encoder = bytes_to_unicode()
        merges = gzip.open(bpe_path).read().decode("utf-8").split('\n')
        merges = merges[1:49152 - 256 - 2 + 1]
        merges = [tuple(merge.split()) for merge in merges]
        vocab = list(bytes_to_unicode().values())
        vocab = vocab + [v + '</w>' for v in vocab]
        for merge in merges:
            vocab.append(''.join(merge))
        vocab.extend(['<|startoftext|>', '<|endoftext|>'])
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.cache = {'<|startoftext|>': '<|startoftext|>', '<|endoftext|>': '<|endoftext|>'}
        self.pat = re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""", re.IGNORECASE)

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + '</w>',)
        pairs = get_pairs(word)
        if not pairs:
            return token + '</w>'
        while True:
            bigram = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float('inf')))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                    new_word.extend(word[i:j])
                    i = j
                except ValueError:
                    new_word.extend(word[i:])
                    break
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        word = ' '.join(word)
        self.cache[token] = word
        return word

    def encode(self, text):
        bpe_tokens = []
        text = whitespace_clean(basic_clean(text)).lower()
        for token in re.findall(self.pat, text):
            token = ''.join(self.byte_encoder[b] for b in token.encode('utf-8'))
            bpe_tokens.extend(self.encoder[bpe_token] for bpe_token in self.bpe(token).split(' '))
        return bpe_tokens


PIECES = [
    "a", "photo", "of", "the", "CAT", "Dog", "don't", "it's", "we'LL", "I'M", "'", "''s", "x'd",
    " ", "  ", "\t", "\n", "\u00a0", "\u3000", "\u2028", "\x1c", "\x0b",
    ".", ",", "!!!", "?", "...", "-", "_", "/", "\\", "$", "%", "&", "#", "@", "(", ")", "<", ">",
    "&amp;", "&amp;amp;", "&lt;b&gt;", "&#65;", "&#x42;", "&#0;", "&#127;", "&#128;", "&#x110000;",
    "&#xD800;", "&notit;", "&copy", "&ampx", "&#xFFFE;", "&Aacute;", "&#", "&#x;", "&;",
    "&nGt;", "&NotEqualTilde;", "&frac12x", "&#00000000065", "&#1114111", "&#99999999999999;",
    "<|endoftext|>", "<|startoftext|>", "<|ENDOFTEXT|>", "<|endoftext>",
    "0", "42", "3.14", "١٢٣", "²", "½", "Ⅻ", "٣",
    "café", "naïve", "Ünïcödé", "straße", "ΟΔΟΣ", "Σ", "ΣΑΣ", "İstanbul", "İ", "ǅ", "ﬁ",
    "東京", "日本語", "한국어", "Привет", "مرحبا", "שלום", "हिन्दी", "ไทย",
    "🙂", "👍🏽", "🇫🇷", "e\u0301", "\u0345", "\u200d", "\ufeff", "K", "ſ",
    "snake_case", "camelCase", "kebab-case", "C++", "x=y+z*2",
]


def random_char(rng):
    # Only characters assigned in this Python's Unicode database: newer ones
    # are classified differently by regex (newer tables), str.lower (older)
    # and Go's unicode package.
    while True:
        ch = chr(rng.choice([rng.randint(0x20, 0x7e), rng.randint(0xa0, 0x2fff), rng.randint(0x3000, 0xd7ff), rng.randint(0xe000, 0x10ffff)]))
        if unicodedata.category(ch) != 'Cn':
            return ch


def main():
    tok = SimpleTokenizer(sys.argv[1])
    rng = random.Random(1234)
    texts = list(PIECES)
    for _ in range(400):
        n = rng.randint(1, 12)
        parts = []
        for _ in range(n):
            if rng.random() < 0.15:
                parts.append(random_char(rng))
            else:
                parts.append(rng.choice(PIECES))
            if rng.random() < 0.5:
                parts.append(" ")
        texts.append("".join(parts))
    cases = []
    for t in texts:
        try:
            ids = tok.encode(t)
        except UnicodeEncodeError:
            continue
        cases.append({"text": t, "ids": ids})
    json.dump({"about": "ids from OpenAI simple_tokenizer with ftfy.fix_text replaced by identity; see gen_bpe_cases.py", "cases": cases}, sys.stdout, ensure_ascii=True, indent=0)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
