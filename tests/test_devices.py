"""Device choice: the decision table on faked GPUs, and the real CPU-only machine."""
import shutil
import subprocess

import pytest

from d2lcourse import devices
from d2lcourse._mxnet import mx
from d2lcourse.devices import Build, Facts, Gpu

CU112 = Build("mxnet-cu112", "1.9.1", True, *devices.KNOWN_CUDA_BUILDS[("mxnet-cu112", "1.9.1")])
CPU_BUILD = Build("mxnet", "1.9.1", cuda=False)

FAKE_USABLE_GPUS = {
    "T4": Gpu(0, "Tesla T4", (7, 5)),
    "V100": Gpu(0, "Tesla V100-SXM2-16GB", (7, 0)),
    "A100": Gpu(0, "NVIDIA A100-SXM4-40GB", (8, 0)),
    "A10G": Gpu(0, "NVIDIA A10G", (8, 6)),
    "RTX 3090": Gpu(0, "NVIDIA GeForce RTX 3090", (8, 6)),
    "RTX 4090": Gpu(0, "NVIDIA GeForce RTX 4090", (8, 9)),
}
FAKE_UNUSABLE_GPUS = {
    "H100": Gpu(0, "NVIDIA H100 80GB HBM3", (9, 0)),
    "H200": Gpu(0, "NVIDIA H200", (9, 0)),
    "B200": Gpu(0, "NVIDIA B200", (10, 0)),
    "K80": Gpu(0, "Tesla K80", (3, 7)),
}
FAKE_H100 = FAKE_UNUSABLE_GPUS["H100"]
FAKE_T4 = FAKE_USABLE_GPUS["T4"]


@pytest.fixture
def fresh_announcement():
    """Forget the fallback lines this process printed, for the test and after it."""
    devices.announce.cache_clear()
    yield
    devices.announce.cache_clear()


def fake_facts(monkeypatch, facts):
    monkeypatch.setattr(devices, "gather_facts", lambda: facts)


# --------------------------------------------------------------------------- decision table

@pytest.mark.parametrize("model", FAKE_USABLE_GPUS)
def test_fake_gpu_supported_by_cu112_is_usable(model):
    usable, reason = devices.gpu_usable(FAKE_USABLE_GPUS[model], CU112)
    assert usable, reason
    assert "usable" in reason and FAKE_USABLE_GPUS[model].name in reason


@pytest.mark.parametrize("model", FAKE_UNUSABLE_GPUS)
def test_fake_gpu_unsupported_by_cu112_falls_back_to_cpu(model):
    gpu = FAKE_UNUSABLE_GPUS[model]
    usable, reason = devices.gpu_usable(gpu, CU112)
    assert not usable
    assert gpu.name in reason and "using the CPU" in reason
    assert "\n" not in reason


def test_fake_gpu_h100_falls_back_to_cpu():
    usable, reason = devices.gpu_usable(FAKE_H100, CU112)
    assert not usable
    assert reason == (
        "GPU 0 (NVIDIA H100 80GB HBM3, compute capability 9.0) is not supported by "
        "mxnet-cu112 1.9.1, which has kernels for 5.0, 6.0, 7.0, 8.0, 8.6 and no PTX: "
        "using the CPU. "
        "No MXNet build has kernels for compute capability 9.0 (none has PTX, see "
        "docs/install.md): compute on the CPU, or on a card of compute capability 5.0 to 8.9, "
        "e.g. a T4, V100, A100, A10G or L4.")


def test_the_gpu_extra_installs_a_build_that_runs_on_the_most_cards():
    def cards(kernels):
        return {(major, minor) for major in range(3, 11) for minor in range(10)
                if devices.matching_kernel((major, minor), *kernels)}

    widest = cards(devices.KNOWN_CUDA_BUILDS[devices.GPU_EXTRA_BUILD])
    assert all(cards(kernels) <= widest for kernels in devices.KNOWN_CUDA_BUILDS.values())


@pytest.mark.parametrize("capability", [(5, 0), (6, 1), (7, 5), (8, 0), (8, 6), (8, 9)])
def test_the_advised_cards_run_the_gpu_build(capability):
    assert "5.0 to 8.9" in devices.NO_BUILD_ADVICE
    assert devices.gpu_usable(Gpu(0, "card", capability), CU112)[0]


