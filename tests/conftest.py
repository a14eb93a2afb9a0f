"""Shared fixtures: the real clips and models in ../shared, and a fake backend."""

from __future__ import annotations

import atexit
import inspect
import os
import re
import shutil
import sys
import tempfile
import types
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("POSEBENCH_SHARED", ROOT.parent / "shared"))
CLIPS = SHARED / "clips"
MODELS = SHARED / "models"

CMJ = CLIPS / "cmj_front_jumpmat_30fps.mp4"  # 330 decoded frames, edit list
BOXFLIP = CLIPS / "boxflip_and_walk_2persons_sports2d.mp4"
LAB = CLIPS / "lab_single_person_60fps_pose2sim_cam01.mp4"  # 100 frames, 60 fps
RUNNING = CLIPS / "running_side_sports2d_demo3.mp4"  # 47 frames, tiny

# Hypothesis profiles. "ci" (the default) keeps property tests to a modest number of examples
# and sets no per-example deadline (a busy 2-core machine makes deadlines flaky); "thorough"
# runs ten times as many, for a fuzzing session by hand: HYPOTHESIS_PROFILE=thorough pytest ...
# Tests size their examples from the loaded profile (``settings.default.max_examples``).
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", settings.get_profile("ci"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Model files come from the set-up step (POSEBENCH_MODEL_DIRS or the cache);
# tests fall back to ../shared/models when nothing is set.
os.environ.setdefault("POSEBENCH_MODEL_DIRS", str(MODELS))
# Uploads wait in a folder of this test process's own (tests that look at it set their own):
# the default, one folder in the system's temp, is shared with every other test process on
# the machine (pytest-xdist workers, other checkouts).
if "POSEBENCH_UPLOADS" not in os.environ:  # made once, by the test process; its children inherit it
    os.environ["POSEBENCH_UPLOADS"] = tempfile.mkdtemp(prefix="posebench-test-uploads-")
    atexit.register(shutil.rmtree, os.environ["POSEBENCH_UPLOADS"], True)


# Names in this file that stand for the shared folder; a test that reaches one of them
# (directly, through a helper or fixture, or through a module constant built from them)
# needs ../shared.
SHARED_NAMES = frozenset({"SHARED", "CLIPS", "MODELS", "CMJ", "BOXFLIP", "LAB", "RUNNING"})
TESTS_DIR = Path(__file__).resolve().parent


def _under_shared(value, depth: int = 0) -> bool:
    if isinstance(value, str | os.PathLike):
        try:
            return Path(value).resolve().is_relative_to(SHARED.resolve())
        except (TypeError, ValueError, OSError):
            return False
    if depth < 2 and isinstance(value, list | tuple | set | frozenset):
        return any(_under_shared(v, depth + 1) for v in value)
    if depth < 2 and isinstance(value, dict):
        return any(_under_shared(v, depth + 1) for v in value.values())
    return False


def _code_names(code: types.CodeType):
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_names(const)


def _in_tests(obj) -> bool:
    return str(getattr(inspect.getmodule(obj), "__file__", "") or "").startswith(str(TESTS_DIR))


def _test_modules() -> list:
    return [m for m in list(sys.modules.values()) if _in_tests(m)]


def _reaches_shared(obj, seen: set) -> bool:
    """Whether a test function, fixture or helper defined in tests/ reaches the shared folder."""
    obj = inspect.unwrap(obj) if callable(obj) else obj
    if inspect.isclass(obj):
        return any(_reaches_shared(m, seen) for m in vars(obj).values() if inspect.isfunction(m))
    code = getattr(obj, "__code__", None)
    if code is None or code in seen:
        return False
    seen.add(code)
    spaces = [getattr(obj, "__globals__", {}), *(vars(m) for m in _test_modules())]
    for name in set(_code_names(code)):
        if name in SHARED_NAMES:
            return True
        for space in spaces:
            value = space.get(name)
            if value is None:
                continue
            if _under_shared(value):
                return True
            value = inspect.unwrap(value) if callable(value) else value  # functools.cache, ...
            helper = inspect.isfunction(value) or inspect.isclass(value)
            if helper and _in_tests(value) and _reaches_shared(value, seen):
                return True
    return False


