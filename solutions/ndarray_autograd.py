"""Reference solutions of assignment 01: DeepNumpy and calculus (d2l.ai, chapter 2).

Each function's docstring is the task the student reads; its body is the solution region
of the notebook cell of the same name.
"""
from d2lcourse import np, autograd


def regions(X):
    """Return the tuple of the five regions of the matrix X described above."""
    return X[1, 2], X[1, :], X[:, 1], X[1:3, 1:], X[::3, ::2]


def numerical_derivative(f, x, h=1e-4):
    """Central difference of f at x with step h (elementwise for an array x)."""
    return (f(x + h) - f(x - h)) / (2 * h)


def grad_f(x):
    """Derivative of f(x) = 3x^2 - 4x at x (a float or an array). Hand-derived."""
    # Power rule and sum rule: d/dx 3x^2 = 6x, d/dx 4x = 4.
    return 6 * x - 4


def grad_abs(x):
    """A subgradient of |x|, elementwise: any value in [-1, 1] at x = 0. Hand-derived."""
    # Slope -1 left of the kink, +1 right of it; np.sign picks 0 at the kink.
    return np.sign(x)


def grad_relu(x):
    """A subgradient of max(x, 0), elementwise: any value in [0, 1] at x = 0. Hand-derived."""
    # Slope 0 left of the kink, 1 right of it, and 0 at the kink.
    return (x > 0).astype(x.dtype)


def grad_norm_sq(x):
    """Gradient of ||x||^2 at the vector x. Hand-derived."""
    # d/dx_k sum_i x_i^2 = 2 x_k.
    return 2 * x


def grad_quadratic_form(A, x):
    """Gradient of x^T A x with respect to x, for a square A, symmetric or not. Hand-derived."""
    # d/dx_k sum_ij x_i A_ij x_j = sum_j A_kj x_j + sum_i x_i A_ik = (A x)_k + (A^T x)_k.
    return (A + A.T) @ x


def jacobian_linear(A, x):
    """Jacobian of y = A x with respect to x, shape (m, n) for A of shape (m, n). Hand-derived."""
    # J_ij = d/dx_j sum_k A_ik x_k = A_ij, whatever x is. A new array: the caller's A may
    # change later, and its Jacobian must not change with it.
    return A.copy()


def grad_z_w(x, w, y):
    """Gradient with respect to w of z = (<x, w> - y)^2 (vectors x, w; scalar y). Hand-derived."""
    # Chain rule with u = <x, w> - y: dz/du = 2u and the gradient of u with respect to w is x.
    u = np.dot(x, w) - y
    return 2 * u * x


def autograd_grad(f, x):
    """Gradient of the scalar-valued f at the array x, by autograd; x must stay unchanged."""
    x = x.copy()  # attach the gradient to a copy: the caller's x stays as it was
    x.attach_grad()
    with autograd.record():
        y = f(x)
    y.backward()
    return x.grad
