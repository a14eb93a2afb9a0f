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

import pytest
from hypothesis import HealthCheck, settings

from fake_family import FakeBackend  # the tests import it from here

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


# The slowest test files, run first: with ``--dist loadfile --no-loadscope-reorder`` (Makefile)
# xdist hands out whole files in collection order, so a long file left to the end keeps one
# worker busy alone while the other waits. Longest first, both end together. (Without
# ``--no-loadscope-reorder`` xdist sends the files with the most tests first, whatever this says.)
SLOWEST_FIRST = (  # seconds in the fresh-clone suite of 7 December (test-artifacts/junit.xml)
    "test_browser_session.py",  # 75 s
    "test_app.py",  # 58 s
    "test_decision_real.py",  # 57 s
    "test_browser_shared.py",  # 56 s
    "test_evidence_browser.py",  # 46 s
    "test_concurrency.py",  # 42 s
    "test_study_browser.py",  # 34 s
    "test_study.py",  # 34 s
    "test_executor.py",  # 33 s
    "test_realtime_cancel.py",  # 32 s
    "test_live.py",  # 28 s
    "test_worker.py",  # 26 s
    "test_bad_inputs.py",  # 26 s
    "test_isolated_parse.py",  # 25 s
)


def pytest_collection_modifyitems(config, items):
    """The slowest files first (``SLOWEST_FIRST``; the order within a file is kept). Without the
    shared clips and models, the tests that need them are skipped with the reason; every other
    test still runs."""
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order
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


def children_first_run(code: str, tmp_path: Path, monkeypatch) -> None:
    """Python processes started from now on (the upload's checking process) run ``code`` before
    anything else: a ``sitecustomize`` module on their PYTHONPATH."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(code)
    monkeypatch.setenv("PYTHONPATH", str(hook))


@pytest.fixture(autouse=True)
def ordinary_scheduling():
    """Fail the test that leaves this process on a real-time scheduling policy, and put it back.

    As root, the SVT-AV1 encoder (PyAV's ``libsvtav1``) moves the thread that opens it to
    SCHED_FIFO at top priority. A test process left so hands that to every process it starts
    afterwards: browsers, servers, studies. Two of Chromium's processes then spun in the kernel
    at real-time priority while reaping their children, starving the 2-core machine, and a
    study's process stayed a zombie: the hang of the fresh-clone suite (issue 20).

    Likewise its nice value: a dashboard worker lowers its parent's priority while it times, and
    one that died doing so left this process (and every later test's servers and browsers) at
    nice 10, slower than the other test process for the rest of the session."""
    nice = os.getpriority(os.PRIO_PROCESS, 0)
    yield
    if os.sched_getscheduler(0) != os.SCHED_OTHER:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        pytest.fail("this test left the test process on a real-time scheduling policy (now reset)")
    left = os.getpriority(os.PRIO_PROCESS, 0)
    if left != nice:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
        except PermissionError:  # an ordinary user may not raise it again: the product stays
            return  # lowered there too, by design (docs/speed.md), and says so in run.json
        pytest.fail(f"this test left the test process at nice {left}, not {nice} (now put back)")


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


# -- the tests' estimator family, for the dashboard's worker process ------------------------
# The worker is a fresh process: a monkeypatch of this process cannot reach it. Tests that run
# through it ask for presets of FakePose (tests/fake_family.py), installed by this fixture
# through the posebench.families entry point, as another package would install a family.
@pytest.fixture(scope="session")
def _fakepose_site(tmp_path_factory):
    site = tmp_path_factory.mktemp("fakepose-site")
    info = site / "posebench_fakepose-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: posebench-fakepose\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[posebench.families]\nfakepose = fake_family:FAMILY\n")
    return site


@pytest.fixture
def fakepose(_fakepose_site, monkeypatch):
    """The FakePose family for this test, here and in the worker processes it starts (they
    inherit sys.path; PYTHONPATH too, for a command started as a subprocess)."""
    from posebench.backends import family_registry

    monkeypatch.syspath_prepend(str(_fakepose_site))
    paths = [str(_fakepose_site), str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
    family_registry.refresh()
    yield "fakepose"
    family_registry.refresh()  # forgotten; the next question reads the entry points without it


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

    from posebench.dashboard import page_registry

    # the start page (navigation.home) is addressed by its function's name
    at._page_hash = calc_hash("home" if key == "home" else page_registry.BY_KEY[key].url_path)
    return at


def page_test(key: str, default_timeout: float = 60):
    """An ``AppTest`` of one dashboard page on its own (its ``render()``), as a page file was."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_string(
        f"from posebench.dashboard.pages import {key}\n\n{key}.render()\n", default_timeout=default_timeout
    )
