"""d2lcourse.plots: headless backend, history PNG, image grids, d2l's line plots, live plot."""
import os
import re
import subprocess
import sys

import matplotlib.pyplot as plt
import nbclient
import nbformat
import numpy as onp
import pytest
from matplotlib.figure import Figure

from d2lcourse import data, np, plots
from d2lcourse.training import History

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
REAL_DIR = "/usr/share/datasets/fashion-mnist"


def assert_real_png(path):
    content = open(path, "rb").read()
    assert content.startswith(PNG_SIGNATURE), f"{path} is not a PNG"
    assert len(content) > 2000, f"{path} is suspiciously small ({len(content)} bytes)"


def backend_in_fresh_python(**env_changes):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    env.update(env_changes)
    code = ("import d2lcourse.plots, matplotlib, matplotlib.pyplot as plt; plt.figure(); "
            "print(matplotlib.get_backend())")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, check=True)
    return result.stdout.strip()


def test_headless_python_gets_agg_unless_mplbackend_says_otherwise():
    assert backend_in_fresh_python().lower() == "agg"
    assert backend_in_fresh_python(MPLBACKEND="svg").lower() == "svg"


def test_not_in_jupyter_here():
    assert not plots.in_jupyter()


def test_save_history_plot_writes_a_png(tmp_path):
    history = History()
    for epoch, (loss, acc) in enumerate([(0.9, 0.7), (0.6, 0.8), (0.5, 0.83)]):
        history.add(loss, acc, acc - 0.01, 0.5)
    path = tmp_path / "history.png"
    assert plots.save_history_plot(history, path, title="MLP") == path
    assert_real_png(path)


