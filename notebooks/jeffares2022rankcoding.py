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
# # Spike-inspired rank coding for RNNs (Jeffares et al., ICLR 2022)
# Read a recurrent network's answer at the first step an output unit crosses a threshold, and train it there.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.models.rank_coding import first_crossing, rank_coded_readout, rank_coded_run
from snnref.neuron import fire

torch.manual_seed(0)
torch.set_num_threads(1)  # tiny tensors: a thread pool only adds overhead
DT = torch.float64

# %% [markdown]
# **The core fire step.** The spike of an output unit is the core `fire` step, $S = \Theta(y - \theta)$. Its backward
# pass is whatever `spike_fn` says; the core must hand the surrogate exactly $y - \theta$, value and gradient. With the
# smooth stand-in $g(x) = \sigma(3x)$: $\partial S/\partial y = 3\sigma(3(y-\theta))(1 - \sigma(3(y-\theta)))$.

# %%  catches (in the core): fire passing y + theta or y alone, or cutting the graph
theta = 0.8
y = torch.tensor([0.3, 0.75, 0.95], dtype=DT, requires_grad=True)
g = fire(y, v_th=torch.tensor(theta, dtype=DT), spike_fn=lambda x: torch.sigmoid(3.0 * x))
assert g.requires_grad
sig = [1 / (1 + math.exp(-3.0 * (v - theta))) for v in y.tolist()]
torch.testing.assert_close(g, torch.tensor(sig, dtype=DT), rtol=1e-12, atol=0)
(dg,) = torch.autograd.grad(g.sum(), y)
torch.testing.assert_close(dg, torch.tensor([3 * s * (1 - s) for s in sig], dtype=DT), rtol=1e-12, atol=0)

# %% [markdown]
# **Claim 1.** RC readout (the paper's RC-training, as in the official `Demo.ipynb`): output unit $k$ spikes at step $t$ when
# $y_{t,k} \ge \theta$; the answer time is $t^* = \min(\{t : \max_k S_{t,k} = 1\} \cup \{T\})$ and the answer is
# $y_{t^*}$. Oracle: a loop over samples and steps written from this definition (0-based time in code).

# %%  catches: first spike taken per unit instead of over units, last instead of first crossing, > instead of >=,
#     wrong fallback step for silent samples, readout taken at the wrong step
def brute(out, theta):
    T_, B_, K_ = out.shape
    ts, ys = [], []
    for b in range(B_):
        t_b = T_ - 1
        for t in range(T_):
            if any(out[t, b, k].item() >= theta for k in range(K_)):
                t_b = t
                break
        ts.append(t_b)
        ys.append(out[t_b, b])
    return torch.tensor(ts), torch.stack(ys)


theta = 0.8
for (T_, B_, K_) in [(5, 5, 5), (9, 6, 3)]:  # equal sizes first: an axis mix-up gives wrong values, not a crash
    out = torch.rand(T_, B_, K_, dtype=DT) * 0.79  # below theta ...
    out[2, 0, 1] = theta  # ... except: exactly at theta (fires, >=)
    out[1, 1, 2] = 0.95
    out[3, 1, 0] = 0.97  # a later crossing must not win
    out[T_ - 1, 2, 0] = 0.9  # crosses only at the last step
    out[0, 3, 1] = 0.99  # crosses at the first step
    out[4, 3, 2] = 0.85  # a second crossing of sample 3 changes nothing; samples 4.. never cross: T - 1
    t_ref, y_ref = brute(out, theta)
    t_star, spiked = first_crossing(out, theta=theta)
    assert t_star.tolist() == t_ref.tolist(), (t_star, t_ref)
    assert spiked.tolist() == [True, True, True, True, False] + [False] * (B_ - 5)
    y_star, t2 = rank_coded_readout(out, theta=theta)
    torch.testing.assert_close(y_star, y_ref, rtol=0, atol=0)
    assert t2.tolist() == t_ref.tolist()
print("t* =", t_star.tolist())
for bad in (0.0, 1.5):  # catches: missing validation of theta
    try:
        first_crossing(out, theta=bad)
        raise AssertionError(f"theta={bad} accepted")
    except ValueError:
        pass
assert first_crossing(torch.ones(3, 2, 2, dtype=DT), theta=1.0)[0].tolist() == [0, 0]  # theta = 1 is allowed

# %% [markdown]
# **Claim 2.** RC-training backpropagates through time only from $t^*$: the loss
# $\mathcal L = -\sum_b \log y_{t^*_b, b, c_b}$ has zero gradient with respect to every input after $t^*_b$, so the forward
# pass can stop once every sample has spiked and the backward pass is the same. `rank_coded_run` stops after
# $\max_b t^*_b + 1$ steps; its gradient equals the gradient of the full-length run, and both equal the gradient of the
# loss written by hand at the oracle's $t^*$. The crossing time itself carries no gradient.

