"""Typical mistakes and alternative correct answers of 01_ndarray_autograd."""
from d2lcourse.mistakes import Alternative, Mistake, editor

edit = editor(__name__)

MISTAKES = [
    # ------------------------------------------------------------------ regions
    Mistake("regions_column_instead_of_block", "regions", edit(("X[1:3, 1:]", "X[1:3, 1]")),
            "you returned X[1:3, 1]"),
    Mistake("regions_strides_swapped", "regions", edit(("X[::3, ::2]", "X[::2, ::3]")),
            "you returned X[::2, ::3]"),
    Mistake("regions_inclusive_stop", "regions", edit(("X[1:3, 1:]", "X[1:4, 1:]")),
            "a:b includes a and excludes b"),
    Mistake("regions_row_and_column_swapped", "regions",
            edit(("X[1, 2], X[1, :], X[:, 1]", "X[2, 1], X[:, 1], X[1, :]")),
            "you returned X[2, 1]"),
    Mistake("regions_four_items", "regions", edit(("X[1:3, 1:], X[::3, ::2]", "X[1:3, 1:]")),
            "expected a tuple of 5 regions"),
    Mistake("regions_chained_indexing", "regions",
            edit(("X[1, 2], X[1, :], X[:, 1], X[1:3, 1:], X[::3, ::2]",
                  "X[1][2], X[1], X[:, 1], X[1:3][1:], X[::3][::2]")),
            "you returned X[2:3, :]"),
    Mistake("regions_last_left_unfinished", "regions", '''
def regions(X):
    a = X[1, 2]
    b = X[1, :]
    c = X[:, 1]
    d = X[1:3, 1:]
    e = None  # TODO every third row and every second column
    return a, b, c, d, e
''', "of shape (2, 3); got None"),
    Mistake("regions_stop_from_row_count", "regions",
            edit(("return X[1, 2], X[1, :], X[:, 1], X[1:3, 1:]",
                  "rows = len(X)\n    return X[1, 2], X[1, :], X[:, 1], X[1:3, 1:rows + 1]")),
            "for X of shape (3, 8), item 4 should be rows 1 and 2 and the columns from 1 to the "
            "last"),
    Mistake("regions_notebook_width_hardcoded", "regions", edit(("X[::3, ::2]", "X[::3, 0:5:2]")),
            "for X of shape (3, 8), item 5 should be every third row and every second column"),
    # ------------------------------------------------------------------ numerical_derivative
    Mistake("forward_difference", "numerical_derivative",
            edit(("(f(x + h) - f(x - h)) / (2 * h)", "(f(x + h) - f(x)) / h")),
            "forward difference"),
    Mistake("central_difference_over_h", "numerical_derivative", edit(("(2 * h)", "h")),
            "divides by h instead of 2h"),
    Mistake("central_difference_precedence", "numerical_derivative", edit(("(2 * h)", "2 * h")),
            "write / (2 * h)"),
    Mistake("fixed_step", "numerical_derivative",
            edit(("return (f(x + h) - f(x - h)) / (2 * h)",
                  "step = 1e-4\n    return (f(x + step) - f(x - step)) / (2 * step)")),
            "ignores the argument h"),
    Mistake("backward_difference", "numerical_derivative",
            edit(("(f(x + h) - f(x - h)) / (2 * h)", "(f(x) - f(x - h)) / h")),
            "this is the backward difference"),
    Mistake("central_difference_swapped", "numerical_derivative",
            edit(("(f(x + h) - f(x - h))", "(f(x - h) - f(x + h))")),
            "expected (f(x + h) - f(x - h)) / (2h) = 6.76, got -6.76"),
    Mistake("central_difference_without_parentheses", "numerical_derivative",
            edit(("(f(x + h) - f(x - h))", "f(x + h) - f(x - h)")),
            "which divides only f(x - h)"),
    Mistake("central_difference_wrapped_in_array", "numerical_derivative",
            edit(("(f(x + h) - f(x - h)) / (2 * h)",
                  "np.array([(f(x + h) - f(x - h)) / (2 * h)])")),
            "at x = 1.5, h = 0.1 has shape (1,), expected (): a derivative at a Python float x"),
    Mistake("central_difference_summed", "numerical_derivative",
            edit(("(f(x + h) - f(x - h))", "(f(x + h) - f(x - h)).sum()")),
            "has shape (), expected (6,): the derivative of an elementwise f has the shape of x"),
    Mistake("numerical_derivative_step_floor", "numerical_derivative",
            edit(("\n    return",
                  "\n    h = max(h, 1e-4)   # smaller steps only add rounding error\n    return")),
            "for f = cube at x = 0.0 with h = 1e-06: the central difference (h^3 - (-h)^3) / (2h) "
            "is exactly h^2 = 1e-12 there, got 1e-08, which is h^2 for h = 0.0001: use the step "
            "h it is called with"),
    Mistake("numerical_derivative_float32_step", "numerical_derivative", '''
def numerical_derivative(f, x, h=1e-4):
    h = max(h, 5e-3)   # about eps ** (1/3) in float32: the best step there
    return (f(x + h) - f(x - h)) / (2 * h)
''', "which is h^2 for h = 0.005"),
    # ------------------------------------------------------------------ grad_f
    Mistake("grad_f_returns_f", "grad_f", edit(("6 * x - 4", "3 * x ** 2 - 4 * x")),
            "returned f(x) = 3x^2 - 4x itself"),
    Mistake("grad_f_keeps_x", "grad_f", edit(("- 4\n", "- 4 * x\n")),
            "the derivative of -4x is the constant -4"),
    Mistake("grad_f_with_autograd", "grad_f", '''
def grad_f(x):
    x = x.copy()
    x.attach_grad()
    with autograd.record():
        y = 3 * x ** 2 - 4 * x
    y.backward()
    return x.grad
''', "uses `autograd.record`"),
    Mistake("grad_f_drops_constant", "grad_f", edit(("x - 4", "x")),
            "the derivative of -4x is -4, which is missing"),
    Mistake("grad_f_wrong_sign", "grad_f", edit(("x - 4", "x + 4")),
            "wrong sign: the derivative of -4x is -4"),
    Mistake("grad_f_power_rule", "grad_f", edit(("return 6 *", "return 3 *")),
            "the derivative of 3x^2 is 3 * 2x = 6x"),
    Mistake("grad_f_power_kept", "grad_f", edit(("x - 4", "x ** 2 - 4")),
            "the derivative of x^2 is 2x"),
    Mistake("grad_f_wrapped_in_array", "grad_f", edit(("6 * x - 4", "np.array([6 * x - 4])")),
            "has shape (1, 6), expected (6,): f is applied elementwise"),
    # ------------------------------------------------------------------ grad_abs
    Mistake("abs_x_over_abs_x", "grad_abs", edit(("np.sign(x)", "x / np.abs(x)")), "at x = 0"),
    Mistake("abs_signs_flipped", "grad_abs", edit(("np.sign(x)", "np.where(x > 0, -1.0, 1.0)")),
            "the signs are flipped"),
    Mistake("abs_like_relu", "grad_abs", edit(("np.sign(x)", "np.where(x > 0, 1.0, 0.0)")),
            "that is the slope of max(x, 0)"),
    Mistake("abs_outside_subdifferential", "grad_abs",
            edit(("np.sign(x)", "np.where(x > 0, 1.0, np.where(x < 0, -1.0, 2.0))")),
            "a subgradient is any value in [-1, 1]"),
    Mistake("abs_smoothed_with_epsilon", "grad_abs", edit(("np.sign(x)", "x / (np.abs(x) + 1e-8)")),
            "do not smooth with an epsilon"),
    Mistake("abs_returned_itself", "grad_abs", edit(("np.sign(x)", "np.abs(x)")),
            "returned |x| itself"),
    Mistake("abs_returned_x", "grad_abs", edit(("np.sign(x)", "x * 1.0")),
            "returned x: the slope of |x| does not grow with x"),
    Mistake("abs_slope_one_everywhere", "grad_abs", edit(("np.sign(x)", "np.ones_like(x)")),
            "got +1"),
    Mistake("abs_over_root_of_square", "grad_abs",
            edit(("np.sign(x)", "np.where(x == 0, 0.0, x / np.sqrt(x ** 2))")),
            "for x = 0, -0, +-1e-30, +-1e-12, +-1e30, +-3e38: at index (2,), x = 1e-30: the slope "
            "of |x| is 1, got inf"),
    Mistake("abs_steep_tanh", "grad_abs",
            edit(("np.sign(x)", "np.tanh(1e8 * x)   # a smooth sign")),
            "+-3e38: at index (2,), x = 1e-30: the slope of |x| is 1, got 1e-22 (4 of 10 entries "
            "wrong). For small x != 0 the slope is still exactly that"),
    # ------------------------------------------------------------------ grad_relu
    Mistake("relu_returned_itself", "grad_relu",
            edit(("(x > 0).astype(x.dtype)", "np.maximum(x, 0)")),
            "returned max(x, 0) itself"),
    Mistake("relu_boolean_mask", "grad_relu", edit(("(x > 0).astype(x.dtype)", "x > 0")),
            "(X > 0) * 0.5 gives int64 zeros"),
    Mistake("relu_integer_mask", "grad_relu", edit(("(x > 0).astype(x.dtype)", "(x > 0) * 1.0")),
            "has dtype int64, expected float32: MXNet keeps integer types in arithmetic (an "
            "int64 g gives g * 0.5 == 0). A derivative is a real number: convert it with "
            ".astype(x.dtype)"),
    Mistake("relu_with_npx_relu", "grad_relu",
            edit(("(x > 0).astype(x.dtype)", "(npx.relu(x) > 0).astype(x.dtype)")),
            "uses `npx.relu`"),
    # Deny by default: a module bound to a name, which the grader cannot follow.
    Mistake("relu_module_bound_to_a_name", "grad_relu", '''
xp = np

def grad_relu(x):
    return xp.where(x > 0, 1.0, 0.0).astype(x.dtype)
''', "uses the module `np` as a value"),
    Mistake("relu_sign", "grad_relu", edit(("(x > 0).astype(x.dtype)", "np.sign(x)")),
            "that is the slope of |x|"),
    Mistake("relu_max_over_x", "grad_relu",
            edit(("(x > 0).astype(x.dtype)", "np.maximum(x, 0) / x")),
            "divide 0 by 0"),
    Mistake("relu_flipped", "grad_relu",
            edit(("(x > 0).astype(x.dtype)", "np.where(x > 0, 0.0, 1.0)")),
            "flipped: the slope of max(x, 0) is 1 for x > 0"),
    Mistake("relu_returned_x", "grad_relu", edit(("(x > 0).astype(x.dtype)", "x * 1.0")),
            "returned x: the slope of max(x, 0) is 0 or 1"),
    Mistake("relu_half_sum_over_x", "grad_relu",
            edit(("(x > 0).astype(x.dtype)", "np.where(x == 0, 0.0, (x + np.abs(x)) / (2 * x))")),
            "x = 3e+38: the slope of max(x, 0) is 1, got nan (1 of 10 entries wrong). Squares and "
            "sums leave float32's range"),
    Mistake("relu_steep_sigmoid", "grad_relu",
            edit(("(x > 0).astype(x.dtype)", "1 / (1 + np.exp(-1e8 * x))   # a smooth step")),
            "+-3e38: at index (2,), x = 1e-30: the slope of max(x, 0) is 1, got 0.5"),
    # ------------------------------------------------------------------ grad_norm_sq
    Mistake("norm_sq_returns_x_itself", "grad_norm_sq", edit(("2 * x", "x")),
            "returned its argument x itself"),
    Mistake("norm_sq_classic_numpy", "grad_norm_sq", edit(("* x", "* x.asnumpy()")),
            "returned numpy.ndarray"),
    Mistake("norm_sq_scalar", "grad_norm_sq", edit(("* x", "* np.linalg.norm(x)")),
            "returned a single number"),
    Mistake("norm_sq_gradient_of_norm", "grad_norm_sq",
            edit(("2 * x", "x / np.sqrt((x ** 2).sum())")),
            "is the gradient of ||x||, not of ||x||^2"),
    Mistake("norm_sq_not_differentiated", "grad_norm_sq", edit(("2 * x", "x ** 2")),
            "returned x_i^2: differentiate it"),
    Mistake("norm_sq_two_over_norm", "grad_norm_sq", edit(("* x", "* x / np.sqrt(np.sum(x ** 2))")),
            "mixes up ||x|| and ||x||^2"),
    Mistake("norm_sq_chain_rule_through_norm", "grad_norm_sq", '''
def grad_norm_sq(x):
    norm = np.sqrt((x ** 2).sum())
    return 2 * norm * (x / norm)   # d||x||^2 = 2 ||x|| d||x||, d||x|| = x / ||x||
''', "contains NaN at index (0,) (for x = 0, the minimum of ||x||^2)"),
    Mistake("norm_sq_rescaled_unit_vector", "grad_norm_sq",
            edit(("return 2 * x",
                  "unit = x / np.linalg.norm(x)\n    return 2 * np.linalg.norm(x) * unit")),
            "||x|| is 0 there: a formula that divides by ||x||"),
    # ------------------------------------------------------------------ grad_quadratic_form
    Mistake("quadratic_form_assumes_symmetric", "grad_quadratic_form", edit(("(A + A.T)", "2 * A")),
            "assumes A is symmetric"),
    Mistake("quadratic_form_half_product_rule", "grad_quadratic_form", edit(("(A + A.T)", "A")),
            "only half of the product rule"),
    Mistake("quadratic_form_two_A_transpose", "grad_quadratic_form",
            edit(("(A + A.T) @ x", "2 * np.dot(A.T, x)")),
            "returned 2 A^T x"),
    Mistake("quadratic_form_without_x", "grad_quadratic_form", edit(("(A + A.T) @ x", "A + A.T")),
            "the gradient with respect to x has the shape of x"),
    Mistake("quadratic_form_x_transpose_A", "grad_quadratic_form",
            edit(("(A + A.T) @ x", "np.dot(x, A)")),
            "returned A^T x, only half of the product rule"),
    # ------------------------------------------------------------------ jacobian_linear
    Mistake("jacobian_transposed", "jacobian_linear", edit(("A.copy()", "A.T")),
            "the Jacobian is transposed"),
    Mistake("jacobian_is_value", "jacobian_linear", edit(("A.copy()", "A @ x")),
            "the shape of the value y = A x"),
    Mistake("jacobian_columns_concatenated", "jacobian_linear", '''
def jacobian_linear(A, x):
    # Column j of the Jacobian is how y = A x moves when x moves along e_j.
    return np.concatenate([A @ e for e in np.eye(x.shape[0])])
''', "has shape (12,), expected (3, 4): J[i, j] = dy_i/dx_j"),
    # ------------------------------------------------------------------ grad_z_w
    Mistake("z_w_missing_two", "grad_z_w",
            edit(("u = np.dot(x, w) - y\n    return 2 * u", "return (np.dot(x, w) - y)")),
            "missing the factor 2"),
    Mistake("z_w_wrong_sign", "grad_z_w",
            edit(("u = np.dot(x, w) - y\n    return 2 * u", "return 2 * (y - np.dot(x, w))")),
            "wrong sign"),
    Mistake("z_w_times_w", "grad_z_w",
            edit(("u = np.dot(x, w) - y\n    return 2 * u * x",
                  "return 2 * (np.dot(x, w) - y) * w")),
            "multiplied by w instead of x"),
    Mistake("z_w_scalar", "grad_z_w",
            edit(("u = np.dot(x, w) - y\n    return 2 * u * x", "return 2 * (np.dot(x, w) - y)")),
            "returned a single number"),
    Mistake("z_w_wrong_sign_missing_two", "grad_z_w",
            edit(("u = np.dot(x, w) - y\n    return 2 * u", "return (y - np.dot(x, w))")),
            "wrong sign and missing factor 2"),
    Mistake("z_w_no_inner_derivative", "grad_z_w",
            edit(("u = np.dot(x, w) - y\n    return 2 * u * x",
                  "return 2 * (np.dot(x, w) - y) * np.ones_like(w)")),
            "missing the inner derivative"),
    Mistake("z_w_column_vectors", "grad_z_w",
            edit(("u = np.dot(x, w) - y\n    return 2 * u",
                  "x = x.reshape(-1, 1)\n    w = w.reshape(-1, 1)\n    return 2 * (x.T @ w - y)")),
            "has shape (4, 1), expected (4,): the gradient with respect to w has the shape of w"),
    # ------------------------------------------------------------------ autograd_grad
    Mistake("autograd_without_record", "autograd_grad",
            edit(("with autograd.record():\n        y", "y")),
            "inside `with autograd.record():`"),
    Mistake("autograd_modifies_x", "autograd_grad", '''
def autograd_grad(f, x):
    x.attach_grad()
    with autograd.record():
        y = f(x)
    y.backward()
    x[:] = x - 0.1 * x.grad  # a gradient step left over from experimenting
    return x.grad
''', "changed its argument x in place"),
    Mistake("autograd_grad_list", "autograd_grad",
            edit(("y.backward()\n    return x.grad", "return autograd.grad(y, [x])")),
            "returned a list with one gradient"),
    Mistake("autograd_grad_legacy_ndarray", "autograd_grad",
            edit(("y.backward()\n    return x.grad", "return autograd.grad(y, [x])[0]")),
            "convert it with .as_np_ndarray() (autograd.grad returns legacy arrays even in "
            "DeepNumpy mode)"),
    Mistake("autograd_no_backward", "autograd_grad", edit(("    y.backward()\n", "")),
            "returned all zeros"),
    Mistake("autograd_no_return", "autograd_grad", edit(("    return x.grad\n", "")),
            "did you forget `return`"),
    Mistake("autograd_returns_y", "autograd_grad", edit(("x.grad", "y")),
            "expected (5,), the shape of x: return x.grad"),
    Mistake("autograd_no_attach_no_backward", "autograd_grad", '''
def autograd_grad(f, x):
    with autograd.record():
        y = f(x)
    return x.grad
''', "if you return x.grad: it is None until x.attach_grad()"),
    # ---------------------------------------------------------------- rules for every
    # graded function (checks.properties): inputs unchanged, new results, float dtypes
    Mistake("jacobian_returns_A_itself", "jacobian_linear", edit(("A.copy()", "A")),
            "returned its argument A itself"),
    Mistake("jacobian_view_of_A", "jacobian_linear",
            edit(("A.copy()", "A[:A.shape[0]]  # the rows of A: J_ij = A_ij")),
            "returned a view of its argument A"),
    Mistake("autograd_returns_callers_grad", "autograd_grad", '''
def autograd_grad(f, x):
    x.attach_grad()
    with autograd.record():
        y = f(x)
    y.backward()
    return x.grad
''', "returned x.grad itself"),
    Mistake("grad_relu_mask_into_x", "grad_relu",
            edit(("return (x > 0).astype(x.dtype)",
                  "x[:] = (x > 0).astype(x.dtype)\n    return x")),
            "changed its argument x in place: x[1] was"),
    Mistake("numerical_derivative_reused_buffer", "numerical_derivative", '''
_buffers = {}

def numerical_derivative(f, x, h=1e-4):
    difference = (f(x + h) - f(x - h)) / (2 * h)
    if not hasattr(x, "shape"):
        return difference
    out = _buffers.setdefault(x.shape, np.zeros(x.shape))
    out[:] = difference
    return out
''', "returned an array that its next call overwrites"),
    Mistake("grad_f_float16", "grad_f", edit(("6 * x - 4", "(6 * x - 4).astype(\"float16\")")),
            "has dtype float16, expected float32"),
]

