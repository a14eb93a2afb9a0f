"""Scoring event settings against by-eye references, cross-validated (issue 23).

Input: one backend's detections, one row per clip x setting (``analysis.event_detection``),
with the clip's reference and its fold (the athlete when the clips name more
than one, else the clip). Output, per setting: the in-sample flight-time MAE and
bias (calibration offsets, when the setting learns them, learned on every clip),
and the cross-validated ones (offsets learned on the other folds); and for the
search as a whole (``search``), nested cross-validation: in each fold the
setting with the smallest error on the *other* folds is chosen and judged on
the fold left out. Its MAE is the honest error of "the best settings"; the
in-sample MAE of the overall winner is shown beside it, never instead of it.

A setting that fails on a clip (no jump found) ranks behind every setting that
does not fail, whatever its MAE; ties keep the earlier setting (``app-current``
comes first, so an equal error keeps today's settings).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from posebench.analysis.event_settings import APP_CURRENT, EventSetting

# A detection row (input): column -> (unit, meaning).
DETECTION_COLUMNS: dict[str, tuple[str, str]] = {
    "clip": ("", "The clip."),
    "fold": ("", "What is left out together: the athlete, or the clip when only one athlete is named."),
    "setting": ("", "The event setting's name."),
    "status": ("", "ok, or failed (no jump found with this setting)."),
    "takeoff_frame": ("frame", "Detected take-off before calibration (0-based)."),
    "landing_frame": ("frame", "Detected landing before calibration (0-based)."),
    "fps": ("frames/s", "The clip's frame rate."),
    "reference_takeoff_frame": ("frame", "By-eye take-off (first frame with both feet off)."),
    "reference_landing_frame": ("frame", "By-eye landing (first frame with ground contact)."),
    "reference_flight_time_s": ("s", "The reference flight time."),
}

# events.csv: one row per backend x setting. Column -> (unit, meaning).
SCORE_COLUMNS: dict[str, tuple[str, str]] = {
    "backend": ("", "The pose backend whose landmarks were replayed."),
    "setting": ("", "The event setting's name."),
    "n_clips": ("clips", "Clips with a reference the setting was scored on."),
    "n_failed": ("clips", "Of those, clips on which the setting found no jump."),
    "in_sample_mae_ms": (
        "ms",
        "Mean absolute flight-time error with calibration learned on every clip (optimistic).",
    ),
    "in_sample_bias_ms": ("ms", "Mean flight-time error, in-sample (positive = flights too long)."),
    "cv_mae_ms": (
        "ms",
        "Mean absolute flight-time error with calibration learned on the other folds only.",
    ),
    "cv_bias_ms": ("ms", "Mean flight-time error, cross-validated (positive = too long)."),
    "takeoff_bias_frames": ("frames", "Mean take-off error before calibration (positive = late)."),
    "landing_bias_frames": ("frames", "Mean landing error before calibration (positive = late)."),
    "folds_won": ("folds", "Folds in which the search chose this setting (on the other folds' clips)."),
}


@dataclass
class Matrix:
    """One backend's detections as (settings x clips) arrays."""

    settings: list[str]
    clips: list[str]
    folds: np.ndarray  # (clips,)
    fps: np.ndarray  # (clips,)
    ok: np.ndarray  # (settings, clips) bool
    takeoff_err: np.ndarray  # frames, detected - reference (NaN where the reference has no frames)
    landing_err: np.ndarray
    flight_frames: np.ndarray  # detected landing - take-off, frames
    ref_flight_s: np.ndarray  # (clips,)

    @classmethod
    def from_table(cls, table: pd.DataFrame, order: list[str] | None = None) -> Matrix:
        table = table[pd.to_numeric(table["reference_flight_time_s"], errors="coerce").notna()]
        names = [s for s in (order or []) if s in set(table["setting"])]
        names += [s for s in dict.fromkeys(table["setting"]) if s not in names]
        clips = list(dict.fromkeys(table["clip"]))
        first = table.drop_duplicates("clip").set_index("clip").loc[clips]
        wide = table.set_index(["setting", "clip"])

        def grid(col: str) -> np.ndarray:
            values = pd.to_numeric(wide[col], errors="coerce").unstack("clip")
            return values.reindex(index=names, columns=clips).to_numpy(dtype=float)

        status = wide["status"].unstack("clip").reindex(index=names, columns=clips)
        ok = (status == "ok").to_numpy()
        tk, ld = grid("takeoff_frame"), grid("landing_frame")
        ref_t = pd.to_numeric(first["reference_takeoff_frame"], errors="coerce").to_numpy(float)
        ref_l = pd.to_numeric(first["reference_landing_frame"], errors="coerce").to_numpy(float)
        return cls(
            settings=names,
            clips=clips,
            folds=first["fold"].astype(str).to_numpy(),
            fps=pd.to_numeric(first["fps"], errors="coerce").to_numpy(float),
            ok=ok & np.isfinite(tk) & np.isfinite(ld),
            takeoff_err=tk - ref_t[None, :],
            landing_err=ld - ref_l[None, :],
            flight_frames=ld - tk,
            ref_flight_s=pd.to_numeric(first["reference_flight_time_s"], errors="coerce").to_numpy(float),
        )


