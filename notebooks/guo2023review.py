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
# # Direct learning-based deep SNNs: a review (Guo et al., Frontiers in Neuroscience 2023)
# The formulation the surveyed methods share: the iterative LIF neuron $U^t = \tau U^{t-1}(1 - O^{t-1}) + WO^t_{pre}$,
# $O^t = \Theta(U^t - V_{th})$, trained by backpropagation through time with a surrogate for $\partial O/\partial U$.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.neuron import multi_step
from snnref.surrogate import heaviside
from snnref.training.stbp import stbp_spike_fn, stbp_step

torch.set_default_dtype(torch.float64)
TAU, V_TH, A = 0.6, 0.45, 0.8  # decay factor, threshold, surrogate window width (no coincidences)

# %% [markdown]
# **Claim 1 (the iterative LIF neuron).** With the potential restarted at 0 after each spike, the formulation is the
# leaky sum $U^t = \sum_{s = t^{last}+1}^{t} \tau^{t-s} I^s$ of the inputs since the last spike, and $O^t = [U^t \ge V_{th}]$;
# its surrogate derivative is a window $\frac{1}{a}[\,|U - V_{th}| < \frac{a}{2}\,]$.

# %%  catches: a wrong decay, no reset or a soft reset, a time shift, '>' instead of '>=', a window of the wrong width
g = torch.Generator().manual_seed(21)
T = 30
I = 0.3 * torch.rand(T, 1, 4, generator=g) + torch.tensor([0.02, 0.08, 0.15, 0.25])
spikes, states = multi_step(stbp_step, I, tau=TAU, v_th=V_TH, spike_fn=stbp_spike_fn("h1", A))
u_ref, o_ref = torch.zeros(T, 1, 4), torch.zeros(T, 1, 4)
for n in range(4):
    last = -1
    for t in range(T):
        u = sum(TAU ** (t - s) * I[s, 0, n].item() for s in range(last + 1, t + 1))
        assert abs(u - V_TH) > 1e-6
        u_ref[t, 0, n] = u
        if u >= V_TH:
            o_ref[t, 0, n], last = 1.0, t
assert o_ref.sum() >= 8 and (o_ref.sum(0) > 0).all()
torch.testing.assert_close(spikes, o_ref, rtol=0, atol=0)  # spike trains of the formulation
torch.testing.assert_close(torch.stack(states), u_ref * (1 - o_ref), rtol=1e-12, atol=1e-12)  # decay, reset to 0
o_eq, v_eq = stbp_step(torch.tensor([0.375]), torch.tensor([0.5]), tau=0.75, v_th=0.75, spike_fn=stbp_spike_fn("h1", 0.5))
assert o_eq.item() == 1.0 and v_eq.item() == 0.0  # U = V_th fires and resets to 0
d = torch.tensor([-0.4, 0.4, 0.399, 0.0], requires_grad=True)
out_d = stbp_spike_fn("h1", A)(d)
assert out_d.requires_grad  # catches a spike function whose output is cut from the graph
out_d.sum().backward()
assert d.grad.tolist() == [0.0, 0.0, 1 / A, 1 / A]  # window of width a, height 1/a, open at its edges
# backpropagation through time, two steps in closed form: U0 = x0 (no spike), U1 = tau U0 (1 - O0) + x1, so
# dO1/dx0 = h(U1) * tau * ((1 - O0) - U0 h(U0)), the last term being the gradient through the reset (both U inside the window)
x0 = torch.tensor([0.3], requires_grad=True)
o0, v0 = stbp_step(x0, torch.zeros(1), tau=TAU, v_th=V_TH, spike_fn=stbp_spike_fn("h1", A))
o1, _ = stbp_step(torch.tensor([0.2]), v0, tau=TAU, v_th=V_TH, spike_fn=stbp_spike_fn("h1", A))
assert o0.item() == 0.0 and o1.item() == 0.0 and o1.requires_grad  # catches a detached state or spike
(dx0,) = torch.autograd.grad(o1.sum(), x0, allow_unused=True)
assert dx0 is not None  # catches a state detached between steps
assert math.isclose(dx0.item(), (1 / A) * TAU * (1 - 0.3 / A), rel_tol=1e-12)  # temporal path incl. the reset term

# %% [markdown]
# **Claim 2 (why direct training is hard).** The review's starting point: firing is not differentiable, so gradient-based
# optimization cannot use the true derivative. The loss of a spiking network is piecewise constant in the weights in
# front of its spiking neurons: central finite differences with a small step are exactly 0, whereas the surrogate
# gradient is not.

