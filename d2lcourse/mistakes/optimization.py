"""Typical mistakes and alternative correct answers for 03_optimization."""
from d2lcourse.mistakes import Alternative, Mistake, editor, linear_regression, slipper

edit = editor(__name__)
slip = slipper(edit)

# The whole cell most train_minibatch mistakes change: the summed minibatch loss divided by
# batch_size (the reference takes means).
TRAINER = '''
def train_minibatch(features, labels, batch_size, lr, num_epochs):
    w = np.zeros((features.shape[1], 1))
    b = np.zeros(1)
    w.attach_grad()
    b.attach_grad()

    def full_loss():
        return squared_loss(linreg(features, w, b), labels).mean()

    losses = [full_loss()]
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            with autograd.record():
                l = squared_loss(linreg(X, w, b), y)
            l.backward()
            for param in (w, b):
                param[:] = param - lr * param.grad / batch_size
        losses.append(full_loss())
    return np.stack(losses)
'''


INIT = "init_momentum_states"
STATES = "[np.zeros_like(p) for p in params]"   # what the reference of INIT returns


def trainer(*replace):
    """An edit of TRAINER."""
    return edit(*replace, base=TRAINER)


MISTAKES = [
    # ---------------------------------------------------------------- gd
    slip("gd_missing_x0", "gd", "return xs", "return xs[1:]",
         "the first iterate must be x0 itself"),
    slip("gd_missing_last", "gd", "return xs", "return xs[:-1]", "the last iterate x_T is missing"),
    slip("gd_uphill", "gd", "xs[t] - eta", "xs[t] + eta", "moves uphill"),
    slip("gd_returns_list", "gd", "return xs", "return xs.tolist()",
         "returned a Python list for the iterates"),
    Mistake("gd_stores_one_array", "gd",
            edit(("_ in range(num_steps):\n        x = x -",
                  "t in range(num_steps):\n        x -="), like="gd_stacked_arrays"),
            "stored the same array object"),
    slip("gd_returns_final_x", "gd", "return xs", "return xs[-1]", "num_steps + 1 = 11 iterates"),
    slip("gd_first_iterate_stepped", "gd", "xs[0] = x0", "xs[0] = x0 - eta * f_grad(x0)",
         "start the list of iterates with x0 itself"),
    slip("gd_no_eta", "gd", "xs[t] - eta * f_grad", "xs[t] - f_grad",
         "Each iterate is one step from the one before"),
    Mistake("gd_stops_at_zero_gradient", "gd",
            edit(("range(num_steps):\n", "range(num_steps):\n"
                  "        if f_grad(xs[t]) == 0:   # already at a minimum: nothing left to do\n"
                  "            return xs[:t + 1]\n")),
            "returned 1 iterate(s) for f(x) = x^2 started at its minimum x0=0.0"),
    Mistake("gd_pads_when_converged", "gd",
            edit(("xs[t + 1] = xs[t] - eta * f_grad(xs[t])",
                  "step = eta * f_grad(xs[t])\n"
                  "        if abs(step) < 1e-6:   # converged: repeat the last iterate\n"
                  "            xs[t + 1:] = xs[t]\n"
                  "            break\n"
                  "        xs[t + 1] = xs[t] - step")),
            "stopped moving at step 1 (index 1) for f(x) = x^2 started at x0=1e-30"),
    Mistake("gd_stops_when_converged", "gd",
            edit(("xs[t + 1] = xs[t] - eta * f_grad(xs[t])",
                  "step = eta * f_grad(xs[t])\n"
                  "        if abs(step) < 1e-8:   # converged\n"
                  "            return xs[:t + 1]\n"
                  "        xs[t + 1] = xs[t] - step")),
            "do not stop early when the gradient or the step becomes 0 or small"),
    # ---------------------------------------------------------------- gd_2d
    slip("gd_2d_overwrites_x0", "gd_2d", "xs[t + 1] = xs[t] - eta * f_grad(xs[t])",
         "x0 -= eta * f_grad(x0)\n        xs[t + 1] = x0", "changed its argument x0 in place"),
    Mistake("gd_2d_coordinatewise", "gd_2d", '''
def gd_2d(f_grad, x0, eta, num_steps):
    x1, x2 = float(x0[0]), float(x0[1])
    xs = [[x1, x2]]
    for t in range(num_steps):
        x1 = x1 - eta * float(f_grad(np.array([x1, x2]))[0])
        x2 = x2 - eta * float(f_grad(np.array([x1, x2]))[1])
        xs.append([x1, x2])
    return np.array(xs)
''', "updated the coordinates one after the other"),
    slip("gd_2d_transposed", "gd_2d", "return xs", "return xs.T", "you returned the transpose"),
    Mistake("gd_2d_stops_at_minimum", "gd_2d",
            edit(("range(num_steps):\n", "range(num_steps):\n"
                  "        if np.linalg.norm(f_grad(xs[t])) < 1e-6:   # at the minimum\n"
                  "            return xs[:t + 1]\n")),
            "started at its minimum x0=(0.0, 0.0), where the gradient is 0"),
    Mistake("gd_2d_pads_when_converged", "gd_2d",
            edit(("xs[t + 1] = xs[t] - eta * f_grad(xs[t])",
                  "step = eta * f_grad(xs[t])\n"
                  "        if float(np.abs(step).max()) < 1e-6:   # converged\n"
                  "            xs[t + 1:] = xs[t]\n"
                  "            break\n"
                  "        xs[t + 1] = xs[t] - step")),
            "Do not stop early when the step becomes small, nor repeat the last iterate"),
    # ---------------------------------------------------------------- max_stable_lr
    slip("max_stable_lr_one_over_c", "max_stable_lr", "return 2 /", "return 1 /",
         "returned 1 / curvature"),
    slip("max_stable_lr_two_c", "max_stable_lr", "2 / curvature", "2 * curvature",
         "returned 2 * curvature"),
    slip("max_stable_lr_array", "max_stable_lr", "2 / curvature", "np.array(2 / curvature)",
         "expected a Python float"),
    slip("max_stable_lr_half_c", "max_stable_lr", "2 / curvature", "curvature / 2",
         "returned curvature / 2"),
    slip("max_stable_lr_one_over_two_c", "max_stable_lr", "2 / curvature", "1 / (2 * curvature)",
         "still converges for larger steps"),
    slip("max_stable_lr_floor_division", "max_stable_lr", "2 / curvature", "float(2 // curvature)",
         "That is the floor division 2 // c"),
    slip("max_stable_lr_minus_epsilon", "max_stable_lr", "2 / curvature", "2 / curvature - 1e-12",
         "a learning rate must be positive"),
    Mistake("max_stable_lr_rounded", "max_stable_lr",
            edit(("2 / curvature", "round(2 / curvature, 6)   # a tidy number")),
            "returned 0 for curvature c = 100000000.0"),
    # ---------------------------------------------------------------- init_momentum_states
    slip("init_momentum_states_classic_numpy", INIT, "np.zeros_like(p) for",
         "np.zeros_like(p).asnumpy() for", "returned numpy.ndarray for state 0"),
    slip("init_momentum_states_generator", INIT, STATES, "(np.zeros_like(p) for p in params)",
         "returned a generator"),
    slip("init_momentum_states_one_shape", INIT, STATES,
         "[np.zeros(params[0].shape)] * len(params)", "states 0 and 1 are the same array object"),
    slip("init_momentum_states_vectors", INIT, STATES, "[np.zeros(len(p)) for p in params]",
         "the state of params[0] has the parameter's shape"),
    Mistake("init_momentum_states_append_after_loop", INIT,
            edit((STATES, "[v]"),
                 ("return", "for p in params:\n        v = np.zeros_like(p)\n    return")),
            "returned 1 state for 2 parameters"),
    Mistake("init_momentum_states_zeroes_params", INIT,
            edit((STATES, "params"), ("return", "for p in params:\n        p[:] = 0\n    return")),
            "changed its argument params[0] in place"),
    slip("init_momentum_states_no_return", INIT, "return", "states =",
         "returned None: did you forget `return`?"),
    slip("init_momentum_states_copies_params", INIT, STATES, "[p.copy() for p in params]",
         "state 0 holds the values of params[0]"),
    slip("init_momentum_states_ones", INIT, STATES, "[np.ones_like(p) for p in params]",
         "the velocity starts at rest"),
    slip("init_momentum_states_tuple", INIT, STATES, "tuple(np.zeros_like(p) for p in params)",
         "returned a tuple, expected a list"),
    slip("init_momentum_states_array", INIT, STATES, "np.zeros(len(params))",
         "expected a list with one state array per parameter"),
    # ---------------------------------------------------------------- sgd_momentum
    slip("sgd_momentum_old_velocity", "sgd_momentum",
         "v[:] = momentum * v + p.grad / batch_size\n        p[:] = p - lr * v",
         "p[:] = p - lr * v\n        v[:] = momentum * v + p.grad / batch_size",
         "with the old velocity"),
    slip("sgd_momentum_no_batch_division", "sgd_momentum", "p.grad / batch_size", "p.grad",
         "missing the division by batch_size"),
    slip("sgd_momentum_rebinds_states", "sgd_momentum", "v[:]", "v", "the states did not change"),
    Mistake("sgd_momentum_replaces_states", "sgd_momentum",
            edit(("for p, v in zip(params, states):\n        v[:] = momentum * v + p.grad / "
                  "batch_size\n        p[:] = p - lr * v",
                  "for i, p in enumerate(params):\n        states[i] = momentum * states[i] + "
                  "p.grad / batch_size\n        p[:] = p - lr * states[i]")),
            "replaced states[0] by a new array"),
    slip("sgd_momentum_lr_in_velocity", "sgd_momentum",
         "p.grad / batch_size\n        p[:] = p - lr *",
         "lr * p.grad / batch_size\n        p[:] = p -", "lr inside the velocity"),
    slip("sgd_momentum_returns_params", "sgd_momentum", "v\n", "v\n    return params, states\n",
         "returns None"),
    slip("sgd_momentum_dampened", "sgd_momentum", "p.grad", "(1 - momentum) * p.grad",
         "the gradient is damped by (1 - momentum)"),
    slip("sgd_momentum_no_momentum", "sgd_momentum", "momentum * v + p.grad", "p.grad",
         "ignores the momentum term"),
    slip("sgd_momentum_rebinds_params", "sgd_momentum", "p[:]", "p",
         "the parameters did not change"),
    slip("sgd_momentum_batch_division_in_update", "sgd_momentum",
         "p.grad / batch_size\n        p[:] = p - lr * v",
         "p.grad\n        p[:] = p - lr * v / batch_size",
         "Hint: v[:] = momentum * v + p.grad / batch_size"),
    Mistake("sgd_momentum_clips_gradient_norm", "sgd_momentum",
            edit(("v[:] = momentum * v + p.grad / batch_size",
                  "g = p.grad / batch_size\n"
                  "        norm = float(np.sqrt((g ** 2).sum()))\n"
                  "        if norm > 5:   # clip the gradient, for stability\n"
                  "            g = g * 5 / norm\n"
                  "        v[:] = momentum * v + g")),
            "the velocity grew by less than p.grad / batch_size (a last step"),
    Mistake("sgd_momentum_clips_huge_gradients", "sgd_momentum",
            edit(("v[:] = momentum * v + p.grad / batch_size",
                  "g = p.grad\n"
                  "        norm = float(np.sqrt((g ** 2).sum()))\n"
                  "        if norm > 1e7:   # only exploding gradients are clipped\n"
                  "            g = g * 1e7 / norm\n"
                  "        v[:] = momentum * v + g / batch_size")),
            "the velocity grew by less than p.grad / batch_size (one more step"),
    slip("sgd_momentum_clips_gradient_values", "sgd_momentum", "p.grad", "np.clip(p.grad, -10, 10)",
         "large gradients are clipped or normalised"),
    slip("sgd_momentum_step_without_velocity", "sgd_momentum", "* v\n", "* p.grad / batch_size\n",
         "Hint: after updating v: p[:] = p - lr * v"),
    slip("sgd_momentum_negative_velocity", "sgd_momentum",
         "+ p.grad / batch_size\n        p[:] = p -", "- p.grad / batch_size\n        p[:] = p +",
         "the states have the opposite sign"),
    # ---------------------------------------------------------------- train_minibatch
    Mistake("train_minibatch_no_initial_loss", "train_minibatch", trainer(("[full_loss()]", "[]")),
            "the loss before training (at w = 0, b = 0) comes first"),
    Mistake("train_minibatch_minibatch_loss", "train_minibatch",
            trainer(("append(full_loss())", "append(l.mean())")), "recorded the minibatch loss"),
    Mistake("train_minibatch_random_init", "train_minibatch",
            trainer(("np.zeros((features.shape[1], 1))",
                     "np.random.normal(0, 0.01, (features.shape[1], 1))")),
            "not random weights"),
    Mistake("train_minibatch_reseeds", "train_minibatch",
            trainer(("    w = np.zeros", "    npx.random.seed(0)\n    w = np.zeros")),
            "returned the same values in two calls in a row"),
    Mistake("train_minibatch_batches_drawn_once", "train_minibatch",
            trainer((linear_regression.EPOCHS, linear_regression.BATCHES_ONCE)),
            "the second epoch repeated the order of the first"),
    Mistake("train_minibatch_returns_list", "train_minibatch",
            trainer(("labels).mean()", "labels).mean().item()"), ("np.stack(losses)", "losses")),
            "returned a Python list for the losses"),
    Mistake("train_minibatch_no_batch_division", "train_minibatch",
            trainer(("param.grad / batch_size", "param.grad")), "batch_size times too large"),
    Mistake("train_minibatch_ignores_batch_size", "train_minibatch",
            trainer(("for X, y in data_iter(batch_size, features, labels):\n"
                     "            with autograd.record():\n"
                     "                l = squared_loss(linreg(X, w, b), y)\n"
                     "            l.backward()\n"
                     "            for param in (w, b):\n"
                     "                param[:] = param - lr * param.grad / batch_size",
                     "with autograd.record():\n"
                     "            l = squared_loss(linreg(features, w, b), labels).mean()\n"
                     "        l.backward()\n"
                     "        for param in (w, b):\n"
                     "            param[:] = param - lr * param.grad")),
            "one per minibatch"),
    Mistake("train_minibatch_loss_before_the_update", "train_minibatch",
            trainer(("losses = [full_loss()]", "last = full_loss()\n    losses = [last]"),
                    ("labels):\n", "labels):\n            last = full_loss()\n"),
                    ("append(full_loss())", "append(last)")),
            "from before the epoch's last update"),
    Mistake("train_minibatch_fixed_learning_rate", "train_minibatch",
            trainer(("- lr *", "- 0.03 *")), "ignores lr"),
    Mistake("train_minibatch_mean_of_batch_means", "train_minibatch",
            trainer(("return squared_loss(linreg(features, w, b), labels).mean()",
                     "return np.stack([squared_loss(linreg(X, w, b), y).mean()\n"
                     "                         for X, y in data_iter(batch_size, features, "
                     "labels)]).mean()")),
            "the mean of the minibatches' mean losses"),
    Mistake("train_minibatch_uphill", "train_minibatch", trainer(("param - lr", "param + lr")),
            "the update goes uphill"),
    Mistake("train_minibatch_loss_without_half", "train_minibatch",
            trainer(("squared_loss(linreg(features, w, b), labels)",
                     "((linreg(features, w, b) - labels) ** 2)")),
            "without the 1/2 of squared_loss"),
    Mistake("train_minibatch_summed_losses", "train_minibatch",
            trainer(("labels).mean()", "labels).sum()")), "that is the sum over the examples"),
    Mistake("train_minibatch_mean_over_axis_0", "train_minibatch",
            trainer(("labels).mean()", "labels).mean(axis=0)")), "a 1-D array (reshape(-1) it"),
    Mistake("train_minibatch_per_example_losses", "train_minibatch",
            trainer(("labels).mean()", "labels)")),
            "the mean of squared_loss over all the examples"),
    Mistake("train_minibatch_summed_loss_undivided", "train_minibatch",
            trainer(("linreg(X, w, b), y)", "linreg(X, w, b), y).sum()"),
                    ("param.grad / batch_size", "param.grad")),
            "the steps are far too large"),
    Mistake("train_minibatch_mean_loss_divided", "train_minibatch",
            trainer(("linreg(X, w, b), y)", "linreg(X, w, b), y).mean()")),
            "batch_size times too small"),
    Mistake("train_minibatch_loss_divided_twice", "train_minibatch",
            trainer(("linreg(X, w, b), y)", "linreg(X, w, b), y).sum() / batch_size")),
            "It learns too slowly"),
    Mistake("train_minibatch_divides_by_n", "train_minibatch",
            trainer(("/ batch_size", "/ len(labels)")), "not n"),
    Mistake("train_minibatch_updates_w_only", "train_minibatch", trainer(("(w, b):", "(w,):")),
            "with one batch of all n examples"),
    Mistake("train_minibatch_gradient_once_per_epoch", "train_minibatch",
            trainer(("range(num_epochs):",
                     "range(num_epochs):\n"
                     "        with autograd.record():\n"
                     "            l = squared_loss(linreg(features, w, b), labels)\n"
                     "        l.backward()"),
                    ("            with autograd.record():\n"
                     "                l = squared_loss(linreg(X, w, b), y)\n"
                     "            l.backward()\n", "")),
            "the gradient of its own minibatch"),
    Mistake("train_minibatch_drops_last_minibatch", "train_minibatch",
            trainer(("labels):\n", "labels):\n"
                     "            if len(X) < batch_size:   # full minibatches only\n"
                     "                continue\n")),
            "the only minibatch is the last, smaller one, and the loop drops it"),
    Mistake("train_minibatch_never_shuffles", "train_minibatch",
            trainer(("for X, y in data_iter(batch_size, features, labels):",
                     "for i in range(0, len(features), batch_size):   # minibatches in order\n"
                     "            X, y = features[i:i + batch_size], labels[i:i + batch_size]")),
            "the examples are read in the same order in every epoch"),
    Mistake("train_minibatch_first_1000_examples", "train_minibatch",
            trainer(("data_iter(batch_size, features, labels)",
                     "data_iter(batch_size, features[:1000], labels[:1000])")),
            "nothing was learnt from the last 100 examples"),
    # ---------------------------------------------------------------- rules for every
    # graded function (checks.properties): inputs unchanged, new results, float dtypes
    slip("init_momentum_states_int_zeros", INIT, STATES,
         "[np.zeros(p.shape, dtype=\"int32\") for p in params]", "state 0 has dtype int32"),
    Mistake("init_momentum_states_gradients", INIT,
            edit((STATES,
                  "[p.grad for p in params]  # same shape as p, and zero before backward()")),
            "returned params[0].grad itself"),
    Mistake("init_momentum_states_cached_zeros", INIT,
            edit(("def init", "_zeros = {}\n\n\ndef init"),
                 ("np.zeros_like(p) for", "_zeros.setdefault(p.shape, np.zeros(p.shape)) for")),
            "returned the array it had returned before"),
    slip("sgd_momentum_divides_the_gradient_in_place", "sgd_momentum",
         "v[:] = momentum * v + p.grad / batch_size",
         "p.grad[:] = p.grad / batch_size\n        v[:] = momentum * v + p.grad",
         "changed params[0].grad"),
    slip("gd_2d_float16", "gd_2d", "return xs", "return xs.astype(\"float16\")",
         "has dtype float16"),
]

