#!/usr/bin/env python3
"""Write tiny random-weight checkpoints of seven model families and what HF computes for them.

The outside oracle (STYLE.md, principle 5) for Mechanic's multi-family transformer,
as `make_model_fixtures.py` is for GPT-2: this script builds small GPT-NeoX
(Pythia), Llama, Mistral, Qwen2, Qwen3, Gemma 2 and Gemma 3 models from their HF
configs (no download), saves them with `save_pretrained`, runs Hugging Face
transformers on them (float32, eager attention) and stores

- `expected.safetensors`: every TransformerLens-named activation and HF's logits;
- `gradients.safetensors`: the mean next-token loss, its gradient for every
  parameter (under the checkpoint's own names) and at every `hook_resid_pre`;
- `expected-padded.safetensors` (llama-gqa only): a right-padded batch.

config.json is what `save_pretrained` writes, except where a checkpoint asks for
the older hub key style (`rope_theta`, `rotary_pct`, `torch_dtype`, ...): then it
is hand-edited and checked to load to the same configuration. Gemma 3 also gets
`config-legacy.json`, the same model in early Gemma 3 keys.

Values are captured by forward hooks and pre-hooks on HF's own modules, plus a
wrapper around each family's `eager_attention_forward` that records the query,
key, value and additive mask HF hands to attention. Values HF never
materialises (norm scale/normalized, rotary outputs, scores, per-head result)
are derived in torch and asserted against HF's own tensors, so the fixture is
checked against HF rather than against our reading of it. Each saved checkpoint
is reloaded with `from_pretrained` and must reproduce the logits.

Deterministic: fixed seeds, one torch thread, sorted keys. Rerunning with the
same torch/transformers writes byte-identical files.

Usage:
    python3 scripts/make_family_fixtures.py [--out Tests/Fixtures/families] [--only NAME ...]
"""

import argparse
import contextlib
import copy
import importlib
import json
import math
import os
import sys
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import safetensors  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import transformers  # noqa: E402
from safetensors import safe_open  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import (  # noqa: E402
    AutoConfig,
    Gemma2Config,
    Gemma2ForCausalLM,
    Gemma3ForCausalLM,
    Gemma3TextConfig,
    GPTNeoXConfig,
    GPTNeoXForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
    Qwen3Config,
    Qwen3ForCausalLM,
)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "Tests" / "Fixtures" / "families"

ATOL = 1e-5          # internal consistency checks (absolute, float32)
BATCH, SEQ = 3, 10   # every prompt batch is [3, 10]
DTYPE_NAMES = {torch.float32: "float32", torch.bfloat16: "bfloat16"}

# ---------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------

SMALL = dict(num_hidden_layers=2, hidden_size=32, num_attention_heads=4, intermediate_size=64,
             max_position_embeddings=64)

# family: which code path reads the model ("neox", "llama", "gemma"); style: how
# config.json is written ("new": as save_pretrained writes it, "legacy": hand-edited
# to the older hub keys, see LEGACY_EDITS); shards: number of weight files.
CHECKPOINTS = [
    dict(name="pythia", cls=GPTNeoXForCausalLM, family="neox", seed=11, style="legacy",
         dtype=torch.float32, shards=1,
         cfg=GPTNeoXConfig(**{**SMALL, "num_attention_heads": 2},
                           vocab_size=96, rotary_pct=0.25, rotary_emb_base=10000,
                           use_parallel_residual=True, hidden_act="gelu", attention_bias=True,
                           tie_word_embeddings=False, bos_token_id=0, eos_token_id=0)),
    dict(name="neox-sequential", cls=GPTNeoXForCausalLM, family="neox", seed=12, style="new",
         dtype=torch.bfloat16, shards=1,
         cfg=GPTNeoXConfig(**SMALL, vocab_size=100,
                           rope_parameters=dict(rope_type="default", rope_theta=10000.0,
                                                partial_rotary_factor=1.0),
                           use_parallel_residual=False, hidden_act="gelu", attention_bias=True,
                           tie_word_embeddings=False, bos_token_id=0, eos_token_id=0)),
    dict(name="llama-gqa", cls=LlamaForCausalLM, family="llama", seed=13, style="legacy",
         dtype=torch.float32, shards=1, padded=True,
         cfg=LlamaConfig(**SMALL, vocab_size=104, num_key_value_heads=2, rope_theta=10000.0,
                         tie_word_embeddings=False)),
    dict(name="llama3-mqa", cls=LlamaForCausalLM, family="llama", seed=14, style="new",
         dtype=torch.bfloat16, shards=2,
         cfg=LlamaConfig(**{**SMALL, "max_position_embeddings": 512}, vocab_size=96,
                         num_key_value_heads=1, tie_word_embeddings=True, attention_bias=True,
                         mlp_bias=True,
                         rope_parameters=dict(rope_type="llama3", rope_theta=500000.0, factor=8.0,
                                              low_freq_factor=1.0, high_freq_factor=4.0,
                                              original_max_position_embeddings=256))),
    dict(name="mistral-window", cls=MistralForCausalLM, family="llama", seed=15, style="new",
         dtype=torch.float32, shards=1,
         cfg=MistralConfig(**SMALL, vocab_size=100, num_key_value_heads=2, sliding_window=4,
                           rms_norm_eps=1e-5, tie_word_embeddings=False)),
    dict(name="qwen2", cls=Qwen2ForCausalLM, family="llama", seed=16, style="legacy",
         dtype=torch.float32, shards=1,
         cfg=Qwen2Config(**SMALL, vocab_size=108, num_key_value_heads=2, tie_word_embeddings=True,
                         rope_theta=1000000.0, bos_token_id=107, eos_token_id=107)),
    dict(name="qwen3", cls=Qwen3ForCausalLM, family="llama", seed=17, style="new",
         dtype=torch.float32, shards=1,
         cfg=Qwen3Config(**SMALL, vocab_size=96, num_key_value_heads=2, head_dim=16,
                         tie_word_embeddings=False, rope_theta=1000000.0,
                         bos_token_id=95, eos_token_id=95)),
    dict(name="gemma2", cls=Gemma2ForCausalLM, family="gemma", seed=18, style="new",
         dtype=torch.float32, shards=1,
         cfg=Gemma2Config(**SMALL, vocab_size=104, num_key_value_heads=2, head_dim=16,
                          query_pre_attn_scalar=24, attn_logit_softcapping=2.0,
                          final_logit_softcapping=3.0, sliding_window=4,
                          hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True)),
    dict(name="gemma3", cls=Gemma3ForCausalLM, family="gemma", seed=19, style="new",
         dtype=torch.float32, shards=1, legacy_copy=True,
         cfg=Gemma3TextConfig(**SMALL, vocab_size=100, num_key_value_heads=2, head_dim=16,
                              query_pre_attn_scalar=24, sliding_window=4,
                              layer_types=["sliding_attention", "full_attention"],
                              rope_theta=1000000.0, rope_local_base_freq=10000.0,
                              rope_scaling=dict(rope_type="linear", factor=8.0),
                              hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True)),
]


