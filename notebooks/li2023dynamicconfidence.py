# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Dynamic Confidence (Li, Jones & Furber, ICCV 2023)
# Decode a confidence from the SNN's accumulated output at every timestep and stop the inference of each input as
# soon as it exceeds a threshold.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.models.dynamic_confidence import (
    dynamic_confidence_exit,
    latency_accuracy,
    oracle_exit,
    temporal_confidence,
)
from snnref.neuron import lif_step, multi_step

torch.set_num_threads(1)  # tiny tensors: threading only adds overhead
torch.manual_seed(0)
DT = torch.float64

# %% [markdown]
# **Claim 1 (the termination rule).** With $Y_t = \frac1s\sum_{i\le t} O_i$ and $C_t = \max_k\mathrm{softmax}(Y_t)_k$,
# the inference of input $x$ stops at the first $t$ with $C_t > c_{th}$ (or at $T$) and answers $\arg\max Y_{\hat t}$.
# Oracle: the per-sample loop of the official evaluation script, rewritten here, on random outputs; and the threshold
# is strict (a confidence exactly equal to $c_{th}$ does not stop).

# %%  catches: >= instead of >, mean instead of scaled sum, off-by-one exit step, prediction read at T
def brute_exit(o, c_th, s):
    t_out, p_out = [], []
    for b in range(o.shape[1]):
        acc = torch.zeros(o.shape[2], dtype=DT)
        for t in range(o.shape[0]):
            acc = acc + o[t, b] / s
            if torch.softmax(acc, -1).max() > c_th or t == o.shape[0] - 1:
                t_out.append(t + 1)
                p_out.append(int(acc.argmax()))
                break
    return torch.tensor(t_out), torch.tensor(p_out)


# square sizes first (T = B = K = 6), so that a reduction over the wrong axis cannot hide behind a shape error
o6 = torch.randn(6, 6, 6, dtype=DT) * 3 + torch.randn(1, 6, 6, dtype=DT) * 4
for c_th in (0.6, 0.95):
    t6, p6 = dynamic_confidence_exit(o6, c_th=c_th, s=10.0)
    assert isinstance(t6, torch.Tensor) and t6.shape == (6,) and p6.shape == (6,)
    t_ref, p_ref = brute_exit(o6, c_th, 10.0)
    assert torch.equal(t6, t_ref) and torch.equal(p6, p_ref)
    t6o, ok6 = oracle_exit(o6, torch.arange(6) % 6)
    assert isinstance(t6o, torch.Tensor) and t6o.shape == (6,) and ok6.shape == (6,)

T, B, K = 12, 60, 5
o = torch.randn(T, B, K, dtype=DT) * 4 + torch.randn(1, B, K, dtype=DT) * 6
seen = []
for c_th, s in ((0.5, 30.0), (0.7, 17.0), (0.6, 3.0), (0.97, 9.0)):
    t_exit, pred = dynamic_confidence_exit(o, c_th=c_th, s=s)
    t_ref, p_ref = brute_exit(o, c_th, s)
    assert torch.equal(t_exit, t_ref) and torch.equal(pred, p_ref)
    assert 1 < t_exit.to(DT).mean() < T  # neither all at once nor all at T
    seen.append(t_exit)
seen = torch.cat(seen)
assert (seen == T).any() and (seen == 1).any() and ((seen > 2) & (seen < T - 1)).any()  # every regime is exercised
y, conf = temporal_confidence(o, s=7.0)
torch.testing.assert_close(y[4], o[:5].sum(0) / 7.0, rtol=1e-12, atol=1e-12)  # scaled sum, not the mean
torch.testing.assert_close(conf, torch.softmax(o.cumsum(0) / 7.0, -1).max(-1).values, rtol=1e-12, atol=1e-12)
# strictness: Y_1 = (0, ln 3) gives the confidence 3/4 exactly at t = 1
s = 11.0
o2 = torch.tensor([[[0.0, s * math.log(3.0)]], [[0.0, 5.0]], [[0.0, 5.0]]], dtype=DT)
c1 = torch.softmax(o2[0, 0] / s, -1).max().item()
assert abs(c1 - 0.75) < 1e-12
assert dynamic_confidence_exit(o2, c_th=c1, s=s)[0].item() == 2  # equal: keep going
assert dynamic_confidence_exit(o2, c_th=c1 - 1e-9, s=s)[0].item() == 1  # just above: stop
try:
    temporal_confidence(o, s=0.0)
    raise AssertionError("s=0 accepted")  # catches: missing validation
