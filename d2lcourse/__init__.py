"""d2lcourse: the companion library of the Deep Learning Basics course (d2l.ai, MXNet).

Students import it for devices, data, plots and training loops::

    from d2lcourse import np, npx, autograd, try_gpu, load_fashion_mnist, train

Importing it loads MXNet in DeepNumpy mode (``npx.set_np()``); with the ``gpu`` extra it
first preloads the CUDA 11 libraries that ``mxnet-cu112`` links against.
"""
from d2lcourse._mxnet import mx, np, npx, autograd, gluon, init  # noqa: F401  (first: loads MXNet)

__version__ = "0.1.0"
