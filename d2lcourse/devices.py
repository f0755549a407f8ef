"""Where to compute: a GPU the installed MXNet can really use, else the CPU.

`try_gpu` and `try_all_gpus` work as in d2l.ai, but hand out `mx.gpu(i)` only when the
installed MXNet build has kernels for that device. Every CUDA build of MXNet 1.9.1
(cu110 to cu117) carries machine code (SASS) for compute capabilities 5.0 to 8.6 and no
PTX, so it runs on T4, V100, A100, A10G, L4 and RTX 30/40 cards but on no K80, H100, H200
or anything newer. There, and when the GPU build lacks its driver or CUDA libraries, the
course computes on the CPU and prints one line (once per process) saying why.

The decision (`gpu_usable`, `no_gpu_reason`) is a pure function of `Facts`;
`gather_facts` is the only part that looks at the machine.
"""
from __future__ import annotations

import ctypes
import dataclasses
import functools
import importlib.metadata
import re
import sys

from d2lcourse import cuda_libraries
from d2lcourse._mxnet import mx

# Kernels compiled into the CUDA wheels of MXNet: (SASS targets, PTX targets), read from
# the wheels on 2026-12-06 by `python tools/cuda_builds.py` (which prints these entries).
SASS_5_TO_86 = frozenset({(5, 0), (6, 0), (7, 0), (8, 0), (8, 6)})
KNOWN_CUDA_BUILDS = {
    ("mxnet-cu110", "1.9.1"): (frozenset({(5, 0), (6, 0), (7, 0), (8, 0)}), frozenset()),
    ("mxnet-cu111", "1.9.1"): (SASS_5_TO_86, frozenset()),
    ("mxnet-cu112", "1.9.1"): (SASS_5_TO_86, frozenset()),
    ("mxnet-cu113", "1.9.1"): (SASS_5_TO_86, frozenset()),
    ("mxnet-cu114", "1.9.1"): (SASS_5_TO_86, frozenset()),
    ("mxnet-cu115", "1.9.1"): (SASS_5_TO_86, frozenset()),
    ("mxnet-cu116", "1.9.1"): (SASS_5_TO_86, frozenset()),
    ("mxnet-cu117", "1.9.1"): (SASS_5_TO_86, frozenset()),
}
# What `make install GPU=1` installs: no build runs on more cards (none has PTX), and
# cu112's runtime wheels are the ones `cuda_libraries` preloads.
GPU_EXTRA_BUILD = ("mxnet-cu112", "1.9.1")
# What a course can do on a card no build has kernels for.
NO_BUILD_ADVICE = ("compute on the CPU, or on a card of compute capability 5.0 to 8.9, "
                   "e.g. a T4, V100, A100, A10G or L4")

# The NVIDIA driver's CUDA library: present exactly when a driver is installed. Unlike
# NVML it numbers devices as MXNet does (CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER).
CUDA_DRIVER_LIBRARY = "libcuda.so.1"
CU_DEVICE_ATTRIBUTE_CC_MAJOR = 75  # CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
CU_DEVICE_ATTRIBUTE_CC_MINOR = 76  # CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR
CUDA_ERROR_NO_DEVICE = 100


@dataclasses.dataclass(frozen=True)
class Build:
    """The installed MXNet: distribution, version, CUDA or not, and its GPU kernels."""

    distribution: str
    version: str
    cuda: bool
    sass: frozenset | None = frozenset()  # (major, minor) machine-code targets; None: unknown
    ptx: frozenset = frozenset()  # (major, minor) PTX targets, JIT-compiled on newer GPUs

    def __str__(self):
        return f"{self.distribution} {self.version}"


@dataclasses.dataclass(frozen=True)
class Gpu:
    """One GPU as CUDA numbers it."""

    index: int
    name: str
    capability: tuple  # (major, minor)

    def __str__(self):
        return f"GPU {self.index} ({self.name}, compute capability {dotted(self.capability)})"


@dataclasses.dataclass(frozen=True)
class Facts:
    """Everything the device decision depends on."""

    build: Build
    gpus: tuple = ()
    driver_problem: str | None = None  # why the NVIDIA driver cannot be used
    library_problem: str | None = None  # CUDA libraries that failed to load


# --------------------------------------------------------------------------- decision

def dotted(capability):
    return f"{capability[0]}.{capability[1]}"


def dotted_list(capabilities):
    return ", ".join(dotted(capability) for capability in sorted(capabilities))


