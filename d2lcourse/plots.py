"""Plots that work everywhere: inline in Jupyter, files on a headless machine.

Importing this module selects matplotlib's Agg backend when there is neither a
display nor a Jupyter kernel (and $MPLBACKEND names no backend), so scripts and
the CLI never fail for want of a screen. d2l's own ``plot``, ``set_figsize`` and
``Animator`` are available here too (``from d2lcourse.plots import plot``); d2l is
imported on first use.
"""
import os
import sys

import matplotlib
from matplotlib.figure import Figure

D2L_NAMES = ("plot", "set_figsize", "set_axes", "use_svg_display", "Animator")


def in_jupyter():
    """True inside a Jupyter kernel (notebook, lab), False in terminals and scripts."""
    if "IPython" not in sys.modules:
        return False
    shell = sys.modules["IPython"].get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def has_display():
    """True when a GUI window could open (always on macOS and Windows)."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def use_headless_backend_if_needed():
    """Select Agg unless a display, a Jupyter kernel or $MPLBACKEND decides otherwise."""
    if not in_jupyter() and not has_display() and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")


use_headless_backend_if_needed()


def __getattr__(name):
    if name in D2L_NAMES:
        from d2l import mxnet as d2l
        return getattr(d2l, name)
    raise AttributeError(f"module 'd2lcourse.plots' has no attribute {name!r}")


def _to_numpy(array):
    return array.asnumpy() if hasattr(array, "asnumpy") else array


def show_images(imgs, num_rows, num_cols, titles=None, scale=1.5):
    """Show images (``(n, 28, 28)``, ``(n, 1, 28, 28)`` or a list) in a grid; return the axes."""
    import matplotlib.pyplot as plt
    _, axes = plt.subplots(num_rows, num_cols, figsize=(num_cols * scale, num_rows * scale),
                           squeeze=False)
    for i, (ax, img) in enumerate(zip(axes.flat, imgs)):
        img = _to_numpy(img)
        if img.ndim == 3 and img.shape[0] in (1, 3):  # CHW -> HWC
            img = img.transpose(1, 2, 0)
        img = img.squeeze()
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
        ax.axis("off")
        if titles:
            ax.set_title(titles[i])
    return axes


def training_animator(num_epochs, legend=("train loss", "train acc", "test acc")):
    """A d2l Animator for per-epoch training curves, shown live in a notebook."""
    from d2l import mxnet as d2l
    return d2l.Animator(xlabel="epoch", xlim=[1, max(num_epochs, 2)], legend=list(legend))


def save_history_plot(history, path, title=None):
    """Save training curves (loss and accuracies per epoch) of ``history`` as a PNG at ``path``.

    ``history`` is a :class:`d2lcourse.training.History` or anything with the lists
    ``train_loss``, ``train_acc`` and ``test_acc``. Uses no GUI, whatever the backend.
    """
    epochs = list(range(1, len(history.train_loss) + 1))
    if not epochs:
        raise ValueError("the history is empty: train at least one epoch before plotting it")
    fig = Figure(figsize=(7, 3), layout="constrained")
    loss_axes, acc_axes = fig.subplots(1, 2)
    loss_axes.plot(epochs, history.train_loss, "o-", label="train loss")
    loss_axes.set(xlabel="epoch", ylabel="loss")
    acc_axes.plot(epochs, history.train_acc, "o-", label="train acc")
    acc_axes.plot(epochs, history.test_acc, "s--", label="test acc")
    acc_axes.set(xlabel="epoch", ylabel="accuracy")
    for axes in (loss_axes, acc_axes):
        axes.grid(True)
        axes.legend()
        axes.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    fig.savefig(path, format="png")
    return path
