"""The discrete-SAE method as the authors' code runs it, on a small fixed input: the parity fixture.

Transcribes, in plain PyTorch, what charlieoneill11/sae-circuits (commit 10fd2e7) does in
`src/main.py` (`prepare_data`, `main`, `evaluate_node_circuit`, `evaluate_edge_circuit`),
`src/sae.py` (the tied-bias SAE with unit-norm weights, its initialisation and gradient hook),
`src/train.py` (full-batch training, loss) and `src/node.py` / `src/edge.py` (scores). It is a
re-statement of that logic, not a copy of the code; each step names the function it follows.

One departure, on purpose: the reference ranks head pairs with NumPy's default `argsort`, whose
order among equal scores depends on the NumPy build and CPU. This script breaks those ties the
way a stable ascending sort reversed does (larger flat index first), which is the order Mechanic
fixes (`DiscreteCodeScoring.nodeScoresFromEdges`).

The input is synthetic head outputs `[40 prompts, 6 heads, 16]` (2 layers × 3 heads; the first
20 prompts positive): some heads' outputs depend on the label, some do not. Everything is seeded
(torch.manual_seed(0)) and single-threaded, and everything Swift needs goes to one JSON file:
inputs, the training draw, the initial weights (so Swift starts where PyTorch started; the two
random generators differ), every epoch's loss, the final weights, all codes, node and edge
scores, the edge variant's head counts and both ROC AUCs against a fixed ground truth.

    pip install torch numpy scikit-learn
    python3 scripts/make_sae_parity_fixture.py    # writes Tests/Fixtures/sae-parity.json
"""
import json, math, pathlib
import numpy as np
import torch
from sklearn.metrics import auc, roc_curve

torch.set_num_threads(1)
torch.manual_seed(0)
N, LAYERS, HEADS_PER_LAYER, D, HIDDEN = 40, 2, 3, 16, 24
H = LAYERS * HEADS_PER_LAYER
EPOCHS, LAMBDA, LR, TRAIN = 500, 0.02, 1e-3, 10
GROUND_TRUTH = [(0, 1), (1, 0), (1, 2)]

# Synthetic head outputs [N, H, D]: each head draws one of its prototype directions per prompt.
# Heads in the ground truth use prototypes 0-2 on positives and 3-5 on negatives; the others draw
# from all six whatever the label.
gen = torch.Generator().manual_seed(1)
prototypes = torch.randn(H, 6, D, generator=gen) * 2
streams = torch.empty(N, H, D)
for n in range(N):
    positive = n < N // 2
    for h in range(H):
        layer, head = divmod(h, HEADS_PER_LAYER)
        if (layer, head) in GROUND_TRUTH:
            p = int(torch.randint(0, 3, (1,), generator=gen)) + (0 if positive else 3)
        else:
            p = int(torch.randint(0, 6, (1,), generator=gen))
        streams[n, h] = prototypes[h, p] + 0.1 * torch.randn(D, generator=gen)

# main.prepare_data: a random permutation of all prompts; the first num_sae_examples train.
permutation = torch.randperm(N)
train_streams = streams[permutation][:TRAIN]
eval_streams = streams[permutation][TRAIN:]

# sae.SparseAutoencoder.__init__: tied bias = zeros (no geometric median given); encoder
# ConstrainedUnitNormLinear(D -> HIDDEN): weight [HIDDEN, D] ~ N(0, 1) normalised along its last
# axis, bias ~ U(±1/sqrt(D)); decoder ConstrainedUnitNormLinear(HIDDEN -> D, no bias): weight
# [D, HIDDEN] ~ N(0, 1) normalised along its last axis. Drawn in that order.
tied_bias = torch.zeros(D, requires_grad=True)
enc_w = torch.nn.functional.normalize(torch.randn(HIDDEN, D), dim=-1).requires_grad_()
bound = 1 / math.sqrt(D)
enc_b = torch.empty(HIDDEN).uniform_(-bound, bound).requires_grad_()
dec_w = torch.nn.functional.normalize(torch.randn(D, HIDDEN), dim=-1).requires_grad_()
initial = {"encoder_weight": enc_w.detach().clone(), "encoder_bias": enc_b.detach().clone(),
           "decoder_weight": dec_w.detach().clone(), "tied_bias": tied_bias.detach().clone()}

def project_off(w):
    """ConstrainedUnitNormLinear's backward hook: remove the gradient's component along each row."""
    def hook(grad):
        dot = (grad * w).sum(-1)
        return grad - dot[:, None] * (w / w.norm(dim=-1, keepdim=True))
    return hook
enc_w.register_hook(project_off(enc_w))
dec_w.register_hook(project_off(dec_w))

def forward(x):
    """SparseAutoencoder.forward; each ConstrainedUnitNormLinear renormalises its weight in place first."""
    with torch.no_grad():
        torch.nn.functional.normalize(enc_w, dim=-1, out=enc_w)
    learned = torch.relu(torch.nn.functional.linear(x - tied_bias, enc_w, enc_b))
    with torch.no_grad():
        torch.nn.functional.normalize(dec_w, dim=-1, out=dec_w)
    decoded = torch.nn.functional.linear(learned, dec_w) + tied_bias
    return learned, decoded

