#!/usr/bin/env python3
"""Turn compile_tracr.py's output into model folders Mechanic loads, with ground truth and tasks.

Reads $TRACR_OUT/tracr-<program>/{weights.npz, meta.json, ground_truth.json, io.json} (written by
compile_tracr.py) and writes artifacts/models/tracr-<program>/:

  config.json         model_type "tracr" (TracrFamily): GPT-2 keys plus head_dim and causal
  model.safetensors   GPT-2 tensor names (fused c_attn [in, out]) plus lm_head.weight [vocab, d]
  tokenizer.json      one token per character ("abc", "123"), BOS and output tokens as added tokens
  tokenizer_config.json
  tracr-io.json       every input of the domain with tracr's own output-space logits per position
  circuits/<program>.json        head-level ground truth (the heads the compiler used)
  circuits/<program>.edges.txt   edge-level ground truth (MIB names), one per line
  tasks/<program>.jsonl          positives, negatives and counterfactuals for `mechanic discover`
  README.md

Vocabulary: tracr's input ids keep their ids; its output space follows as tokens "=<value>"
(categorical) or the single token "=value" (numerical). Output tokens have zero embedding rows
(they are never input) and input tokens zero unembedding rows, so the logits of the output tokens
are exactly tracr's output-space logits and the logits of input tokens are exactly 0.

Only numpy is needed (no tracr, no jax): run compile_tracr.py first.
"""

import itertools
import json
import os
import random
import struct
import sys

import numpy as np

SRC = os.environ.get("TRACR_OUT", "/tmp/tracr-work/out")
DST = os.environ.get("MECHANIC_TRACR_DST",
                     os.path.join(os.path.dirname(__file__), "..", "..", "artifacts", "models"))
PROGRAMS = ["reverse", "frac_prevs", "sort", "hist"]
TASK_LENGTHS = (3, 4, 5)          # input lengths (without BOS) of the task prompts
SEED = 0


def write_safetensors(path, tensors):
  """Writes float32 tensors in the safetensors format (8-byte header length, JSON header, data)."""
  header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
  for name in sorted(tensors):
    data = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
    header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                    "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
  text = json.dumps(header, separators=(",", ":")).encode()
  text += b" " * (-len(text) % 8)
  with open(path + ".tmp", "wb") as f:
    f.write(struct.pack("<Q", len(text)))
    f.write(text)
    for b in blobs:
      f.write(b)
  os.replace(path + ".tmp", path)


def write_json(path, value, indent=1):
  with open(path + ".tmp", "w") as f:
    json.dump(value, f, indent=indent)
    f.write("\n")
  os.replace(path + ".tmp", path)