# %%  catches: running the whole sequence, stopping at the first sample's spike, loss at the wrong step,
#     gradients leaking from steps after t*
torch.manual_seed(3)
H, K, T = 6, 2, 14
W = {"x": torch.randn(H, H, dtype=DT) * 0.3, "h": torch.randn(H, H, dtype=DT) * 0.4,
     "b": torch.zeros(H, dtype=DT), "o": torch.randn(H, K, dtype=DT) * 0.5}
for w in W.values():
    w.requires_grad_(True)


def step(x, h):  # Elman RNN with a softmax readout; the input has the hidden size
    h = torch.tanh(x @ W["x"] + h @ W["h"] + W["b"])
    return torch.softmax(h @ W["o"], -1), h


B = 7
x_seq = (torch.randn(T, B, H, dtype=DT) * 0.5 + torch.linspace(-1, 1, B, dtype=DT)[:, None]).requires_grad_(True)
h0 = torch.zeros(B, H, dtype=DT)
c = torch.randint(0, K, (B,))
full, h = [], h0
for x in x_seq:  # the whole sequence, written out
    y_t, h = step(x, h)
    full.append(y_t)
full = torch.stack(full)
theta2 = 0.7
t_ref, _ = brute(full.detach(), theta2)
print("t* per sample:", t_ref.tolist())
assert 0 < t_ref.max() < T - 1 and len(set(t_ref.tolist())) > 2  # varied, all crossings before the end

params = list(W.values())
loss_hand = -sum(torch.log(full[t_ref[b], b, c[b]]) for b in range(B))
g_hand = torch.autograd.grad(loss_hand, params + [x_seq], retain_graph=True)
y_star, _ = rank_coded_readout(full, theta=theta2)
g_full = torch.autograd.grad(-torch.log(y_star[torch.arange(B), c]).sum(), params + [x_seq])
y_run, t_run, n_run = rank_coded_run(step, x_seq, h0, theta=theta2)
g_run = torch.autograd.grad(-torch.log(y_run[torch.arange(B), c]).sum(), params + [x_seq])
assert t_run.tolist() == t_ref.tolist()
assert n_run == t_ref.max().item() + 1 < T  # stopped as soon as the last sample spiked
for a, b_, r in zip(g_hand, g_full, g_run):
    torch.testing.assert_close(b_, a, rtol=1e-12, atol=1e-14)  # readout gradient = hand-written loss gradient
    torch.testing.assert_close(r, a, rtol=1e-12, atol=1e-14)  # truncated run = full run
gx = g_run[-1]
for b in range(B):
    assert gx[t_ref[b] + 1:, b].abs().sum().item() == 0.0  # nothing after t* (all t* < T - 1 here)
    assert gx[t_ref[b], b].abs().max().item() > 1e-8  # the answer step itself does get gradient
# a sample that never spikes keeps the run going to the end and answers at T - 1
x_silent = torch.zeros(T, 1, H, dtype=DT)
W_o_saved = W["o"].detach().clone()
with torch.no_grad():
    W["o"].zero_()  # outputs stay at 1/K < theta
_, t_sil, n_sil = rank_coded_run(step, x_silent, torch.zeros(1, H, dtype=DT), theta=theta2)
assert n_sil == T and t_sil.tolist() == [T - 1]
with torch.no_grad():
    W["o"].copy_(W_o_saved)

# %% [markdown]
# **Claim 3.** At toy scale, RC-training learns *when* to answer (the paper's sequence-classification toy problems):
# sequences carry weak evidence $e_t = \pm\mu + \sigma\varepsilon_t$ for class 1 / 0. Trained with the loss only at
# $t^*$, a small RNN goes from never crossing $\theta$ (every answer at $T$) to answering after a fraction of the
# sequence, while staying accurate; at inference, raising $\theta$ can only delay the crossing ($t^*$ is monotone in
# $\theta$) and buys accuracy (the paper's speed-accuracy trade-off). Sanity bound: no rule that stops at a time
# $t^* \le T$ can beat the Bayes-optimal classifier that sees all $T$ samples, $\Phi(\mu\sqrt T/\sigma)$.