def test_save_history_plot_refuses_an_empty_history(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        plots.save_history_plot(History(), tmp_path / "empty.png")
    assert not (tmp_path / "empty.png").exists()


@pytest.mark.skipif(not os.path.isdir(REAL_DIR), reason=f"needs {REAL_DIR}")
def test_show_images_of_fashion_mnist(tmp_path):
    X, y = data.read_fashion_mnist("test", REAL_DIR)
    titles = data.get_fashion_mnist_labels(y[:6])
    axes = plots.show_images(X[:6], 2, 3, titles=titles)
    assert axes.shape == (2, 3)
    assert [ax.get_title() for ax in axes.flat] == titles
    assert axes[0, 0].images[0].get_array().shape == (28, 28)
    path = tmp_path / "images.png"
    axes[0, 0].figure.savefig(path)
    assert_real_png(path)


def test_training_animator_adds_three_curves(tmp_path, capsys):
    animator = plots.training_animator(3)
    for epoch in (1, 2):
        animator.add(epoch, (1.0 / epoch, 0.7, 0.68))
    assert capsys.readouterr().out == ""  # nothing shown outside Jupyter
    axes = animator.axes[0]
    assert [line.get_ydata().tolist() for line in axes.lines] == \
        [[1.0, 0.5], [0.7, 0.7], [0.68, 0.68]]
    assert [text.get_text() for text in axes.get_legend().get_texts()] == \
        ["train loss", "train acc", "test acc"]
    assert axes.get_xlabel() == "epoch" and axes.get_xlim() == (1, 3)
    path = tmp_path / "live.png"
    animator.fig.savefig(path)
    assert_real_png(path)


def curves(axes):
    return [(line.get_xdata().tolist(), line.get_ydata().tolist()) for line in axes.lines]


def legend_of(axes):
    return [text.get_text() for text in axes.get_legend().get_texts()]


def test_plot_draws_curves_of_one_x_with_formats_labels_and_legend():
    axes = Figure().subplots()
    x = [1.0, 10.0, 100.0]
    plots.plot(x, [[3, 2, 1], [1, 0.5, 0.25]], "step h", "|error|",
               legend=["forward", "central"], xscale="log", yscale="log", axes=axes)
    assert curves(axes) == [(x, [3, 2, 1]), (x, [1, 0.5, 0.25])]
    assert [(line.get_linestyle(), line.get_color()) for line in axes.lines][1] == ("--", "m")
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("step h", "|error|")
    assert (axes.get_xscale(), axes.get_yscale()) == ("log", "log")
    assert legend_of(axes) == ["forward", "central"]


def test_plot_accepts_mxnet_arrays_a_lone_y_and_one_x_per_curve():
    axes = Figure().subplots()
    x = np.arange(0, 3)
    plots.plot(x, [x * 2, x + 1], axes=axes)
    assert curves(axes) == [([0, 1, 2], [0, 2, 4]), ([0, 1, 2], [1, 2, 3])]
    plots.plot(np.array([5.0, 6.0]), axes=axes, xlim=(0, 4), ylim=(0, 10))
    assert curves(axes) == [([0, 1], [5, 6])]  # the axes were cleared; x is the index
    assert axes.get_xlim() == (0, 4) and axes.get_ylim() == (0, 10)
    assert axes.get_legend() is None
    plots.plot([[0, 1], onp.array([5, 6, 7])], [[1, 2], (3, 4, 5)], axes=axes)
    assert curves(axes) == [([0, 1], [1, 2]), ([5, 6, 7], [3, 4, 5])]


def test_plot_draws_every_curve_when_they_outnumber_the_formats():
    axes = Figure().subplots()
    plots.plot([0, 1], [[k, k] for k in range(6)], legend=list("abcdef"), axes=axes)
    assert [y for _, y in curves(axes)] == [[k, k] for k in range(6)]
    assert legend_of(axes) == list("abcdef")


def test_plot_refuses_as_many_x_lists_as_there_are_not_curves():
    with pytest.raises(ValueError, match="2 lists of x values for 3 curves"):
        plots.plot([[0, 1], [0, 1]], [[1, 2], [3, 4], [5, 6]], axes=Figure().subplots())


def test_plot_without_axes_draws_on_a_new_figure_of_figsize():
    plt.close("all")
    try:
        plots.plot([1, 2, 3], xlabel="epoch", figsize=(5, 3.5))
        assert plt.gcf().get_size_inches().tolist() == [5, 3.5]
        assert curves(plt.gca()) == [([0, 1, 2], [1, 2, 3])]
        assert plt.gca().get_xlabel() == "epoch"
    finally:
        plt.close("all")


def test_animator_keeps_one_curve_per_value_and_skips_none():
    plt.close("all")
    animator = plots.Animator(xlabel="x", ylabel="y", legend=["a", "b"], yscale="log")
    animator.add(1, (np.array(4.0), 3))
    animator.add([2, 2.5], [None, 1])
    animator.add(3, (2.0, None))
    assert curves(animator.axes[0]) == [([1, 3], [4, 2]), ([1, 2.5], [3, 1])]
    assert legend_of(animator.axes[0]) == ["a", "b"]
    assert animator.axes[0].get_yscale() == "log"
    assert plt.get_fignums() == []  # not a pyplot figure: nothing piles up in a script


def test_animator_and_plot_show_figures_in_a_jupyter_kernel():
    """The live plot is one figure, updated in place, that stays above later output."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "from d2lcourse.plots import Animator, plot\n"
            "animator = Animator(xlabel='epoch', legend=['train loss'])\n"
            "for epoch in (1, 2, 3):\n"
            "    animator.add(epoch, 10.0 ** -epoch)\n"
            "print('trained')"),
        nbformat.v4.new_code_cell("plot([1, 2, 3], [[1, 4, 9]], 'x', 'y', legend=['squares'])")]
    kernel_env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # as Jupyter's
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute(env=kernel_env)
    live, shown = ([output for output in cell.outputs] for cell in notebook.cells)
    assert [output.output_type for output in live] == ["display_data", "stream"]
    assert live[1].text == "trained\n"
    texts = re.findall(r"<!-- (.*?) -->", live[0].data["image/svg+xml"])
    assert "train loss" in texts and "3.0" in texts  # the last state: x reaches epoch 3
    assert [output.output_type for output in shown] == ["display_data"]
    assert "squares" in re.findall(r"<!-- (.*?) -->", shown[0].data["image/svg+xml"])
