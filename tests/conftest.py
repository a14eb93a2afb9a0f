"""Shared fixtures: the real clips and models in ../shared, and a fake backend."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("POSEBENCH_SHARED", ROOT.parent / "shared"))
CLIPS = SHARED / "clips"
MODELS = SHARED / "models"

CMJ = CLIPS / "cmj_front_jumpmat_30fps.mp4"  # 330 decoded frames, edit list
BOXFLIP = CLIPS / "boxflip_and_walk_2persons_sports2d.mp4"
LAB = CLIPS / "lab_single_person_60fps_pose2sim_cam01.mp4"  # 100 frames, 60 fps
RUNNING = CLIPS / "running_side_sports2d_demo3.mp4"  # 47 frames, tiny

# Model files come from the set-up step (POSEBENCH_MODEL_DIRS or the cache);
# tests fall back to ../shared/models when nothing is set.
os.environ.setdefault("POSEBENCH_MODEL_DIRS", str(MODELS))


def pytest_collection_modifyitems(config, items):
    """Skip nothing silently: a missing clip is a set-up failure, so say so."""
    if not CLIPS.exists():
        pytest.exit(f"the shared clips are missing at {CLIPS}; run `make setup` first", returncode=3)


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


@pytest.fixture
def fake_backend():
    return FakeBackend