except ValueError as e:
    assert "s" in str(e)

# %% [markdown]
# **Claim 2 (accumulation makes confidence grow with time).** For two classes and a steady output difference
# $\Delta$ per step, $C_t = \sigma(t\Delta/s)$, so the exit step has the closed form
# $\hat t = \min\big(T, \lfloor s\,\mathrm{logit}(c_{th})/\Delta\rfloor + 1\big)$: larger margins or a smaller scale stop
# earlier, a higher threshold later. (A running mean would keep $C_t$ constant and stop at 1 or at $T$.)

# %%  catches: scale s ignored or inverted, sum replaced by the mean, threshold applied to the wrong quantity
T2 = 40
for delta, s, c_th in ((0.7, 30.0, 0.8), (1.3, 30.0, 0.9), (0.45, 12.0, 0.95), (2.9, 30.0, 0.6), (0.2, 30.0, 0.99)):
    o3 = torch.zeros(T2, 1, 2, dtype=DT)
    o3[:, 0, 1] = delta
    k = s * math.log(c_th / (1 - c_th)) / delta
    assert abs(k - round(k)) > 1e-6  # not on a step boundary
    t_ref = min(T2, math.floor(k) + 1)
    t_hat = dynamic_confidence_exit(o3, c_th=c_th, s=s)[0].item()
    assert t_hat == t_ref, (delta, s, c_th, t_hat, t_ref)
    _, c = temporal_confidence(o3, s=s)
    t = torch.arange(1, T2 + 1, dtype=DT)
    torch.testing.assert_close(c[:, 0], torch.sigmoid(t * delta / s), rtol=1e-12, atol=1e-12)

# %% [markdown]
# **Claim 3 (the potential of an SNN).** Stopping each input at the first step whose prediction is correct gives
# an upper bound: its accuracy is at least that of any fixed number of steps and of Dynamic Confidence at any
# threshold. Oracle: a loop over samples and steps from that definition, then the inequalities.

# %%  catches: oracle stopping at the last correct step, correctness read from the wrong step
target = torch.randint(0, K, (B,))
t_or, ok = oracle_exit(o, target)
ref_t, ref_ok = [], []
for b in range(B):
    preds = [int(o[: t + 1, b].sum(0).argmax()) for t in range(T)]
    hits = [t for t in range(T) if preds[t] == int(target[b])]
    ref_t.append(hits[0] + 1 if hits else T)
    ref_ok.append(bool(hits))
assert torch.equal(t_or, torch.tensor(ref_t)) and torch.equal(ok, torch.tensor(ref_ok))
assert 0 < ok.to(DT).mean() < 1 and 1 < t_or.to(DT).mean() < T
acc_or = ok.to(DT).mean().item()
for t in range(1, T + 1):
    assert acc_or >= (o[:t].sum(0).argmax(-1) == target).to(DT).mean().item()
for c_th in (0.3, 0.6, 0.9, 0.99):
    assert acc_or >= latency_accuracy(o, target, c_th=c_th, s=9.0)[1]

# %% [markdown]
# **Claim 4 (latency saved without losing accuracy, toy scale).** On an SNN whose outputs come from the core LIF
# neuron (Gaussian clusters, direct encoding, ridge readout), sweeping $c_{th}$ traces a latency-accuracy curve whose
# mean latency rises with the threshold; a high threshold keeps the full-$T$ accuracy (within one point) while cutting
# the mean latency by more than 40 % (the paper reports an average 40 % speed-up, Abstract).

# %%  catches: latency not monotone in the threshold, accuracy computed at the wrong step
T, K, D, H, N = 16, 4, 10, 80, 400
TAU, VTH = 1.7, 0.9
centres = torch.randn(K, D, dtype=DT)
labels = torch.randint(0, K, (N,))
x = centres[labels] + torch.randn(N, D, dtype=DT) * 0.9
W1 = torch.randn(D, H, dtype=DT) * 0.5
b1 = torch.rand(H, dtype=DT) * 0.6
spk, _ = multi_step(lif_step, (x @ W1 + b1).expand(T, N, H), tau=TAU, v_th=VTH, v_reset=0.0)
A = torch.cat([spk.mean(0), torch.ones(N, 1, dtype=DT)], 1)
W2 = torch.linalg.solve(A.T @ A + 1e-2 * torch.eye(H + 1, dtype=DT),
                        A.T @ (torch.nn.functional.one_hot(labels, K).to(DT) * 8))