def legacy_pythia(d):
    """Pythia's hub keys: rotary_pct / rotary_emb_base instead of rope_parameters."""
    rope = d.pop("rope_parameters")
    assert rope == {"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.25}
    d["rotary_pct"], d["rotary_emb_base"] = 0.25, 10000
    return d


def legacy_llama(d):
    """Llama 2 style: rope_theta and rope_scaling null at the top level."""
    rope = d.pop("rope_parameters")
    assert rope["rope_type"] == "default" and set(rope) == {"rope_type", "rope_theta"}
    d["rope_theta"], d["rope_scaling"] = rope["rope_theta"], None
    return d


def legacy_qwen2(d):
    """Qwen2.5 style: rope_theta; a sliding_window that use_sliding_window=false disables."""
    d = legacy_llama(d)
    assert d["use_sliding_window"] is False and d["sliding_window"] is None
    d["sliding_window"] = 4
    del d["layer_types"]
    return d


def legacy_gemma3(d):
    """Early Gemma 3 keys: rope_theta, rope_local_base_freq, rope_scaling, a window pattern."""
    rope = d.pop("rope_parameters")
    full, local = rope["full_attention"], rope["sliding_attention"]
    assert local == {"rope_type": "default", "rope_theta": 10000.0}
    d["rope_theta"] = full.pop("rope_theta")
    d["rope_local_base_freq"] = local["rope_theta"]
    d["rope_scaling"] = full
    assert d.pop("layer_types") == ["sliding_attention", "full_attention"]
    del d["_sliding_window_pattern"]
    d["sliding_window_pattern"] = 2
    return d


LEGACY_EDITS = {"pythia": legacy_pythia, "llama-gqa": legacy_llama, "qwen2": legacy_qwen2,
                "gemma3": legacy_gemma3}


def write_json(d, path):
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(d, indent=2, sort_keys=True) + "\n")


def legacy_json(folder, spec):
    """The saved config.json, rewritten in the older key style, with torch_dtype for dtype."""
    d = json.loads((folder / "config.json").read_text())
    d = LEGACY_EDITS[spec["name"]](d)
    d["torch_dtype"] = d.pop("dtype")
    return d


CONFIG_IGNORED = {"transformers_version", "_name_or_path"}


def check_same_config(path_a, cfg_b, what, ignored=()):
    """A config file must load to the same configuration as `cfg_b` (up to `ignored` keys)."""
    folder = path_a.parent
    if path_a.name != "config.json":  # AutoConfig reads config.json only
        tmp = folder / ".config-check"
        tmp.mkdir(exist_ok=True)
        (tmp / "config.json").write_bytes(path_a.read_bytes())
        a = AutoConfig.from_pretrained(str(tmp)).to_dict()
        (tmp / "config.json").unlink()
        tmp.rmdir()
    else:
        a = AutoConfig.from_pretrained(str(folder)).to_dict()
    b = cfg_b.to_dict()
    keys = (set(a) | set(b)) - CONFIG_IGNORED - set(ignored)
    diff = {k: (a.get(k), b.get(k)) for k in sorted(keys) if a.get(k) != b.get(k)}
    assert not diff, f"{what}: loads to a different config: {diff}"


# ---------------------------------------------------------------------------
# Weights
# ---------------------------------------------------------------------------

def is_norm_gain(name):
    return name.endswith("norm.weight")  # layernorm, RMSNorm, q_norm, k_norm, final norm


