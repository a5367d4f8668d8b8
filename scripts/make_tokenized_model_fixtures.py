#!/usr/bin/env python3
"""Write tiny random models that come with a real tokenizer, and what HF answers for text prompts.

The family fixtures (make_family_fixtures.py) check every activation on random ids; these check
the whole path a user takes: text -> the folder's own tokenizer -> model -> next-token logits,
for a SentencePiece-style Llama (tokenizer.json + tokenizer.model, BOS added), a byte-level Qwen2
(no BOS) and a GPT-NeoX (byte-level, NFC). Tokenizers are the committed ones in
Tests/Fixtures/tokenizers/ (made by make_tokenizer_family_fixtures.py); models are random,
sized to each tokenizer's vocabulary. Nothing is downloaded.

Deterministic: fixed seeds, one torch thread.

Usage:
    python3 scripts/make_tokenized_model_fixtures.py [--out Tests/Fixtures/tokenized]
"""

import argparse
import json
import os
import shutil
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import (AutoTokenizer, GPTNeoXConfig, GPTNeoXForCausalLM, LlamaConfig,  # noqa: E402
                          LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM)

REPO = Path(__file__).resolve().parent.parent
TOKENIZERS = REPO / "Tests" / "Fixtures" / "tokenizers"
DEFAULT_OUT = REPO / "Tests" / "Fixtures" / "tokenized"

PROMPTS = [
    "When Mary and John went to the store, John gave a drink to",
    "The war lasted from the year 1732 to the year 17",
    "naïve café: 12345 tokens",
]
TOP_K = 5

SMALL = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
             max_position_embeddings=64)

MODELS = [
    ("llama-spm", "llama2", LlamaForCausalLM,
     lambda vocab, tok: LlamaConfig(vocab_size=vocab, num_key_value_heads=2, bos_token_id=tok.bos_token_id,
                                    eos_token_id=tok.eos_token_id, **SMALL), 21),
    ("qwen2-bytes", "qwen2", Qwen2ForCausalLM,
     lambda vocab, tok: Qwen2Config(vocab_size=vocab, num_key_value_heads=2, eos_token_id=tok.eos_token_id,
                                    bos_token_id=tok.eos_token_id, tie_word_embeddings=True, **SMALL), 22),
    ("neox-bytes", "neox", GPTNeoXForCausalLM,
     lambda vocab, tok: GPTNeoXConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                      intermediate_size=64, max_position_embeddings=64, rotary_pct=0.5,
                                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id), 23),
]


def init_weights(model, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if p.dim() == 1 and ("norm" in name or "layernorm" in name):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen))
            elif p.dim() == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))


def make(name, style, cls, config_of, seed, out):
    folder = out / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    source = TOKENIZERS / style
    for f in sorted(source.iterdir()):
        if f.name.startswith("tokenizer"):
            shutil.copy(f, folder / f.name)
    tok = AutoTokenizer.from_pretrained(str(folder))
    vocab = len(tok)
    torch.manual_seed(seed)
    config = config_of(vocab, tok)
    model = cls(config).eval()
    init_weights(model, seed)
    model.save_pretrained(str(folder), safe_serialization=True)
    reloaded = cls.from_pretrained(str(folder), dtype=torch.float32, attn_implementation="eager").eval()
    cases = []
    for text in PROMPTS:
        ids = tok(text)["input_ids"]
        plain = tok(text, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logits = reloaded(torch.tensor([ids])).logits[0, -1]
        top = torch.topk(logits, TOP_K)
        cases.append(dict(text=text, ids=ids, ids_without_special=plain,
                          top_ids=top.indices.tolist(), top_logits=[float(v) for v in top.values]))
    expected = dict(model_type=config.model_type, vocab_size=vocab, bos_added=tok("a")["input_ids"][0] == tok.bos_token_id
                    if tok.bos_token_id is not None else False, cases=cases,
                    versions=dict(torch=torch.__version__, transformers=transformers.__version__))
    (folder / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    print(f"{name}: vocab {vocab}, {sum(p.numel() for p in model.parameters())} parameters")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for spec in MODELS:
        make(*spec, args.out)


if __name__ == "__main__":
    main()
