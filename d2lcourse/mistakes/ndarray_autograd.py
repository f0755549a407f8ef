"""Typical mistakes and alternative correct answers of 01_ndarray_autograd."""
from d2lcourse.mistakes import Alternative, Mistake, editor

edit = editor(__name__)


def of(function, kind, *cases):
    """The cases (name, cell[, message]) of `function`, each a Mistake or an Alternative."""
    return [kind(name, function, *rest) for name, *rest in cases]


def replacing(old):
    """The edit of a reference cell that writes `old` as its argument."""
    return lambda new: edit((old, new))


regions = replacing("X[1, 2], X[1, :], X[:, 1], X[1:3, 1:], X[::3, ::2]")
sign = replacing("np.sign(x)")                   # grad_abs's
mask = replacing("(x > 0).astype(x.dtype)")      # grad_relu's
CENTRAL = "(f(x + h) - f(x - h)) / (2 * h)"
U = "u = np.dot(x, w) - y\n    return 2 * u"    # grad_z_w's residual and the factor 2
UX = U + " * x"
RETURN_GRAD = "y.backward()\n    return x.grad"
SMALL_SLOPE = "+-3e38: at index (2,), x = 1.4013e-45: the slope of {} is 1, got {}"

MISTAKES = [
    *of("regions", Mistake,
        ("regions_column_instead_of_block", edit(("X[1:3, 1:]", "X[1:3, 1]")),
         "you returned X[1:3, 1]"),
        ("regions_strides_swapped", edit(("X[::3, ::2]", "X[::2, ::3]")),
         "you returned X[::2, ::3]"),
        ("regions_inclusive_stop", edit(("X[1:3, 1:]", "X[1:4, 1:]")),
         "a:b includes a and excludes b"),
        ("regions_row_and_column_swapped", regions("X[2, 1], X[:, 1], X[1, :], X[1:3, 1:], "
                                                   "X[::3, ::2]"), "you returned X[2, 1]"),
        ("regions_four_items", edit(("X[1:3, 1:], X[::3, ::2]", "X[1:3, 1:]")),
         "expected a tuple of 5 regions"),
        ("regions_chained_indexing", regions("X[1][2], X[1], X[:, 1], X[1:3][1:], X[::3][::2]"),
         "you returned X[2:3, :]"),
        ("regions_last_left_unfinished", edit(("X[::3, ::2]", "None  # TODO")),
         "of shape (2, 3); got None"),
        ("regions_stop_from_row_count", edit(("return X[1, 2], X[1, :], X[:, 1], X[1:3, 1:]",
                                              "rows = len(X)\n    return X[1, 2], X[1, :], "
                                              "X[:, 1], X[1:3, 1:rows + 1]")),
         "for X of shape (3, 8), item 4 should be rows 1 and 2 and the columns from 1 to the "
         "last"),
        ("regions_notebook_width_hardcoded", edit(("X[::3, ::2]", "X[::3, 0:5:2]")),
         "for X of shape (3, 8), item 5 should be every third row and every second column"),
        ("regions_block_transposed", edit(("X[1:3, 1:]", "X[1:3, 1:].T")),
         "you returned X[1:3, 1:].T"),
        ("regions_block_flattened", edit(("X[1:3, 1:]", "X[1:3, 1:].flatten()")),
         "you returned an array of shape (8,) that is not that region")),
    *of("numerical_derivative", Mistake,
        ("forward_difference", edit((CENTRAL, "(f(x + h) - f(x)) / h")), "forward difference"),
        ("central_difference_over_h", edit(("(2 * h)", "h")), "divides by h instead of 2h"),
        ("central_difference_precedence", edit(("(2 * h)", "2 * h")), "write / (2 * h)"),
        ("fixed_step", edit(("return " + CENTRAL, "step = 1e-4\n    return (f(x + step) - "
                                                  "f(x - step)) / (2 * step)")),
         "ignores the argument h"),
        ("backward_difference", edit((CENTRAL, "(f(x) - f(x - h)) / h")),
         "this is the backward difference"),
        ("central_difference_swapped", edit(("(f(x + h) - f(x - h))", "(f(x - h) - f(x + h))")),
         "expected (f(x + h) - f(x - h)) / (2h) = 6.76, got -6.76"),
        ("central_difference_without_parentheses",
         edit(("(f(x + h) - f(x - h))", "f(x + h) - f(x - h)")), "which divides only f(x - h)"),
        ("central_difference_wrapped_in_array", edit((CENTRAL, f"np.array([{CENTRAL}])")),
         "at x = 1.5, h = 0.1 has shape (1,), expected (): a derivative at a Python float x"),
        ("central_difference_summed", edit(("(f(x + h) - f(x - h))",
                                            "(f(x + h) - f(x - h)).sum()")),
         "has shape (), expected (6,): the derivative of an elementwise f has the shape of x"),
        ("numerical_derivative_step_floor",
         edit(("\n    return", "\n    h = max(h, 1e-4)   # smaller steps only add rounding "
                              "error\n    return")),
         "for f = cube at x = 0.0 with h = 1e-06: the central difference (h^3 - (-h)^3) / (2h) "
         "is exactly h^2 = 1e-12 there, got 1e-08, which is h^2 for h = 0.0001: use the step "
         "h it is called with"),
        ("numerical_derivative_float32_step",
         edit(("\n    return", "\n    h = max(h, 5e-3)   # about eps ** (1/3) in float32: the "
                              "best step there\n    return")), "which is h^2 for h = 0.005"),
        ("numerical_derivative_reused_buffer", edit(
            ("def ", "_buffers = {}\n\ndef "),
            ("return " + CENTRAL, f"difference = {CENTRAL}\n    if not hasattr(x, 'shape'):\n"
                                  "        return difference\n    out = _buffers.setdefault("
                                  "x.shape, np.zeros(x.shape))\n    out[:] = difference\n"
                                  "    return out[0:]  # a view of the buffer")),
         "returned an array that its next call overwrites")),
    *of("grad_f", Mistake,
        ("grad_f_returns_f", edit(("6 * x - 4", "3 * x ** 2 - 4 * x")),
         "returned f(x) = 3x^2 - 4x itself"),
        ("grad_f_keeps_x", edit(("- 4\n", "- 4 * x\n")),
         "the derivative of -4x is the constant -4"),
        ("grad_f_with_autograd", edit(("return 6 * x - 4", "x = x.copy()\n    x.attach_grad()\n"
                                       "    with autograd.record():\n        y = 3 * x ** 2 - 4 "
                                       "* x\n    y.backward()\n    return x.grad")),
         "uses `autograd.record`"),
        ("grad_f_drops_constant", edit(("x - 4", "x")),
         "the derivative of -4x is -4, which is missing"),
        ("grad_f_wrong_sign", edit(("x - 4", "x + 4")), "wrong sign: the derivative of -4x is -4"),
        ("grad_f_power_rule", edit(("return 6 *", "return 3 *")),
         "the derivative of 3x^2 is 3 * 2x = 6x"),
        ("grad_f_power_kept", edit(("x - 4", "x ** 2 - 4")), "the derivative of x^2 is 2x"),
        ("grad_f_wrapped_in_array", edit(("6 * x - 4", "np.array([6 * x - 4])")),
         "has shape (1, 6), expected (6,): f is applied elementwise"),
        ("grad_f_float16", edit(("6 * x - 4", "(6 * x - 4).astype(\"float16\")")),
         "has dtype float16, expected float32")),
    *of("grad_abs", Mistake,
        ("abs_x_over_abs_x", sign("x / np.abs(x)"), "at x = 0"),
        ("abs_signs_flipped", sign("np.where(x > 0, -1.0, 1.0)"), "the signs are flipped"),
        ("abs_like_relu", sign("np.where(x > 0, 1.0, 0.0)"), "that is the slope of max(x, 0)"),
        ("abs_outside_subdifferential", sign("np.where(x > 0, 1.0, np.where(x < 0, -1.0, 2.0))"),
         "a subgradient is any value in [-1, 1]"),
        ("abs_smoothed_with_epsilon", sign("x / (np.abs(x) + 1e-8)"),
         "do not smooth with an epsilon"),
        ("abs_smoothed_with_float32_tiny", sign("x / (np.abs(x) + 1.2e-38)"),
         "x = 1.4013e-45: the slope of |x| is 1"),
        ("abs_returned_itself", sign("np.abs(x)"), "returned |x| itself"),
        ("abs_returned_x", sign("x * 1.0"), "returned x: the slope of |x| does not grow with x"),
        ("abs_slope_one_everywhere", sign("np.ones_like(x)"), "got +1"),
        ("abs_over_root_of_square", sign("np.where(x == 0, 0.0, x / np.sqrt(x ** 2))"),
         "for x = 0, -0, +-1.4e-45, +-1e-30, +-1e-12, +-1e30, +-3e38: at index (2,), "
         "x = 1.4013e-45: the slope of |x| is 1, got inf"),
        ("abs_steep_tanh", sign("np.tanh(1e8 * x)   # a smooth sign"),
         SMALL_SLOPE.format("|x|", "1.401298e-37 (6 of 12 entries wrong). For small x != 0 the "
                                   "slope is still exactly that"))),
    *of("grad_relu", Mistake,
        ("relu_returned_itself", mask("np.maximum(x, 0)"), "returned max(x, 0) itself"),
        ("relu_boolean_mask", mask("x > 0"), "(X > 0) * 0.5 gives int64 zeros"),
        ("relu_integer_mask", mask("(x > 0) * 1.0"),
         "has dtype int64, expected float32: MXNet keeps integer types in arithmetic (an int64 g "
         "gives g * 0.5 == 0). A derivative is a real number: convert it with .astype(x.dtype)"),
        ("relu_with_npx_relu", mask("(npx.relu(x) > 0).astype(x.dtype)"), "uses `npx.relu`"),
        # Deny by default: a module bound to a name, which the grader cannot follow.
        ("relu_module_bound_to_a_name", edit(("def grad_relu", "xp = np\n\ndef grad_relu"),
                                             ("(x > 0).astype", "xp.where(x > 0, 1.0, 0.0)"
                                                                ".astype")),
         "uses the module `np` as a value"),
        ("relu_sign", mask("np.sign(x)"), "that is the slope of |x|"),
        ("relu_clipped_steep_ramp", mask("np.clip(x * 1e30, 0.0, 1.0)"),
         "x = 1.4013e-45: the slope of max(x, 0) is 1"),
        ("relu_max_over_x", mask("np.maximum(x, 0) / x"), "divide 0 by 0"),
        ("relu_flipped", mask("np.where(x > 0, 0.0, 1.0)"),
         "flipped: the slope of max(x, 0) is 1 for x > 0"),
        ("relu_returned_x", mask("x * 1.0"), "returned x: the slope of max(x, 0) is 0 or 1"),
        ("relu_half_sum_over_x", mask("np.where(x == 0, 0.0, (x + np.abs(x)) / (2 * x))"),
         "x = 3e+38: the slope of max(x, 0) is 1, got nan (1 of 12 entries wrong). Squares and "
         "sums leave float32's range"),
        ("relu_steep_sigmoid", mask("1 / (1 + np.exp(-1e8 * x))   # a smooth step"),
         SMALL_SLOPE.format("max(x, 0)", "0.5")),
        ("grad_relu_mask_into_x", edit(("return (x > 0).astype(x.dtype)",
                                        "x[:] = (x > 0).astype(x.dtype)\n    return x")),
         "changed its argument x in place: x[1] was")),
    *of("grad_norm_sq", Mistake,
        ("norm_sq_returns_x_itself", edit(("2 * x", "x")), "returned its argument x itself"),
        ("norm_sq_classic_numpy", edit(("* x", "* x.asnumpy()")), "returned numpy.ndarray"),
        ("norm_sq_scalar", edit(("* x", "* np.linalg.norm(x)")),
         "has shape (), expected (5,): the gradient of a scalar function of x has one entry per "
         "entry of x"),
        ("norm_sq_gradient_of_norm", edit(("2 * x", "x / np.sqrt((x ** 2).sum())")),
         "is the gradient of ||x||, not of ||x||^2"),
        ("norm_sq_not_differentiated", edit(("2 * x", "x ** 2")),
         "returned x_i^2: differentiate it"),
        ("norm_sq_two_over_norm", edit(("* x", "* x / np.sqrt(np.sum(x ** 2))")),
         "mixes up ||x|| and ||x||^2"),
        ("norm_sq_chain_rule_through_norm",
         edit(("return 2 * x", "norm = np.sqrt((x ** 2).sum())\n    return 2 * norm * (x / "
                               "norm)   # d||x||^2 = 2 ||x|| d||x||, d||x|| = x / ||x||")),
         "contains NaN at index (0,) (for x = 0, the minimum of ||x||^2)"),
        ("norm_sq_rescaled_unit_vector",
         edit(("return 2 * x", "unit = x / np.linalg.norm(x)\n    return 2 * "
                               "np.linalg.norm(x) * unit")),
         "||x|| is 0 there: a formula that divides by ||x||")),
    *of("grad_quadratic_form", Mistake,
        ("quadratic_form_assumes_symmetric", edit(("(A + A.T)", "2 * A")),
         "assumes A is symmetric"),
        ("quadratic_form_half_product_rule", edit(("(A + A.T)", "A")),
         "only half of the product rule"),
        ("quadratic_form_two_A_transpose", edit(("(A + A.T) @ x", "2 * np.dot(A.T, x)")),
         "returned 2 A^T x"),
        ("quadratic_form_without_x", edit(("(A + A.T) @ x", "A + A.T")),
         "has shape (3, 3), expected (3,): the gradient of a scalar function of x has one "
         "entry per entry of x"),
        ("quadratic_form_x_transpose_A", edit(("(A + A.T) @ x", "np.dot(x, A)")),
         "returned A^T x, only half of the product rule")),
    *of("jacobian_linear", Mistake,
        ("jacobian_transposed", edit(("A.copy()", "A.T")), "the Jacobian is transposed"),
        ("jacobian_is_value", edit(("A.copy()", "A @ x")), "the shape of the value y = A x"),
        ("jacobian_columns_concatenated",
         edit(("A.copy()", "np.concatenate([A @ e for e in np.eye(x.shape[0])])")),
         "has shape (12,), expected (3, 4): J[i, j] = dy_i/dx_j"),
        ("jacobian_returns_A_itself", edit(("A.copy()", "A")), "returned its argument A itself"),
        ("jacobian_view_of_A", edit(("A.copy()", "A[:A.shape[0]]  # the rows of A: J_ij = A_ij")),
         "returned a view of its argument A")),
    *of("grad_z_w", Mistake,
        ("z_w_missing_two", edit((U, "return (np.dot(x, w) - y)")), "missing the factor 2"),
        ("z_w_wrong_sign", edit((U, "return 2 * (y - np.dot(x, w))")), "wrong sign"),
        ("z_w_times_w", edit((UX, "return 2 * (np.dot(x, w) - y) * w")),
         "multiplied by w instead of x"),
        ("z_w_scalar", edit((UX, "return 2 * (np.dot(x, w) - y)")),
         "has shape (), expected (4,): the gradient of a scalar function of w"),
        ("z_w_wrong_sign_missing_two", edit((U, "return (y - np.dot(x, w))")),
         "wrong sign and missing factor 2"),
        ("z_w_no_inner_derivative", edit((UX, "return 2 * (np.dot(x, w) - y) * np.ones_like(w)")),
         "missing the inner derivative"),
        ("z_w_column_vectors", edit((U, "x = x.reshape(-1, 1)\n    w = w.reshape(-1, 1)\n    "
                                        "return 2 * (x.T @ w - y)")),
         "has shape (4, 1), expected (4,): the gradient of a scalar function of w has one entry "
         "per entry of w: the shape of w")),
    *of("autograd_grad", Mistake,
        ("autograd_without_record", edit(("with autograd.record():\n        y", "y")),
         "inside `with autograd.record():`"),
        ("autograd_modifies_x", edit(("    x = x.copy()  # attach the gradient to a copy: the "
                                      "caller's x stays as it was\n", ""),
                                     ("return x.grad", "x[:] = x - 0.1 * x.grad  # a gradient "
                                                       "step left over from experimenting\n"
                                                       "    return x.grad")),
         "changed its argument x in place"),
        ("autograd_attaches_to_the_callers_x",
         edit(("    x = x.copy()  # attach the gradient to a copy: the caller's x stays as it was\n",
               ""), (RETURN_GRAD, "y.backward()\n    return x.grad.copy()")),
         "the gradient the caller attached to x is theirs"),
        ("autograd_grad_list", edit((RETURN_GRAD, "return autograd.grad(y, [x])")),
         "returned a list with one gradient"),
        ("autograd_grad_legacy_ndarray", edit((RETURN_GRAD, "return autograd.grad(y, [x])[0]")),
         "convert it with .as_np_ndarray() (autograd.grad returns legacy arrays even in "
         "DeepNumpy mode)"),
        ("autograd_no_backward", edit(("    y.backward()\n", "")), "returned all zeros"),
        ("autograd_no_return", edit(("    return x.grad\n", "")), "did you forget `return`"),
        ("autograd_returns_y", edit(("x.grad", "y")),
         "expected (5,), the shape of x: return x.grad"),
        ("autograd_no_attach_no_backward", edit(("    x.attach_grad()\n", ""),
                                                ("    y.backward()\n", "")),
         "if you return x.grad: it is None until x.attach_grad()"),
        ("autograd_returns_callers_grad", edit(("    x = x.copy()  # attach the gradient to a "
                                                "copy: the caller's x stays as it was\n", "")),
         "returned x.grad itself")),
    Mistake("autograd_grad_finite_differences", "autograd_grad", """
import numpy as onp

def autograd_grad(f, x):
    x64, h = x.asnumpy().astype(onp.float64), 1e-6  # central differences in float64
    grad = onp.zeros_like(x64)
    for i in range(x64.size):
        step = onp.zeros_like(x64)
        step.flat[i] = h
        grad.flat[i] = (float(f(np.array(x64 + step))) - float(f(np.array(x64 - step)))) / (2 * h)
    return np.array(grad, dtype=x.dtype)
""", "Finite differences see only the values of f"),
]

