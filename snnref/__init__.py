"""snnref: minimal PyTorch reference implementations of spiking-neural-network papers.

Shape convention: sequences are time-first, ``[T, B, ...]``; a single step is ``[B, ...]``.
Spike convention: a neuron fires where ``h - v_th >= 0`` (a paper that differs says so in its module).

The shared core is :mod:`snnref.surrogate` (spike functions with surrogate gradients) and
:mod:`snnref.neuron` (charge, fire, reset, and the multi-step loop). Each paper's method lives in a
small module of a family subpackage and builds on that core. Depends on torch only.
"""

__all__ = ["surrogate", "neuron"]
