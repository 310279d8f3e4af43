"""Fixture surrogate module (shown whole: the catalog's impl names no object)."""
import math


def atan_grad(x, alpha=2.0):
    return (0.5 * alpha) / (1 + (0.5 * math.pi * alpha * x) ** 2)