def matching_kernel(capability, sass, ptx=()):
    """The kernels that run on a GPU of `capability`: ("SASS"|"PTX", target), or None.

    SASS for X.Y runs on X.Z for Z >= Y (same major only); PTX for X.Y is JIT-compiled
    by the driver on any capability >= X.Y.
    """
    major, minor = capability
    same_major = [target for target in sass if target[0] == major and target[1] <= minor]
    if same_major:
        return "SASS", max(same_major)
    older_ptx = [target for target in ptx if target <= tuple(capability)]
    if older_ptx:
        return "PTX", max(older_ptx)
    return None


def kernels_text(build):
    """What GPU code `build` carries, e.g. "kernels for 5.0, 8.6 and no PTX"."""
    ptx = f"PTX for {dotted_list(build.ptx)}" if build.ptx else "no PTX"
    return f"kernels for {dotted_list(build.sass)} and {ptx}"


def gpu_usable(gpu, build, driver_problem=None, library_problem=None):
    """Whether `build` can compute on `gpu`: (usable, one line saying why)."""
    if not build.cuda:
        return False, (f"{gpu} found, but {build} is the CPU build of MXNet: using the CPU. "
                       f"{advice(gpu.capability)}")
    if library_problem:
        return False, (f"{build} cannot load its CUDA libraries ({library_problem}): "
                       "using the CPU. Reinstall them with `make install GPU=1`.")
    if driver_problem:
        return False, (f"{gpu} cannot be used by {build} ({driver_problem}): using the CPU. "
                       "Install or update the NVIDIA driver (`nvidia-smi` should list the GPU).")
    if build.sass is None:
        return True, f"{gpu}: usable, assuming {build} (a CUDA build not in our table) runs on it."
    kernel = matching_kernel(gpu.capability, build.sass, build.ptx)
    if kernel and kernel[0] == "PTX":
        return True, (f"{gpu}: usable, {build} JIT-compiles its PTX for {dotted(kernel[1])} "
                      "(the first run is slow).")
    if kernel:
        return True, f"{gpu}: usable, {build} has kernels for {dotted(kernel[1])}."
    targets = build.sass | build.ptx
    verdict = "is too old for" if targets and tuple(gpu.capability) < min(targets) else (
        "is not supported by")
    return False, (f"{gpu} {verdict} {build}, which has {kernels_text(build)}: "
                   f"using the CPU. {advice(gpu.capability)}")


def advice(capability):
    """What to do for a GPU of `capability` that the installed MXNet cannot use."""
    if matching_kernel(capability, *KNOWN_CUDA_BUILDS[GPU_EXTRA_BUILD]):
        return "For this GPU, install the GPU build with `make install GPU=1`."
    return (f"No MXNet build has kernels for compute capability {dotted(capability)} "
            f"(none has PTX, see docs/install.md): {NO_BUILD_ADVICE}.")


def no_gpu_reason(facts):
    """Why the installed GPU build sees no GPU; None for the CPU build or when GPUs are found."""
    if not facts.build.cuda or facts.gpus:
        return None
    if facts.library_problem:
        return (f"{facts.build} is installed but cannot load its CUDA libraries "
                f"({facts.library_problem}): using the CPU. Reinstall them with "
                "`make install GPU=1`, or use the CPU build: `make install`.")
    if facts.driver_problem:
        return (f"{facts.build} is installed but {facts.driver_problem}: using the CPU. "
                "Install the NVIDIA driver, or use the CPU build: `make install`.")
    return (f"{facts.build} is installed but no NVIDIA GPU is visible (see `nvidia-smi` and "
            "CUDA_VISIBLE_DEVICES): using the CPU.")


def decide(facts):
    """Each GPU found, whether it is usable and why: [(gpu, usable, reason)]."""
    return [(gpu, *gpu_usable(gpu, facts.build, facts.driver_problem, facts.library_problem))
            for gpu in facts.gpus]


# --------------------------------------------------------------------------- facts

@functools.lru_cache(maxsize=None)
def gather_facts():
    """Look at the installed MXNet, the NVIDIA driver and the GPUs (once; never raises)."""
    build = installed_build()
    gpus, driver_problem = cuda_driver_gpus()
    if build.cuda and gpus and not driver_problem:
        driver_problem = mxnet_cuda_problem()
    return Facts(build, tuple(gpus), driver_problem, "; ".join(cuda_libraries.preload()) or None)


