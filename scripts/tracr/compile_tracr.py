#!/usr/bin/env python3
"""Compile four tracr library programs and export them for Mechanic.

For every program this writes to /tmp/tracr-work/out/tracr-<program>/:

  weights.npz       all haiku params under their tracr names
                    ("token_embed/embeddings", "pos_embed/embeddings",
                     "transformer/layer_<i>/attn/{query,key,value,linear}/{w,b}",
                     "transformer/layer_<i>/mlp/{linear_1,linear_2}/{w,b}")
                    plus "unembed/w" (NOT a haiku param: the residual->output
                    projection matrix that tracr's unembed closure uses).
  meta.json         architecture + I/O conventions needed to re-run the model.
  ground_truth.json which layer/head/MLP-neurons implement which RASP op,
                    the residual directions they read/write, and the edges.
  io.json           every input of the domain (lengths 1..max_seq_len) with
                    tracr's raw outputs (final residual, unembedded output,
                    decoded output) and the RASP interpreter's output.
  io_residuals.npz  per-example residual stream after every half-layer
                    (key "ex<i>", shape [2*num_layers, T, D]) and the input
                    embeddings (key "ex<i>_embed", shape [T, D]).

The compile pipeline of tracr.compiler.compiling.compile_rasp_to_model is
replayed step by step (identical calls) so that the intermediate RASP graph
and craft model stay available for ground-truth extraction; the resulting
params are checked to be identical to those of compile_rasp_to_model.
"""

import itertools
import json
import os

import numpy as np
import jax
import jax.numpy as jnp

from tracr.compiler import assemble
from tracr.compiler import basis_inference
from tracr.compiler import compiling
from tracr.compiler import craft_graph_to_model
from tracr.compiler import craft_model_to_transformer
from tracr.compiler import expr_to_craft_graph
from tracr.compiler import lib
from tracr.compiler import nodes
from tracr.compiler import rasp_to_graph
from tracr.craft import bases
from tracr.craft import transformers
from tracr.rasp import rasp

OUT_ROOT = os.environ.get("TRACR_OUT", "/tmp/tracr-work/out")
BOS = "BOS"
PAD = "compiler_pad"          # tracr default compiler_pad
MAX_SEQ_LEN = 5
MLP_EXACTNESS = 100           # tracr default


def programs():
  """(name, program-factory, vocab).  Factories so each compile is fresh."""
  return [
      ("reverse", lambda: lib.make_reverse(rasp.tokens), {"a", "b", "c"}),
      ("frac_prevs",
       lambda: lib.make_frac_prevs(rasp.tokens == "a"), {"a", "b", "c"}),
      ("sort",
       lambda: lib.make_sort(rasp.tokens, rasp.tokens,
                             max_seq_len=MAX_SEQ_LEN, min_key=1), {1, 2, 3}),
      ("hist", lambda: lib.make_hist(), {"a", "b", "c"}),
  ]


def jsonable(v):
  """Turn tracr values (numpy scalars, tuples, None) into JSON values."""
  if isinstance(v, (np.generic,)):
    return v.item()
  if isinstance(v, tuple):
    return [jsonable(x) for x in v]
  return v


# ---------------------------------------------------------------------------
# Compilation (same steps as compiling.compile_rasp_to_model)
# ---------------------------------------------------------------------------
def compile_with_graph(program, vocab):
  extracted = rasp_to_graph.extract_rasp_graph(program)
  graph, sources, sink = extracted.graph, extracted.sources, extracted.sink
  basis_inference.infer_bases(graph, sink, vocab, MAX_SEQ_LEN)
  expr_to_craft_graph.add_craft_components_to_rasp_graph(
      graph, bos_dir=bases.BasisDirection(rasp.tokens.label, BOS),
      mlp_exactness=MLP_EXACTNESS)
  craft_model = craft_graph_to_model.craft_graph_to_model(graph, sources)
  model = craft_model_to_transformer.craft_model_to_transformer(
      craft_model=craft_model, graph=graph, sink=sink,
      max_seq_len=MAX_SEQ_LEN, causal=False,
      compiler_bos=BOS, compiler_pad=PAD)
  return model, graph, sources, sink, craft_model


def flat_params(model):
  out = {}
  for mod, d in model.params.items():
    for k, v in d.items():
      out[f"{mod}/{k}"] = np.asarray(v)
  return out


def unembed_matrix(model, sink):
  """Residual -> output-space projection used by tracr's unembed closure."""
  labels = model.residual_labels
  out_labels = [str(d) for d in sink[nodes.OUTPUT_BASIS]]
  m = np.zeros((len(labels), len(out_labels)), dtype=np.float32)
  for j, l in enumerate(out_labels):
    m[labels.index(l), j] = 1.0
  return m, out_labels


