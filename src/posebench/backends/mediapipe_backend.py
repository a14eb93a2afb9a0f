"""MediaPipe Pose Landmarker (Tasks API) behind the PoseBackend interface.

VIDEO mode is what the jump app runs: the pose detector runs only when
tracking is lost, so the landmarker keeps state and is created per run (never
shared). IMAGE mode runs the detector on every frame. The model bytes are
cached; the landmarker graph is built per run.
"""

from __future__ import annotations

import os
import threading
import time

import cv2
import numpy as np

from posebench.core.errors import BackendUnavailable
from posebench.models import model_store

from .backend_config import BackendConfig
from .base import PoseBackend, PoseResult, box_from_keypoints
from .sessions import DEFAULT_CACHE, ModelCache

# MediaPipe's C++ logging goes to stderr; keep only errors.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


class MediaPipeBackend(PoseBackend):
    keypoint_set = "mediapipe33"

    def __init__(self, config: BackendConfig, cache: ModelCache | None = None):
        try:
            import mediapipe as mp
            from mediapipe.tasks.python import BaseOptions, vision
        except ImportError as exc:
            raise BackendUnavailable(f"mediapipe is not installed ({exc})") from None
        self.config = config
        self.name = config.display
        cache = cache if cache is not None else DEFAULT_CACHE
        path = str(model_store.resolve(config.model, fetch=False))
        self.model_files = {"landmarker": path}
        start = time.perf_counter()
        loaded = cache.get(("mediapipe-bytes", path), lambda: _read_bytes(path))
        self._mp = mp
        mode = getattr(vision.RunningMode, config.running_mode)
        delegate = getattr(BaseOptions.Delegate, config.delegate)
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=loaded.value, delegate=delegate),
            running_mode=mode,
            num_poses=1,
            min_pose_detection_confidence=config.min_detection_confidence,
            min_tracking_confidence=config.min_tracking_confidence,
        )
        # One landmarker per run: VIDEO mode is stateful, and the graph is not
        # meant for calls from several threads.
        self._landmarker = vision.PoseLandmarker.create_from_options(options)
        self._lock = threading.Lock()
        self._video = config.running_mode == "VIDEO"
        self._last_ts = -1
        self._had_pose = False
        self.init_ms = (time.perf_counter() - start) * 1000.0
        self.init_cached = loaded.cached
        self.cold_init_ms = self.init_ms - loaded.load_ms + loaded.cold_ms

    def settings(self) -> dict:
        return self.config.settings()

    def process(self, image_bgr: np.ndarray, timestamp_ms: int) -> PoseResult:
        t0 = time.perf_counter()
        rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
        mp_image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        t1 = time.perf_counter()
        with self._lock:
            if self._video:
                ts = max(int(timestamp_ms), self._last_ts + 1)
                self._last_ts = ts
                out = self._landmarker.detect_for_video(mp_image, ts)
            else:
                out = self._landmarker.detect(mp_image)
        t2 = time.perf_counter()
        h, w = image_bgr.shape[:2]
        keypoints = scores = box = None
        if out.pose_landmarks:
            lms = out.pose_landmarks[0]
            keypoints = np.array([[lm.x * w, lm.y * h] for lm in lms], dtype=np.float64)
            scores = np.array(
                [lm.visibility if lm.visibility is not None else np.nan for lm in lms], dtype=np.float64
            )
            box = box_from_keypoints(keypoints, scores, min_score=0.5, frame_shape=image_bgr.shape)
        t3 = time.perf_counter()
        # In VIDEO mode MediaPipe runs its detector on the first frame and after
        # tracking is lost (documented behaviour); it does not report it, so it
        # is inferred from whether the previous frame had a pose.
        detector_ran = (not self._video) or (not self._had_pose)
        self._had_pose = keypoints is not None
        # The landmarker call holds detection and landmarks together; it is
        # reported as the pose stage (and as detect when the detector ran alone
        # cannot be told apart).
        return PoseResult(
            keypoints=keypoints,
            scores=scores,
            keypoint_set=self.keypoint_set,
            box=box,
            detector_ran=detector_ran,
            people=1 if keypoints is not None else 0,
            stage_ms={
                "preprocess": (t1 - t0) * 1e3,
                "detect": 0.0,
                "pose": (t2 - t1) * 1e3,
                "postprocess": (t3 - t2) * 1e3,
            },
            model_runs={},
        )

    def close(self) -> None:
        landmarker, self._landmarker = getattr(self, "_landmarker", None), None
        if landmarker is not None:
            landmarker.close()
