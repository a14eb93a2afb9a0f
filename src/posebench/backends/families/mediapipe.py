"""MediaPipe Pose (Tasks API): the pose estimator the jump app runs today."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from posebench.core import catalogue

from .. import sessions
from ..family import BoxEstimator, Family, Preset, lever

LANDMARKERS = tuple(a.name for a in catalogue.CATALOGUE if a.role == "landmarker")
RUNNING_MODES = ("VIDEO", "IMAGE")
DELEGATES = ("CPU", "GPU")
PROVIDER = "mediapipe CPU (XNNPACK)"  # where a study row says the models ran


@dataclass(frozen=True)
class MediaPipeLevers:
    model: str = lever(
        "",
        f"MediaPipe landmarker model ({', '.join(LANDMARKERS)})",
        label="Model size",
        kind="select",
        choices=LANDMARKERS,
    )
    running_mode: str = lever(
        "VIDEO",
        "VIDEO = detector only when tracking is lost (the jump app); IMAGE = every frame",
        label="Follow the athlete between frames",
        kind="select",
        choices=RUNNING_MODES,
        words={"IMAGE": "looks afresh on every frame", "VIDEO": "follows the athlete"},
    )
    min_detection_confidence: float = lever(
        0.5,
        "MediaPipe: person detections below this score (0-1) are dropped",
        label="How sure to be that a person is there",
        kind="slider",
        limits=(0.0, 1.0, 0.05),
    )
    min_tracking_confidence: float = lever(
        0.5,
        "MediaPipe: below this score (0-1) VIDEO mode runs its detector again",
        label="How sure to stay while following",
        kind="slider",
        limits=(0.0, 1.0, 0.05),
    )
    delegate: str = lever(
        "CPU",
        "MediaPipe: CPU (XNNPACK) or GPU delegate; GPU is offered where this mediapipe build "
        "and machine can run it (checked by starting it)",
        label="Run MediaPipe on",
        kind="select",
        choices=DELEGATES,
    )


def _mp(name: str, model: str, mode: str, help: str, words: str, **levers: Any) -> Preset:
    return Preset(name, MediaPipeLevers(model=model, running_mode=mode, **levers), help, words)


PRESETS = (
    _mp(
        "mediapipe-lite",
        "pose_landmarker_lite",
        "VIDEO",
        "MediaPipe Pose Landmarker lite, VIDEO mode (as the jump app runs it)",
        "MediaPipe, lite model, as the jump app runs it (finds the athlete once, then follows)",
    ),
    _mp(
        "mediapipe-full",
        "pose_landmarker_full",
        "VIDEO",
        "MediaPipe Pose Landmarker full, VIDEO mode",
        "MediaPipe, full model (larger, slower), follows the athlete",
    ),
    _mp(
        "mediapipe-heavy",
        "pose_landmarker_heavy",
        "VIDEO",
        "MediaPipe Pose Landmarker heavy, VIDEO mode",
        "MediaPipe, heavy model (largest, slowest), follows the athlete",
    ),
    _mp(
        "mediapipe-lite-image",
        "pose_landmarker_lite",
        "IMAGE",
        "MediaPipe lite, IMAGE mode: its detector on every frame",
        "MediaPipe, lite model, looks for the athlete afresh on every frame",
    ),
    _mp(
        "mediapipe-full-image",
        "pose_landmarker_full",
        "IMAGE",
        "MediaPipe full, IMAGE mode: its detector on every frame",
        "MediaPipe, full model, looks for the athlete afresh on every frame",
    ),
    _mp(
        "mediapipe-heavy-image",
        "pose_landmarker_heavy",
        "IMAGE",
        "MediaPipe heavy, IMAGE mode: its detector on every frame",
        "MediaPipe, heavy model, looks for the athlete afresh on every frame",
    ),
    _mp(
        "mediapipe-lite-gpu",
        "pose_landmarker_lite",
        "VIDEO",
        "MediaPipe lite, VIDEO mode, on MediaPipe's GPU delegate (where supported)",
        "MediaPipe, lite model, as the jump app runs it, on the graphics card",
        delegate="GPU",
    ),
)


class MediaPipeFamily(Family):
    name = "mediapipe"
    label = "MediaPipe"
    title = "MediaPipe Pose (Google)"
    words = "Google's MediaPipe Pose Landmarker: 33 points, finds the athlete once and then follows"
    levers = MediaPipeLevers
    presets = PRESETS
    packages = ("mediapipe",)
    model_fields = ("model",)

    def why_unavailable(self, levers: Any) -> str | None:
        if levers.delegate == "GPU":
            reason = sessions.mediapipe_gpu_problem()
            if reason:
                return f"MediaPipe's GPU delegate does not start here ({reason})"
        return None

    def keypoint_set(self, levers: Any) -> str | None:
        return "mediapipe33"

    def create(self, config, cache):
        from ..mediapipe_backend import MediaPipeBackend

        return MediaPipeBackend(config, cache)

    def on_boxes(self, config, cache, margin: float) -> BoxEstimator:
        """IMAGE mode on the box enlarged by ``margin``: no tracking between annotations."""
        image_mode = replace(config, levers=replace(config.levers, running_mode="IMAGE"))
        return BoxEstimator(self.create(image_mode, cache), margin)

    def host(self, levers: Any) -> tuple[str, str]:
        return PROVIDER, "mediapipe"

    def notes(self) -> list[str]:
        gpu = sessions.mediapipe_gpu_problem()
        return [f"MediaPipe delegates: CPU; GPU {'available' if gpu is None else 'not here: ' + gpu}"]


FAMILY = MediaPipeFamily()
