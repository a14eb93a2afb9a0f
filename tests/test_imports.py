"""Imported runs are untrusted: crafted zips are refused in one sentence, fast, in bounded memory.

Each crafted zip goes through the real command, ``python -m posebench runs import ZIP``, in
its own process; the process's peak resident memory (``VmHWM``) is measured there.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import RUNNING, FakeBackend
from posebench import backends
from posebench.access import import_runs
from posebench.core.errors import InputError
from posebench.engine.runner import run_benchmark
from posebench.io import untrusted_files
from posebench.store import audit, run_store
from posebench.store.run_record import RunOptions

pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[1]
PEAK_RSS_MB = 400  # refusing any crafted zip stays under this (measured: see docs/robustness.md)
REFUSE_S = 30  # and takes less than this, process start included (measured 2-4 s)
# Peak resident memory of this process image: VmHWM (ru_maxrss would include the parent's
# memory at fork time, which Linux carries across exec).
MEASURE = (
    "import re, sys\n"
    "from posebench.cli.main import main\n"
    "code = main(sys.argv[2:])\n"
    "status = open('/proc/self/status').read()\n"
    "open(sys.argv[1], 'w').write(re.search(r'VmHWM:\\s+(\\d+)', status).group(1))\n"
    "sys.exit(code)\n"
)


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """A real saved run (fake backend, 6 frames of the running clip)."""
    original = backends.create
    backends.create = lambda config, cache=None: FakeBackend(config.display)
    try:
        run = run_benchmark(str(RUNNING), ["mediapipe-lite"], RunOptions(warmup=1, max_frames=6))
    finally:
        backends.create = original
    return run_store.save(run, tmp_path_factory.mktemp("made"))


def _zip(folder: Path, target: Path, replace: dict | None = None) -> Path:
    """The run folder as a zip, with some members' bytes replaced (name -> bytes)."""
    replace = replace or {}
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in run_store.FILES:
            data = replace.get(name, (folder / name).read_bytes())
            archive.writestr(f"{folder.name}/{name}", data)
    return target


def _cli(zip_path: Path, out: Path, tmp_path: Path):
    rss_file = tmp_path / f"rss-{zip_path.stem}"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(rss_file), "runs", "import", str(zip_path), "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    seconds = time.perf_counter() - started
    peak_mb = int(rss_file.read_text()) / 1024 if rss_file.exists() else float("nan")
    return done, seconds, peak_mb


# -- the crafted zips ------------------------------------------------------------------------
def _npz_bomb(folder: Path, path: Path) -> Path:
    """native.npz whose array header says 6x33x2 but which unpacks to 1 GiB of zeros."""
    inner = io.BytesIO()
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (6, 33, 2)}
    )
    with (
        zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as npz,
        npz.open("b0_keypoints.npy", "w", force_zip64=True) as member,
    ):
        member.write(header.getvalue())
        zeros = bytes(1 << 20)
        for _ in range(1024):
            member.write(zeros)
    return _zip(folder, path, {"native.npz": inner.getvalue()})


def _npz_declared_huge(folder: Path, path: Path) -> Path:
    """native.npz whose header declares 400 000 x 150 x 3 float64 (1.4 GB) with almost no data."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as npz:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": "<f8", "fortran_order": False, "shape": (400_000, 150, 3)}
        )
        npz.writestr("b0_keypoints.npy", header.getvalue() + bytes(64))
    return _zip(folder, path, {"native.npz": inner.getvalue()})


def _padded_json(folder: Path, path: Path) -> Path:
    meta = json.loads((folder / "run.json").read_text())
    meta["padding"] = " " * (100 * 1024**2)
    return _zip(folder, path, {"run.json": json.dumps(meta).encode()})


def _comma_header(folder: Path, path: Path) -> Path:
    data = (folder / "frames.csv").read_bytes()
    return _zip(folder, path, {"frames.csv": b"," * 200_000 + data})


def _deep_json(folder: Path, path: Path) -> Path:
    meta = json.loads((folder / "run.json").read_text())
    text = json.dumps(meta)[:-1] + ', "deep": ' + "[" * 200_000 + "]" * 200_000 + "}"
    return _zip(folder, path, {"run.json": text.encode()})


def _lying_size(folder: Path, path: Path) -> Path:
    """summary.csv's size fields (local header and directory) say 10 bytes; it holds more."""
    _zip(folder, path)
    data = bytearray(path.read_bytes())
    name = f"{folder.name}/summary.csv".encode()
    real = (folder / "summary.csv").stat().st_size
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature + b"")
        while at != -1:
            name_at = at + (30 if signature == b"PK\x03\x04" else 46)
            if data[name_at : name_at + len(name)] == name:
                assert int.from_bytes(data[at + offset : at + offset + 4], "little") == real
                data[at + offset : at + offset + 4] = (10).to_bytes(4, "little")
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))
    return path