class Program:
  def __init__(self, name):
    d = os.path.join(SRC, f"tracr-{name}")
    self.name = name
    self.params = dict(np.load(os.path.join(d, "weights.npz")))
    self.meta = json.load(open(os.path.join(d, "meta.json")))
    self.truth = json.load(open(os.path.join(d, "ground_truth.json")))
    self.io = json.load(open(os.path.join(d, "io.json")))
    m = self.meta
    self.categorical = m["output"]["categorical"]
    self.input_ids = {str(k): v for k, v in m["input_encoding"].items()}
    n_in = len(self.input_ids)
    assert sorted(self.input_ids.values()) == list(range(n_in))
    if self.categorical:
      dec = m["output"]["output_decoding"]
      self.output_values = [str(dec[str(i)]) for i in range(len(dec))]
      self.output_tokens = ["=" + v for v in self.output_values]
    else:
      self.output_values = ["value"]
      self.output_tokens = ["=value"]
    self.n_in, self.n_out = n_in, len(self.output_tokens)
    self.vocab_size = n_in + self.n_out

  def output_id(self, value):
    """Mechanic token id of a categorical output value."""
    return self.n_in + self.output_values.index(str(value))

  # -------------------------------------------------------------------------------------------
  def tensors(self):
    P, m = self.params, self.meta
    D, L = m["residual_width"], m["num_layers"]
    wte = np.zeros((self.vocab_size, D), np.float32)
    wte[: self.n_in] = P["token_embed/embeddings"]
    unembed = P["unembed/w"]                                    # [D, n_out]
    assert unembed.shape == (D, self.n_out), unembed.shape
    lm_head = np.zeros((self.vocab_size, D), np.float32)
    lm_head[self.n_in:] = unembed.T
    t = {"wte.weight": wte, "wpe.weight": P["pos_embed/embeddings"], "lm_head.weight": lm_head}
    for l in range(L):
      a, p = f"transformer/layer_{l}/attn", f"h.{l}."
      t[p + "attn.c_attn.weight"] = np.concatenate([P[f"{a}/{x}/w"] for x in ("query", "key", "value")], axis=1)
      t[p + "attn.c_attn.bias"] = np.concatenate([P[f"{a}/{x}/b"] for x in ("query", "key", "value")])
      t[p + "attn.c_proj.weight"] = P[f"{a}/linear/w"]
      t[p + "attn.c_proj.bias"] = P[f"{a}/linear/b"]
      mm = f"transformer/layer_{l}/mlp"
      t[p + "mlp.c_fc.weight"] = P[f"{mm}/linear_1/w"]
      t[p + "mlp.c_fc.bias"] = P[f"{mm}/linear_1/b"]
      t[p + "mlp.c_proj.weight"] = P[f"{mm}/linear_2/w"]
      t[p + "mlp.c_proj.bias"] = P[f"{mm}/linear_2/b"]
    return t

  def config(self):
    m = self.meta
    return {
        "model_type": "tracr",
        "architectures": ["TracrCompiledTransformer"],
        "n_layer": m["num_layers"], "n_head": m["num_heads"], "head_dim": m["key_size"],
        "n_embd": m["residual_width"], "n_inner": m["mlp_hidden_size"],
        "n_positions": m["model_seq_len"], "vocab_size": self.vocab_size,
        "activation_function": "relu", "causal": bool(m["causal"]),
        "bos_token_id": m["bos_id"],
        "tracr": {
            "program": self.name, "rasp": m["tracr_lib_call"], "vocab": [str(v) for v in m["vocab"]],
            "max_seq_len": m["max_seq_len"], "compiler_pad": m["compiler_pad"], "pad_token_id": m["pad_id"],
            "output": "categorical" if self.categorical else "numerical",
            "output_tokens": self.output_tokens, "first_output_id": self.n_in,
        },
    }

  def tokenizer(self):
    """A BPE tokenizer without merges: each character of the prompt is one input token."""
    vocab = {}
    added = []
    for tok, i in self.input_ids.items():
      if len(tok) == 1:
        vocab[tok] = i
      else:
        added.append({"id": i, "content": tok, "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True})
        vocab[tok] = i
    for j, tok in enumerate(self.output_tokens):
      vocab[tok] = self.n_in + j
      added.append({"id": self.n_in + j, "content": tok, "single_word": False, "lstrip": False,
                    "rstrip": False, "normalized": False, "special": False})
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": sorted(added, key=lambda a: a["id"]),
        "normalizer": None, "pre_tokenizer": None, "post_processor": None, "decoder": None,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": vocab, "merges": []},
    }

  # -------------------------------------------------------------------------------------------
  def io_file(self):
    """Every input with tracr's own output-space logits at every position (BOS included)."""
    examples = []
    for ex in self.io["examples"]:
      examples.append({"input": "".join(str(x) for x in ex["input"]), "ids": ex["input_ids"],
                       "logits": ex["output_logits"], "decoded": [str(x) for x in ex["decoded"][1:]]})
    return {"program": self.name, "first_output_id": self.n_in, "output_tokens": self.output_tokens,
            "note": "logits: tracr's output-space logits [position][output] for the input with BOS, "
                    "computed by tracr (final residual @ unembed); decoded: tracr's outputs after BOS",
            "examples": examples}

  # -------------------------------------------------------------------------------------------
  def components(self):
    """Mechanic node name -> (kind, reads-per-receiver, writes) for every module the compiler used."""
    nodes = {}
    for comp in self.truth["components"]:
      for impl in comp["implemented_by"]:
        if impl["type"] == "attn_head":
          name = f"a{impl['layer']}.h{impl['head']}"
          reads = {"<q>": set(impl["query_reads"]), "<k>": set(impl["key_reads"]), "<v>": set(impl["value_reads"])}
          order = 2 * impl["layer"]
        else:
          name = f"m{impl['layer']}"
          reads = {"": set(impl["reads"])}
          order = 2 * impl["layer"] + 1
        node = nodes.setdefault(name, {"order": order, "reads": {}, "writes": set(), "implements": []})
        for r, labels in reads.items():
          node["reads"].setdefault(r, set()).update(labels)
        node["writes"].update(impl["writes"])
        node["implements"].append(comp["rasp_label"])
    return nodes

  def edges(self):
    """The compiler's dataflow: sender -> receiver when the sender writes a residual direction the
    receiver reads (the embedding writes tokens:*, indices:* and one; the logits read the output space)."""
    labels = self.meta["residual_labels"]
    inputs = {l for l in labels if l.startswith("tokens:") or l.startswith("indices:") or l == "one"}
    nodes = self.components()
    senders = [("input", -1, inputs)] + [(n, v["order"], v["writes"]) for n, v in nodes.items()]
    receivers = [(n + r, v["order"], reads) for n, v in nodes.items() for r, reads in v["reads"].items()]
    receivers.append(("logits", 10 ** 6, set(self.meta["output"]["output_space_labels"])))
    edges = []
    for s, so, writes in senders:
      for r, ro, reads in receivers:
        # A sender reaches only later receivers (attention of layer l reads resid_pre, its MLP resid_mid).
        if so < ro and writes & reads:
          edges.append(f"{s}->{r}")
    return sorted(edges), nodes

  def circuit(self):
    edges, nodes = self.edges()
    heads = sorted([int(n[1:].split(".h")[0]), int(n.split(".h")[1])] for n in nodes if n.startswith("a"))
    mlps = sorted(int(n[1:]) for n in nodes if n.startswith("m"))
    return {
        "task": self.name,
        "procedure": "tracr compiler: the heads and MLPs it assigned RASP operations to (not derived from the weights' behaviour)",
        "heads": heads, "mlps": mlps,
        "operations": {n: sorted(set(v["implements"])) for n, v in sorted(nodes.items())},
        "edges": len(edges),
    }, edges

  # -------------------------------------------------------------------------------------------
  def answer(self, seq):
    """tracr's output at the last position for an input (from io.json)."""
    return self.outputs[tuple(seq)][-1]

  def task_entries(self):
    """Positives, negatives and counterfactuals, read at the last position (see scripts/tracr/README.md)."""
    self.outputs = {tuple(str(x) for x in ex["input"]): [str(x) for x in ex["decoded"][1:]]
                    for ex in self.io["examples"]}
    vocab = [str(v) for v in self.meta["vocab"]]
    rng = random.Random(SEED)
    entries = []
    for n in TASK_LENGTHS:
      for seq in itertools.product(vocab, repeat=n):
        seq = list(seq)
        entry = getattr(self, "entry_" + self.name)(seq, vocab, rng)
        if entry:
          entries.append(entry)
    return entries

  def categorical_entry(self, seq, corrupted, positive):
    answer, wrong = self.answer(seq), self.answer(corrupted)
    if positive and answer == wrong:
      return None
    e = {"prompt": "".join(seq), "answer": "=" + answer, "positive": positive, "corrupted": "".join(corrupted)}
    if answer != wrong:
      e["wrong"] = ["=" + wrong]
    else:
      e["wrong"] = ["=" + v for v in self.output_values if v != answer]
    return e

  def entry_reverse(self, seq, vocab, rng):
    # Last position reads the first token. Negatives: the first token equals the last (the current
    # token already is the answer). Counterfactual: another first token.
    corrupted = [rng.choice([v for v in vocab if v != seq[0]])] + seq[1:]
    return self.categorical_entry(seq, corrupted, positive=seq[0] != seq[-1])

  def entry_hist(self, seq, vocab, rng):
    # Last position: how often the last token occurs. Negatives: it occurs once. Counterfactual:
    # every other occurrence of it replaced by another token.
    last = seq[-1]
    others = [v for v in vocab if v != last]
    corrupted = [x if x != last else rng.choice(others) for x in seq[:-1]] + [last]
    return self.categorical_entry(seq, corrupted, positive=seq.count(last) > 1)

  def entry_sort(self, seq, vocab, rng):
    # Last position: the largest token. Negatives: the last token is already the largest.
    # Counterfactual: the largest tokens before the last lowered to the smallest other value.
    top = max(seq)
    lower = [v for v in vocab if v < top]
    if not lower:
      corrupted = list(seq)
    else:
      corrupted = [x if x != top else rng.choice(lower) for x in seq[:-1]] + [seq[-1]]
    return self.categorical_entry(seq, corrupted, positive=seq[-1] != top)

  def entry_frac_prevs(self, seq, vocab, rng):
    # Last position: the fraction of "a" tokens. Metric: that value (logit of "=value").
    # Negatives: no "a" (value 0). Counterfactual: every "a" replaced by another token (value 0).
    others = [v for v in vocab if v != "a"]
    corrupted = [x if x != "a" else rng.choice(others) for x in seq]
    return {"prompt": "".join(seq), "answer": "=value", "positive": "a" in seq, "corrupted": "".join(corrupted)}

  # -------------------------------------------------------------------------------------------
  def readme(self, circuit, edges, entries):
    m = self.meta
    pos = sum(e["positive"] for e in entries)
    lines = [
        f"# tracr-{self.name}",
        "",
        f"The RASP program `{m['tracr_lib_call']}` compiled by tracr (vocabulary "
        f"{{{', '.join(str(v) for v in m['vocab'])}}}, inputs of 1–{m['max_seq_len']} tokens after BOS), "
        "exported by `scripts/tracr/export_mechanic.py`. Its circuit is known exactly: the compiler "
        "put each RASP operation in a head or MLP.",
        "",
        f"- {m['num_layers']} layers × {m['num_heads']} head, head width {m['key_size']}, residual "
        f"{m['residual_width']}, MLP {m['mlp_hidden_size']}; no normalisation, bidirectional attention, ReLU.",
        f"- Output: {'categorical, tokens ' + ', '.join(self.output_tokens) if self.categorical else 'numerical, the logit of =value'}"
        f" (ids {self.n_in}…{self.vocab_size - 1}).",
        f"- Ground truth: heads {', '.join(f'a{l}.{h}' for l, h in circuit['heads'])}; MLPs "
        f"{', '.join(f'm{l}' for l in circuit['mlps']) or 'none'}; {len(edges)} edges (`circuits/{self.name}.edges.txt`).",
        f"- Task `tasks/{self.name}.jsonl`: {pos} positives, {len(entries) - pos} negatives, read at the last position.",
        "",
        "Operations per component:",
        "",
    ]
    for node, ops in circuit["operations"].items():
      lines.append(f"- `{node}`: {', '.join(ops)}")
    return "\n".join(lines) + "\n"

  def export(self):
    out = os.path.join(DST, f"tracr-{self.name}")
    os.makedirs(os.path.join(out, "circuits"), exist_ok=True)
    os.makedirs(os.path.join(out, "tasks"), exist_ok=True)
    write_safetensors(os.path.join(out, "model.safetensors"), self.tensors())
    write_json(os.path.join(out, "config.json"), self.config())
    write_json(os.path.join(out, "tokenizer.json"), self.tokenizer())
    write_json(os.path.join(out, "tokenizer_config.json"),
               {"bos_token": "BOS", "add_bos_token": True, "model_max_length": self.meta["model_seq_len"]})
    write_json(os.path.join(out, "tracr-io.json"), self.io_file(), indent=None)
    circuit, edges = self.circuit()
    write_json(os.path.join(out, "circuits", f"{self.name}.json"), circuit)
    with open(os.path.join(out, "circuits", f"{self.name}.edges.txt"), "w") as f:
      f.write("".join(e + "\n" for e in edges))
    entries = self.task_entries()
    with open(os.path.join(out, "tasks", f"{self.name}.jsonl"), "w") as f:
      f.write("".join(json.dumps(e) + "\n" for e in entries))
    with open(os.path.join(out, "README.md"), "w") as f:
      f.write(self.readme(circuit, edges, entries))
    print(f"tracr-{self.name}: vocab {self.vocab_size}, heads {circuit['heads']}, mlps {circuit['mlps']}, "
          f"{len(edges)} edges, {sum(e['positive'] for e in entries)}/{len(entries)} positive prompts")


def main():
  for name in sys.argv[1:] or PROGRAMS:
    Program(name).export()


if __name__ == "__main__":
  main()
