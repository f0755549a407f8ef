"""d2lcourse.data: synthetic data, Fashion-MNIST lookup and checks, minibatches."""
import contextlib
import gzip
import http.server
import os
import shutil
import threading

import numpy as onp
import pytest

from d2lcourse import data, mx, np
from d2lcourse.checks import core

REAL_DIR = "/usr/share/datasets/fashion-mnist"
needs_real_data = pytest.mark.skipif(
    not os.path.isdir(REAL_DIR), reason=f"needs Debian package dataset-fashion-mnist ({REAL_DIR})")


# ---------------------------------------------------------------- lookup order

@pytest.fixture
def places(tmp_path, monkeypatch):
    """Empty stand-ins for the three places (env, MXNet cache under HOME, Debian)."""
    env_dir, home, debian = tmp_path / "env", tmp_path / "home", tmp_path / "debian"
    for directory in (env_dir, home, debian):
        directory.mkdir()
    monkeypatch.setenv("D2LCOURSE_DATA", str(env_dir))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("MXNET_HOME", raising=False)
    monkeypatch.setattr(data, "DEBIAN_DIR", str(debian))
    monkeypatch.setattr(data, "DOWNLOAD_URL", "http://127.0.0.1:9/")  # refused at once
    cache = home / ".mxnet" / "datasets" / "fashion-mnist"
    return {"env": env_dir, "cache": cache, "debian": debian}


def copy_real_files(directory):
    directory.mkdir(parents=True, exist_ok=True)
    for name in data.FASHION_MNIST_FILES:
        shutil.copy(os.path.join(REAL_DIR, name), directory / name)


@needs_real_data
def test_lookup_order_env_then_mxnet_cache_then_debian(places, monkeypatch):
    for directory in places.values():
        copy_real_files(directory)
    assert data.find_fashion_mnist() == str(places["env"])
    monkeypatch.delenv("D2LCOURSE_DATA")
    assert data.find_fashion_mnist() == str(places["cache"])
    shutil.rmtree(places["cache"])
    assert data.find_fashion_mnist() == str(places["debian"])


@needs_real_data
def test_a_place_missing_one_file_is_skipped(places):
    copy_real_files(places["env"])
    copy_real_files(places["debian"])
    os.remove(places["env"] / "t10k-labels-idx1-ubyte.gz")
    assert data.find_fashion_mnist() == str(places["debian"])


def test_missing_data_names_all_places_and_the_fix(places):
    with pytest.raises(data.DataError) as raised:
        data.find_fashion_mnist()
    message = str(raised.value)
    assert f"downloading from {data.DOWNLOAD_URL} failed" in message
    assert not places["cache"].exists(), "a failed download leaves no empty cache folder"
    for directory in places.values():
        assert str(directory) in message
    assert "sudo apt-get install dataset-fashion-mnist" in message
    assert "D2LCOURSE_DATA" in message
    assert "127.0.0.1:9" in message  # says the download was tried and failed
    assert not places["cache"].exists(), "a failed download left files or folders behind"


def test_missing_data_without_download(places, monkeypatch):
    monkeypatch.delenv("D2LCOURSE_DATA")
    with pytest.raises(data.DataError, match="not attempted") as raised:
        data.find_fashion_mnist(download=False)
    assert "(not set)" in str(raised.value)
    assert not places["cache"].exists()


@contextlib.contextmanager
def http_server_of(directory):
    """A local HTTP server of ``directory``'s files; yields its base URL."""
    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(directory), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


@needs_real_data
def test_download_into_mxnet_cache_is_verified(places, monkeypatch):
    """The last resort, served here by a local HTTP server with the real files."""
    with http_server_of(REAL_DIR) as url:
        monkeypatch.setattr(data, "DOWNLOAD_URL", url)
        assert data.find_fashion_mnist() == str(places["cache"])
    assert sorted(os.listdir(places["cache"])) == sorted(data.FASHION_MNIST_FILES)
    X, y = data.read_fashion_mnist("test", str(places["cache"]))
    assert X.shape == (10000, 1, 28, 28) and y.shape == (10000,)