def _defined_in_tests(obj, depth: int = 4) -> list:
    """The functions written in tests/ behind ``obj``: itself, or what its wrappers
    (``functools.wraps``, hypothesis' ``@composite``) hold in ``__wrapped__`` and closures."""
    if obj is None or depth == 0:
        return []
    code = getattr(obj, "__code__", None)
    if code is not None and code.co_filename.startswith(str(TESTS_DIR)):
        return [obj]
    inner = [getattr(obj, "__wrapped__", None)]
    inner += [
        cell.cell_contents for cell in (getattr(obj, "__closure__", None) or ()) if callable(_cell(cell))
    ]
    return [f for i in inner for f in _defined_in_tests(i, depth - 1)]


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


def needs_shared(item) -> bool:
    """Whether a collected test needs the shared clips or models."""
    if item.get_closest_marker("integration"):
        return True
    params = getattr(getattr(item, "callspec", None), "params", {})
    seen: set = set()
    if any(_under_shared(v) or (callable(v) and _reaches_shared(v, seen)) for v in params.values()):
        return True
    function = getattr(item, "function", None)
    handle = getattr(function, "hypothesis", None)  # @given tests: the test and its strategies
    helpers = [function, getattr(handle, "inner_test", None)]
    module = getattr(item, "module", None)
    for strategy in getattr(handle, "_given_kwargs", {}).values():
        for name in re.findall(r"(\w+)\(", repr(strategy)):
            helpers += _defined_in_tests(getattr(module, name, None))
    if any(_reaches_shared(f, seen) for f in helpers if callable(f)):
        return True
    info = getattr(item, "_fixtureinfo", None)
    for defs in info.name2fixturedefs.values() if info else ():
        if any(_reaches_shared(d.func, seen) for d in defs):
            return True
    return False


def pytest_collection_modifyitems(config, items):
    """Without the shared clips and models, the tests that need them are skipped with the
    reason; every other test still runs."""
    if CLIPS.exists():
        return
    skip = pytest.mark.skip(
        reason=f"needs the shared clips and models, which are missing at {SHARED} "
        "(set POSEBENCH_SHARED or run `make setup`)"
    )
    for item in items:
        if needs_shared(item):
            item.add_marker(skip)


def wait_until(condition, timeout: float = 60.0, what: str = "the condition", interval: float = 0.05):
    """Poll ``condition()`` every ``interval`` seconds until it is true (and return its value),
    failing after ``timeout`` seconds: waiting for an event instead of sleeping a guessed time."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(interval)


def child_pids() -> set[int]:
    """This test process's child processes, by PID (multiprocessing's resource tracker, once
    started by any test, stays: compare against the set taken before)."""
    import psutil

    return {p.pid for p in psutil.Process().children(recursive=True)}


@pytest.fixture(autouse=True)
def run_registry(tmp_path_factory, monkeypatch):
    """Each test's own registry of runs: runs of other test sessions on this machine (other
    worktrees) must not count as overlapping with this test's runs."""
    path = tmp_path_factory.mktemp("run-registry")
    monkeypatch.setenv("POSEBENCH_RUN_REGISTRY", str(path))
    return path


@pytest.fixture
def results_root(tmp_path, monkeypatch):
    root = tmp_path / "results"
    monkeypatch.setenv("POSEBENCH_RESULTS", str(root))
    return root


class FakeBackend:
    """A backend for unit tests: a fixed skeleton moving down 1 px a frame."""

    keypoint_set = "halpe26"

    def __init__(self, name="fake", fail_at=None):
        self.name = name
        self.fail_at = fail_at
        self.calls = 0
        self.init_ms = 1.0
        self.init_cached = False
        self.cold_init_ms = 1.0
        self.model_files = {}

    def process(self, image, timestamp_ms):
        from posebench.backends.base import PoseResult

        if self.fail_at is not None and self.calls >= self.fail_at:
            raise RuntimeError("fake failure")
        h, w = image.shape[:2]
        kpts = np.column_stack([np.linspace(0.3, 0.7, 26) * w, np.linspace(0.1, 0.9, 26) * h + self.calls])
        self.calls += 1
        return PoseResult(
            keypoints=kpts,
            scores=np.full(26, 0.9),
            keypoint_set="halpe26",
            box=np.array([0.3 * w, 0.1 * h, 0.7 * w, 0.9 * h]),
            people=1,
            stage_ms={"preprocess": 0.1, "detect": 0.0, "pose": 1.0, "postprocess": 0.1},
            model_runs={"pose": 1},
        )

    def settings(self):
        return {}

    def close(self):
        pass