@pytest.mark.parametrize("capability", [(3, 7), (9, 0), (10, 0), (12, 0)])
def test_no_known_build_runs_where_the_advice_says_none_does(capability):
    assert not any(devices.matching_kernel(capability, *kernels)
                   for kernels in devices.KNOWN_CUDA_BUILDS.values())
    assert "No MXNet build has kernels" in devices.advice(capability)


def test_fake_gpu_k80_is_too_old():
    usable, reason = devices.gpu_usable(FAKE_UNUSABLE_GPUS["K80"], CU112)
    assert not usable and "too old" in reason
    assert "No MXNet build has kernels for compute capability 3.7" in reason


def test_fake_gpu_t4_on_a_build_without_its_kernels_suggests_the_gpu_build():
    ampere_only = Build("mxnet-cu112", "1.9.1", True, frozenset({(8, 0)}))
    usable, reason = devices.gpu_usable(FAKE_T4, ampere_only)
    assert not usable and reason.endswith(
        "For this GPU, install the GPU build with `make install GPU=1`.")


def test_sass_runs_only_on_same_major_with_higher_or_equal_minor():
    sass = {(8, 6)}
    assert devices.matching_kernel((8, 6), sass) == ("SASS", (8, 6))
    assert devices.matching_kernel((8, 9), sass) == ("SASS", (8, 6))
    assert devices.matching_kernel((8, 0), sass) is None
    assert devices.matching_kernel((9, 0), sass) is None


def test_ptx_runs_on_any_newer_capability():
    assert devices.matching_kernel((9, 0), {(8, 6)}, ptx={(8, 0)}) == ("PTX", (8, 0))
    assert devices.matching_kernel((10, 0), set(), ptx={(8, 0)}) == ("PTX", (8, 0))
    assert devices.matching_kernel((7, 5), set(), ptx={(8, 0)}) is None


@pytest.mark.parametrize("model", ["H100", "H200", "B200"])
def test_fake_gpu_newer_than_a_ptx_build_is_usable(model):
    with_ptx = Build("mxnet-cu112", "1.9.1", True, CU112.sass, frozenset({(8, 6)}))
    usable, reason = devices.gpu_usable(FAKE_UNUSABLE_GPUS[model], with_ptx)
    assert usable and "PTX for 8.6" in reason


def test_fake_gpu_k80_is_still_too_old_for_a_ptx_build():
    with_ptx = Build("mxnet-cu112", "1.9.1", True, CU112.sass, frozenset({(8, 6)}))
    assert not devices.gpu_usable(FAKE_UNUSABLE_GPUS["K80"], with_ptx)[0]


def test_fake_gpu_t4_without_driver_is_not_usable():
    usable, reason = devices.gpu_usable(FAKE_T4, CU112, driver_problem="no NVIDIA driver was found")
    assert not usable
    assert "no NVIDIA driver was found" in reason and "using the CPU" in reason


def test_fake_gpu_t4_with_missing_cuda_libraries_is_not_usable():
    problem = "libcudnn.so.8: cannot open shared object file"
    usable, reason = devices.gpu_usable(FAKE_T4, CU112, library_problem=problem)
    assert not usable
    assert problem in reason and "make install GPU=1" in reason


def test_fake_gpu_t4_on_cpu_build_suggests_the_gpu_build():
    usable, reason = devices.gpu_usable(FAKE_T4, CPU_BUILD)
    assert not usable and "CPU build" in reason and "make install GPU=1" in reason


def test_fake_gpu_h100_on_cpu_build_does_not_suggest_the_gpu_build():
    usable, reason = devices.gpu_usable(FAKE_H100, CPU_BUILD)
    assert not usable and "make install GPU=1" not in reason
    assert "No MXNet build has kernels for compute capability 9.0" in reason


def test_fake_gpu_on_unknown_cuda_build_is_trusted():
    unknown = Build("mxnet-cu117", "1.9.1", cuda=True, sass=None)
    assert devices.gpu_usable(FAKE_H100, unknown)[0]


def test_gpu_build_without_driver_says_why_there_is_no_gpu():
    reason = devices.no_gpu_reason(Facts(CU112, driver_problem="no NVIDIA driver was found"))
    assert "mxnet-cu112 1.9.1 is installed but no NVIDIA driver was found: using the CPU" in reason


def test_gpu_build_with_missing_libraries_says_which():
    reason = devices.no_gpu_reason(Facts(CU112, library_problem="libnccl.so.2: not found"))
    assert "libnccl.so.2: not found" in reason


