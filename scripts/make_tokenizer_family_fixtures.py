#!/usr/bin/env python3
"""Builds small tokenizers in the style of each model family and writes what Hugging Face
makes of a varied corpus, for MechanicTokenizerTests (HFTokenizerParityTests).

Why: `HFTokenizer` must give exactly the ids Hugging Face `tokenizers` gives for GPT-2,
GPT-NeoX/Pythia, Llama 2/3, Mistral, Qwen2/3 and Gemma files. Their real vocabularies
cannot be downloaded here, so each family's *pipeline* (normalizer, pre-tokenizer, BPE
options, added tokens, decoder, post-processor) is rebuilt around a tiny vocabulary trained
on Tests/Fixtures/tokenizers/training.txt. Nothing is downloaded.

Outputs, one folder per style under Tests/Fixtures/tokenizers/:
  gpt2/         byte-level BPE, GPT-2 regex (ByteLevel use_regex), <|endoftext|>
  neox/         NFC + byte-level GPT-2 regex, <|endoftext|> = 0, <|padding|>, space-run
                added tokens (normalized, not special): GPT-NeoX / Pythia
  llama3/       Split(Llama 3 regex: case-insensitive contractions, \\p{N}{1,3}) + ByteLevel
                without regex, ignore_merges, <|begin_of_text|> template: Llama 3
  qwen2/        NFC + Split(Qwen regex: \\p{N} one digit) + ByteLevel, specials and a
                non-special added token, no BOS: Qwen2 / Qwen3
  starcoder/    Digits(individual) + ByteLevel, an lstrip/rstrip added token
  llama2/       SentencePiece BPE (trained by `sentencepiece`) with byte fallback, converted
                the legacy way (Prepend + Replace normalizer, <s> template), and the
                tokenizer.model itself: Llama 2 / Mistral
  metaspace/    the same model converted the non-legacy way (Metaspace, prepend_scheme "first",
                no normalizer), as newer Llama / Mistral files are
  gemma/        the same model, Gemma's way (Replace normalizer, no dummy prefix, <bos>-style
                template, no Strip decoder)
  spm-model/    tokenizer.model alone; ids are the legacy conversion's, which the script checks
                against `sentencepiece` itself on every text without special tokens
Each folder has expected.json: for every corpus text, `ids` (encode without special tokens),
`idsWithSpecial` (transformers' AutoTokenizer, i.e. the file's own BOS rule), `tokens`,
`decoded` (decode(ids, skip_special_tokens=False)), `tokenStrings` (each id decoded alone) and
`pieces` (the pre-tokenizer's pieces, where no added token occurs in the text).

Usage: python3 scripts/make_tokenizer_family_fixtures.py
Needs: pip install tokenizers sentencepiece protobuf transformers (no torch).
"""

import json
import os
import shutil
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import sentencepiece as spm  # noqa: E402
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402
from transformers.tokenization_utils_base import generate_merges  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "tokenizers")
TRAINING = os.path.join(OUT, "training.txt")

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
LLAMA3_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
QWEN_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)

# The varied corpus: prose, digit runs, upper-case contractions, whitespace runs, newlines,
# tabs, accents (composed and decomposed), CJK, emoji, bytes absent from training (so byte
# fallback triggers), and every style's special tokens written in the text.
CORPUS = [
    "",
    " ",
    "Hello world",
    " Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "Mechanic is a mechanistic-interpretability toolkit in Swift.",
    "1234567 and 12 and 3.14159 and 1,000,000 and 2024-05-17",
    "٣٤٥ Ⅻ ½ ²³",
    "IT'S THEY'RE WE'VE I'M YOU'LL HE'D DON'T",
    "it's they're we've i'm you'll he'd 'S 'Re 'ſ IT'ſ X'RE",
    "a  b   c    d",
    "trailing spaces   ",
    "   leading spaces",
    "line one\nline two\n\nline four\r\nwindows\n",
    "\n\n\n",
    " \n \n",
    "col1\tcol2\t\tcol3",
    "Café naïve résumé Zürich",
    "Cafe\u0301 decomposed e\u0301",
    "日本語のテキスト 中文文本 한국어",
    "Emoji 🙂🚀 and 👍🏽 family 👨‍👩‍👧",
    "rare bytes: \x00\x01\x7f ¤ Ꙁ 𝔘𝔫𝔦 \U0001F9EC",
    "Quxbaz Quxbaz!",
    "def f(x):\n    return x ** 2  # square\n",
    "<|endoftext|>",
    "Hello<|endoftext|>world <|endoftext|> again",
    "<|begin_of_text|>Hi<|end_of_text|>",
    "<|im_start|>user\nHi there<|im_end|>\n<tool_call>{}</tool_call>",
    "<s>Hello</s> <s> world",
    "[INST] <tool> ok [/INST]",
    "Mask <mask> here and<mask>there",
    "spaces  before   runs    x",
    "¡Hola! ¿Qué tal? «Bien» — ‘quotes’ “double”",
    "ＦＵＬＬＷＩＤＴＨ ｶﾀｶﾅ",
]


