"""Oracles that checks of two assignments share (float64 classic NumPy in and out).

An oracle computes an expected value once, here or in its assignment's checks module;
the student package keeps the answers it gave on the visible tests, not its code.
"""
import numpy as onp

from d2lcourse.checks import core


@core.oracle
def softmax(O):
    """The softmax of each row of O (of O itself for a vector), computed stably."""
    e = onp.exp(O - O.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@core.oracle
def relu_slope(x):
    """The derivative of max(x, 0): 1 where x > 0, else 0 (the subgradient at 0 is 0)."""
    return (x > 0).astype(onp.float64)
