"""What `make gpu-check` runs on a machine with an NVIDIA GPU, once the GPU build is installed.

One line per check, a summary line last (exit status 1 if a check failed):
`d2lcourse doctor`; the device `try_gpu()` chose and why; the concise and the scratch MLP
of the course trained on that device and on the CPU (test accuracy and seconds per epoch
side by side); the tests marked `gpu` (tests/test_gpu.py: the device decision against a
real computation, autograd and the reference solutions on `try_gpu()`, the grader's
sandbox on a GPU host).
"""
import contextlib
import io
import os
import subprocess
import sys
import time

from d2lcourse import data, devices, mx, np
from d2lcourse.solutions import mlp as scratch
from d2lcourse.training import concise_mlp, train_concise

EPOCHS = 2
BATCH_SIZE, LR = 256, 0.1
BIN = os.path.dirname(sys.executable)
REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def train_concise_on(device):
    """(test accuracy, seconds per epoch) of the concise MLP trained on `device`."""
    train_iter, test_iter = data.load_data_fashion_mnist(BATCH_SIZE)
    with device:
        net = concise_mlp()
    history = train_concise(net, train_iter, test_iter, EPOCHS, LR, progress=False)
    return history.test_acc[-1], sum(history.epoch_seconds) / EPOCHS


def train_scratch_on(device):
    """(test accuracy, seconds per epoch) of the reference scratch MLP trained on `device`."""
    (X, y), (X_test, y_test) = (data.read_fashion_mnist(split) for split in ("train", "test"))
    with device:
        start = time.perf_counter()
        params = scratch.train_mlp(X.as_in_ctx(device), y.as_in_ctx(device),
                                   num_epochs=EPOCHS, lr=LR, batch_size=BATCH_SIZE)
        mx.nd.waitall()
        seconds = (time.perf_counter() - start) / EPOCHS
        logits = scratch.mlp(X_test.as_in_ctx(device), params)
        accuracy = float((np.argmax(logits, axis=1).astype("int32")
                          == y_test.as_in_ctx(device)).mean())
    return accuracy, seconds


def main():
    outcomes = []

    def report(name, ok, detail):
        print(f"{'ok  ' if ok else 'FAIL'}  {name:<14} {detail}", flush=True)
        outcomes.append(ok)

    doctor = subprocess.run([os.path.join(BIN, "d2lcourse"), "doctor"],
                            capture_output=True, text=True)
    report("doctor", doctor.returncode == 0, doctor.stdout.strip().splitlines()[-1])
    verdicts = devices.decide(devices.gather_facts())
    for gpu, usable, reason in verdicts:
        report(f"gpu({gpu.index})", True, reason)
    device = devices.try_gpu()
    for name, train in (("concise MLP", train_concise_on), ("scratch MLP", train_scratch_on)):
        timings = []
        for where in dict.fromkeys([device, mx.cpu()]):  # once if try_gpu() chose the CPU
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    accuracy, seconds = train(where)
            except Exception as error:  # a failed run is this check's result
                report(name, False, f"on {where}: {type(error).__name__}: {error}")
                break
            timings.append(f"{where}: accuracy {accuracy:.3f}, {seconds:.2f} s/epoch")
        else:
            report(name, True, f"{EPOCHS} epochs; " + "; ".join(timings))
    tests = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                            "-m", "gpu", "tests/test_gpu.py"],
                           cwd=REPOSITORY, capture_output=True, text=True)
    summary = (tests.stdout.strip().splitlines() or ["no output"])[-1]
    report("gpu tests", tests.returncode == 0, summary)
    if tests.returncode != 0:
        print(tests.stdout)
    failed = outcomes.count(False)
    print(f"gpu-check: {len(outcomes) - failed} of {len(outcomes)} checks passed on {device}"
          + (f", {failed} failed" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