CRAFTED = {
    "npz bomb": (_npz_bomb, "holds more data than its header says"),
    "npz declared huge": (_npz_declared_huge, "would take more than"),
    "padded run.json": (_padded_json, "run.json unpacks to more than 1 MB"),
    "200,000-comma header": (_comma_header, "header line of frames.csv is longer than 64 KB"),
    "deep nesting": (_deep_json, "run.json nests 200001 levels deep"),
    "lying size field": (_lying_size, "is not a readable zip file"),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_runs_import_refuses_each_crafted_zip_fast_in_bounded_memory(case, run_folder, tmp_path):
    make, expected = CRAFTED[case]
    crafted = make(run_folder, tmp_path / f"{case.replace(' ', '_').replace(',', '')}.zip")
    out = tmp_path / "results"
    done, seconds, peak_mb = _cli(crafted, out, tmp_path)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert crafted.name in lines[0] and expected in lines[0], lines[0]
    assert "/tmp" not in lines[0] and "posebench-import" not in lines[0]  # no server path
    assert seconds < REFUSE_S, f"{case}: {seconds:.1f} s"
    assert peak_mb < PEAK_RSS_MB, f"{case}: peak {peak_mb:.0f} MB"
    assert not out.exists() or not [p for p in out.iterdir() if not p.name.startswith(".")]
    print(f"{case}: refused in {seconds:.1f} s, peak RSS {peak_mb:.0f} MB")


def test_a_good_zip_imports_and_its_clip_path_is_dropped(run_folder, tmp_path):
    meta = json.loads((run_folder / "run.json").read_text())
    meta["clip"]["path"] = "/work/shared/clips/someone-elses.mp4"  # a foreign clip path
    meta["environment"]["models"] = "/home/bob/models/x.onnx"
    crafted = _zip(run_folder, tmp_path / "foreign.zip", {"run.json": json.dumps(meta).encode()})
    out = tmp_path / "results"
    done, _seconds, _peak_mb = _cli(crafted, out, tmp_path)
    assert done.returncode == 0, done.stderr
    saved = json.loads((out / run_folder.name / "run.json").read_text())
    assert saved["clip"]["path"] == ""
    assert saved["clip"]["sha256"] == meta["clip"]["sha256"] and len(saved["clip"]["sha256"]) == 64
    assert "/home/bob" not in json.dumps(saved) and saved["environment"]["models"] == "x.onnx"
    loaded = run_store.load(out / run_folder.name)
    assert loaded.clip.path == "" and len(loaded.frames) == len(run_store.load(run_folder).frames)
    assert audit.read(out)[-1]["action"] == "import"


def test_refusals_name_the_uploaded_file_not_a_temporary_folder(run_folder, tmp_path):
    bad = {"run.json": b'{"run_id": "x", "clip": 5}'}
    upload = _zip(run_folder, tmp_path / "from-coach.zip", bad)
    with pytest.raises(InputError) as caught:
        import_runs.import_run([("from-coach.zip", io.BytesIO(upload.read_bytes()))], tmp_path / "r")
    assert str(caught.value).startswith("from-coach.zip is refused") and "tmp" not in str(caught.value)


@pytest.mark.parametrize(
    ("member", "data", "expected"),
    [
        ("frames.csv", b"=HYPERLINK(1),frame\nx,1\n", "column PoseBench does not write ('=HYPERLINK(1)')"),
        ("frames.csv", b"backend,frame,latency_ms\nx,1,fast\n", "latency_ms of frames.csv holds text"),
        ("summary.csv", b"backend,fps\n" + b"x,1\n" * 1001, "summary.csv has more than 1,000 rows"),
        ("run.json", b"[1, 2]", "run.json is not an object"),
        ("run.json", b'{"run_id": "../x", "clip": {}}', "no valid run_id"),
    ],
)
def test_schema_checks(member, data, expected, run_folder, tmp_path):
    upload = _zip(run_folder, tmp_path / "bad.zip", {member: data})
    with pytest.raises(InputError, match=None) as caught:
        import_runs.import_run(upload, tmp_path / "r")
    assert expected in str(caught.value) and str(caught.value).startswith("bad.zip")


def test_json_depth_skips_strings():
    assert untrusted_files.json_depth('{"a": "[[[[", "b": [[1]]}') == 3
    assert untrusted_files.json_depth('"\\"[["') == 0


def test_the_schema_accepts_every_column_a_real_run_writes(run_folder):
    header = (run_folder / "frames.csv").read_text().splitlines()[0].split(",")
    assert set(header) <= import_runs.FRAME_COLUMNS