out = torch.cat([spk, torch.ones(T, N, 1, dtype=DT)], -1) @ W2  # [T, N, K]
acc_full = (out.sum(0).argmax(-1) == labels).to(DT).mean().item()
# the toy's neuron is the core LIF: charging closed form below threshold, hard reset to 0, dH/dX = 1/tau
c = torch.tensor([0.37, 0.81], dtype=DT, requires_grad=True)
_, vs = multi_step(lif_step, c.expand(9, 2), tau=TAU, v_th=math.inf, v_reset=0.0)
for t, v in enumerate(vs, start=1):
    torch.testing.assert_close(v, c.detach() * (1 - (1 - 1 / TAU) ** t), rtol=1e-12, atol=1e-12)
assert vs[0].requires_grad  # the charge stays on the autograd graph
(g,) = torch.autograd.grad(vs[0].sum(), c)
torch.testing.assert_close(g, torch.full((2,), 1 / TAU, dtype=DT), rtol=1e-12, atol=0)
xs_ = torch.tensor([[0.5, 1.4, 2.2]], dtype=DT).expand(5, 3)
sp, vs = multi_step(lif_step, xs_, tau=TAU, v_th=VTH, v_reset=0.0)
h_prev = torch.zeros(3, dtype=DT)
for t in range(5):
    h = h_prev + (xs_[t] - h_prev) / TAU
    torch.testing.assert_close(sp[t], (h >= VTH).to(DT), rtol=0, atol=0)
    torch.testing.assert_close(vs[t], h * (1 - sp[t]), rtol=1e-12, atol=1e-12)  # hard reset to 0
    h_prev = vs[t]
assert 0 < sp.mean() < 1

S = 6.0
ths = [0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999]
curve = [latency_accuracy(out, labels, c_th=c, s=S) for c in ths]
for c, (lat, acc) in zip(ths, curve):
    t_e, p_e = dynamic_confidence_exit(out, c_th=c, s=S)
    assert math.isclose(lat, t_e.to(DT).mean().item()) and math.isclose(acc, (p_e == labels).to(DT).mean().item())
lats = [lat for lat, _ in curve]
assert all(a <= b for a, b in zip(lats, lats[1:])) and lats[0] < lats[-1]
lat99, acc99 = curve[ths.index(0.99)]
print(f"full T={T}: acc {acc_full:.3f};  c_th=0.99: acc {acc99:.3f} at mean latency {lat99:.2f}")
assert acc99 >= acc_full - 0.01 and lat99 < 0.6 * T
t_or, ok = oracle_exit(out, labels)
print(f"potential: acc {ok.to(DT).mean():.3f} at mean latency {t_or.to(DT).mean():.2f}")

# %%
fig, ax = plt.subplots(1, 2, figsize=(10, 3.4))
ax[0].plot(lats, [a for _, a in curve], "o-", label="Dynamic Confidence (sweep of $c_{th}$)")
fixed = [(t, (out[:t].sum(0).argmax(-1) == labels).to(DT).mean().item()) for t in range(1, T + 1)]
ax[0].plot(*zip(*fixed), "s--", label="fixed T")
ax[0].plot([t_or.to(DT).mean()], [ok.to(DT).mean()], "r*", ms=12, label="potential (oracle)")
ax[0].set_xlabel("mean latency (steps)"); ax[0].set_ylabel("accuracy"); ax[0].legend(fontsize=8)
_, cc = temporal_confidence(out[:, :8], s=S)
ax[1].plot(range(1, T + 1), cc.numpy()); ax[1].axhline(0.99, ls=":", c="k")
ax[1].set_xlabel("t"); ax[1].set_ylabel("$C_t$ (8 inputs)")
plt.tight_layout(); plt.show()

# %% [markdown]
# Verified: the termination rule equals the official per-sample evaluation loop (strict threshold, scaled accumulated
# output), the confidence of a steady output follows $\sigma(t\Delta/s)$ and the exit step its closed form, the oracle
# "potential" bounds every fixed-$T$ and thresholded accuracy, and on a toy LIF network a high threshold keeps
# accuracy with less than 60 % of the steps.
