"""d2lcourse: the companion library of the Deep Learning Basics course (d2l.ai, MXNet).

Students import what they need from the top level::

    from d2lcourse import np, npx, autograd, try_gpu, load_data_fashion_mnist, train

The first such import loads MXNet in DeepNumpy mode (``npx.set_np()``); with the ``gpu``
extra it first preloads the CUDA 11 libraries that ``mxnet-cu112`` links against.
Nothing is imported before it is asked for, so ``d2lcourse doctor`` can still explain
a broken MXNet install.
"""
import importlib

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    **dict.fromkeys(["mx", "np", "npx", "autograd", "gluon", "init"], "d2lcourse._mxnet"),
    **dict.fromkeys(["try_gpu", "try_all_gpus"], "d2lcourse.devices"),
    **dict.fromkeys(["read_fashion_mnist", "load_data_fashion_mnist",
                     "ArrayBatches", "FASHION_MNIST_LABELS", "get_fashion_mnist_labels",
                     "find_fashion_mnist", "DataError"], "d2lcourse.data"),
    **dict.fromkeys(["Timer", "Accumulator", "History", "accuracy", "evaluate_accuracy",
                     "train", "train_concise", "concise_mlp", "concise_softmax_regression"],
                    "d2lcourse.training"),
    **dict.fromkeys(["show_images", "save_history_plot"], "d2lcourse.plots"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'd2lcourse' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