def training_lines():
    with open(TRAINING, encoding="utf-8") as f:
        return f.read().splitlines()


def train_byte_level(pre_tokenizer, normalizer=None, vocab_size=700, special=()):
    """A byte-level BPE trained on training.txt with the given pipeline."""
    tok = Tokenizer(models.BPE())
    if normalizer is not None:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(special),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(training_lines(), trainer)
    return tok


def edit(tok, fn):
    """Applies `fn` to the tokenizer's JSON and reloads it."""
    data = json.loads(tok.to_str())
    fn(data)
    return Tokenizer.from_str(json.dumps(data))


def gpt2():
    tok = train_byte_level(pre_tokenizers.ByteLevel(add_prefix_space=False))
    tok.add_special_tokens(["<|endoftext|>"])
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    config = {"tokenizer_class": "GPT2Tokenizer", "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
              "add_prefix_space": False}
    return tok, config


def neox():
    tok = train_byte_level(
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True),
        normalizer=normalizers.NFC(),
        special=["<|endoftext|>", "<|padding|>"],
    )
    tok.add_tokens([AddedToken(" " * n, normalized=True, special=False) for n in (4, 3, 2)])
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    config = {"tokenizer_class": "GPTNeoXTokenizer", "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
              "unk_token": "<|endoftext|>", "add_bos_token": False, "add_eos_token": False}
    return tok, config


def split_then_bytes(pattern):
    return pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])


def llama3():
    tok = train_byte_level(split_then_bytes(LLAMA3_PATTERN))

    def add_unreachable_word(data):
        # A whole word in the vocabulary that merges would not build, so ignore_merges shows.
        vocab = data["model"]["vocab"]
        vocab["ĠQuxbaz"] = len(vocab)
        data["model"]["ignore_merges"] = True

    tok = edit(tok, add_unreachable_word)
    without = edit(tok, lambda d: d["model"].__setitem__("ignore_merges", False))
    assert tok.encode(" Quxbaz").ids != without.encode(" Quxbaz").ids, "ignore_merges must matter"
    tok.add_special_tokens(["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"])
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(
            single="<|begin_of_text|> $A",
            pair="<|begin_of_text|> $A <|begin_of_text|> $B:1",
            special_tokens=[("<|begin_of_text|>", bos)],
        ),
    ])
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<|begin_of_text|>",
              "eos_token": "<|end_of_text|>"}
    return tok, config


def qwen2():
    tok = train_byte_level(split_then_bytes(QWEN_PATTERN), normalizer=normalizers.NFC())
    tok.add_special_tokens(["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    tok.add_tokens([AddedToken("<tool_call>", normalized=False, special=False),
                    AddedToken("</tool_call>", normalized=False, special=False)])
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    config = {"tokenizer_class": "Qwen2Tokenizer", "bos_token": None, "eos_token": "<|endoftext|>",
              "pad_token": "<|endoftext|>", "add_bos_token": False}
    return tok, config


def starcoder():
    tok = train_byte_level(pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
    ]), special=["<|endoftext|>"])
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, rstrip=True, special=True, normalized=False)])
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<|endoftext|>",
              "eos_token": "<|endoftext|>"}
    return tok, config


def train_sentencepiece(folder):
    """A Llama-2-style SentencePiece BPE model: byte fallback, identity normalization."""
    prefix = os.path.join(folder, "sp")
    spm.SentencePieceTrainer.train(
        input=TRAINING, model_prefix=prefix, model_type="bpe", vocab_size=700,
        byte_fallback=True, normalization_rule_name="identity", remove_extra_whitespaces=False,
        add_dummy_prefix=True, split_digits=True, character_coverage=0.9995,
        user_defined_symbols=["<tool>"], num_threads=1, minloglevel=2,
    )
    return prefix + ".model"


def sentencepiece_bpe(model_path, normalizer, pre_tokenizer, decoder, bos="<s>"):
    """Converts a SentencePiece BPE model the way transformers' LlamaConverter does."""
    proto = spm.SentencePieceProcessor(model_file=model_path)
    vocab = {proto.id_to_piece(i): i for i in range(proto.get_piece_size())}
    scores = {proto.id_to_piece(i): proto.get_score(i) for i in range(proto.get_piece_size())}
    merges = generate_merges(vocab, scores)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in ("<unk>", "<s>", "</s>")])
    tok.add_tokens([AddedToken("<tool>", normalized=False, special=False)])
    if normalizer is not None:
        tok.normalizer = normalizer
    if pre_tokenizer is not None:
        tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoder
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, vocab[bos])]
    )
    return tok