ALTERNATIVES = [
    *of("regions", Alternative,
        ("regions_chained_indexing",
         regions("(X[1][2], X[1], X[:, 1], X[1:3][:, 1:], X[0::3, 0::2])")),
        ("regions_list_with_a_float",
         regions("[X[1, 2].item(), X[1], X[:, 1], X[1:3, 1:], X[::3, ::2]]"))),
    Alternative("central_difference_in_steps", "numerical_derivative",
                edit(("return " + CENTRAL, "upper = f(x + h)\n    lower = f(x - h)\n"
                                           "    return (upper - lower) / (h + h)"))),
    Alternative("grad_f_float_literals", "grad_f", edit(("6 * x - 4", "6.0 * x - 4.0"))),
    *of("grad_abs", Alternative,
        ("abs_where_minus_one_at_zero", sign("np.where(x >= 0, 1., -1.)")),
        ("abs_half_at_zero", sign("np.where(x > 0, 1.0, np.where(x < 0, -1.0, 0.5))")),
        ("abs_mask_difference", sign("(x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)")),
        ("abs_guarded_division", sign("np.where(x == 0, 0.0, x / np.abs(x))"))),
    *of("grad_relu", Alternative,
        ("relu_ge_one_at_zero", edit((">", ">="))),
        ("relu_where", mask("np.where(x > 0, 1.0, 0.0)")),
        ("relu_mask_float32", mask("(x > 0).astype(np.float32)")),
        ("relu_half_at_zero", mask("(np.sign(x) + 1) / 2"))),
    Alternative("norm_sq_sum", "grad_norm_sq", edit(("2 *", "x +"))),
    *of("grad_quadratic_form", Alternative,
        ("quadratic_form_two_products", edit(("(A + A.T)", "A @ x + A.T"))),
        ("quadratic_form_dot", edit(("(A + A.T) @ x", "np.dot(x, A) + np.dot(A, x)")))),
    Alternative("jacobian_by_columns", "jacobian_linear",
                edit(("return A.copy()", "n = x.shape[0]\n    return np.stack([A @ e for e in "
                                         "np.eye(n)], axis=1)"))),
    Alternative("z_w_matmul", "grad_z_w", edit((U, "return 2 * (x @ w - y)"))),
    *of("autograd_grad", Alternative,
        ("autograd_with_grad_function",
         edit((RETURN_GRAD, "return autograd.grad(y, [x])[0].as_np_ndarray()"))),
        ("autograd_backward_inside_record",
         edit(("y = f(x)\n    y.backward()\n    return x.grad",
               "f(x).backward()\n    return x.grad.copy()")))),
]