def init_weights(model, seed, dtype, family):
    """Larger-than-default random weights, rounded through the storage dtype.

    N(0, 0.2) for matrices and embeddings, N(0, 0.1) for biases, 1 + N(0, 0.1) for
    norm gains, and N(0, 0.1) for Gemma's gains, which HF applies as (1 + w).
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            assert p.dtype == torch.float32, f"{name} is {p.dtype}: reference must be float32"
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            if name.endswith(".bias"):
                value = 0.1 * noise
            elif is_norm_gain(name):
                value = 0.1 * noise if family == "gemma" else 1.0 + 0.1 * noise
            else:
                value = 0.2 * noise
            p.copy_(value.to(dtype).to(torch.float32))


def checkpoint_name(model_name, spec):
    """HF's in-memory parameter name -> its name on disk (save_pretrained reverts renames)."""
    if spec["family"] == "neox" and model_name == "lm_head.weight":
        return "embed_out.weight"
    return model_name


def saved_tensors(folder):
    """{name: tensor} over model.safetensors or every shard of the index."""
    index = folder / "model.safetensors.index.json"
    files = sorted(set(json.loads(index.read_text())["weight_map"].values())) if index.exists() \
        else ["model.safetensors"]
    out = {}
    for f in files:
        with safe_open(str(folder / f), "pt") as fh:
            for k in fh.keys():
                out[k] = fh.get_tensor(k)
    return out, files


def save_checkpoint(model, spec, folder):
    """save_pretrained in the storage dtype; two shards where asked."""
    twin = copy.deepcopy(model).to(spec["dtype"])
    twin.config.dtype = DTYPE_NAMES[spec["dtype"]]
    total = sum(p.numel() * p.element_size() for p in twin.parameters())
    # A limit a little over half the total splits these small models in two.
    shard = f"{total * 6 // 10 // 1000}KB" if spec["shards"] > 1 else "50GB"
    twin.save_pretrained(str(folder), max_shard_size=shard)
    (folder / "generation_config.json").unlink()
    tensors, files = saved_tensors(folder)
    assert len(files) == spec["shards"], f"{spec['name']}: {len(files)} weight files"
    for k, t in tensors.items():
        assert t.dtype == spec["dtype"], (k, t.dtype)
    names = {checkpoint_name(n, spec) for n, _ in model.named_parameters()}
    assert names == set(tensors), f"{spec['name']}: saved {sorted(set(tensors) ^ names)}"
    for n, p in model.named_parameters():
        assert torch.equal(tensors[checkpoint_name(n, spec)].to(torch.float32), p), n
    if spec["style"] == "legacy":
        write_json(legacy_json(folder, spec), folder / "config.json")
    check_same_config(folder / "config.json", twin.config, spec["name"] + "/config.json")
    if spec.get("legacy_copy"):
        write_json(legacy_json(folder, spec), folder / "config-legacy.json")
        # The pattern only seeds layer_types, which is compared.
        check_same_config(folder / "config-legacy.json", twin.config,
                          spec["name"] + "/config-legacy.json",
                          ignored=("sliding_window_pattern", "_sliding_window_pattern"))
    return files


# ---------------------------------------------------------------------------
# Reference pieces, written from the papers / model cards, checked against HF
# ---------------------------------------------------------------------------

def norm_parts(x, eps, layer_norm):
    """TransformerLens norm hooks: scale [..., 1] and normalized (before gain and bias)."""
    if layer_norm:
        x = x - x.mean(-1, keepdim=True)
    scale = (x.pow(2).mean(-1, keepdim=True) + eps).sqrt()
    return scale, x / scale


def apply_gain(normalized, module, family):
    """HF's norm after normalizing: LayerNorm w·x + b, RMSNorm w·x, Gemma (1 + w)·x."""
    if family == "gemma":
        return normalized * (1.0 + module.weight)
    out = normalized * module.weight
    return out + module.bias if getattr(module, "bias", None) is not None else out