def loss_fn(decoded, learned, x):
    """train.loss_fn: MSE over all elements + λ · mean over (prompt, head) rows of the L1 norm."""
    sparsity = learned.reshape(-1, learned.shape[-1]).norm(p=1, dim=1).mean()
    return torch.nn.functional.mse_loss(decoded, x) + LAMBDA * sparsity

# train.train: full-batch Adam; every n_epochs // 10 epochs an evaluation forward (which also
# renormalises the weights in place).
optimizer = torch.optim.Adam([tied_bias, enc_w, enc_b, dec_w], lr=LR)
losses = []
for epoch in range(EPOCHS):
    optimizer.zero_grad()
    learned, decoded = forward(train_streams)
    loss = loss_fn(decoded, learned, train_streams)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if epoch % (EPOCHS // 10) == 0:
        with torch.no_grad():
            forward(eval_streams)

# main.evaluate_node_circuit: codes of every prompt and head = argmax of the learned activations.
with torch.no_grad():
    learned_all, _ = forward(streams)
learned_all = learned_all.numpy()
codes = np.argmax(learned_all, axis=2)                                 # [N, H]
positive_codes, negative_codes = codes[: N // 2], codes[N // 2:]

# node.unique_to_positives_and_negatives (normalise=False): codes only positives produce.
node = np.zeros((LAYERS, HEADS_PER_LAYER))
for h in range(H):
    node[divmod(h, HEADS_PER_LAYER)] = len(set(positive_codes[:, h].tolist()) - set(negative_codes[:, h].tolist()))
truth = np.zeros((LAYERS, HEADS_PER_LAYER))
for layer, head in GROUND_TRUTH:
    truth[layer, head] = 1
def softmax(x):
    e = np.exp(x - np.max(x))
    return e / e.sum()
fpr, tpr, _ = roc_curve(truth.flatten(), softmax(node.flatten()))
node_auc = auc(fpr, tpr)

# edge.gen_co_occurrence_matrix / unique_co_occurrences (normalise=False): code pairs two heads
# produce together on some positive and no negative prompt.
def co_occurrence(c):
    m = np.zeros((H, H, HIDDEN, HIDDEN))
    for e in range(c.shape[0]):
        for a in range(H):
            for b in range(H):
                if a != b:
                    m[a, b, c[e, a], c[e, b]] += 1
    return m
pos_m, neg_m = co_occurrence(positive_codes), co_occurrence(negative_codes)
pairs = np.zeros((H, H))
for a in range(H):
    for b in range(H):
        if a != b:
            pairs[a, b] = np.sum((pos_m[a, b] > 0) & ~(neg_m[a, b] > 0))

# edge.edge_circuit_prediction with k = len(head_labels)² // 2: heads of the best ordered pairs.
k = H * H // 2
order = np.argsort(pairs.flatten(), kind="stable")[::-1]                # the one departure (see above)
components = []
for index in order:
    a, b = divmod(int(index), H)
    components += [divmod(a, HEADS_PER_LAYER), divmod(b, HEADS_PER_LAYER)]
edge_counts = np.zeros((LAYERS, HEADS_PER_LAYER))
for layer, head in components[:k]:
    edge_counts[layer, head] += 1
fpr, tpr, _ = roc_curve(truth.flatten(), np.exp(edge_counts.flatten()) / np.sum(np.exp(edge_counts.flatten())))
edge_auc = auc(fpr, tpr)

def flat(t):
    return [float(v) for v in t.detach().flatten().tolist()]
fixture = {
    "source": "scripts/make_sae_parity_fixture.py (reference: charlieoneill11/sae-circuits 10fd2e7)",
    "torch": torch.__version__,
    "prompts": N, "layers": LAYERS, "heads_per_layer": HEADS_PER_LAYER, "d": D, "hidden": HIDDEN,
    "epochs": EPOCHS, "l1": LAMBDA, "learning_rate": LR, "training_prompts": TRAIN,
    "streams": flat(streams),
    "permutation": permutation.tolist(),
    "initial": {name: flat(t) for name, t in initial.items()},
    "losses": losses,
    "final": {"encoder_weight": flat(enc_w), "encoder_bias": flat(enc_b), "decoder_weight": flat(dec_w),
              "tied_bias": flat(tied_bias)},
    "codes": codes.tolist(),
    "node_scores": node.flatten().tolist(),
    "pair_scores": pairs.tolist(),
    "edge_components": k,
    "edge_counts": edge_counts.flatten().tolist(),
    "ground_truth": [list(g) for g in GROUND_TRUTH],
    "node_auc": node_auc, "edge_auc": edge_auc,
}
out = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "sae-parity.json"
out.write_text(json.dumps(fixture))
print(f"wrote {out}: loss {losses[0]:.5f} -> {losses[-1]:.5f}, node AUC {node_auc:.3f}, edge AUC {edge_auc:.3f}, "
      f"{len(set(codes.flatten().tolist()))} distinct codes")
