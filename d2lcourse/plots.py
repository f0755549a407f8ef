"""Plots that work everywhere: inline in Jupyter, files on a headless machine.

Importing this module selects matplotlib's Agg backend when there is neither a
display nor a Jupyter kernel (and $MPLBACKEND names no backend), so scripts and
the CLI never fail for want of a screen. ``plot``, ``set_figsize``, ``set_axes``,
``use_svg_display`` and ``Animator`` take the arguments of d2l's functions of the
same names, so the book's code runs unchanged.
"""
import itertools
import os
import sys

import matplotlib
from matplotlib.figure import Figure

DEFAULT_FMTS = ("-", "m--", "g-.", "r:")
DEFAULT_FIGSIZE = (3.5, 2.5)


def _ipython_shell():
    """The running IPython shell, or None."""
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def in_jupyter():
    """True inside a Jupyter kernel (notebook, lab), False in terminals and scripts."""
    shell = _ipython_shell()
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


def _to_numpy(array):
    return array.asnumpy() if hasattr(array, "asnumpy") else array


# ---------------------------------------------------------------- d2l's line plots

def use_svg_display():
    """Show figures as SVG (sharp at any zoom) in IPython and Jupyter; elsewhere do nothing."""
    if _ipython_shell() is not None:
        from matplotlib_inline import backend_inline  # noqa: PLC0415 (IPython only)
        backend_inline.set_matplotlib_formats("svg")


def set_figsize(figsize=DEFAULT_FIGSIZE):
    """Make ``figsize`` (inches) the size of new figures, shown as SVG in a notebook."""
    use_svg_display()
    matplotlib.rcParams["figure.figsize"] = figsize


def set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend):
    """Label, scale and bound ``axes``, add a grid, and a legend if ``legend`` names curves."""
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xscale(xscale)
    axes.set_yscale(yscale)
    axes.set_xlim(xlim)
    axes.set_ylim(ylim)
    if legend:
        axes.legend(legend)
    axes.grid()


def _has_one_axis(data):
    """True for one curve's values: a 1-d array or a flat list, not a list of curves."""
    if hasattr(data, "ndim"):
        return data.ndim == 1
    return len(data) > 0 and not hasattr(data[0], "__len__")


def _curves(X, Y):
    """[(x or None, y)] for each curve of ``plot(X, Y)``: X alone is the y values."""
    if _has_one_axis(X):
        X = [X]
    if Y is None:
        X, Y = [None] * len(X), X
    elif _has_one_axis(Y):
        Y = [Y]
    if len(X) == 1:
        X = list(X) * len(Y)
    if len(X) != len(Y):
        raise ValueError(f"plot: {len(X)} lists of x values for {len(Y)} curves: give one "
                         f"list of x values for all curves, or one per curve")
    return [(None if x is None else _to_numpy(x), _to_numpy(y)) for x, y in zip(X, Y)]


def plot(X, Y=None, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None,
         xscale="linear", yscale="linear", fmts=DEFAULT_FMTS, figsize=DEFAULT_FIGSIZE,
         axes=None):
    """Plot one curve or several, as d2l's ``plot``, on ``axes`` (default: the current ones).

    ``X`` and ``Y`` are lists or arrays (MXNet's too): ``plot(y)``, ``plot(x, y)``,
    ``plot(x, [y1, y2])`` or ``plot([x1, x2], [y1, y2])``. Curve i is drawn with the
    format ``fmts[i]`` (cycling) and named ``legend[i]``.
    """
    curves = _curves(X, Y)
    set_figsize(figsize)
    if axes is None:
        import matplotlib.pyplot as plt  # noqa: PLC0415 (after the backend is chosen)
        axes = plt.gca()
    axes.cla()
    for (x, y), fmt in zip(curves, itertools.cycle(fmts)):
        if x is None:
            axes.plot(y, fmt)
        else:
            axes.plot(x, y, fmt)
    set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend)


class Animator:
    """A plot that grows point by point, as d2l's ``Animator``: ``add(x, y)`` appends a
    point to each curve and redraws; in Jupyter the figure below the cell is updated
    in place (it stays after the cell's other output), elsewhere nothing is shown and
    ``fig`` can be saved."""

    def __init__(self, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None,
                 xscale="linear", yscale="linear", fmts=DEFAULT_FMTS, nrows=1, ncols=1,
                 figsize=DEFAULT_FIGSIZE):
        use_svg_display()
        # Not a pyplot figure: the notebook shows it through our display only, never twice.
        self.fig = Figure(figsize=figsize)
        self.axes = list(self.fig.subplots(nrows, ncols, squeeze=False).flat)
        self.axes_settings = (xlabel, ylabel, xlim, ylim, xscale, yscale, legend)
        self.fmts = fmts
        self.X, self.Y = [], []
        self._display = None

    def add(self, x, y):
        """Append (x, y[i]) to curve i; ``x`` may be one value for all; None skips a point."""
        ys = list(y) if hasattr(y, "__len__") else [y]
        xs = list(x) if hasattr(x, "__len__") else [x] * len(ys)
        if not self.X:
            self.X, self.Y = [[] for _ in ys], [[] for _ in ys]
        for curve_x, curve_y, a, b in zip(self.X, self.Y, xs, ys):
            if a is not None and b is not None:
                curve_x.append(float(a))
                curve_y.append(float(b))
        self.draw()

    def draw(self):
        """Redraw the curves on the first axes and, in Jupyter, update the figure shown."""
        axes = self.axes[0]
        axes.cla()
        for curve_x, curve_y, fmt in zip(self.X, self.Y, itertools.cycle(self.fmts)):
            axes.plot(curve_x, curve_y, fmt)
        set_axes(axes, *self.axes_settings)
        if in_jupyter():
            from IPython import display  # noqa: PLC0415 (Jupyter only)
            if self._display is None:
                self._display = display.display(self.fig, display_id=True)
            else:
                self._display.update(self.fig)


def show_images(imgs, num_rows, num_cols, titles=None, scale=1.5):
    """Show images (``(n, 28, 28)``, ``(n, 1, 28, 28)`` or a list) in a grid; return the axes."""
    import matplotlib.pyplot as plt  # noqa: PLC0415 (after the backend is chosen)
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
    """An Animator for per-epoch training curves, shown live in a notebook."""
    return Animator(xlabel="epoch", xlim=[1, max(num_epochs, 2)], legend=list(legend))


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
