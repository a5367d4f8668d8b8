#!/usr/bin/env python3
"""Writes the seed corpora in Fuzz/Corpus/<target>/ from the test fixtures and the embedded model.

Seeds are small valid files (a few KB, none over 100 KB: libFuzzer mutates the whole input every
execution, so big seeds only slow it down) plus a few edge cases. Multi-file targets take their
files joined by NUL after a mode byte (see each target's doc comment). Run from anywhere:
    python3 Fuzz/make-corpus.py
It replaces the seed folders; the fuzzer never writes into them (scripts/fuzz.sh works on a copy).
"""
import json
import pathlib
import shutil
import struct

root = pathlib.Path(__file__).resolve().parent.parent
fixtures = root / "Tests" / "Fixtures"
mini = root / "artifacts" / "models" / "mechanic-mini"
corpus = root / "Fuzz" / "Corpus"
LIMIT = 100_000


def folder(target):
    path = corpus / target
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def write(path, data):
    assert len(data) <= LIMIT, f"{path} is {len(data)} bytes"
    path.write_bytes(data)


def safetensors(tensors, metadata=None, pad=0):
    """A safetensors file: {name: (dtype, shape, raw bytes)} laid out in order."""
    header, data = {}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode() + b" " * pad
    return struct.pack("<Q", len(text)) + text + data


# 1. Safetensors files.
out = folder("safetensors")
f32 = struct.pack("<6f", 0, 1, -2.5, 3e38, float("inf"), float("nan"))
write(out / "f32.safetensors", safetensors({"w": ("F32", [2, 3], f32)}))
write(out / "mixed.safetensors", safetensors({
    "a.f16": ("F16", [2], struct.pack("<2e", 1.5, -0.0)),
    "b.bf16": ("BF16", [1, 2], b"\x80\x3f\x00\xc0"),
    "c.f64": ("F64", [1], struct.pack("<d", 3.25)),
    "d.i64": ("I64", [2], struct.pack("<2q", -1, 2**62)),
    "e.i32": ("I32", [1], struct.pack("<i", 7)),
    "f.i16": ("I16", [1], struct.pack("<h", -3)),
    "g.i8": ("I8", [2], b"\x80\x7f"),
    "h.u8": ("U8", [1], b"\xff"),
    "i.u16": ("U16", [1], b"\xff\xff"),
    "j.u32": ("U32", [1], b"\xff\xff\xff\xff"),
    "k.bool": ("BOOL", [3], b"\x00\x01\x01"),
    "l.u64": ("U64", [1], b"\xff" * 8),
}, metadata={"format": "pt", "note": "seed"}))
write(out / "scalar-and-empty.safetensors", safetensors({
    "scalar": ("F32", [], struct.pack("<f", 1)),
    "empty": ("F32", [0, 4], b""),
    "zero": ("I64", [3, 0], b""),
}))
write(out / "padded-header.safetensors", safetensors({"x": ("BF16", [2, 2], bytes(8))}, pad=7))
write(out / "no-tensors.safetensors", safetensors({}, metadata={}))
gap = b'{"t":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}    '
write(out / "gap.safetensors", struct.pack("<Q", len(gap)) + gap + bytes(6))
write(out / "truncated.safetensors", safetensors({"w": ("F32", [2, 3], f32)})[:-5])
for path in sorted(fixtures.rglob("*.safetensors")):
    if path.stat().st_size <= 20_000:
        write(out / f"fixture-{path.parent.name}-{path.name}", path.read_bytes())

# 2. config.json of every family.
out = folder("model-config")
configs = sorted(fixtures.rglob("config*.json")) + [mini / "config.json"]
for path in configs:
    if path.name.startswith("config") and "tokenizer" not in path.name:
        write(out / f"{path.parent.name}-{path.name}", path.read_bytes())
