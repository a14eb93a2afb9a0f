"""FakePose: an estimator family for the tests, registered the way another package registers one.

The dashboard times runs in a fresh worker process, which a monkeypatch of the test process
cannot reach. Instead of a hook in the product, the tests install this family through the
``posebench.families`` entry point (``conftest.fakepose``: a dist-info folder on ``sys.path`` and
``PYTHONPATH``, which spawned workers inherit) and ask for its presets like any backend:
``fakepose-a``, ``fakepose-b``, and what a test needs through its levers, e.g.
``fakepose-b:act=crash`` or ``fakepose-a:fail_at=4``.

Its skeleton is ``FakeBackend``'s (Halpe-26, moving down 1 px a frame), so its landmarks,
agreement and jump tables are those of the unit tests' fake backend.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

from posebench.backends.family import Family, Preset, lever

ACTS = ("ok", "slow", "crash", "segfault", "hang")


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


class ActingBackend(FakeBackend):
    """``FakeBackend`` that acts as asked: ``slow`` takes 50 ms a frame (time to press cancel);
    on its third frame ``crash`` ends its process (``os._exit(7)``), ``segfault`` reads address 0
    and ``hang`` never returns (it cannot see a cancel)."""

    def __init__(self, name: str, act: str, fail_at: int | None):
        super().__init__(name, fail_at=fail_at)
        self.act = act

    def process(self, image, timestamp_ms):
        if self.act == "slow":
            time.sleep(0.05)
        elif self.calls == 2 and self.act == "crash":
            os._exit(7)
        elif self.calls == 2 and self.act == "segfault":
            import ctypes

            ctypes.string_at(0)  # SIGSEGV
        elif self.calls == 2 and self.act == "hang":
            time.sleep(600)
        return super().process(image, timestamp_ms)


@dataclass(frozen=True)
class FakePoseLevers:
    act: str = lever("ok", "how the fake behaves: ok, slow, crash, segfault or hang", choices=ACTS)
    fail_at: int = lever(-1, "raise on this frame of a pass (0-based); -1 = never", bounds=(-1, None))


class FakePoseFamily(Family):
    name = "fakepose"
    label = "FakePose"
    title = "FakePose (the tests' stand-in)"
    words = "A fake skeleton that moves down a pixel a frame: a stand-in for tests"
    levers = FakePoseLevers
    presets = (
        Preset("fakepose-a", FakePoseLevers(), "FakePose, first copy", "A fake skeleton"),
        Preset("fakepose-b", FakePoseLevers(), "FakePose, second copy", "Another fake skeleton"),
    )

    def keypoint_set(self, levers) -> str:
        return "halpe26"

    def create(self, config, cache):
        levers = config.levers
        return ActingBackend(config.display, levers.act, levers.fail_at if levers.fail_at >= 0 else None)


FAMILY = FakePoseFamily()