@needs_real_data
def test_a_corrupt_download_is_not_kept(places, monkeypatch, tmp_path):
    served = tmp_path / "served"
    copy_real_files(served)
    write_gzip(served / "t10k-labels-idx1-ubyte.gz", b"not labels")
    with http_server_of(served) as url:
        monkeypatch.setattr(data, "DOWNLOAD_URL", url)
        with pytest.raises(data.DataError, match="downloaded t10k-labels-idx1-ubyte.gz is not"):
            data.find_fashion_mnist()
    assert "t10k-labels-idx1-ubyte.gz" not in os.listdir(places["cache"])
    assert not list(places["cache"].glob("*.part"))


# ---------------------------------------------------------------- corrupt files

@pytest.fixture
def test_split_copy(tmp_path):
    """A folder with real copies of the test split, to be damaged by a test."""
    if not os.path.isdir(REAL_DIR):
        pytest.skip(f"needs {REAL_DIR}")
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(os.path.join(REAL_DIR, name), tmp_path / name)
    return tmp_path


def real_labels():
    with gzip.open(os.path.join(REAL_DIR, "t10k-labels-idx1-ubyte.gz")) as file:
        return bytearray(file.read())


def write_gzip(path, content):
    with gzip.open(path, "wb") as file:
        file.write(bytes(content))


def damage_truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def damage_garbage(path):
    path.write_bytes(b"this is not gzip at all")


def damage_one_label(path):
    content = real_labels()
    content[100] = (content[100] + 1) % 10
    write_gzip(path, content)


def damage_magic(path):
    content = real_labels()
    content[3] = 3  # 2051 (images) instead of 2049 (labels)
    write_gzip(path, content)


def damage_size(path):
    write_gzip(path, real_labels()[:-5])


@pytest.mark.parametrize("damage, reason", [
    (damage_truncate, "gzip"),
    (damage_garbage, "gzip"),
    (damage_one_label, "SHA-256"),
    (damage_magic, "header"),
    (damage_size, "bytes"),
])
def test_damaged_file_is_named_with_a_fix(test_split_copy, damage, reason):
    path = test_split_copy / "t10k-labels-idx1-ubyte.gz"
    damage(path)
    with pytest.raises(data.DataError) as raised:
        data.read_fashion_mnist("test", str(test_split_copy))
    message = str(raised.value)
    assert str(path) in message
    assert reason in message
    assert "replace it" in message  # the fix for a file outside the known places