def test_cpu_build_without_gpu_needs_no_reason():
    facts = Facts(CPU_BUILD, driver_problem="no NVIDIA driver was found")
    assert devices.no_gpu_reason(facts) is None


# --------------------------------------------------------------------------- this machine, for real

def test_this_machine_has_the_cpu_build_and_no_gpu():
    facts = devices.gather_facts()
    assert facts.build == CPU_BUILD
    assert facts.gpus == ()


def test_try_gpu_on_this_machine_returns_cpu_silently(capsys, fresh_announcement):
    assert devices.try_gpu() == mx.cpu()
    assert devices.try_gpu(1) == mx.cpu()
    assert devices.try_all_gpus() == [mx.cpu()]
    assert capsys.readouterr() == ("", "")


def test_describe_devices_on_this_machine_lists_the_cpu():
    assert devices.describe_devices() == [
        ("cpu(0)", True, "usable: the course computes here (no NVIDIA GPU found)")]


def test_missing_driver_library_is_a_reason_not_a_crash(monkeypatch):
    monkeypatch.setattr(devices, "CUDA_DRIVER_LIBRARY", "libcuda-that-does-not-exist.so.1")
    gpus, problem = devices.cuda_driver_gpus()
    assert gpus == [] and "libcuda-that-does-not-exist.so.1 cannot be loaded" in problem


# ------------------------------------------------------------- choosing, on faked facts

def test_fake_gpu_h100_makes_try_gpu_return_cpu_and_say_why_once(
        monkeypatch, capsys, fresh_announcement):
    fake_facts(monkeypatch, Facts(CU112, (FAKE_H100,)))
    assert devices.try_gpu() == mx.cpu()
    assert devices.try_gpu() == mx.cpu()
    assert devices.try_all_gpus() == [mx.cpu()]
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(
        "d2lcourse: GPU 0 (NVIDIA H100 80GB HBM3, compute capability 9.0) is not supported")


def test_fake_gpu_build_without_driver_makes_try_all_gpus_say_why(
        monkeypatch, capsys, fresh_announcement):
    fake_facts(monkeypatch, Facts(CU112, driver_problem="no NVIDIA driver was found"))
    assert devices.try_all_gpus() == [mx.cpu()]
    assert devices.try_gpu() == mx.cpu()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no NVIDIA driver was found" in err


def test_each_reason_to_use_the_cpu_is_said_once(monkeypatch, capsys, fresh_announcement):
    fake_facts(monkeypatch, Facts(CU112, (FAKE_H100, Gpu(1, "Tesla K80", (3, 7)))))
    assert [devices.try_gpu(i) for i in (0, 1, 0, 1)] == [mx.cpu()] * 4
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "GPU 0 (NVIDIA H100" in err and "GPU 1 (Tesla K80" in err


def test_fake_gpu_t4_is_chosen_silently(monkeypatch, capsys, fresh_announcement):
    fake_facts(monkeypatch, Facts(CU112, (FAKE_T4,)))
    assert devices.try_gpu() == mx.gpu(0)
    assert devices.try_gpu(1) == mx.cpu()
    assert devices.try_all_gpus() == [mx.gpu(0)]
    assert capsys.readouterr() == ("", "")


def test_fake_mixed_gpus_use_only_the_supported_one(monkeypatch, capsys, fresh_announcement):
    fake_facts(monkeypatch, Facts(CU112, (FAKE_H100, Gpu(1, "NVIDIA A100", (8, 0)))))
    assert devices.try_all_gpus() == [mx.gpu(1)]
    assert capsys.readouterr().err == ""
    assert devices.try_gpu(0) == mx.cpu()
    assert "GPU 0 (NVIDIA H100" in capsys.readouterr().err


def test_fake_gpu_h100_is_described_for_doctor(monkeypatch):
    fake_facts(monkeypatch, Facts(CU112, (FAKE_H100,)))
    (gpu_name, gpu_usable, gpu_reason), cpu = devices.describe_devices()
    assert gpu_name == "gpu(0) NVIDIA H100 80GB HBM3" and not gpu_usable and "9.0" in gpu_reason
    assert cpu == ("cpu(0)", True, "usable: the course computes here")


# ------------------------------------------------------------- the ctypes driver binding