ALTERNATIVES = [
    Alternative("regions_chained_indexing", "regions", '''
def regions(X):
    element = X[1][2]
    row = X[1]
    column = X[:, 1]
    block = X[1:3][:, 1:]
    grid = X[0::3, 0::2]
    return (element, row, column, block, grid)
'''),
    Alternative("central_difference_in_steps", "numerical_derivative",
                edit(("return (f(x + h) - f(x - h)) / (2 * h)",
                      "upper = f(x + h)\n"
                      "    lower = f(x - h)\n"
                      "    return (upper - lower) / (h + h)"))),
    Alternative("grad_f_float_literals", "grad_f", edit(("6 * x - 4", "6.0 * x - 4.0"))),
    Alternative("abs_where_minus_one_at_zero", "grad_abs",
                edit(("np.sign(x)", "np.where(x >= 0, 1., -1.)"))),
    Alternative("abs_half_at_zero", "grad_abs",
                edit(("np.sign(x)", "np.where(x > 0, 1.0, np.where(x < 0, -1.0, 0.5))"))),
    Alternative("abs_mask_difference", "grad_abs",
                edit(("np.sign(x)", "(x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)"))),
    Alternative("relu_ge_one_at_zero", "grad_relu", edit((">", ">="))),
    Alternative("relu_where", "grad_relu",
                edit(("(x > 0).astype(x.dtype)", "np.where(x > 0, 1.0, 0.0)"))),
    Alternative("relu_mask_float32", "grad_relu",
                edit(("(x > 0).astype(x.dtype)", "(x > 0).astype(np.float32)"))),
    Alternative("norm_sq_sum", "grad_norm_sq", edit(("2 *", "x +"))),
    Alternative("quadratic_form_two_products", "grad_quadratic_form",
                edit(("(A + A.T)", "A @ x + A.T"))),
    Alternative("quadratic_form_dot", "grad_quadratic_form",
                edit(("(A + A.T) @ x", "np.dot(x, A) + np.dot(A, x)"))),
    Alternative("jacobian_by_columns", "jacobian_linear",
                edit(("return A.copy()",
                      "# Column j of the Jacobian is how y = A x moves when x moves along e_j.\n"
                      "    n = x.shape[0]\n"
                      "    return np.stack([A @ e for e in np.eye(n)], axis=1)"))),
    Alternative("z_w_matmul", "grad_z_w",
                edit(("u = np.dot(x, w) - y\n    return 2 * u", "return 2 * (x @ w - y)"))),
    Alternative("autograd_with_grad_function", "autograd_grad",
                edit(("y.backward()\n    return x.grad",
                      "return autograd.grad(y, [x])[0].as_np_ndarray()"))),
    Alternative("autograd_backward_inside_record", "autograd_grad",
                edit(("y = f(x)\n    y.backward()\n    return x.grad",
                      "f(x).backward()\n    return x.grad.copy()"))),
]
