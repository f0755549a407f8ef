"""Preload the CUDA 11 runtime libraries shipped as `nvidia-*-cu11` wheels.

`mxnet-cu112` links against libcudart, cuBLAS, cuFFT, cuRAND, cuSOLVER, cuDNN, NCCL,
NVTX and NVRTC. The `gpu` extra installs them as wheels under `site-packages/nvidia/`;
loading them with RTLD_GLOBAL before `import mxnet` lets the dynamic linker find them
without a system CUDA toolkit or LD_LIBRARY_PATH.
"""
import ctypes
import functools
import glob
import importlib.util
import os

# Load order matters: each library may depend on the ones before it.
LIBRARY_PATTERNS = (
    "cuda_runtime/lib/libcudart.so.11*",
    "cuda_nvrtc/lib/libnvrtc.so.11*",
    "nvtx/lib/libnvToolsExt.so.1*",
    "cublas/lib/libcublasLt.so.11*",
    "cublas/lib/libcublas.so.11*",
    "cufft/lib/libcufft.so.10*",
    "curand/lib/libcurand.so.10*",
    "cusolver/lib/libcusolver.so.11*",
    "cudnn/lib/libcudnn.so.8*",
    "nccl/lib/libnccl.so.2*",
)

def nvidia_root():
    """The `nvidia` wheel directory in site-packages, or None without the gpu extra."""
    spec = importlib.util.find_spec("nvidia")
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


@functools.cache
def preload():
    """Load every CUDA library found, once; the failures, for `d2lcourse doctor`."""
    root = nvidia_root()
    failures = []
    for pattern in LIBRARY_PATTERNS if root else ():
        for path in sorted(glob.glob(os.path.join(root, pattern)))[:1]:
            try:
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
            except OSError as error:
                failures.append(f"{os.path.basename(path)}: {error}")
    return tuple(failures)