def test_damaged_file_in_debian_dir_says_reinstall(test_split_copy, monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_DIR", str(test_split_copy))
    damage_truncate(test_split_copy / "t10k-images-idx3-ubyte.gz")
    with pytest.raises(data.DataError, match="t10k-images-idx3-ubyte.gz.*"
                       "sudo apt-get install --reinstall dataset-fashion-mnist"):
        data.read_fashion_mnist("test", str(test_split_copy))


# ---------------------------------------------------------------- reading

@needs_real_data
def test_read_fashion_mnist_shapes_ranges_and_balance():
    X, y = data.read_fashion_mnist("test", REAL_DIR)
    assert isinstance(X, np.ndarray) and isinstance(y, np.ndarray)
    assert X.shape == (10000, 1, 28, 28) and X.dtype == onp.float32
    assert y.shape == (10000,) and y.dtype == onp.int32
    assert float(X.min()) == 0.0 and float(X.max()) == 1.0
    assert onp.bincount(y.asnumpy(), minlength=10).tolist() == [1000] * 10
    assert data.get_fashion_mnist_labels(y[:3]) == ["ankle boot", "pullover", "trouser"]


@needs_real_data
def test_train_split_and_cache_returns_independent_copies(tmp_path):
    copy_real_files(tmp_path)
    X, y = data.read_fashion_mnist("train", tmp_path)
    assert X.shape == (60000, 1, 28, 28) and y.shape == (60000,)
    first_pixel_row = X[0, 0, 14].asnumpy()
    X[0] = 0  # a student's in-place change must not leak into the next call
    for name in data.FASHION_MNIST_FILES:
        os.remove(tmp_path / name)  # the second read must come from memory
    X_again, y_again = data.read_fashion_mnist("train", tmp_path)
    assert onp.array_equal(X_again[0, 0, 14].asnumpy(), first_pixel_row)
    assert onp.array_equal(y_again.asnumpy(), y.asnumpy())


def test_bad_split_is_refused():
    with pytest.raises(ValueError, match="'train' or 'test'"):
        data.read_fashion_mnist("validation")


def test_a_graded_call_reads_no_dataset_and_says_why():
    """A trainer learns from the data it is given and from nothing else: reading
    Fashion-MNIST inside a graded call fails that call at once (not after minutes of
    training on the wrong data), wherever the call runs (core.call's local invoker is the
    sandbox runner's too); before and after the call the data reads as usual."""
    def train_softmax_regression(X_train, y_train):
        X, y = data.read_fashion_mnist("train")
        return X[:2].reshape(2, -1), y[:2]

    with pytest.raises(core.CheckFailure) as failure:
        core.call(train_softmax_regression, np.zeros((2, 784)), np.zeros(2, dtype="int32"))
    assert str(failure.value).startswith("train_softmax_regression: raised DataError")
    assert ("train_softmax_regression read the Fashion-MNIST train split during its call: a "
            "graded function learns from the data it is given and from nothing else. Train "
            "on the X_train and y_train arguments") in str(failure.value)
    with data.withheld_during("relu"):
        with pytest.raises(data.DataError, match="relu read the Fashion-MNIST test split"):
            data.fashion_mnist_arrays("test")
    assert data.read_fashion_mnist("test")[0].shape == (10000, 1, 28, 28)


def test_labels_names():
    assert len(data.FASHION_MNIST_LABELS) == 10
    assert data.get_fashion_mnist_labels([0, 9, 5]) == ["t-shirt", "ankle boot", "sandal"]
    assert data.get_fashion_mnist_labels(np.array([3, 8], dtype="int32")) == ["dress", "bag"]


# ---------------------------------------------------------------- minibatches

def toy_arrays(n):
    X = np.arange(n, dtype="float32").reshape(n, 1)
    return X, np.arange(n, dtype="int32")


def test_array_batches_cover_each_example_once_and_reshuffle():
    mx.random.seed(3)
    batches = data.ArrayBatches(*toy_arrays(103), batch_size=10, shuffle=True)
    assert len(batches) == 11
    orders = []
    for _ in range(2):
        sizes, seen = [], []
        for X, y in batches:
            assert onp.array_equal(X.asnumpy()[:, 0], y.asnumpy())  # pairs stay together
            sizes.append(len(y))
            seen.extend(y.asnumpy().tolist())
        assert sizes == [10] * 10 + [3]
        assert sorted(seen) == list(range(103))
        orders.append(seen)
    assert orders[0] != orders[1], "each epoch needs a new permutation"
    assert orders[0] != list(range(103))


def test_array_batches_in_order_without_shuffle():
    batches = data.ArrayBatches(*toy_arrays(7), batch_size=3)
    assert [y.asnumpy().tolist() for _, y in batches] == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(batches) == 3


def test_array_batches_accept_classic_numpy_arrays():
    batches = data.ArrayBatches(onp.zeros((5, 2)), onp.arange(5), batch_size=2, shuffle=True)
    X, y = next(iter(batches))
    assert isinstance(X, np.ndarray) and X.shape == (2, 2)


def test_array_batches_refuse_mismatched_arrays():
    X, y = toy_arrays(5)
    with pytest.raises(ValueError, match="5 examples but y has 4"):
        data.ArrayBatches(X, y[:4], 2)
    with pytest.raises(ValueError, match="positive"):
        data.ArrayBatches(X, y, 0)


@needs_real_data
def test_load_data_fashion_mnist():
    train_iter, test_iter = data.load_data_fashion_mnist(256)
    assert (len(train_iter), len(test_iter)) == (235, 40)
    assert train_iter.shuffle and not test_iter.shuffle
    X, y = next(iter(train_iter))
    assert X.shape == (256, 1, 28, 28) and y.shape == (256,)
