"""The GPU path: `make gpu-check` without a GPU, the sandbox's /dev, and (marked gpu, run by
`make gpu-check` on a GPU machine only) the device decision against real GPU computations.

Tests marked gpu fail, never skip, where the device decision is wrong: on a card it calls
usable they compute there, on a card it refuses a real computation must fail.
"""
import importlib.util
import os
import shutil
import struct
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as onp
import pytest

from d2lcourse import devices
from d2lcourse._mxnet import mx
from d2lcourse.autograder import sandbox
from d2lcourse.solutions import (linear_regression, mlp, ndarray_autograd, optimization,
                                 softmax_regression)

REPOSITORY = Path(__file__).resolve().parents[1]
NO_GPU_LINE = "no NVIDIA GPU here: nothing to check\n"
# What bubblewrap's `--dev /dev` makes: no host device node, so no GPU, reaches a submission.
SANDBOX_DEVICES = {"core", "fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr",
                   "stdin", "stdout", "tty", "urandom", "zero"}
needs_bubblewrap = pytest.mark.skipif(sandbox.bubblewrap_problem() is not None,
                                      reason="bubblewrap cannot run here")


def gpu_check(nvidia_smi):
    return subprocess.run(["make", "-s", "gpu-check", f"NVIDIA_SMI={nvidia_smi}"],
                          cwd=REPOSITORY, capture_output=True, text=True)


def installed_stamps():
    return sorted(path.name for path in (REPOSITORY / ".venv").glob(".installed-*"))


def sandbox_devices():
    """The names in /dev as a submission sees them."""
    command = sandbox.bubblewrap_command(["/bin/ls", "-A", "/dev"])
    listed = subprocess.run(command, capture_output=True, text=True, check=True,
                            preexec_fn=sandbox.become_sandbox_user(sandbox.bound_paths()))
    return set(listed.stdout.split())


# --------------------------------------------------------------------------- any machine

def test_gpu_check_without_nvidia_smi_says_so_and_installs_nothing():
    before = installed_stamps()
    done = gpu_check("/nonexistent/nvidia-smi")
    assert (done.returncode, done.stdout, done.stderr) == (0, NO_GPU_LINE, "")
    assert installed_stamps() == before


def test_gpu_check_with_a_driver_but_no_gpu_says_so(tmp_path):
    fake = tmp_path / "nvidia-smi"  # what nvidia-smi -L prints with a driver and no GPU
    fake.write_text("#!/bin/sh\necho 'No devices were found'\nexit 6\n")
    fake.chmod(0o755)
    done = gpu_check(fake)
    assert (done.returncode, done.stdout, done.stderr) == (0, NO_GPU_LINE, "")


@needs_bubblewrap
def test_the_grading_sandbox_has_no_gpu_device_nodes():
    assert sandbox_devices() == SANDBOX_DEVICES


# --------------------------------------------------------------------------- a GPU machine

def found_gpus():
    facts = devices.gather_facts()
    assert facts.gpus, (f"no NVIDIA GPU found ({facts.driver_problem or 'the driver lists none'}"
                        "): tests marked gpu run on a GPU machine, by `make gpu-check`")
    return facts.gpus


def expected_device():
    """The device try_gpu() must choose: GPU 0 if the decision calls it usable."""
    usable = {gpu.index for gpu, ok, _ in devices.decide(devices.gather_facts()) if ok}
    return mx.gpu(0) if 0 in usable else mx.cpu()


PROBE = textwrap.dedent("""
    import sys
    from d2lcourse import autograd, mx, np
    with mx.gpu(int(sys.argv[1])):
        x = np.arange(12.0).reshape(3, 4)
        x.attach_grad()
        with autograd.record():
            y = (x @ x.T).sum()
        y.backward()
        mx.nd.waitall()
    print(float(x.grad.sum()))
""")


@pytest.mark.gpu
def test_the_device_decision_matches_a_real_computation():
    verdicts = devices.decide(devices.gather_facts())
    assert found_gpus() and verdicts
    for gpu, usable, reason in verdicts:
        probe = subprocess.run([sys.executable, "-c", PROBE, str(gpu.index)],
                               capture_output=True, text=True, timeout=600)
        last = (probe.stderr.strip().splitlines() or [""])[-1]
        assert usable == (probe.returncode == 0), (
            f"the decision says {reason!r}, but computing on it "
            f"{'failed: ' + last if probe.returncode else 'worked'}")


@pytest.mark.gpu
def test_try_gpu_chooses_as_decided_and_autograd_stays_there():
    found_gpus()
    device = devices.try_gpu()
    assert device == expected_device()
    x = mx.np.array([[1.0, -2.0], [3.0, 0.5]], ctx=device)
    x.attach_grad()
    with mx.autograd.record():
        y = (mx.np.maximum(x, 0) ** 3).sum()
    y.backward()
    assert x.grad.ctx == device
    onp.testing.assert_allclose(x.grad.asnumpy(), [[3.0, 0.0], [27.0, 0.75]], rtol=1e-6)