# %%  catches: a readout that does not move decisions earlier, wrong gradients (no learning), time-reversed threshold
torch.manual_seed(1)
T3, Hh, mu, sd = 25, 8, 0.35, 1.0
u = torch.randn(Hh, dtype=DT)
P = {"x": torch.randn(Hh, Hh, dtype=DT) * 0.1, "h": torch.randn(Hh, Hh, dtype=DT) * 0.1,
     "b": torch.zeros(Hh, dtype=DT), "o": torch.zeros(Hh, 2, dtype=DT)}
for w in P.values():
    w.requires_grad_(True)


def step3(x, h):
    h = torch.tanh(x @ P["x"] + h @ P["h"] + P["b"])
    return torch.softmax(h @ P["o"], -1), h


def batch(n):
    cls = torch.randint(0, 2, (n,))
    e = (2 * cls - 1).to(DT) * mu + sd * torch.randn(T3, n, dtype=DT)
    return e[..., None] * u, cls


def evaluate(th, n=2000, seed=7):
    g = torch.Generator().manual_seed(seed)
    cls = torch.randint(0, 2, (n,), generator=g)
    e = (2 * cls - 1).to(DT) * mu + sd * torch.randn(T3, n, dtype=DT, generator=g)
    with torch.no_grad():
        ys, h = [], torch.zeros(n, Hh, dtype=DT)
        for x in e[..., None] * u:
            y_t, h = step3(x, h)
            ys.append(y_t)
        y_s, t_s = rank_coded_readout(torch.stack(ys), theta=th)
    return (y_s.argmax(-1) == cls).to(DT).mean().item(), t_s


th3 = 0.9
opt = torch.optim.Adam(P.values(), lr=0.03)
hist = []
for it in range(250):
    xb, cb = batch(64)
    y_s, t_s, _ = rank_coded_run(step3, xb, torch.zeros(64, Hh, dtype=DT), theta=th3)
    loss = -torch.log(y_s[torch.arange(64), cb]).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    hist.append(((t_s + 1).to(DT).mean().item(), loss.item()))
acc, t_test = evaluate(th3)
mean_t = (t_test + 1).to(DT).mean().item()  # answer after this many inputs (1-based)
print(f"first batch: mean steps {hist[0][0]:.1f}; trained: accuracy {acc:.3f} after {mean_t:.1f} of {T3} steps")
assert hist[0][0] == T3  # untrained: no output reaches theta, every answer at the end
assert mean_t < 0.5 * T3 and acc > 0.8  # answers early and still accurate
bayes_T = 0.5 * (1 + math.erf(mu * math.sqrt(T3) / sd / math.sqrt(2)))
assert acc < bayes_T, (acc, bayes_T)  # an early answer cannot beat the full-information optimum
ths = [0.6, 0.75, 0.9, 0.97]
res = [evaluate(th) for th in ths]
for (a0, t0), (a1, t1) in zip(res, res[1:]):
    assert bool((t1 >= t0).all())  # a higher threshold never answers earlier (same inputs)
assert res[-1][0] > res[0][0] + 0.02  # and it buys accuracy

# %%
fig, ax = plt.subplots(1, 3, figsize=(13, 3.4))
ax[0].plot([h_[0] for h_ in hist]); ax[0].set_xlabel("training step"); ax[0].set_ylabel("mean answer step")
ax[0].set_title(r"RC-training moves $t^*$ earlier")
ax[1].plot([(r_[1] + 1).to(DT).mean().item() for r_ in res], [r_[0] for r_ in res], "o-")
for th, r_ in zip(ths, res):
    ax[1].annotate(rf"$\theta$={th}", ((r_[1] + 1).to(DT).mean().item(), r_[0]))
ax[1].set_xlabel("mean answer step"); ax[1].set_ylabel("accuracy"); ax[1].set_title("speed-accuracy trade-off")
for b in range(3):
    ax[2].plot(full[:, b, 0].detach(), label=f"sample {b}")
    ax[2].axvline(t_ref[b], ls=":", color=f"C{b}")
ax[2].axhline(theta2, color="k", lw=0.8); ax[2].axhline(1 - theta2, color="k", lw=0.8)
ax[2].set_xlabel("t"); ax[2].set_ylabel("$y_{t,0}$"); ax[2].set_title(r"first crossing of $\theta$ (dotted: $t^*$)")
ax[2].legend(fontsize=7)
plt.tight_layout(); plt.show()

# %% [markdown]
# Verified: the RC answer time and answer equal a loop over the definition (ties at $\theta$ fire, silent samples
# answer at $T$); the core fire step hands the surrogate $y - \theta$ with its gradient; the loss at $t^*$ gives zero
# gradient to later inputs, so the truncated run has exactly the full run's gradient; and on a toy evidence-accumulation
# task RC-training moves answers early while staying accurate and below the Bayes bound, with $\theta$ trading speed for
# accuracy.
