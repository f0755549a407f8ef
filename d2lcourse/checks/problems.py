"""The functions that checks pass to students' code (`numerical_derivative(cube, x, h)`,
`gd(grad_square, x0, eta, num_steps)`). The wire sends a function by its module and name and the
sandboxed runner imports it: they live here, apart from the check modules, whose oracles must
stay out of the sandbox. Test cells name them through their check module (`check.cube`).
"""
import math

import numpy as onp

from d2lcourse._mxnet import np

# --------------------------------------------------------------------------- 01_ndarray_autograd
# Elementwise functions for numerical_derivative. They accept Python floats and mxnet
# arrays alike (their values and derivatives are oracles of checks.ndarray_autograd).

def cube(x):
    """x^3."""
    return x ** 3


def softplus(x):
    """log(1 + e^x)."""
    return np.log(1 + np.exp(x))


def wave(x):
    """sin(3x) + x^2 / 2."""
    return np.sin(3 * x) + x ** 2 / 2


# Scalar-valued functions of an array, built from mxnet.np operations, for autograd_grad
# (their gradients are an oracle of checks.ndarray_autograd).

def sum_of_cubes(x):
    """sum_i x_i^3."""
    return (x ** 3).sum()


def x_sin_x(x):
    """sum_i x_i sin(x_i): x is used twice, so both paths must be added."""
    return (x * np.sin(x)).sum()


def log_sum_exp(x):
    """log sum_i exp(x_i)."""
    return np.log(np.exp(x).sum())


def mean_square(x):
    """mean_i x_i^2."""
    return (x ** 2).mean()


def tanh_energy(X):
    """sum_ij tanh(X_ij)^2, for a matrix X."""
    return (np.tanh(X) ** 2).sum()


def gram_sum(X):
    """sum of all entries of X X^T, for a matrix X."""
    return (X @ X.T).sum()


def square_held(x):
    """sum_i x_i c_i with c = x.detach(), a copy autograd holds constant: autograd's gradient
    is x, half the 2 x that finite differences of f's values (those of sum_i x_i^2) give."""
    return (x * x.detach()).sum()


# --------------------------------------------------------------------------- 03_optimization
# Gradients for gd and gd_2d. They accept Python floats, classic NumPy and MXNet arrays
# alike: the student may iterate with any of these.

def _library(x):
    return np if isinstance(x, np.ndarray) else onp  # the NumPy of x: mxnet's or classic


def _as_vector(x):
    return x if hasattr(x, "shape") else onp.asarray(x, dtype=onp.float64)  # a list or tuple too


NONCONVEX_C = 0.15 * math.pi


def grad_square(x):
    """f(x) = x^2, so f'(x) = 2x."""
    return 2 * x


def grad_quartic(x):
    """f(x) = x^4 / 4 - x, so f'(x) = x^3 - 1 (minimum at x = 1)."""
    return x ** 3 - 1


def grad_nonconvex(x):
    """f(x) = x cos(cx) with c = 0.15 pi, so f'(x) = cos(cx) - c x sin(cx)."""
    lib = _library(x)
    return lib.cos(NONCONVEX_C * x) - NONCONVEX_C * x * lib.sin(NONCONVEX_C * x)


def grad_ellipse(x):
    """f(x) = x1^2 + 2 x2^2, so grad f(x) = (2 x1, 4 x2)."""
    x = _as_vector(x)
    return x * _library(x).array([2.0, 4.0], dtype=x.dtype)


def grad_coupled(x):
    """f(x) = x1^2 + x1 x2 + 2 x2^2, so grad f(x) = (2 x1 + x2, x1 + 4 x2)."""
    x = _as_vector(x)
    return _library(x).stack([2 * x[0] + x[1], x[0] + 4 * x[1]])


def grad_ill_conditioned(x):
    """f(x) = 0.1 x1^2 + 2 x2^2, so grad f(x) = (0.2 x1, 4 x2)."""
    x = _as_vector(x)
    return x * _library(x).array([0.2, 4.0], dtype=x.dtype)