# The whole CMJ clip through MediaPipe lite and the tuned RTMPose preset. The preset's engine is
# pinned to ONNX Runtime (engine=auto may pick OpenVINO, whose arithmetic moves an event by a
# frame: docs/accuracy.md) and labelled as the preset, so the jump-event expectations hold.
CMJ_BACKENDS = ("mediapipe-lite", "rtmpose-lightweight-tuned")
CMJ_SPECS = (CMJ_BACKENDS[0], f"{CMJ_BACKENDS[1]}:engine=onnxruntime,label={CMJ_BACKENDS[1]}")


@pytest.fixture(scope="session")
def cmj_whole_run():
    """One real run of the whole CMJ clip (330 frames, no warm-up), shared by the tests that only
    read it (jump events, the verdict) instead of a run of their own per test module. Tests
    that change or save it work on a copy (``copy.deepcopy``)."""
    from posebench.engine.runner import run_benchmark
    from posebench.store.run_record import RunOptions

    return run_benchmark(str(CMJ), list(CMJ_SPECS), RunOptions(warmup=0))


@pytest.fixture
def fake_backend():
    return FakeBackend


# -- picklable stand-ins for backends.create, for the dashboard's worker process ----------
# The worker is a fresh process: a monkeypatch of this process cannot reach it, so tests hand
# one of these to it through ``posebench.dashboard.jobs.BACKEND_FACTORY``.
class SlowFakeBackend(FakeBackend):
    """A fake that takes 50 ms a frame (time to press cancel mid-run)."""

    def process(self, image, timestamp_ms):
        import time

        time.sleep(0.05)
        return super().process(image, timestamp_ms)


class CrashingFakeBackend(FakeBackend):
    """Kills its whole process on the third frame: ``os._exit`` or a segmentation fault."""

    how = "exit"

    def process(self, image, timestamp_ms):
        if self.calls == 2:
            if self.how == "segfault":
                import ctypes

                ctypes.string_at(0)  # reads address 0: SIGSEGV
            os._exit(7)
        return super().process(image, timestamp_ms)


class SegfaultingFakeBackend(CrashingFakeBackend):
    how = "segfault"


class HangingFakeBackend(FakeBackend):
    """Never returns from its third frame (it cannot see a cancel)."""

    def process(self, image, timestamp_ms):
        if self.calls == 2:
            import time

            time.sleep(600)
        return super().process(image, timestamp_ms)


def fake_create(config, cache=None):
    return FakeBackend(config.display)


def slow_create(config, cache=None):
    return SlowFakeBackend(config.display)


def rtmpose_fails_at_4_create(config, cache=None):
    """RTMPose presets fail on their fifth frame; every other backend is real."""
    if config.family == "rtmpose":
        return FakeBackend(config.display, fail_at=4)
    from posebench.backends import family_of

    return family_of(config).create(config, cache)


def crashing_create(config, cache=None):
    """The RTMPose preset kills the worker; MediaPipe presets are fakes that run first."""
    if config.family == "rtmpose":
        return CrashingFakeBackend(config.display)
    return FakeBackend(config.display)


def segfaulting_create(config, cache=None):
    if config.family == "rtmpose":
        return SegfaultingFakeBackend(config.display)
    return FakeBackend(config.display)


def hanging_create(config, cache=None):
    return HangingFakeBackend(config.display)


def pid_job(n, progress, cancel):
    """A stand-in timing job for ``ProcessJob``: reports, then returns its process id."""
    import time

    progress(0.5, "half way")
    while n == "forever" and not cancel.is_set():
        time.sleep(0.05)
    return os.getpid(), n


def goto(at, key: str):
    """Switch an ``AppTest`` to the registry's page ``key`` (pages are functions, so AppTest's
    ``switch_page``, which takes a file, cannot name them); call ``run()`` after, as with switch_page."""
    from streamlit.util import calc_hash

    from posebench.dashboard import registry

    at._page_hash = calc_hash(registry.BY_KEY[key].url_path)
    return at


def page_test(key: str, default_timeout: float = 60):
    """An ``AppTest`` of one dashboard page on its own (its ``render()``), as a page file was."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_string(
        f"from posebench.dashboard.pages import {key}\n\n{key}.render()\n", default_timeout=default_timeout
    )
