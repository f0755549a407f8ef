"""`d2lcourse doctor`: the real report on this machine, and faked failures."""
import gzip
import sys

import pytest

from d2lcourse import data, doctor
from helpers import needs_data


def line_about(lines, topic):
    """The first report line on `topic`."""
    return next(line for line in lines if line.split()[1:2] == [topic])


def test_report_on_this_machine():
    lines = doctor.report()
    assert line_about(lines, "Python").startswith("ok")
    assert line_about(lines, "MXNet") == "ok    MXNet    1.9.1"
    assert "CUDA no" in line_about(lines, "build") and "OPENMP yes" in line_about(lines, "build")
    assert line_about(lines, "numpy") == "ok    numpy    1.23.5"
    assert line_about(lines, "device").startswith("ok    device   cpu(0): usable")
    assert line_about(lines, "data").startswith("ok    data     Fashion-MNIST in ")
    assert "bubblewrap" in line_about(lines, "sandbox") and "works" in line_about(lines, "sandbox")
    assert lines[-1] == "The course can run here."


def test_main_on_this_machine_prints_the_report_and_succeeds(capsys):
    assert doctor.main() == 0
    assert capsys.readouterr().out.splitlines() == doctor.report()


@pytest.mark.parametrize("version", [(3, 7, 17), (3, 12, 1)])
def test_unsupported_python_is_named(version):
    finding = doctor.python_finding(version)
    assert finding.status == doctor.WARN
    assert "not supported" in finding.text and "3.8-3.11" in finding.text


def test_missing_bwrap_gives_the_install_hint(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    finding = doctor.sandbox_finding()
    assert finding.status == doctor.WARN
    assert finding.text.startswith("bubblewrap not installed: sudo apt-get install bubblewrap")


def test_fake_broken_bwrap_reports_its_exact_failure_and_the_fix(monkeypatch, tmp_path):
    fake_bwrap = tmp_path / "bwrap"
    fake_bwrap.write_text(
        "#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    fake_bwrap.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    finding = doctor.sandbox_finding()
    assert finding.status == doctor.WARN
    assert "said: bwrap: setting up uid map: Permission denied" in finding.text
    assert "kernel.apparmor_restrict_unprivileged_userns=0" in finding.text


def test_fake_missing_data_fails_with_the_data_message(monkeypatch, capsys):
    def fake_find_fashion_mnist(download=True):
        raise data.DataError(
            "Fashion-MNIST not found.\nFix: sudo apt-get install dataset-fashion-mnist")

    monkeypatch.setattr(data, "find_fashion_mnist", fake_find_fashion_mnist)
    assert doctor.main() == 1
    out = capsys.readouterr().out
    assert "FAIL  data     Fashion-MNIST not found.\n" in out
    assert "               Fix: sudo apt-get install dataset-fashion-mnist\n" in out
    assert out.endswith("The course cannot run here yet: fix the FAIL lines above.\n")


def test_fake_missing_data_module_is_reported_not_raised(monkeypatch):
    monkeypatch.setitem(sys.modules, "d2lcourse.data", None)
    finding = doctor.data_finding()
    assert finding.status == doctor.FAIL
    assert "cannot look for Fashion-MNIST (ModuleNotFoundError" in finding.text


def test_fake_gpu_build_without_driver_fails_with_the_fix(monkeypatch):
    def fake_import_mxnet():
        raise OSError("libcuda.so.1: cannot open shared object file: No such file or directory")

    monkeypatch.setattr(doctor, "import_mxnet", fake_import_mxnet)
    lines = doctor.report()
    assert line_about(lines, "MXNet").startswith(
        "FAIL  MXNet    does not import (OSError: libcuda.so.1")
    assert any("install the driver" in line and "`make install`" in line for line in lines)
    assert line_about(lines, "device") == "warn  device   not checked: MXNet does not import"
    assert lines[-1] == "The course cannot run here yet: fix the FAIL lines above."


def test_fake_numpy_too_new_for_mxnet_names_the_fix():
    error = AttributeError("module 'numpy' has no attribute 'bool'.")
    assert "numpy < 1.24" in doctor.mxnet_import_fix(error)


def data_folder(tmp_path, truncated=None):
    """A $D2LCOURSE_DATA folder with the real files, `truncated` cut in half."""
    source = data.verify_fashion_mnist()
    for name in data.FASHION_MNIST_FILES:
        content = open(f"{source}/{name}", "rb").read()
        (tmp_path / name).write_bytes(content[:len(content) // 2] if name == truncated
                                      else content)
    return tmp_path


@needs_data
def test_a_truncated_file_fails_as_the_loader_fails(monkeypatch, tmp_path):
    monkeypatch.setenv("D2LCOURSE_DATA", str(data_folder(tmp_path, "train-images-idx3-ubyte.gz")))
    finding = doctor.data_finding()
    assert finding.status == doctor.FAIL
    with pytest.raises(data.DataError) as loading:
        data.read_fashion_mnist("train")
    assert finding.text == str(loading.value)
    assert f"{tmp_path}/train-images-idx3-ubyte.gz is not a valid gzip file" in finding.text


@needs_data
def test_a_corrupt_but_well_formed_file_fails(monkeypatch, tmp_path):
    folder = data_folder(tmp_path)
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    content = bytearray(gzip.decompress(labels.read_bytes()))
    content[-1] = (content[-1] + 1) % 10  # one label changed: only the SHA-256 sees it
    labels.write_bytes(gzip.compress(bytes(content)))
    monkeypatch.setenv("D2LCOURSE_DATA", str(folder))
    finding = doctor.data_finding()
    assert finding.status == doctor.FAIL and "does not match Fashion-MNIST" in finding.text


@needs_data
def test_good_files_in_d2lcourse_data_are_used(monkeypatch, tmp_path):
    monkeypatch.setenv("D2LCOURSE_DATA", str(data_folder(tmp_path)))
    assert doctor.data_finding() == doctor.Finding(doctor.OK, "data",
                                                   f"Fashion-MNIST in {tmp_path}")


def test_a_d2lcourse_data_that_does_not_exist_is_a_failure(monkeypatch, tmp_path):
    monkeypatch.setenv("D2LCOURSE_DATA", str(tmp_path / "nowhere"))
    assert doctor.data_finding() == doctor.Finding(
        doctor.FAIL, "data", f"D2LCOURSE_DATA={tmp_path / 'nowhere'} does not exist: "
                             "fix or unset it")


def test_a_d2lcourse_data_without_the_files_is_a_failure(monkeypatch, tmp_path):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"")
    monkeypatch.setenv("D2LCOURSE_DATA", str(tmp_path))
    finding = doctor.data_finding()
    assert finding.status == doctor.FAIL
    assert finding.text.startswith(f"D2LCOURSE_DATA={tmp_path} lacks train-labels-idx1-ubyte.gz, "
                                   "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz:")
