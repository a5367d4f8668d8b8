"""Does a 2-layer attention-only GPT-2 learn induction from corpus v2's repeat documents in PyTorch?

The comparison behind `mechanic train --recipe probe-2l-dense` (issue 11): the same shape (2
layers, 8 heads, d_model 128, context 256, vocabulary 2048, no MLPs), the same optimiser and
schedule (AdamW β 0.9/0.95, weight decay 0.1, peak lr 2e-3 after 100 warm-up steps, cosine to
2e-4, clip 1), batch 8 × 256, 800 steps, trained on documents made the way `RepeatDocuments`
makes them (spans of 2–60 random tokens repeated 2–4 times, 0–100 random tokens apart) but with
every document a repeat document. Every 100 steps it prints the training loss and the
second-copy accuracy on BOS + R + R (R 10 random tokens). If PyTorch does not learn induction
here either, a Mechanic model that does not is short of data or steps, not broken.

`--layout prefix-repeat` trains instead on the textbook layout (packed blocks of 0–20 random
tokens, then R, then R again, R of 5–40 tokens), where nearly half the tokens are predictable by
induction.

Seeded (torch and random seed 0); 2 threads; about 2.5 minutes on the 2-core VM.

    python3 scripts/induction_probe_pytorch.py [--layout repeat-documents|prefix-repeat]
"""
import argparse, math, random, time, torch
from transformers import GPT2Config, GPT2LMHeadModel
torch.set_num_threads(2); torch.manual_seed(0); random.seed(0)
V, T, B, STEPS = 2048, 256, 8, 800
def doc():
    target = random.randint(64, 320); d = []
    while len(d) < target:
        n = random.randint(2, 10) if random.random() < .5 else random.randint(2, 60)
        span = [random.randrange(V - 1) for _ in range(n)]
        for c in range(random.randint(2, 4)):
            if c > 0 and random.random() > .25:
                d += [random.randrange(V - 1) for _ in range(random.randint(1, 100))]
            d += span
    return d
def textbook():
    n = random.randint(5, 40); r = [random.randrange(V - 1) for _ in range(n)]
    return [random.randrange(V - 1) for _ in range(random.randint(0, 20))] + r + r
parser = argparse.ArgumentParser(description="2-layer attention-only induction probe")
parser.add_argument("--layout", choices=["repeat-documents", "prefix-repeat"], default="repeat-documents")
layout = parser.parse_args().layout
make = doc if layout == "repeat-documents" else textbook
stream = []
while len(stream) < 2_000_000: stream += make() + [V - 1]
stream = torch.tensor(stream)
class NoMLP(torch.nn.Module):
    def forward(self, x): return torch.zeros_like(x)
cfg = GPT2Config(n_layer=2, n_head=8, n_embd=128, n_positions=T, vocab_size=V, resid_pdrop=0, embd_pdrop=0, attn_pdrop=0)
m = GPT2LMHeadModel(cfg)
for b in m.transformer.h: b.ln_2 = torch.nn.Identity(); b.mlp = NoMLP()
opt = torch.optim.AdamW(m.parameters(), lr=2e-3, betas=(.9, .95), weight_decay=.1)
def lr(s): return 2e-3 * s / 100 if s < 100 else 2e-4 + .5 * (2e-3 - 2e-4) * (1 + math.cos(math.pi * (s - 100) / (STEPS - 100)))
def check():
    m.eval(); acc = 0; tot = 0
    with torch.no_grad():
        for _ in range(16):
            r = [random.randrange(V - 1) for _ in range(10)]
            ids = torch.tensor([[V - 1] + r + r])
            p = m(ids).logits[0].argmax(-1)
            acc += sum(int(p[i] == ids[0, i + 1]) for i in range(11, 20)); tot += 9
    m.train(); return acc / tot
t0 = time.time()
for s in range(STEPS):
    for g in opt.param_groups: g["lr"] = lr(s)
    starts = torch.randint(0, len(stream) - T - 1, (B,))
    x = torch.stack([stream[i:i + T] for i in starts])
    loss = m(x, labels=x).loss
    opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step()
    if s % 100 == 99: print(s + 1, round(loss.item(), 3), "second-copy acc", round(check(), 3), round(time.time() - t0), "s", flush=True)