# ---------------------------------------------------------------------------
# Ground truth
# ---------------------------------------------------------------------------
def expr_kind(expr):
  return type(expr).__name__


def space_labels(space):
  return [str(d) for d in space.basis]


def sop_inputs(expr):
  """Direct SOp inputs of a RASP expr, with the role they play."""
  if isinstance(expr, rasp.Aggregate):
    sel = expr.selector
    return [("query", sel.queries.label), ("key", sel.keys.label),
            ("value", expr.sop.label)]
  if isinstance(expr, rasp.SelectorWidth):
    sel = expr.selector
    return [("query", sel.queries.label), ("key", sel.keys.label)]
  if isinstance(expr, rasp.SequenceMap):
    return [("input_fst", expr.fst.label), ("input_snd", expr.snd.label)]
  if isinstance(expr, rasp.Map):
    return [("input", expr.inner.label)]
  return []


def ground_truth(model, graph, sink, craft_model):
  _, module_names = assemble._get_model_config_and_module_names(craft_model)
  # Locate every craft head / combined MLP in the assembled transformer.
  attn_heads = []   # (module_name, head_index, head_object)
  mlp_modules = []  # (module_name, combined MLP)
  for name, block in zip(module_names, craft_model.blocks):
    if isinstance(block, transformers.MLP):
      mlp_modules.append((name, block))
    else:
      for h_idx, head in enumerate(block.as_multi().heads()):
        attn_heads.append((name, h_idx, head))

  def layer_of(name):
    return int(name.split("/")[1].split("_")[1])

  components = []
  for node_id, node in graph.nodes.items():
    block = node.get(nodes.MODEL_BLOCK)
    if block is None:
      continue
    expr = node[nodes.EXPR]
    parts = (block.blocks if isinstance(block, transformers.SeriesWithResiduals)
             else [block])
    impl = []
    for part in parts:
      if isinstance(part, transformers.MLP):
        hidden = part.fst.output_space.basis
        found = [(n, m) for n, m in mlp_modules
                 if all(d in m.fst.output_space for d in hidden)]
        assert len(found) == 1, (node_id, found)
        n, m = found[0]
        idx = [m.fst.output_space.index_by_direction[d] for d in hidden]
        impl.append({
            "type": "mlp", "module": n, "layer": layer_of(n),
            "hidden_neurons": idx,
            "hidden_labels": [str(d) for d in hidden],
            "reads": space_labels(part.fst.input_space),
            "writes": space_labels(part.snd.output_space),
        })
      else:
        for head in part.as_multi().heads():
          found = [(n, i) for n, i, h in attn_heads if h is head]
          assert len(found) == 1, (node_id, found)
          n, i = found[0]
          impl.append({
              "type": "attn_head", "module": n, "layer": layer_of(n),
              "head": i,
              "qk_dims_used": int(head.w_qk.matrix.shape[1]),
              "ov_dims_used": int(head.w_ov.matrix.shape[1]),
              "query_reads": space_labels(head.w_qk.left_space),
              "key_reads": space_labels(head.w_qk.right_space),
              "value_reads": space_labels(head.w_ov.input_space),
              "writes": space_labels(head.w_ov.output_space),
          })
    components.append({
        "rasp_label": node_id,
        "rasp_expr": expr_kind(expr),
        "encoding": rasp.get_encoding(expr).value,
        "inputs": [{"role": r, "from": l} for r, l in sop_inputs(expr)],
        "output_space": [str(d) for d in node[nodes.OUTPUT_BASIS]],
        "implemented_by": impl,
    })
  components.sort(key=lambda c: (min(i["layer"] for i in c["implemented_by"]),
                                 c["implemented_by"][0]["type"] == "mlp"))

  # RASP-level graph (includes Select nodes, tokens, indices).
  rasp_nodes = []
  for node_id, node in graph.nodes.items():
    expr = node[nodes.EXPR]
    entry = {"label": node_id, "expr": expr_kind(expr),
             "has_model_block": node.get(nodes.MODEL_BLOCK) is not None}
    if isinstance(expr, rasp.SOp):
      entry["encoding"] = rasp.get_encoding(expr).value
      entry["value_set"] = sorted(
          [jsonable(v) for v in node.get(nodes.VALUE_SET, [])], key=str)
    if isinstance(expr, rasp.Select):
      entry["keys"] = expr.keys.label
      entry["queries"] = expr.queries.label
      entry["predicate"] = str(expr.predicate)
    rasp_nodes.append(entry)
  rasp_edges = [{"from": u, "to": v} for u, v in graph.edges]

  # Component-level edges: producer component -> consumer component, with the
  # consumer's role. tokens/indices come from the embeddings.
  comp_edges = []
  for c in components:
    for inp in c["inputs"]:
      src = inp["from"]
      src_kind = ("embedding" if src in (rasp.tokens.label, rasp.indices.label)
                  else "component")
      comp_edges.append({"from": src, "from_kind": src_kind,
                         "to": c["rasp_label"], "role": inp["role"]})

  # Which half-layers are empty (all-zero weights).
  n_layers = model.model_config.num_layers
  used = {(i["layer"], i["type"]) for c in components
          for i in c["implemented_by"]}
  half_layers = []
  for l in range(n_layers):
    for t in ("attn_head", "mlp"):
      half_layers.append({
          "layer": l, "type": "attn" if t == "attn_head" else "mlp",
          "empty": (l, t) not in used,
          "implements": [c["rasp_label"] for c in components
                         for i in c["implemented_by"]
                         if i["layer"] == l and i["type"] == t]})
  return {
      "output_sop": sink[nodes.ID],
      "components": components,
      "component_edges": comp_edges,
      "half_layers": half_layers,
      "rasp_graph": {"nodes": rasp_nodes, "edges": rasp_edges},
      "extraction_method": (
          "Replayed compile_rasp_to_model; for each RASP graph node carrying "
          "nodes.MODEL_BLOCK, matched its craft AttentionHead objects by "
          "identity against craft_model.blocks[k].as_multi().heads() (head "
          "index = position in that list = head slot in the params) and its "
          "craft MLP via its hidden basis directions inside the combined "
          "(parallel) MLP of that layer (neuron index = index in the combined "
          "fst.output_space). craft block k -> transformer module name via "
          "assemble._get_model_config_and_module_names."),
  }


