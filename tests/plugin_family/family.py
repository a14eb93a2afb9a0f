"""The StillPose family: levers, presets, words and a factory, in one file."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from posebench.backends.base import PoseBackend, PoseResult
from posebench.backends.family import Family, Preset, lever

SIDES = ("left", "centre", "right")
_X = {"left": 0.3, "centre": 0.5, "right": 0.7}


@dataclass(frozen=True)
class StillPoseLevers:
    side: str = lever(
        "centre",
        "where the fixed skeleton stands: left, centre or right third of the frame",
        label="Where the skeleton stands",
        kind="select",
        choices=SIDES,
        words={"left": "stands on the left", "right": "stands on the right"},
    )
    height: float = lever(
        0.8,
        "height of the skeleton as a share of the frame height (0.1-1)",
        label="Skeleton height",
        kind="slider",
        limits=(0.1, 1.0, 0.05),
        bounds=(0.1, 1.0),
    )


class StillPoseBackend(PoseBackend):
    keypoint_set = "halpe26"

    def __init__(self, config):
        self.config = config
        self.name = config.display
        self.model_files = {}
        self.init_ms = self.cold_init_ms = 0.0

    def process(self, image_bgr: np.ndarray, timestamp_ms: int) -> PoseResult:
        start = time.perf_counter()
        h, w = image_bgr.shape[:2]
        levers = self.config.levers
        top = (1.0 - levers.height) / 2
        x = np.full(26, _X[levers.side] * w) + np.linspace(-0.05, 0.05, 26) * w
        y = (top + np.linspace(0.0, levers.height, 26)) * h
        result = PoseResult(
            keypoints=np.column_stack([x, y]),
            scores=np.full(26, 0.9),
            keypoint_set=self.keypoint_set,
            box=np.array([x.min(), y.min(), x.max(), y.max()]),
            detector_ran=False,
            people=1,
        )
        result.stage_ms["pose"] = (time.perf_counter() - start) * 1000
        return result

    def settings(self) -> dict:
        return self.config.settings()


class StillPoseFamily(Family):
    name = "stillpose"
    label = "StillPose"
    title = "StillPose (a plugin for tests)"
    words = "A fixed skeleton on every frame: a stand-in family"
    levers = StillPoseLevers
    presets = (
        Preset(
            "stillpose",
            StillPoseLevers(),
            "StillPose: one fixed Halpe-26 skeleton",
            "A skeleton that stands still",
        ),
        Preset(
            "stillpose-left",
            StillPoseLevers(side="left"),
            "StillPose on the left third",
            "A skeleton that stands still, on the left",
        ),
    )

    def keypoint_set(self, levers) -> str:
        return "halpe26"

    def create(self, config, cache):
        return StillPoseBackend(config)

    def host(self, levers) -> tuple[str, str]:
        return "stillpose CPU", "numpy"


FAMILY = StillPoseFamily()