def reference_inv_freq(rope, rotary_dim):
    """Inverse rotary frequencies [rotary_dim / 2], float64, for default, linear and llama3 RoPE."""
    i = torch.arange(0, rotary_dim, 2, dtype=torch.float64)
    inv = 1.0 / rope["rope_theta"] ** (i / rotary_dim)
    kind = rope["rope_type"]
    if kind == "linear":
        inv = inv / rope["factor"]
    elif kind == "llama3":
        factor, lo, hi = rope["factor"], rope["low_freq_factor"], rope["high_freq_factor"]
        old = rope["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        smooth = (old / wavelen - lo) / (hi - lo)
        inv = torch.where(wavelen > old / lo, inv / factor,
                          torch.where(wavelen < old / hi, inv,
                                      (1 - smooth) * inv / factor + smooth * inv))
    else:
        assert kind == "default", kind
    return inv


def rotate(x, inv_freq):
    """Rotary embedding of x [batch, pos, head, dHead] on its first 2·len(inv_freq) dims.

    HF's layout: rotate_half pairs dim i with dim i + r/2 of the rotated slice
    (not adjacent dims); the remaining dims pass through.
    """
    r = 2 * inv_freq.numel()
    pos = torch.arange(x.shape[1], dtype=torch.float64)
    angles = torch.cat([pos[:, None] * inv_freq[None]] * 2, dim=-1)   # [pos, r]
    cos, sin = angles.cos()[None, :, None], angles.sin()[None, :, None]
    xr, x_pass = x[..., :r].double(), x[..., r:]
    half = torch.cat([-xr[..., r // 2:], xr[..., :r // 2]], dim=-1)
    return torch.cat([(xr * cos + half * sin).to(x.dtype), x_pass], dim=-1)


def gelu_exact(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


ACTIVATIONS = {"gelu": gelu_exact, "gelu_pytorch_tanh": gelu_tanh, "silu": F.silu}

CHECKS = {"count": 0, "worst": 0.0}


def assert_close(name, got, want, atol=ATOL):
    assert got.shape == want.shape, f"{name}: shape {tuple(got.shape)} != {tuple(want.shape)}"
    diff = (got.double() - want.double()).abs().max().item()
    assert diff <= atol, f"{name}: max abs diff {diff:.3g} > {atol:g}"
    CHECKS["count"] += 1
    CHECKS["worst"] = max(CHECKS["worst"], diff)
    return diff


# ---------------------------------------------------------------------------
# Where each family keeps its parts (checkpoint names stay here)
# ---------------------------------------------------------------------------

def parts(model, family):
    base = model.gpt_neox if family == "neox" else model.model
    if family == "neox":
        return dict(base=base, embed=base.embed_in, layers=base.layers,
                    final_norm=base.final_layer_norm, rotary=base.rotary_emb)
    return dict(base=base, embed=base.embed_tokens, layers=base.layers, final_norm=base.norm,
                rotary=base.rotary_emb)


def block_parts(block, family):
    """Modules of one decoder block under TransformerLens's names."""
    if family == "neox":
        a, m = block.attention, block.mlp
        return dict(ln1=block.input_layernorm, attn=a, qkv=a.query_key_value, o=a.dense,
                    ln2=block.post_attention_layernorm, mlp=m, fc_in=m.dense_h_to_4h, act=m.act,
                    fc_out=m.dense_4h_to_h)
    a, m = block.self_attn, block.mlp
    p = dict(ln1=block.input_layernorm, attn=a, q=a.q_proj, k=a.k_proj, v=a.v_proj, o=a.o_proj,
             mlp=m, gate=m.gate_proj, up=m.up_proj, fc_out=m.down_proj)
    if hasattr(a, "q_norm"):
        p.update(q_norm=a.q_norm, k_norm=a.k_norm)
    if family == "gemma":
        p.update(ln1_post=block.post_attention_layernorm, ln2=block.pre_feedforward_layernorm,
                 ln2_post=block.post_feedforward_layernorm)
    else:
        p.update(ln2=block.post_attention_layernorm)
    return p


def norm_eps(module):
    for attr in ("eps", "variance_epsilon"):
        if hasattr(module, attr):
            return getattr(module, attr)
    raise AssertionError(f"no eps on {module}")


def layer_rope(cfg, l):
    """(rope parameters, rotary_dim) of layer l."""
    rope = cfg.rope_parameters
    if "full_attention" in rope:  # per layer type (Gemma 3)
        rope = rope[cfg.layer_types[l]]
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    return rope, int(head_dim * rope.get("partial_rotary_factor", 1.0))


def layer_window(cfg, l):
    """Sliding window of layer l, or None for full causal attention."""
    types = getattr(cfg, "layer_types", None)
    window = getattr(cfg, "sliding_window", None)
    if types is not None:
        return window if types[l] == "sliding_attention" else None
    return window


def attention_scale(cfg, head_dim):
    pre = getattr(cfg, "query_pre_attn_scalar", None)
    return (pre if pre is not None else head_dim) ** -0.5


# ---------------------------------------------------------------------------
# Capture
# ---------------------------------------------------------------------------

@contextlib.contextmanager
def attention_spy(model):
    """Wrap the family's eager_attention_forward to record what HF feeds attention."""
    module = importlib.import_module(type(model).__module__)
    original = module.eager_attention_forward
    calls = []

    def spy(mod, query, key, value, attention_mask, **kwargs):
        out, weights = original(mod, query, key, value, attention_mask, **kwargs)
        calls.append(dict(layer=mod.layer_idx, query=query, key=key, value=value,
                          mask=attention_mask, scaling=kwargs.get("scaling"),
                          softcap=kwargs.get("softcap"), weights=weights, out=out))
        return out, weights

    module.eager_attention_forward = spy
    try:
        yield calls
    finally:
        module.eager_attention_forward = original


def capture_forward(model, family, input_ids):
    """Run HF once with hooks on its modules; return captured tensors and HF's outputs."""
    cap, handles = {}, []
    top = parts(model, family)

    def out_hook(name):
        def hook(module, args, output):
            cap[name] = output[0] if isinstance(output, tuple) else output
        return hook

    def in_hook(name):
        def hook(module, args, kwargs):
            cap[name] = args[0] if args else kwargs["hidden_states"]
        return hook

    def add(module, name, pre=False, post=True):
        if pre:
            handles.append(module.register_forward_pre_hook(in_hook(name + ".in"),
                                                            with_kwargs=True))
        if post:
            handles.append(module.register_forward_hook(out_hook(name + ".out")))

    rotary_calls = []
    handles.append(top["rotary"].register_forward_hook(
        lambda m, args, output: rotary_calls.append((args, output))))
    add(top["embed"], "embed")
    add(top["final_norm"], "final_norm", pre=True)
    for l, block in enumerate(top["layers"]):
        add(block, f"{l}.block", pre=True)
        for key, module in block_parts(block, family).items():
            add(module, f"{l}.{key}", pre=True)
    try:
        with attention_spy(model) as calls, torch.no_grad():
            out = model(input_ids, output_attentions=True, output_hidden_states=True,
                        use_cache=False)
    finally:
        for h in handles:
            h.remove()
    assert [c["layer"] for c in calls] == list(range(len(top["layers"])))
    return cap, out, calls, rotary_calls


# ---------------------------------------------------------------------------
# Expected activations
# ---------------------------------------------------------------------------

def ungroup(x, n_rep):
    """[batch, pos, kvHead, d] -> [batch, pos, head, d]: query head i uses kv head i // n_rep."""
    return x.repeat_interleave(n_rep, dim=2)


def split_heads(cap, l, bp, cfg, family, batch, seq):
    """q [batch, pos, head, dHead] and k, v [batch, pos, kvHead, dHead] from the projections."""
    n_head = cfg.num_attention_heads
    if family == "neox":
        # query_key_value's output is per head [q | k | v], each head_size wide.
        qkv = cap[f"{l}.qkv.out"].reshape(batch, seq, n_head, 3 * (cfg.hidden_size // n_head))
        return qkv.chunk(3, dim=-1)
    head_dim = bp["attn"].head_dim
    return tuple(cap[f"{l}.{k}.out"].reshape(batch, seq, -1, head_dim) for k in "qkv")


def norm_hooks(exp, prefix, x, module, family, want, layer_norm=False):
    """Write prefix.hook_scale / hook_normalized for `module` applied to x; check HF's output."""
    scale, normalized = norm_parts(x, norm_eps(module), layer_norm)
    exp[prefix + ".hook_scale"] = scale
    exp[prefix + ".hook_normalized"] = normalized
    assert_close(prefix + ": gain(normalized) vs HF norm output",
                 apply_gain(normalized, module, family), want)


def expected_activations(model, spec, input_ids):
    """TransformerLens-named activations for `input_ids`, each asserted against HF."""
    cfg, family = model.config, spec["family"]
    cap, out, calls, rotary_calls = capture_forward(model, family, input_ids)
    top = parts(model, family)
    batch, seq = input_ids.shape
    n_head, n_kv = cfg.num_attention_heads, getattr(cfg, "num_key_value_heads", None)
    n_kv = n_kv or n_head
    n_rep = n_head // n_kv
    layer_norm = family == "neox"
    hs = out.hidden_states
    assert len(hs) == cfg.num_hidden_layers + 1 and len(out.attentions) == cfg.num_hidden_layers
    exp = {}

    embed = cap["embed.out"]                                          # [batch, pos, dModel]
    want_embed = top["embed"].weight[input_ids]
    if family == "gemma":
        want_embed = want_embed * torch.tensor(cfg.hidden_size ** 0.5, dtype=torch.float32)
    assert_close("hook_embed vs W_E[ids] (x sqrt(dModel) for Gemma)", embed, want_embed, 0)
    exp["hook_embed"] = embed

    causal = torch.ones(seq, seq, dtype=torch.bool).tril()          # [queryPos, keyPos]
    offset = torch.arange(seq)[:, None] - torch.arange(seq)[None, :]  # q - k
    for l, block in enumerate(top["layers"]):
        p = f"blocks.{l}."
        bp = block_parts(block, family)
        call = calls[l]
        resid_pre = cap[f"{l}.block.in"]                            # [batch, pos, dModel]
        assert_close(p + "hook_resid_pre vs hidden_states", resid_pre, hs[l], 0)
        exp[p + "hook_resid_pre"] = resid_pre
        if l == 0:
            assert_close("resid_pre 0 vs hook_embed", resid_pre, embed, 0)

        assert_close(p + "ln1 input", cap[f"{l}.ln1.in"], resid_pre, 0)
        norm_hooks(exp, p + "ln1", resid_pre, bp["ln1"], family, cap[f"{l}.ln1.out"], layer_norm)

        # attention: projections, QK-norm, rotary
        q, k, v = split_heads(cap, l, bp, cfg, family, batch, seq)  # [batch, pos, (kv)head, dHead]
        head_dim = q.shape[-1]
        assert q.shape[2] == n_head and k.shape[2] == n_kv
        exp[p + "attn.hook_q"] = q
        exp[p + "attn.hook_k"] = ungroup(k, n_rep)
        exp[p + "attn.hook_v"] = ungroup(v, n_rep)
        if "q_norm" in bp:
            normed = {}
            for name, x in (("q_norm", q), ("k_norm", k)):
                # Qwen3 norms [batch, pos, head, dHead], Gemma 3 [batch, head, pos, dHead].
                hf_in, hf_out = cap[f"{l}.{name}.in"], cap[f"{l}.{name}.out"]
                if hf_in.shape != x.shape:
                    hf_in, hf_out = hf_in.transpose(1, 2), hf_out.transpose(1, 2)
                assert_close(p + f"attn.{name} input", hf_in, x, 0)
                scale, normalized = norm_parts(x, norm_eps(bp[name]), False)
                assert_close(p + f"attn.{name}: gain(normalized) vs HF",
                             apply_gain(normalized, bp[name], family), hf_out)
                reps = n_rep if name == "k_norm" else 1
                exp[p + f"attn.{name}.hook_scale"] = ungroup(scale, reps)
                exp[p + f"attn.{name}.hook_normalized"] = ungroup(normalized, reps)
                normed[name] = hf_out
            q, k = normed["q_norm"], normed["k_norm"]

        rope, rotary_dim = layer_rope(cfg, l)
        inv_freq = reference_inv_freq(rope, rotary_dim)
        hf_inv = getattr(top["rotary"], "inv_freq", None)
        if hf_inv is None:  # Gemma 3 keeps one buffer per layer type
            hf_inv = getattr(top["rotary"], f"{cfg.layer_types[l]}_inv_freq")
        assert_close(p + "inverse rotary frequencies vs HF", hf_inv, inv_freq,
                     1e-6 * inv_freq.max())
        rot_q, rot_k = rotate(q, inv_freq), rotate(k, inv_freq)
        hf_q = call["query"].transpose(1, 2)                        # [batch, pos, head, dHead]
        hf_k = call["key"].transpose(1, 2)                          # [batch, pos, kvHead, dHead]
        assert_close(p + "hook_rot_q vs query HF attends with", rot_q, hf_q)
        assert_close(p + "hook_rot_k vs key HF attends with", rot_k, hf_k)
        assert_close(p + "value HF attends with", call["value"].transpose(1, 2), v, 0)
        if rotary_dim < head_dim:
            assert torch.equal(hf_q[..., rotary_dim:], q[..., rotary_dim:]), "pass-through dims"
        exp[p + "attn.hook_rot_q"] = hf_q
        exp[p + "attn.hook_rot_k"] = ungroup(hf_k, n_rep)

        # scores, mask, pattern
        scaling = attention_scale(cfg, head_dim)
        assert call["scaling"] == scaling, (call["scaling"], scaling)
        window = layer_window(cfg, l)
        visible = causal & (offset < window) if window is not None else causal
        hf_visible = call["mask"] > torch.finfo(torch.float32).min / 2  # [batch, 1, qPos, kPos]
        assert torch.equal(hf_visible, visible.expand_as(hf_visible)), \
            f"{p}HF's mask is not causal & (q - k < {window})"
        scores = torch.einsum("bqhd,bkhd->bhqk", hf_q, ungroup(hf_k, n_rep)) * scaling
        cap_value = getattr(cfg, "attn_logit_softcapping", None) if family == "gemma" and \
            spec["cls"] is Gemma2ForCausalLM else None
        assert call["softcap"] == cap_value, (call["softcap"], cap_value)
        if cap_value is not None:
            scores = torch.tanh(scores / cap_value) * cap_value
        scores = scores.masked_fill(~visible, float("-inf"))        # [batch, head, qPos, kPos]
        exp[p + "attn.hook_attn_scores"] = scores
        pattern = out.attentions[l]                                  # [batch, head, qPos, kPos]
        assert_close(p + "softmax(scores) vs output_attentions", torch.softmax(scores, -1), pattern)
        assert torch.all(pattern.masked_select(~visible) == 0), "pattern not masked"
        exp[p + "attn.hook_pattern"] = pattern

        z = cap[f"{l}.o.in"].reshape(batch, seq, n_head, head_dim)   # [batch, pos, head, dHead]
        assert_close(p + "pattern @ v vs o_proj input",
                     torch.einsum("bhqk,bkhd->bqhd", pattern, ungroup(v, n_rep)), z)
        exp[p + "attn.hook_z"] = z
        w_o = bp["o"].weight.T.reshape(n_head, head_dim, cfg.hidden_size)
        result = torch.einsum("bqhd,hdm->bqhm", z, w_o)              # [batch, pos, head, dModel]
        exp[p + "attn.hook_result"] = result
        o_out = cap[f"{l}.o.out"]                                    # [batch, pos, dModel]
        o_bias = bp["o"].bias if bp["o"].bias is not None else 0.0
        assert_close(p + "sum_h result + b_O vs o_proj output", result.sum(2) + o_bias, o_out)
        assert_close(p + "o_proj output vs attention output", o_out, cap[f"{l}.attn.out"], 0)
        if family == "gemma":
            assert_close(p + "ln1_post input", cap[f"{l}.ln1_post.in"], o_out, 0)
            norm_hooks(exp, p + "ln1_post", o_out, bp["ln1_post"], family,
                       cap[f"{l}.ln1_post.out"])
            attn_out = cap[f"{l}.ln1_post.out"]
        else:
            attn_out = o_out
        exp[p + "hook_attn_out"] = attn_out

        parallel = family == "neox" and cfg.use_parallel_residual
        mlp_in = resid_pre if parallel else resid_pre + attn_out
        assert_close(p + "ln2 input", cap[f"{l}.ln2.in"], mlp_in)
        if not parallel:
            exp[p + "hook_resid_mid"] = cap[f"{l}.ln2.in"]
        norm_hooks(exp, p + "ln2", cap[f"{l}.ln2.in"], bp["ln2"], family, cap[f"{l}.ln2.out"],
                   layer_norm)

        act = ACTIVATIONS[getattr(cfg, "hidden_activation", None) or cfg.hidden_act]
        if family == "neox":
            pre, post = cap[f"{l}.fc_in.out"], cap[f"{l}.act.out"]   # [batch, pos, dMLP]
            assert_close(p + "mlp.hook_post vs act(hook_pre)", act(pre), post)
        else:
            pre, pre_linear = cap[f"{l}.gate.out"], cap[f"{l}.up.out"]
            post = cap[f"{l}.fc_out.in"]
            assert_close(p + "mlp.hook_post vs act(gate) * up", act(pre) * pre_linear, post)
            exp[p + "mlp.hook_pre_linear"] = pre_linear
        assert_close(p + "hook_post vs down projection input", post, cap[f"{l}.fc_out.in"], 0)
        exp[p + "mlp.hook_pre"] = pre
        exp[p + "mlp.hook_post"] = post
        mlp_out = cap[f"{l}.fc_out.out"]
        assert_close(p + "down projection output vs MLP output", mlp_out, cap[f"{l}.mlp.out"], 0)
        if family == "gemma":
            assert_close(p + "ln2_post input", cap[f"{l}.ln2_post.in"], mlp_out, 0)
            norm_hooks(exp, p + "ln2_post", mlp_out, bp["ln2_post"], family,
                       cap[f"{l}.ln2_post.out"])
            mlp_out = cap[f"{l}.ln2_post.out"]
        exp[p + "hook_mlp_out"] = mlp_out

        resid_post = cap[f"{l}.block.out"]
        base = resid_pre + attn_out if parallel else exp[p + "hook_resid_mid"]
        assert_close(p + "resid_post vs residual sum", base + mlp_out, resid_post)
        exp[p + "hook_resid_post"] = resid_post
        if l + 1 < cfg.num_hidden_layers:
            assert_close(p + "hook_resid_post vs hidden_states", resid_post, hs[l + 1], 0)

    final_resid = exp[f"blocks.{cfg.num_hidden_layers - 1}.hook_resid_post"]
    assert_close("final norm input", cap["final_norm.in"], final_resid, 0)
    norm_hooks(exp, "ln_final", final_resid, top["final_norm"], family, cap["final_norm.out"],
               layer_norm)
    assert_close("final norm output vs hidden_states[-1]", cap["final_norm.out"], hs[-1], 0)
    logits = cap["final_norm.out"] @ model.lm_head.weight.T          # [batch, pos, dVocab]
    soft = getattr(cfg, "final_logit_softcapping", None)
    if soft is not None:
        logits = torch.tanh(logits / soft) * soft
    assert_close("logits vs final norm output @ W_U (soft-capped)", logits, out.logits)
    exp["logits"] = out.logits
    for name, t in exp.items():
        assert not torch.isnan(t).any() and torch.isfinite(t).any(), name
    return {name: t.detach().to(torch.float32).clone(memory_format=torch.contiguous_format)
            for name, t in exp.items()}


# ---------------------------------------------------------------------------
# Gradients, reload, padding
# ---------------------------------------------------------------------------

def gradients(model, spec, input_ids):
    """Mean next-token loss over all rows, its parameter gradients and d loss / d resid_pre."""
    layers = parts(model, spec["family"])["layers"]
    resid = {}

    def keep(l):
        def hook(module, args, kwargs):
            x = args[0] if args else kwargs["hidden_states"]
            x.retain_grad()
            resid[l] = x
        return hook

    handles = [b.register_forward_pre_hook(keep(l), with_kwargs=True) for l, b in enumerate(layers)]
    model.zero_grad(set_to_none=True)
    try:
        out = model(input_ids, labels=input_ids, use_cache=False)
    finally:
        for h in handles:
            h.remove()
    vocab = out.logits.shape[-1]
    mine = F.cross_entropy(out.logits[:, :-1].reshape(-1, vocab), input_ids[:, 1:].reshape(-1))
    assert_close("HF loss vs mean cross-entropy of positions 0..T-2", out.loss, mine)
    out.loss.backward()
    grads = {"loss": out.loss.detach().reshape(1), "input_ids": input_ids}
    for name, p in model.named_parameters():
        grads["grad." + checkpoint_name(name, spec)] = p.grad
    for l, x in resid.items():
        grads[f"grad.blocks.{l}.hook_resid_pre"] = x.grad
    model.zero_grad(set_to_none=True)
    return {k: v.detach().clone(memory_format=torch.contiguous_format) for k, v in grads.items()}


def float64_gaps(model, spec, input_ids, grads):
    """Max |float32 - float64| of the logits, and of the gradients relative to each tensor's max."""
    twin = copy.deepcopy(model).double()
    with torch.no_grad():
        l32 = model(input_ids, use_cache=False).logits
        l64 = twin(input_ids, use_cache=False).logits
    g64 = gradients(twin, spec, input_ids)
    worst = 0.0
    for k, g in grads.items():
        if k.startswith("grad."):
            rel = (g.double() - g64[k]).abs().max().item() / g64[k].abs().max().item()
            worst = max(worst, rel)
    return (l32.double() - l64).abs().max().item(), l64.abs().max().item(), worst


def reload(folder, spec):
    """The checkpoint as HF itself loads it from disk, upcast to float32."""
    model = spec["cls"].from_pretrained(str(folder), dtype=torch.float32,
                                        attn_implementation="eager").eval()
    assert model.config._attn_implementation == "eager"
    return model


def padded_case(model, spec, gen):
    """Two right-padded rows (lengths 10 and 6) run with attention_mask."""
    lengths = [10, 6]
    seq = max(lengths)
    pad = model.config.eos_token_id
    ids = random_ids(gen, model.config, len(lengths), seq)
    mask = torch.zeros(len(lengths), seq, dtype=torch.int64)
    for row, n in enumerate(lengths):
        ids[row, n:] = pad
        mask[row, :n] = 1
    with torch.no_grad():
        logits = model(ids, attention_mask=mask, use_cache=False).logits
        for row, n in enumerate(lengths):
            alone = model(ids[row:row + 1, :n], use_cache=False).logits
            assert_close(f"padded row {row} vs unpadded run", logits[row, :n], alone[0])
    return {"input_ids": ids, "attention_mask": mask,
            "logits": logits.to(torch.float32).contiguous()}


def special_ids(cfg):
    ids = {cfg.bos_token_id, cfg.pad_token_id}
    eos = cfg.eos_token_id
    ids |= set(eos) if isinstance(eos, list) else {eos}
    return {i for i in ids if i is not None}


def random_ids(gen, cfg, batch, seq):
    """Random ordinary tokens (no bos / eos / pad: Gemma's pad row gets no embedding gradient)."""
    ordinary = torch.tensor([i for i in range(cfg.vocab_size) if i not in special_ids(cfg)])
    return ordinary[torch.randint(0, len(ordinary), (batch, seq), generator=gen)]


def save_tensors(tensors, path):
    # One metadata key only: safetensors writes metadata from a hash map, so
    # several keys come out in a different order on each run.
    save_file(dict(sorted(tensors.items())), str(path), metadata={"format": "pt"})


def make_checkpoint(spec, out_dir):
    name = spec["name"]
    folder = out_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    cfg = copy.deepcopy(spec["cfg"])
    cfg._attn_implementation = "eager"
    cfg.architectures = [spec["cls"].__name__]

    torch.manual_seed(spec["seed"])
    model = spec["cls"](cfg).eval()
    init_weights(model, spec["seed"], spec["dtype"], spec["family"])
    files = save_checkpoint(model, spec, folder)

    gen = torch.Generator().manual_seed(1000 + spec["seed"])
    input_ids = random_ids(gen, cfg, BATCH, SEQ)
    input_ids[0, 0] = cfg.bos_token_id
    padding_idx = parts(model, spec["family"])["embed"].padding_idx
    assert padding_idx is None or not (input_ids == padding_idx).any()
    expected = expected_activations(model, spec, input_ids)

    reloaded = reload(folder, spec)
    with torch.no_grad():
        again = reloaded(input_ids, use_cache=False).logits
    assert_close(f"{name}: logits of the checkpoint reloaded by HF", again, expected["logits"],
                 1e-6)
    for (n, a), (m, b) in zip(model.named_parameters(), reloaded.named_parameters()):
        assert n == m and torch.equal(a, b), f"{name}: reloaded {n} differs"
    expected["input_ids"] = input_ids
    save_tensors(expected, folder / "expected.safetensors")

    grads = gradients(model, spec, input_ids)
    grads_reloaded = gradients(reloaded, spec, input_ids)
    for k, g in grads.items():
        assert_close(f"{name}: {k} of the reloaded checkpoint", grads_reloaded[k], g, 0)
    save_tensors(grads, folder / "gradients.safetensors")

    if spec.get("padded"):
        save_tensors(padded_case(model, spec, gen), folder / "expected-padded.safetensors")

    gap, magnitude, grad_gap = float64_gaps(model, spec, input_ids, grads)
    soft = ""
    if getattr(cfg, "final_logit_softcapping", None) is not None:
        normalized = expected["ln_final.hook_normalized"]
        uncapped = apply_gain(normalized, parts(model, "gemma")["final_norm"], "gemma") @ \
            model.lm_head.weight.T
        moved = (uncapped - expected["logits"]).abs().max()
        soft = f", final soft-cap moves logits by up to {moved:.2f}"
    print(f"{name}: {len(expected)} tensors, {len(grads)} in gradients, weights in {files}; "
          f"max|logit| {magnitude:.2f}{soft}; float32 vs float64: logits {gap:.1e}, "
          f"gradients {grad_gap:.1e} of each tensor's max; loss {grads['loss'].item():.4f}",
          file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output folder (default: Tests/Fixtures/families)")
    parser.add_argument("--only", nargs="*", help="checkpoint names to write (default: all)")
    args = parser.parse_args()

    torch.set_num_threads(1)  # fixed reduction order -> byte-identical reruns
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    args.out.mkdir(parents=True, exist_ok=True)
    for spec in CHECKPOINTS:
        if not args.only or spec["name"] in args.only:
            make_checkpoint(spec, args.out)
    print(f"{CHECKS['count']} consistency checks passed (worst abs diff "
          f"{CHECKS['worst']:.1e}, bound {ATOL:g})", file=sys.stderr)
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, "
          f"safetensors {safetensors.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