def on(device, *arrays):
    """MXNet copies on `device`: float32 for floats, int32 for labels (as the course's data)."""
    return [mx.np.array(array, ctx=device, dtype="float32" if array.dtype.kind == "f" else "int32")
            for array in arrays]


RNG = onp.random.default_rng(0)
A, B = RNG.normal(size=(4, 4)), RNG.normal(size=(6, 3))
LOGITS, LABELS, TARGETS = RNG.normal(size=(5, 3)), onp.array([0, 2, 1, 1, 0]), RNG.normal(size=6)
PARAMS = [RNG.normal(size=(3, 4)), onp.zeros(4), RNG.normal(size=(4, 2)), onp.zeros(2)]
# A call per assignment, with the arrays on the device and the default context set to it
# (`with try_gpu():`), so that the arrays the solutions make (np.ones, np.arange) are there too.
REFERENCE_CALLS = {
    "01 grad_quadratic_form": lambda d: ndarray_autograd.grad_quadratic_form(*on(d, A, A[0])),
    "01 autograd_grad": lambda d: ndarray_autograd.autograd_grad(
        lambda x: (x ** 3).sum(), *on(d, A[1])),
    "02 closed_form": lambda d: linear_regression.closed_form(*on(d, B, TARGETS))[0],
    "03 gd_2d": lambda d: optimization.gd_2d(lambda x: 2 * x, *on(d, A[2, :2]), 0.1, 3),
    "04 softmax_cross_entropy_grad": lambda d: softmax_regression.softmax_cross_entropy_grad(
        *on(d, LOGITS, LABELS)),
    "05 mlp": lambda d: mlp.mlp(*on(d, B[:, :3]), on(d, *PARAMS)),
}


@pytest.mark.gpu
@pytest.mark.parametrize("name", REFERENCE_CALLS)
def test_reference_solution_on_try_gpu_agrees_with_the_cpu(name):
    found_gpus()
    device = devices.try_gpu()
    assert device == expected_device()
    with device:
        result = REFERENCE_CALLS[name](device)
    assert result.ctx == device
    with mx.cpu():
        expected = REFERENCE_CALLS[name](mx.cpu())
    onp.testing.assert_allclose(result.asnumpy(), expected.asnumpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.gpu
@needs_bubblewrap
def test_grading_is_cpu_only_the_sandbox_hides_this_hosts_gpus():
    found_gpus()
    host = {name for name in os.listdir("/dev") if name.startswith("nvidia")}
    assert host, "an NVIDIA GPU is found but /dev has no nvidia* node"
    assert sandbox_devices() == SANDBOX_DEVICES


# ------------------------------------------------------- tools/cuda_builds.py's fatbin reader

def cuda_builds_tool():
    spec = importlib.util.spec_from_file_location(
        "cuda_builds", REPOSITORY / "tools" / "cuda_builds.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fat_binary(tool, entries):
    """A fat binary of (kind, arch) entries, each with a 64-byte header and 16 bytes of code."""
    body = b""
    for kind, arch in entries:
        header = bytearray(64)
        tool.ENTRY_HEADER.pack_into(header, 0, kind, 0x0101, 64, 16)
        struct.pack_into("<I", header, tool.ENTRY_ARCH_OFFSET, arch)
        body += bytes(header) + bytes(range(16))
    return tool.FATBIN_HEADER.pack(tool.FATBIN_MAGIC, 1, 16, len(body)) + body


def test_cuda_builds_reads_the_targets_of_a_shared_library_in_a_wheel(tmp_path):
    compiler = shutil.which("cc") or shutil.which("gcc")
    assert compiler, "a C compiler is needed to build a shared library with a .nv_fatbin section"
    tool = cuda_builds_tool()
    section = (fat_binary(tool, [(2, 80), (1, 86)]) + bytes(tool.PADDING)
               + fat_binary(tool, [(2, 50)]))
    source = tmp_path / "fatbin.c"
    source.write_text(
        '__attribute__((section(".nv_fatbin"), aligned(8), used))\n'
        f"static const unsigned char fatbin[{len(section)}] = {{{', '.join(map(str, section))}}};\n"
        "int answer(void) { return 42; }\n")
    library = tmp_path / "libmxnet.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    wheel = tmp_path / "mxnet_cu000-1.9.1-py3-none-manylinux2014_x86_64.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(library, tool.LIBRARY)
    assert tool.library_targets(wheel) == {"sass": {(8, 0), (5, 0)}, "ptx": {(8, 6)}}


def test_cuda_builds_says_which_cards_a_build_runs_on():
    tool = cuda_builds_tool()
    assert tool.runs_on({(8, 6)}, set()) == "A10G, RTX 30, L4, L40S, RTX 40"
    assert tool.runs_on(set(), {(8, 6)}) == "A10G, RTX 30, L4, L40S, RTX 40, H100, H200, B200"
    assert tool.runs_on({(5, 0)}, set()) == "M60"