# ---------------------------------------------------------------------------
# Meta
# ---------------------------------------------------------------------------
def make_meta(name, model, sink, vocab, unembed_labels, params):
  cfg = model.model_config
  categorical = rasp.is_categorical(sink[nodes.EXPR])
  meta = {
      "program": name,
      "tracr_lib_call": {
          "reverse": "lib.make_reverse(rasp.tokens)",
          "frac_prevs": "lib.make_frac_prevs(rasp.tokens == 'a')",
          "sort": f"lib.make_sort(rasp.tokens, rasp.tokens, "
                  f"max_seq_len={MAX_SEQ_LEN}, min_key=1)",
          "hist": "lib.make_hist()"}[name],
      "vocab": sorted(jsonable(v) for v in vocab),
      "max_seq_len": MAX_SEQ_LEN,
      "model_seq_len": MAX_SEQ_LEN + 1,
      "compiler_bos": BOS,
      "compiler_pad": PAD,
      "mlp_exactness": MLP_EXACTNESS,
      "input_encoding": {str(k): v for k, v in
                         model.input_encoder.encoding_map.items()},
      "input_encoding_keys_typed": [[jsonable(k), v] for k, v in
                                    model.input_encoder.encoding_map.items()],
      "bos_id": model.input_encoder.bos_encoding,
      "pad_id": model.input_encoder.pad_encoding,
      "input_must_start_with_bos": True,
      "num_layers": cfg.num_layers,
      "num_heads": cfg.num_heads,
      "key_size": cfg.key_size,
      "value_size": cfg.key_size,
      "mlp_hidden_size": cfg.mlp_hidden_size,
      "residual_width": len(model.residual_labels),
      "residual_labels": model.residual_labels,
      "activation": "relu",
      "layer_norm": bool(cfg.layer_norm),
      "causal": bool(cfg.causal),
      "attention_mask": "none (all ones; pad_token is not passed to the "
                        "CompiledTransformerModel, so PAD is not masked)",
      "attn_logit_scale": f"1/sqrt(key_size) = 1/sqrt({cfg.key_size})",
      "masked_logit_value": -1e30,
      "biases": "present in params (haiku Linear 'b') but all zero",
      "layer_structure": (
          "residual = tok_emb[ids] + pos_emb[arange(T)]; for each layer: "
          "residual += attn(residual); residual += mlp(residual). Every "
          "layer has both sublayers; unused ones have all-zero weights. "
          "Unused head slots are zero."),
      "attention": (
          "q=x@Wq+bq, k=x@Wk+bk, v=x@Wv+bv reshaped [T,H,key_size] "
          "(head h = columns h*key_size:(h+1)*key_size); "
          "logits[h,t,s]=q[t,h]·k[s,h]/sqrt(key_size); softmax over s; "
          "out = concat_h(sum_s w[h,t,s] v[s,h]) @ Wo + bo"),
      "mlp": "relu(x@W1+b1)@W2+b2",
      "positional_embedding": (
          "pos_embed row p is added at sequence position p; row 0 (the BOS "
          "position) is all-zero, row p>=1 is the one-hot 'indices:(p-1)'"),
      "token_embedding": "one-hot 'tokens:<tok>' plus the constant 'one' "
                         "direction (=1 for every token incl. BOS/PAD)",
      "output": {
          "categorical": categorical,
          "unembed": "out = final_residual @ unembed/w (projection onto the "
                     "output-space residual directions, no layer norm)",
          "output_space_labels": unembed_labels,
          "decoding": (
              "argmax over out -> output id -> output_decoding; position 0 "
              "(BOS) is replaced by the BOS token" if categorical else
              "numerical: value = out[:, 0] (1-d output space); position 0 "
              "(BOS) is replaced by the BOS token"),
      },
      "param_shapes": {k: list(v.shape) for k, v in params.items()},
  }
  if categorical:
    meta["output"]["output_decoding"] = {
        str(i): jsonable(v) for v, i in
        model.output_encoder.encoding_map.items()}
  return meta