# %%  catches: a surrogate that is silently zero, a forward pass that is not a hard step
def make_data(n, seed):
    gg = torch.Generator().manual_seed(seed)
    x = 2 * torch.rand(n, 2, generator=gg) - 1
    y = (x[:, 0] * x[:, 1] > 0).long()  # XOR-like quadrants: not linearly separable
    feats = torch.cat([x.clamp(min=0), (-x).clamp(min=0), torch.ones(n, 1)], dim=1)  # [n, 5], non-negative currents
    return feats, y


def forward(feats, W1, W2, T=4):
    x_seq = feats.unsqueeze(0).expand(T, -1, -1)  # constant input current over T steps
    hid, _ = multi_step(stbp_step, x_seq @ W1.T, tau=TAU, v_th=V_TH, spike_fn=stbp_spike_fn("h1", A))  # [T, n, 16]
    return hid.mean(0) @ W2.T  # linear read-out of the firing rates [n, 2]


def loss_fn(feats, y, W1, W2):
    return torch.nn.functional.cross_entropy(forward(feats, W1, W2), y)


feats, y = make_data(64, 0)
g2 = torch.Generator().manual_seed(3)
W1 = (0.8 * torch.randn(16, 5, generator=g2) + 0.3).requires_grad_(True)
W2 = (0.5 * torch.randn(2, 16, generator=g2)).requires_grad_(True)
loss_fn(feats, y, W1, W2).backward()
assert W1.grad is not None and W1.grad.abs().max() > 1e-3  # the surrogate gives the spiking layer a gradient
with torch.no_grad():
    idx = torch.randperm(W1.numel(), generator=g2)[:12]
    for i in idx.tolist():
        e = torch.zeros(W1.numel()); e[i] = 1e-7; e = e.view_as(W1)
        fd = (loss_fn(feats, y, W1 + e, W2) - loss_fn(feats, y, W1 - e, W2)) / 2e-7
        assert fd.item() == 0.0  # the true gradient is zero: the loss is piecewise constant in W1
    assert (W1.grad.view(-1)[idx] != 0).sum() >= 6  # while the surrogate gradient is not

# %% [markdown]
# **Claim 3 (surrogate gradients make direct training work, at toy scale).** With the surrogate, Adam on the
# cross-entropy of a linear read-out of the firing rates takes the spiking network on an XOR-like task from chance to
# at least 95 % training accuracy and 85 % on held-out points in 50 steps, where the true gradient (zero, Claim 2)
# would leave the spiking layer where it started.

# %%  catches: a surrogate gradient with the wrong sign or scale, gradients that do not reach the spiking layer
def accuracy(feats, y, W1, W2):
    with torch.no_grad():
        return (forward(feats, W1, W2).argmax(1) == y).double().mean().item()


acc0 = accuracy(feats, y, W1, W2)
opt = torch.optim.Adam([W1, W2], lr=0.15)
losses = []
for it in range(50):
    opt.zero_grad()
    loss = loss_fn(feats, y, W1, W2)
    loss.backward()
    opt.step()
    losses.append(loss.item())
acc_train = accuracy(feats, y, W1, W2)
acc_test = accuracy(*make_data(256, 1), W1, W2)
assert acc0 < 0.6 and acc_train >= 0.95 and acc_test >= 0.85, (acc0, acc_train, acc_test)  # trained from chance
assert losses[-1] < 0.3 * losses[0]

fig, ax = plt.subplots(1, 2, figsize=(10, 3))
ax[0].plot(losses); ax[0].set_xlabel("step"); ax[0].set_ylabel("cross-entropy (surrogate gradient)")
xs = torch.linspace(-1.5, 1.5, 601)
ax[1].plot(xs, heaviside(xs), label=r"$\Theta(U - V_{th})$")
ax[1].plot(xs, (xs.abs() < A / 2).double() / A, label=r"surrogate $\partial O/\partial U$")
ax[1].set_xlabel("$U - V_{th}$"); ax[1].legend(fontsize=8)
plt.tight_layout(); plt.show()

# %% [markdown]
# Verified: the iterative LIF formulation equals the leaky sum since the last spike with reset to 0 and fires at
# $U \ge V_{th}$; the true weight gradient of a spiking network is exactly zero (finite differences) while the
# surrogate gradient is not; and surrogate-gradient training takes a small spiking network from chance to high
# accuracy on a non-linear toy task.