FAKE_LIBCUDA_SOURCE = r"""
/* A stand-in for libcuda.so.1. $FAKE_CUDA_GPUS lists GPUs as "major.minor name;...";
   $FAKE_CUDA_INIT_ERROR makes cuInit return that error code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fake_gpu(int wanted, char *name, int len, int *major, int *minor) {
    char list[1024], *saveptr = NULL, *entry;
    int index = 0;
    snprintf(list, sizeof list, "%s", getenv("FAKE_CUDA_GPUS") ? getenv("FAKE_CUDA_GPUS") : "");
    for (entry = strtok_r(list, ";", &saveptr); entry;
         entry = strtok_r(NULL, ";", &saveptr), index++) {
        if (index == wanted) {
            int offset = 0;
            sscanf(entry, "%d.%d %n", major, minor, &offset);
            snprintf(name, len, "%s", entry + offset);
        }
    }
    return index;
}

int cuInit(unsigned flags) {
    return getenv("FAKE_CUDA_INIT_ERROR") ? atoi(getenv("FAKE_CUDA_INIT_ERROR")) : 0;
}
int cuGetErrorString(int status, const char **text) { *text = "fake driver error"; return 0; }
int cuDeviceGetCount(int *count) {
    char name[256]; int major, minor;
    *count = fake_gpu(-1, name, sizeof name, &major, &minor);
    return 0;
}
int cuDeviceGet(int *device, int ordinal) { *device = ordinal; return 0; }
int cuDeviceGetName(char *name, int len, int device) {
    int major, minor;
    fake_gpu(device, name, len, &major, &minor);
    return 0;
}
int cuDeviceGetAttribute(int *value, int attribute, int device) {
    char name[256]; int major = 0, minor = 0;
    fake_gpu(device, name, sizeof name, &major, &minor);
    if (attribute != 75 && attribute != 76) return 1;
    *value = attribute == 75 ? major : minor;
    return 0;
}
"""


@pytest.fixture(scope="module")
def fake_libcuda(tmp_path_factory):
    """Compile the stand-in driver library; skip without a C compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build a fake libcuda.so.1")
    folder = tmp_path_factory.mktemp("fake-driver")
    (folder / "libcuda.c").write_text(FAKE_LIBCUDA_SOURCE)
    library = folder / "libcuda.so.1"
    source = folder / "libcuda.c"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    return str(library)


def test_fake_driver_gpus_are_read_through_ctypes(monkeypatch, fake_libcuda):
    monkeypatch.setattr(devices, "CUDA_DRIVER_LIBRARY", fake_libcuda)
    monkeypatch.setenv("FAKE_CUDA_GPUS", "9.0 NVIDIA H100 80GB HBM3;7.5 Tesla T4")
    monkeypatch.delenv("FAKE_CUDA_INIT_ERROR", raising=False)
    assert devices.cuda_driver_gpus() == (
        [Gpu(0, "NVIDIA H100 80GB HBM3", (9, 0)), Gpu(1, "Tesla T4", (7, 5))], None)


def test_fake_driver_failure_is_a_reason(monkeypatch, fake_libcuda):
    monkeypatch.setattr(devices, "CUDA_DRIVER_LIBRARY", fake_libcuda)
    monkeypatch.setenv("FAKE_CUDA_INIT_ERROR", "999")
    assert devices.cuda_driver_gpus() == (
        [], "the NVIDIA driver failed (cuInit: error 999, fake driver error)")


def test_fake_driver_without_devices_is_no_problem(monkeypatch, fake_libcuda):
    monkeypatch.setattr(devices, "CUDA_DRIVER_LIBRARY", fake_libcuda)
    monkeypatch.setenv("FAKE_CUDA_INIT_ERROR", str(devices.CUDA_ERROR_NO_DEVICE))
    assert devices.cuda_driver_gpus() == ([], None)


def test_fake_mxnet_driver_error_becomes_a_one_line_reason(monkeypatch):
    def fake_num_gpus():
        raise mx.base.MXNetError(
            "Traceback (most recent call last):\n  File \"../src/c_api/c_api.cc\", line 1\n"
            "MXNetError: CUDA: CUDA driver version is insufficient for CUDA runtime version")

    monkeypatch.setattr(mx.context, "num_gpus", fake_num_gpus)
    assert devices.mxnet_cuda_problem() == (
        "the NVIDIA driver does not work with MXNet: "
        "CUDA: CUDA driver version is insufficient for CUDA runtime version")


def test_this_machine_has_no_mxnet_driver_problem():
    assert devices.mxnet_cuda_problem() is None
