"""Fuzz: mutated and truncated bytes of a real clip give a clean answer, never a crash or hang.

Two targets:

* the video reader (``video.probe`` then ``video.iter_frames``) runs in a
  long-lived worker process, so a decoder crash would show as a dead worker
  (and fail the test) instead of killing pytest; each case must answer within
  ``CASE_LIMIT_S``;
* the upload path (``uploads.accept_upload``), which itself checks content in
  a child process under a time limit: it must return an accepted clip or raise
  ``InputError``, and leave no file behind.

Examples per test: from the Hypothesis profile (tests/conftest.py).
"""

from __future__ import annotations

import functools
import io
import select
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import RUNNING
from posebench.core.errors import InputError
from posebench.io import uploads

pytestmark = pytest.mark.timeout(300)


@functools.cache
def clip_bytes() -> bytes:
    """The 74 KB H.264 mp4 (index at the front) every mutation starts from."""
    return RUNNING.read_bytes()


CASE_LIMIT_S = 20.0
SEEN: Counter = Counter()  # outcomes met, to check the mutations reach both
# Examples per test come from the Hypothesis profile (tests/conftest.py): "ci" gives 200 reader
# cases (milliseconds each) and 40 uploads (a checking child process each); "thorough" ten times.
EXAMPLES = settings.default.max_examples
FUZZ = dict(
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

WORKER = r"""
import sys
from posebench.io import video
from posebench.core.errors import InputError
for line in sys.stdin:
    path = line.strip()
    try:
        info = video.probe(path)
        frames = sum(1 for _ in video.iter_frames(path, max_frames=60))
        print("ok", info.frames, frames, flush=True)
    except InputError as exc:
        print("input_error", str(exc).replace("\n", " "), flush=True)
    except Exception as exc:
        print("exception", type(exc).__name__, str(exc).replace("\n", " "), flush=True)
"""


# -- mutations -----------------------------------------------------------------------------
@st.composite
def mutated_clips(draw) -> bytes:
    data = bytearray(clip_bytes())
    kind = draw(st.sampled_from(["truncate", "flip", "flip_header", "delete", "duplicate", "zero", "splice"]))
    size = len(data)
    if kind == "truncate":
        return bytes(data[: draw(st.integers(0, size - 1))])
    if kind in ("flip", "flip_header"):
        end = 4096 if kind == "flip_header" else size  # the index (moov) is at the front
        for _ in range(draw(st.integers(1, 40))):
            data[draw(st.integers(0, end - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    start = draw(st.integers(0, size - 1))
    length = draw(st.integers(1, 8000))
    if kind == "delete":
        del data[start : start + length]
    elif kind == "duplicate":
        data[start:start] = data[start : start + length]
    elif kind == "zero":
        data[start : start + length] = bytes(len(data[start : start + length]))
    else:  # splice random bytes in
        data[start : start + length] = draw(st.binary(min_size=1, max_size=length))
    return bytes(data)


# -- the reader, in a worker process -------------------------------------------------------------
class Worker:
    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )

    def ask(self, path: Path) -> str:
        self.proc.stdin.write(f"{path}\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], CASE_LIMIT_S)
        if not ready:
            return "hang"
        line = self.proc.stdout.readline()
        return line.strip() if line else f"crash (exit {self.proc.wait()})"

    def close(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    yield w
    w.close()


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@settings(max_examples=2 * EXAMPLES, **FUZZ)
@given(data=mutated_clips())
def test_reader_gives_a_clean_answer_on_mutated_clips(worker, case_dir, data):
    path = case_dir / "case.mp4"
    path.write_bytes(data)
    answer = worker.ask(path)
    if answer == "hang" or answer.startswith(("crash", "exception")):
        keep = case_dir / f"failing-{time.time_ns()}.mp4"
        keep.write_bytes(data)
        pytest.fail(f"the reader answered {answer!r} on {keep}")
    assert answer.startswith(("ok", "input_error")), answer
    SEEN["reader " + answer.split()[0]] += 1


def test_reader_worker_sees_the_unmutated_clip(worker, case_dir):
    path = case_dir / "original.mp4"
    path.write_bytes(clip_bytes())
    assert worker.ask(path) == "ok 47 47"


# -- the upload path ------------------------------------------------------------------------------
@settings(max_examples=max(40, EXAMPLES * 2 // 5), **FUZZ)
@given(data=mutated_clips())
def test_upload_path_gives_a_clean_answer_on_mutated_clips(case_dir, data):
    workdir = case_dir / "uploads"
    start = time.perf_counter()
    try:
        clip = uploads.accept_upload(
            "fuzz.mp4", io.BytesIO(data), 10 * 1024**2, workdir, timeout_s=CASE_LIMIT_S
        )
    except InputError as exc:
        assert "\n" not in str(exc) and "upload-" not in str(exc)
        SEEN["upload refused"] += 1
    else:
        with clip:
            assert clip.info.frames >= uploads.MIN_FRAMES
        SEEN["upload accepted"] += 1
    assert time.perf_counter() - start < CASE_LIMIT_S + 10
    assert list(workdir.iterdir()) == []


def test_the_mutations_reached_both_outcomes():
    """Mutations that were all refused (or all harmless) would test little."""
    if not SEEN:
        pytest.skip("run with the fuzz tests above")
    assert SEEN["reader ok"] and SEEN["reader input_error"], SEEN
    assert SEEN["upload accepted"] and SEEN["upload refused"], SEEN
