"""Import MXNet once, in DeepNumpy mode, after preloading CUDA libraries if present."""
from d2lcourse import cuda_libraries

cuda_libraries.preload()

try:
    import mxnet as mx
except ImportError as error:  # pragma: no cover - depends on the install
    raise ImportError(
        "d2lcourse needs MXNet 1.9.1: install `d2lcourse[cpu]` (or `d2lcourse[gpu]` on an "
        "NVIDIA machine), e.g. with `make install` in the repository") from error

from mxnet import autograd, gluon, init, np, npx

__all__ = ["mx", "autograd", "gluon", "init", "np", "npx"]

npx.set_np()