def installed_build():
    """The installed MXNet build; for known CUDA wheels, the GPUs it has kernels for."""
    if not mx.runtime.Features().is_enabled("CUDA"):
        return Build("mxnet", mx.__version__, cuda=False)
    names = (dist.metadata["Name"] or "" for dist in importlib.metadata.distributions())
    wheels = sorted(name for name in names if name.lower().startswith("mxnet-cu"))
    distribution = wheels[0].lower() if wheels else "mxnet"
    sass, ptx = KNOWN_CUDA_BUILDS.get((distribution, mx.__version__), (None, frozenset()))
    return Build(distribution, mx.__version__, cuda=True, sass=sass, ptx=ptx)


class DriverError(Exception):
    """A CUDA driver call failed: args are (status, message for people)."""


def cuda_driver_gpus():
    """GPUs as CUDA numbers them, read from the NVIDIA driver: (gpus, problem or None)."""
    try:
        driver = ctypes.CDLL(CUDA_DRIVER_LIBRARY)
    except OSError:
        return [], f"no NVIDIA driver was found ({CUDA_DRIVER_LIBRARY} cannot be loaded)"

    def call(function, *arguments):
        status = getattr(driver, function)(*arguments)
        if status != 0:
            text = ctypes.c_char_p()
            driver.cuGetErrorString(status, ctypes.byref(text))
            detail = text.value.decode(errors="replace") if text.value else "unknown error"
            raise DriverError(
                status, f"the NVIDIA driver failed ({function}: error {status}, {detail})")

    try:
        call("cuInit", 0)
        count = ctypes.c_int()
        call("cuDeviceGetCount", ctypes.byref(count))
        gpus = []
        for index in range(count.value):
            device, major, minor = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
            name = ctypes.create_string_buffer(256)
            call("cuDeviceGet", ctypes.byref(device), index)
            call("cuDeviceGetName", name, len(name), device)
            call("cuDeviceGetAttribute", ctypes.byref(major), CU_DEVICE_ATTRIBUTE_CC_MAJOR, device)
            call("cuDeviceGetAttribute", ctypes.byref(minor), CU_DEVICE_ATTRIBUTE_CC_MINOR, device)
            gpus.append(Gpu(index, name.value.decode(errors="replace"), (major.value, minor.value)))
        return gpus, None
    except DriverError as error:
        status, message = error.args
        return [], None if status == CUDA_ERROR_NO_DEVICE else message
    except AttributeError as error:  # a symbol is missing: not a real driver library
        return [], f"{CUDA_DRIVER_LIBRARY} is not a usable NVIDIA driver ({error})"


def mxnet_cuda_problem():
    """What stops the GPU build of MXNet from counting GPUs (e.g. a too old driver), or None."""
    try:
        mx.context.num_gpus()
    except Exception as error:  # MXNetError: its last line is the message
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        message = re.sub(r"^MXNetError: ", "", lines[-1]) if lines else type(error).__name__
        return f"the NVIDIA driver does not work with MXNet: {message}"
    return None


# --------------------------------------------------------------------------- choosing

@functools.cache
def announce(reason):
    """Print why the CPU is used, on one line to stderr, once per reason and process."""
    if reason:
        print(f"d2lcourse: {reason}", file=sys.stderr)


def try_gpu(i=0):
    """`mx.gpu(i)` if GPU i exists and MXNet can use it, else `mx.cpu()` (saying why once)."""
    facts = gather_facts()
    for gpu, usable, reason in decide(facts):
        if gpu.index == i:
            if usable:
                return mx.gpu(i)
            announce(reason)
            return mx.cpu()
    announce(no_gpu_reason(facts))
    return mx.cpu()


def try_all_gpus():
    """Every GPU MXNet can use, or `[mx.cpu()]` if there is none."""
    facts = gather_facts()
    verdicts = decide(facts)
    usable = [mx.gpu(gpu.index) for gpu, ok, _ in verdicts if ok]
    if not usable:
        unusable = [reason for _, ok, reason in verdicts if not ok]
        announce(unusable[0] if unusable else no_gpu_reason(facts))
    return usable or [mx.cpu()]


def describe_devices():
    """Every device found, for `d2lcourse doctor`: [(name, usable, reason)]."""
    facts = gather_facts()
    rows = [(f"gpu({gpu.index}) {gpu.name}", usable, reason)
            for gpu, usable, reason in decide(facts)]
    missing = no_gpu_reason(facts)
    if missing:
        rows.append(("gpu", False, missing))
    if any(usable for _, usable, _ in rows):
        cpu_reason = "usable"
    elif rows:
        cpu_reason = "usable: the course computes here"
    else:
        cpu_reason = "usable: the course computes here (no NVIDIA GPU found)"
    return rows + [("cpu(0)", True, cpu_reason)]