def learn_offsets(m: Matrix, s: int, train: np.ndarray) -> tuple[int, int]:
    """Whole-frame take-off and landing offsets that cancel the mean event error on ``train``.

    With reference frames: each event's own mean error; without (a known flight time only):
    the landing takes the whole flight-time error.
    """
    use = train & m.ok[s]
    if not use.any():
        return 0, 0
    tk, ld = m.takeoff_err[s, use], m.landing_err[s, use]
    if np.isfinite(tk).any() and np.isfinite(ld).any():
        return -_round(np.nanmean(tk)), -_round(np.nanmean(ld))
    flight = m.flight_frames[s, use] - m.ref_flight_s[use] * m.fps[use]
    return 0, -_round(float(np.mean(flight)))


def _round(x: float) -> int:
    return int(np.floor(x + 0.5)) if np.isfinite(x) else 0


def flight_errors_ms(m: Matrix, s: int, offsets: tuple[int, int], clips: np.ndarray) -> np.ndarray:
    """Flight-time errors (ms) of setting ``s`` on ``clips`` with (take-off, landing) offsets added."""
    frames = m.flight_frames[s, clips] + offsets[1] - offsets[0]
    return (frames / m.fps[clips] - m.ref_flight_s[clips]) * 1000.0


@dataclass
class Score:
    mae: float
    bias: float
    n: int
    failed: int


def _score(errors: list[float], failed: int) -> Score:
    e = np.asarray(errors, dtype=float)
    return Score(
        float(np.mean(np.abs(e))) if len(e) else np.nan,
        float(np.mean(e)) if len(e) else np.nan,
        len(e),
        failed,
    )


def in_sample(m: Matrix, s: int, learns: bool) -> Score:
    everyone = np.ones(len(m.clips), bool)
    offsets = learn_offsets(m, s, everyone) if learns else (0, 0)
    ok = m.ok[s]
    return _score(list(flight_errors_ms(m, s, offsets, ok)), int((~ok).sum()))


def cross_validated(m: Matrix, s: int, learns: bool) -> tuple[Score, list[float]]:
    """Setting ``s`` with its calibration learned on the other folds; per-clip held-out errors."""
    errors = np.full(len(m.clips), np.nan)
    for fold in dict.fromkeys(m.folds):
        out = m.folds == fold
        offsets = learn_offsets(m, s, ~out) if learns else (0, 0)
        held = out & m.ok[s]
        errors[held] = flight_errors_ms(m, s, offsets, held)
    ok = np.isfinite(errors)
    return _score(list(errors[ok]), int((~ok).sum())), list(errors)


def _rank(m: Matrix, learns: list[bool], train: np.ndarray) -> int:
    """The setting with the smallest in-sample error on ``train`` (fewest failures first)."""
    best, best_key = 0, (np.inf, np.inf)
    for s in range(len(m.settings)):
        offsets = learn_offsets(m, s, train) if learns[s] else (0, 0)
        use = train & m.ok[s]
        failed = int((train & ~m.ok[s]).sum())
        mae = float(np.mean(np.abs(flight_errors_ms(m, s, offsets, use)))) if use.any() else np.inf
        key = (failed, round(mae, 9))
        if key < best_key:
            best, best_key = s, key
    return best


@dataclass
class SearchResult:
    """The search's outcome for one backend (see the module's docstring)."""

    backend: str
    folds_by: str  # "athlete" or "clip"
    n_folds: int
    scores: pd.DataFrame  # SCORE_COLUMNS, one row per setting
    current: str
    best: str  # chosen on every clip (in-sample)
    search_cv_mae_ms: float
    search_cv_bias_ms: float
    search_failed: int
    fold_choices: dict[str, str] = field(default_factory=dict)  # fold -> setting chosen without it
    held_out_ms: dict[str, float] = field(default_factory=dict)  # clip -> its held-out error

    def row(self, name: str) -> dict:
        return self.scores.set_index("setting").loc[name].to_dict()

    @property
    def stability(self) -> tuple[str, int]:
        """The setting chosen in most folds, and in how many."""
        if not self.fold_choices:
            return "", 0
        return Counter(self.fold_choices.values()).most_common(1)[0]

    def to_dict(self) -> dict:
        winner, won = self.stability
        return {
            "backend": self.backend,
            "folds_by": self.folds_by,
            "n_folds": self.n_folds,
            "current": {"setting": self.current, **_clean(self.row(self.current))},
            "best": {"setting": self.best, **_clean(self.row(self.best))},
            "search": {
                "cv_mae_ms": _num(self.search_cv_mae_ms),
                "cv_bias_ms": _num(self.search_cv_bias_ms),
                "failed": self.search_failed,
                "most_chosen": winner,
                "folds_won": won,
                "fold_choices": self.fold_choices,
                "held_out_error_ms": {k: _num(v) for k, v in self.held_out_ms.items()},
            },
        }