# ---------------------------------------------------------------------------
def main():
  print("jax", jax.__version__)
  for name, factory, vocab in programs():
    program = factory()
    model, graph, sources, sink, craft_model = compile_with_graph(program,
                                                                  vocab)
    # Sanity: identical to the public one-shot API.
    ref = compiling.compile_rasp_to_model(
        program, vocab=vocab, max_seq_len=MAX_SEQ_LEN, compiler_bos=BOS)
    pa, pb = flat_params(model), flat_params(ref)
    assert pa.keys() == pb.keys()
    assert all(np.array_equal(pa[k], pb[k]) for k in pa), name
    assert model.residual_labels == ref.residual_labels

    out_dir = os.path.join(OUT_ROOT, f"tracr-{name}")
    os.makedirs(out_dir, exist_ok=True)
    params = flat_params(model)
    unembed, unembed_labels = unembed_matrix(model, sink)
    params["unembed/w"] = unembed
    np.savez(os.path.join(out_dir, "weights.npz"), **params)

    meta = make_meta(name, model, sink, vocab, unembed_labels, params)
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
      json.dump(meta, f, indent=1)

    gt = ground_truth(model, graph, sink, craft_model)
    with open(os.path.join(out_dir, "ground_truth.json"), "w") as f:
      json.dump(gt, f, indent=1)

    # I/O over the whole domain (3 + 9 + 27 + 81 + 243 = 363 inputs).
    vocab_sorted = sorted(vocab)
    examples, resid = [], {}
    n_ok = 0
    for length in range(1, MAX_SEQ_LEN + 1):
      for seq in itertools.product(vocab_sorted, repeat=length):
        seq = list(seq)
        o = model.apply([BOS] + seq)
        rasp_out = rasp.evaluate(program, seq)
        dec = [jsonable(x) for x in o.decoded]
        if meta["output"]["categorical"]:
          ok = dec[1:] == [jsonable(x) for x in rasp_out]
        else:
          ok = bool(np.allclose(np.array(dec[1:], float),
                                np.array(rasp_out, float), atol=1e-5))
        n_ok += ok
        fin = np.asarray(o.transformer_output)[0]
        i = len(examples)
        examples.append({
            "input": seq,
            "input_with_bos": [BOS] + seq,
            "input_ids": model.input_encoder.encode([BOS] + seq),
            "decoded": dec,
            "unembedded": np.asarray(o.unembedded)[0].tolist(),
            "output_logits": (fin @ unembed).tolist(),
            "final_residual": fin.tolist(),
            "rasp_output": [jsonable(x) for x in rasp_out],
            "matches_rasp": ok,
        })
        resid[f"ex{i}"] = np.stack([np.asarray(r)[0] for r in o.residuals])
        resid[f"ex{i}_embed"] = np.asarray(o.input_embeddings)[0]
    with open(os.path.join(out_dir, "io.json"), "w") as f:
      json.dump({"program": name, "n_examples": len(examples),
                 "n_match_rasp": n_ok,
                 "note": "decoded[0] is BOS by tracr convention; "
                         "unembedded = argmax ids (categorical) or values "
                         "(numerical) for every position incl. BOS; "
                         "output_logits = final_residual @ unembed/w",
                 "examples": examples}, f)
    np.savez_compressed(os.path.join(out_dir, "io_residuals.npz"), **resid)
    cfg = model.model_config
    print(f"{name}: layers={cfg.num_layers} heads={cfg.num_heads} "
          f"key_size={cfg.key_size} mlp={cfg.mlp_hidden_size} "
          f"D={len(model.residual_labels)} examples={len(examples)} "
          f"match_rasp={n_ok}")


if __name__ == "__main__":
  main()
