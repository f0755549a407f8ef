"""d2lcourse.plots: headless backend, history PNG, image grids, live plot."""
import os
import subprocess
import sys

import pytest

from d2lcourse import data, plots
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
    capsys.readouterr()  # outside Jupyter d2l's Animator prints the figure's repr
    assert [line.get_ydata().tolist() for line in animator.axes[0].lines] == \
        [[1.0, 0.5], [0.7, 0.7], [0.68, 0.68]]
    path = tmp_path / "live.png"
    animator.fig.savefig(path)
    assert_real_png(path)


def test_d2l_plot_helpers_are_reexported():
    from d2l import mxnet as d2l
    assert plots.plot is d2l.plot and plots.Animator is d2l.Animator