ALTERNATIVES = [
    Alternative("gd_python_floats", "gd",
                edit(("x = np.array(x0)", "x = x0"), ("xs.append(x)", "xs.append(float(x))"),
                     ("np.stack(xs)", "np.array(xs)"), like="gd_stacked_arrays")),
    Alternative("gd_stacked_arrays", "gd", '''
def gd(f_grad, x0, eta, num_steps):
    x = np.array(x0)
    xs = [x]
    for _ in range(num_steps):
        x = x - eta * f_grad(x)
        xs.append(x)
    return np.stack(xs)
'''),
    Alternative("gd_2d_list_of_rows", "gd_2d", '''
def gd_2d(f_grad, x0, eta, num_steps):
    def step(x):
        return x - eta * f_grad(x)

    xs = [x0.copy()]
    for _ in range(num_steps):
        xs.append(step(xs[-1]))
    return np.stack(xs)
'''),
    Alternative("max_stable_lr_float", "max_stable_lr",
                edit(("2 / curvature", "float(2 / curvature)"))),
    Alternative("max_stable_lr_twice_newton_step", "max_stable_lr",
                edit(("return 2 / curvature",
                      "newton_step = 1.0 / curvature   # lands on the minimum in one step\n"
                      "    return 2.0 * newton_step"))),
    Alternative("init_momentum_states_zeros_shape", INIT,
                edit((f"return {STATES}",
                      "states = []\n    for p in params:\n"
                      "        states.append(np.zeros(p.shape))\n    return states"))),
    Alternative("sgd_momentum_augmented_assignment", "sgd_momentum",
                edit(("v[:] = momentum * v + p.grad / batch_size\n        p[:] = p -",
                      "v *= momentum\n        v += p.grad / batch_size\n        p -="))),
    Alternative("train_minibatch_gluon_l2loss", "train_minibatch", trainer(
        ("def train", "from mxnet import gluon\n\nloss = gluon.loss.L2Loss()   # (y_hat - y)^2 / 2 "
                      "per example\n\n\ndef train"),
        ("return squared_loss(", "return loss("), ("l = squared_loss(", "l = loss("))),
    Alternative("train_minibatch_float_losses", "train_minibatch",
                edit(("return losses", "return np.array(losses)"), ("/ batch_size", "/ len(y)"),
                     like="train_minibatch_returns_list")),
]
