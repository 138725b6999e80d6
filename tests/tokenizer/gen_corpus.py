#!/usr/bin/env python3
"""Regenerates corpus_generated.json: 600 seeded random lines mixing words of corpus.json, special-token
text of the five tokenizers, runs of characters from many scripts (incl. combining marks, Hangul
jamo, emoji with ZWJ and skin tones, compatibility characters) and whitespace runs.
Run from tests/tokenizer: python3 gen_corpus.py"""
import json
import random

random.seed(20261125)
base = json.load(open('corpus.json'))['lines']
pools = [
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", " \t\n\r\u00a0\u3000\u2003\u200b",
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГД", "αβγδεζηθικλμνξοπρστυφχψω",
    "ابتثجحخدذرزسشصضطظعغفقكلمنهوي", "אבגדהוזחטיכלמנסעפצקרשת", "कखगघङचछजझञटठडढणतथदधनपफबभमयरलवशषसह ािीुूेैोौ्",
    "กขฃคฅฆงจฉชซฌญฎฏฐฑฒณดตถทธนบปผฝพฟภมยรลวศษสหฬอฮ ัิีึืุู่้๊๋", "的一是不了人我在有他这为之大来以个中上们",
    "あいうえおかきくけこアイウエオカキクケコ", "가각간갇갈감갑값강개객거건걸검겁게", "\u0300\u0301\u0302\u0308\u0323\u0327\u0338\u094d\u0e31",
    "😀👍🏽👨‍👩‍👧❤️🇫🇷🧑🏿‍💻✨🔥", "ſßẞﬁKÅΩⅷ①½²ǅǈ", "\u1100\u1161\u11a8\u1112\u1175",
]
specials = ["<|begin_of_text|>", "<|end_of_text|>", "<s>", "</s>", "<bos>", "<eos>", "<|im_start|>", "<|im_end|>",
            "<｜begin▁of▁sentence｜>", "<unk>", "<start_of_turn>", "<|endoftext|>", "<think>", "</think>", "<pad>", "<mask>",
            "<|reserved_special_token_5|>", "<0x0A>", "▁", "Ġ", "'s", "'LL", "  ", "\r\n", "\n\n"]
words = [w for line in base for w in line.split()]
gen = []
for i in range(600):
    parts = []
    for _ in range(random.randint(1, 12)):
        r = random.random()
        if r < 0.35:
            parts.append(random.choice(words))
        elif r < 0.5:
            parts.append(random.choice(specials))
        elif r < 0.9:
            pool = random.choice(pools)
            parts.append(''.join(random.choice(pool) for _ in range(random.randint(1, 10))))
        else:
            parts.append(random.choice(" \n\t\r") * random.randint(1, 5))
    sep = random.choice(["", " ", " ", "  ", "\n"])
    gen.append(sep.join(parts))
json.dump({"description": "Generated parity corpus (seeded mix of scripts, specials, whitespace); regenerate with gen_corpus.py.",
           "lines": gen}, open('corpus_generated.json', 'w'), ensure_ascii=False, indent=0)