write(out / "empty-object.json", b"{}")
write(out / "llama-minimal.json", json.dumps({
    "model_type": "llama", "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2,
    "hidden_size": 16, "intermediate_size": 32, "vocab_size": 10,
    "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192}}).encode())
write(out / "gemma3-nested-rope.json", json.dumps({
    "model_type": "gemma3_text", "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
    "hidden_size": 8, "intermediate_size": 16, "vocab_size": 10, "head_dim": 4, "sliding_window": 4,
    "layer_types": ["sliding_attention", "full_attention"],
    "rope_parameters": {"full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1000000.0},
                        "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}}).encode())

# 3. Tokenizer files: mode byte, then the files joined by NUL.
out = folder("tokenizer")
sample = "When Mary and John went to the store, John gave a drink to Mary. 42 ü 日本\n".encode()
for name, path in [("tiny", fixtures / "tokenizer" / "tiny"), ("mini", mini), ("tiny-f32", fixtures / "models" / "tiny-f32")]:
    write(out / f"0-vocab-merges-{name}", b"\x00" + (path / "vocab.json").read_bytes() + b"\x00"
          + (path / "merges.txt").read_bytes() + b"\x00" + sample)
write(out / "0-vocab-merges-edge", b"\x00" + b'{"a":0,"b":1,"ab":2,"\\u0120":3}' + b"\x00#version: 0.2\r\na b\r\n\r\n" + b"\x00ab ab")
for name in ["json-pairs", "json-strings"]:
    write(out / f"1-tokenizer-json-{name}", b"\x01" + (fixtures / "tokenizer" / "tiny" / name / "tokenizer.json").read_bytes()
          + b"\x00" + sample)
for path in sorted((fixtures / "tokenizers").glob("*/tokenizer.json")):
    config = path.parent / "tokenizer_config.json"
    write(out / f"2-hf-{path.parent.name}", b"\x02" + path.read_bytes() + b"\x00"
          + (config.read_bytes() if config.exists() else b"") + b"\x00" + sample)
write(out / "3-sentencepiece-spm-model", b"\x03" + (fixtures / "tokenizers" / "spm-model" / "tokenizer.model").read_bytes())

# 4. Task prompt files (JSON Lines and JSON arrays), for the mechanic-mini tokenizer.
out = folder("file-task")
ioi = {"prompt": "When Mary and John went to the store, John gave a drink to", "answer": " Mary", "wrong": [" John"],
       "corrupted": "When Mary and John went to the store, Mary gave a drink to"}
negative = {"prompt": "When Mary and John went to the store, Tom gave a drink to", "answer": [" Mary", " John"], "positive": False}
write(out / "ioi.jsonl", (json.dumps(ioi) + "\n" + json.dumps(negative) + "\n").encode())
write(out / "ioi-crlf.jsonl", (json.dumps(ioi) + "\r\n\r\n" + json.dumps(negative) + "\r\n").encode())
write(out / "ioi.json", json.dumps([ioi, negative], indent=2).encode())
write(out / "minimal.jsonl", b'{"prompt": "x", "answer": " the"}')
write(out / "empty-array.json", b"  [ ]")
write(out / "unicode.jsonl", json.dumps({"prompt": "caf\u00e9 \u65e5\u672c \ud83d\ude00", "answer": " to", "wrong": []}).encode())

# 5. DOT writer: choice streams (see FuzzDOT.swift; the first byte picks quoted / CircuitGraph / edges).
out = folder("dot")
write(out / "quoted-specials", b"\x00\x40" + 'a "b" \\c & d\n\te\r\x01\x7f \u00e9 \U0001f600 \\'.encode()[:64])
write(out / "circuit-graph", bytes([1, 3, 4, 1, 0, 1, 1, 5, 1, 1, 1, 6, 1, 3, 0x3f, 0x80, 0, 0, 0, 1, 8]) + b'name "mover"\\'
      + bytes([1, 0x7f, 0xc0, 0, 0, 3, 0, 2, 1, 0xbf, 0x80, 0, 0, 1, 2, 0, 1, 10]) + b"IOI & co\n\x00")
write(out / "edge-circuit", bytes([2, 2, 3, 0, 1, 0]) + bytes([1, 0x40, 0, 0, 0, 1] * 40) + bytes([1, 2, 1, 1, 1, 8]) + b'T "1"\\n')
write(out / "empty", b"")
