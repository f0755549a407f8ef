"""`d2lcourse doctor`: can the course run here, and if not, what to do about it.

Checks Python, MXNet (version and build features), numpy, the devices MXNet can use,
where the Fashion-MNIST data is, and whether the bubblewrap sandbox of the grader works.
The course can run when MXNet imports and the data is found; everything else is advice.
"""
import dataclasses
import os
import platform
import shutil
import subprocess
import sys

from d2lcourse import cuda_libraries

SUPPORTED_PYTHONS = ((3, 8), (3, 9), (3, 10), (3, 11))
MXNET_VERSION = "1.9.1"
NUMPY_VERSION = "1.23.5"  # pinned in setup.cfg
# MXNet build features worth showing; BLAS variants only when enabled.
FEATURES = ("CUDA", "CUDNN", "NCCL", "CUDA_RTC", "MKLDNN", "OPENMP", "LAPACK",
            "BLAS_OPEN", "BLAS_MKL", "BLAS_ATLAS", "BLAS_APPLE")
FEATURE_LABELS = {"MKLDNN": "MKLDNN (oneDNN)"}
BWRAP = "bwrap"
BWRAP_PROBE = ("--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true")
BWRAP_TIMEOUT_SECONDS = 20
BWRAP_HINTS = {  # part of bwrap's error -> what usually fixes it
    "setting up uid map": "Ubuntu 24.04 and later restrict user namespaces: "
                          "`sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0`",
}

OK, WARN, FAIL = "ok", "warn", "FAIL"


@dataclasses.dataclass(frozen=True)
class Finding:
    """One line of the report: FAIL means the course cannot run until it is fixed."""

    status: str
    topic: str
    text: str


def python_finding(version=sys.version_info):
    """The Python version and whether MXNet 1.9.1 supports it."""
    release = ".".join(str(part) for part in version[:3])
    if tuple(version[:2]) in SUPPORTED_PYTHONS:
        return Finding(OK, "Python", f"{release} (supported: 3.8-3.11)")
    return Finding(WARN, "Python", f"{release} is not supported: MXNet 1.9.1 and the pinned stack "
                                   "need Python 3.8-3.11; run `make install PYTHON=python3.11`")


def import_mxnet():
    """MXNet as the course loads it (CUDA libraries preloaded, DeepNumpy mode)."""
    from d2lcourse._mxnet import mx
    return mx


def mxnet_import_fix(error):
    """What to do when `import mxnet` fails with `error`."""
    message = str(error)
    if "libcuda.so" in message:
        return ("the GPU build of MXNet is installed but the NVIDIA driver is not: install the "
                "driver (`nvidia-smi` should list the GPU), or use the CPU build: `make install`")
    if isinstance(error, OSError):
        failures = cuda_libraries.preload()
        failed = f" (failed to preload: {'; '.join(failures)})" if failures else ""
        return (f"a library MXNet needs is missing{failed}: reinstall with `make install` "
                "(`make install GPU=1` for the GPU build)")
    if "numpy" in message and "bool" in message:
        return f"MXNet 1.9.1 needs numpy < 1.24: run `make install` (it pins numpy {NUMPY_VERSION})"
    return "run `make install` (or `make install GPU=1` on an NVIDIA machine)"


def mxnet_findings():
    """The MXNet version and build features, or why it does not import."""
    try:
        mx = import_mxnet()
    except Exception as error:  # any import failure is reported, never raised
        return [Finding(FAIL, "MXNet", f"does not import ({type(error).__name__}: {error})\n"
                                       f"fix: {mxnet_import_fix(error)}")]
    if mx.__version__ == MXNET_VERSION:
        version = Finding(OK, "MXNet", mx.__version__)
    else:
        version = Finding(WARN, "MXNet", f"{mx.__version__}: the course is written for "
                                         f"{MXNET_VERSION}; run `make install`")
    features = mx.runtime.Features()
    shown = [f"{FEATURE_LABELS.get(name, name)} {'yes' if features.is_enabled(name) else 'no'}"
             for name in FEATURES
             if name in features and (features.is_enabled(name) or not name.startswith("BLAS_"))]
    return [version, Finding(OK, "build", ", ".join(shown))]


def numpy_finding():
    """The numpy version against the pinned one."""
    import numpy
    if numpy.__version__ == NUMPY_VERSION:
        return Finding(OK, "numpy", numpy.__version__)
    return Finding(WARN, "numpy", f"{numpy.__version__}: the course is tested with {NUMPY_VERSION} "
                                  "(MXNet 1.9.1 breaks with numpy >= 1.24); run `make install`")


def device_findings():
    """Each device with whether MXNet can use it and why."""
    from d2lcourse import devices
    return [Finding(OK if usable else WARN, "device", f"{name}: {reason}")
            for name, usable, reason in devices.describe_devices()]