def _num(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


def _clean(row: dict) -> dict:
    return {
        k: (_num(v) if isinstance(v, float | np.floating | int | np.integer) else v) for k, v in row.items()
    }


def search(
    table: pd.DataFrame,
    settings: list[EventSetting],
    backend: str = "",
    current: str = APP_CURRENT,
    folds_by: str = "clip",
) -> SearchResult:
    """Score every setting of ``table`` (``DETECTION_COLUMNS``) and run the nested search."""
    by_name = {s.name: s for s in settings}
    m = Matrix.from_table(table, [s.name for s in settings])
    if not m.clips:
        raise ValueError("no clip with a reference to score the event settings on")
    learns = [by_name[n].learns if n in by_name else False for n in m.settings]
    rows = []
    for s, name in enumerate(m.settings):
        ins = in_sample(m, s, learns[s])
        cv, _ = cross_validated(m, s, learns[s])
        rows.append(
            {
                "backend": backend,
                "setting": name,
                "n_clips": len(m.clips),
                "n_failed": ins.failed,
                "in_sample_mae_ms": ins.mae,
                "in_sample_bias_ms": ins.bias,
                "cv_mae_ms": cv.mae,
                "cv_bias_ms": cv.bias,
                "takeoff_bias_frames": _mean(m.takeoff_err[s, m.ok[s]]),
                "landing_bias_frames": _mean(m.landing_err[s, m.ok[s]]),
                "folds_won": 0,
            }
        )
    scores = pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
    folds = list(dict.fromkeys(m.folds))
    choices: dict[str, str] = {}
    held = np.full(len(m.clips), np.nan)
    for fold in folds:
        out = m.folds == fold
        s = _rank(m, learns, ~out) if (~out).any() else 0
        choices[fold] = m.settings[s]
        offsets = learn_offsets(m, s, ~out) if learns[s] else (0, 0)
        use = out & m.ok[s]
        held[use] = flight_errors_ms(m, s, offsets, use)
    for name, won in Counter(choices.values()).items():
        scores.loc[scores["setting"] == name, "folds_won"] = won
    ok = np.isfinite(held)
    best = m.settings[_rank(m, learns, np.ones(len(m.clips), bool))]
    return SearchResult(
        backend=backend,
        folds_by=folds_by,
        n_folds=len(folds),
        scores=scores,
        current=current if current in m.settings else m.settings[0],
        best=best,
        search_cv_mae_ms=float(np.mean(np.abs(held[ok]))) if ok.any() else np.nan,
        search_cv_bias_ms=float(np.mean(held[ok])) if ok.any() else np.nan,
        search_failed=int((~ok).sum()),
        fold_choices=choices,
        held_out_ms={c: float(v) for c, v in zip(m.clips, held)},
    )


def _mean(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(np.mean(values)) if len(values) else np.nan


def folds_for(clips: list[str], athletes: list[str]) -> tuple[list[str], str]:
    """Leave-one-athlete-out when more than one athlete is named, else leave-one-clip-out."""
    named = [a.strip() for a in athletes]
    if len({a for a in named if a}) > 1:
        return [a or f"clip:{c}" for a, c in zip(named, clips)], "athlete"
    return list(clips), "clip"


def out_of_fold_offsets(
    takeoff_err: list[float], landing_err: list[float], folds: list[str]
) -> list[tuple[int, int]]:
    """Per clip: the (take-off, landing) offsets learned on the other folds' event errors
    (what a study uses for a setting whose calibration is learned)."""
    tk, ld, fo = np.asarray(takeoff_err, float), np.asarray(landing_err, float), np.asarray(folds)
    out = []
    for f in fo:
        train = fo != f
        t, lnd = tk[train & np.isfinite(tk)], ld[train & np.isfinite(ld)]
        out.append((-_round(float(t.mean())) if len(t) else 0, -_round(float(lnd.mean())) if len(lnd) else 0))
    return out


__all__ = [
    "DETECTION_COLUMNS",
    "SCORE_COLUMNS",
    "SearchResult",
    "folds_for",
    "out_of_fold_offsets",
    "search",
]