def llama2(model_path):
    return sentencepiece_bpe(
        model_path,
        normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")]),
        None,
        decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                           decoders.Strip(" ", 1, 0)]),
    )


def metaspace(model_path):
    """The non-legacy conversion (transformers' `legacy=False`): Metaspace, prepend_scheme "first"."""
    return sentencepiece_bpe(
        model_path,
        None,
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False),
        decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                           decoders.Strip(" ", 1, 0)]),
    )


def gemma(model_path):
    return sentencepiece_bpe(
        model_path,
        normalizers.Replace(" ", "▁"),
        None,
        decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()]),
    )


SP_CONFIG = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "eos_token": "</s>",
             "unk_token": "<unk>", "add_bos_token": True, "add_eos_token": False}


def cases(folder, tok):
    """HF's answers for every corpus text with the tokenizer saved in `folder`."""
    auto = AutoTokenizer.from_pretrained(folder)
    out = []
    for text in CORPUS:
        enc = tok.encode(text, add_special_tokens=False)
        ids = enc.ids
        with_special = auto(text)["input_ids"]
        assert with_special == tok.encode(text).ids, (folder, text)
        out.append({
            "text": text,
            "ids": ids,
            "idsWithSpecial": with_special,
            "tokens": [tok.id_to_token(i) for i in ids],
            "decoded": tok.decode(ids, skip_special_tokens=False),
            "tokenStrings": [tok.decode([i], skip_special_tokens=False) for i in ids],
            "pieces": pieces(tok, text),
        })
    return out


def pieces(tok, text):
    """The pre-tokenizer's pieces of the normalized text, or None when an added token would split it first."""
    if tok.pre_tokenizer is None or any(t.content in text for t in tok.get_added_tokens_decoder().values()):
        return None
    normalized = tok.normalizer.normalize_str(text) if tok.normalizer is not None else text
    return [piece for piece, _ in tok.pre_tokenizer.pre_tokenize_str(normalized)]


def special_id(tok, config, key):
    value = config.get(key)
    return tok.token_to_id(value) if value else None


def write(style, tok, config, extra_files=(), save_json=True, reference=None):
    folder = os.path.join(OUT, style)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for path, name in extra_files:
        shutil.copy(path, os.path.join(folder, name))
    # Cases are computed with tokenizer.json present (AutoTokenizer needs it), then the
    # json is removed from folders meant to hold only tokenizer.model.
    tok.save(os.path.join(folder, "tokenizer.json"))
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=1)
    vocab = tok.get_vocab(with_added_tokens=True)
    expected = {
        "style": style,
        "bosID": special_id(tok, config, "bos_token"),
        "eosID": special_id(tok, config, "eos_token"),
        "vocabularySize": max(vocab.values()) + 1,
        "cases": cases(folder, tok),
    }
    if not save_json:
        os.remove(os.path.join(folder, "tokenizer.json"))
        os.remove(os.path.join(folder, "tokenizer_config.json"))
    with open(os.path.join(folder, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"{style}: {len(expected['cases'])} cases, vocabulary {expected['vocabularySize']}")
    return expected


def check_against_sentencepiece(model_path, expected):
    """The legacy conversion must agree with SentencePiece itself on plain text."""
    sp = spm.SentencePieceProcessor(model_file=model_path)
    specials = ("<s>", "</s>", "<unk>", "<tool>", "<|", "<mask>")
    checked = 0
    for case in expected["cases"]:
        if any(s in case["text"] for s in specials):
            continue
        assert sp.encode(case["text"]) == case["ids"], (case["text"], sp.encode(case["text"]), case["ids"])
        checked += 1
    print(f"spm-model: SentencePiece agrees on {checked} texts")


def main():
    for style, build in [("gpt2", gpt2), ("neox", neox), ("llama3", llama3), ("qwen2", qwen2),
                         ("starcoder", starcoder)]:
        tok, config = build()
        write(style, tok, config)

    with tempfile.TemporaryDirectory() as tmp:
        model = train_sentencepiece(tmp)
        expected = write("llama2", llama2(model), SP_CONFIG, extra_files=[(model, "tokenizer.model")])
        write("gemma", gemma(model), {**SP_CONFIG, "bos_token": "<s>"})
        only_model = write("spm-model", llama2(model), SP_CONFIG, extra_files=[(model, "tokenizer.model")],
                           save_json=False)
        assert only_model["cases"] == expected["cases"]
        check_against_sentencepiece(model, only_model)

        write("metaspace", metaspace(model), SP_CONFIG)


if __name__ == "__main__":
    main()