def data_finding():
    """Where Fashion-MNIST is, verified exactly as the loader verifies it, or what is wrong
    (an unusable $D2LCOURSE_DATA is a failure: the loader would silently look elsewhere)."""
    try:
        from d2lcourse.data import FASHION_MNIST_FILES, verify_fashion_mnist
        problem = data_variable_problem(FASHION_MNIST_FILES)
        if problem:
            return Finding(FAIL, "data", problem)
        where = verify_fashion_mnist()  # a check downloads nothing
    except Exception as error:  # DataError's message is for people; others show their type
        if type(error).__name__ == "DataError":
            return Finding(FAIL, "data", str(error))
        return Finding(FAIL, "data",
                       f"cannot look for Fashion-MNIST ({type(error).__name__}: {error})")
    return Finding(OK, "data", f"Fashion-MNIST in {where}")


def data_variable_problem(files):
    """Why $D2LCOURSE_DATA, if set, cannot be used (it must hold all the `files`)."""
    folder = os.environ.get("D2LCOURSE_DATA")
    if not folder:
        return None
    if not os.path.isdir(folder):
        return f"D2LCOURSE_DATA={folder} does not exist: fix or unset it"
    missing = [name for name in files if not os.path.isfile(os.path.join(folder, name))]
    if missing:
        return (f"D2LCOURSE_DATA={folder} lacks {', '.join(missing)}: put the Fashion-MNIST "
                "files there, or unset it")
    return None


def sandbox_finding():
    """Whether bubblewrap, which the grader runs submissions in, works here."""
    bwrap = shutil.which(BWRAP)
    if bwrap is None:
        return Finding(WARN, "sandbox", "bubblewrap not installed: sudo apt-get install bubblewrap "
                                        "(`d2lcourse grade` runs submissions in it)")
    problem = sandbox_user_problem()
    if problem:
        return Finding(WARN, "sandbox", f"`d2lcourse grade` cannot run submissions: {problem}")
    command = f"{bwrap} {' '.join(BWRAP_PROBE)}"
    try:
        probe = subprocess.run([bwrap, *BWRAP_PROBE], capture_output=True, text=True,
                               timeout=BWRAP_TIMEOUT_SECONDS)
        version = subprocess.run([bwrap, "--version"], capture_output=True, text=True,
                                 timeout=BWRAP_TIMEOUT_SECONDS).stdout.strip()
    except subprocess.TimeoutExpired:
        return Finding(WARN, "sandbox", f"`{command}` did not finish within "
                                        f"{BWRAP_TIMEOUT_SECONDS} s")
    except OSError as error:
        return Finding(WARN, "sandbox", f"{bwrap} cannot be run: {error}")
    if probe.returncode != 0:
        failure = probe.stderr.strip() or f"exit status {probe.returncode}"
        hints = [hint for clue, hint in BWRAP_HINTS.items() if clue in failure]
        return Finding(WARN, "sandbox", "bubblewrap does not work here, so `d2lcourse grade` "
                                        f"cannot run submissions: `{command}` said: {failure}"
                                        + "".join(f"\nfix: {hint}" for hint in hints))
    return Finding(OK, "sandbox", f"{version or 'bubblewrap'} works ({bwrap})")


def sandbox_user_problem():
    """Why the grader cannot become the sandbox's unprivileged user here, as `grade`
    checks it (None if MXNet, which the grader's modules import, does not import)."""
    try:
        from d2lcourse.autograder.sandbox import sandbox_user_problem as problem
    except Exception:  # MXNet's own finding says why
        return None
    return problem()


def examine():
    """All findings, in report order."""
    mxnet = mxnet_findings()
    if mxnet[0].status == FAIL:
        device = [Finding(WARN, "device", "not checked: MXNet does not import")]
    else:
        device = device_findings()
    return [python_finding(), *mxnet, numpy_finding(), *device, data_finding(), sandbox_finding()]


def render(findings):
    """Report lines: one per finding (continuation lines indented), then the verdict."""
    lines = [f"d2lcourse doctor ({platform.system()} {platform.machine()})"]
    for finding in findings:
        first, *rest = finding.text.splitlines() or [""]
        lines.append(f"{finding.status:<4}  {finding.topic:<8} {first}")
        lines.extend(f"{'':<14} {line}" for line in rest)
    if any(finding.status == FAIL for finding in findings):
        lines.append("The course cannot run here yet: fix the FAIL lines above.")
    elif any(finding.status == WARN for finding in findings):
        lines.append("The course can run here (see the warnings above).")
    else:
        lines.append("The course can run here.")
    return lines


def report():
    """The lines of the health report."""
    return render(examine())


def main():
    """Print the report; exit code 0 if the course can run here, 1 otherwise."""
    findings = examine()
    print("\n".join(render(findings)))
    return 1 if any(finding.status == FAIL for finding in findings) else 0


if __name__ == "__main__":
    sys.exit(main())
