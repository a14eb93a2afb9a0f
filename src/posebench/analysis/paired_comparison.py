"""Two methods judged on the same clips: the paired comparison of their errors.

Every clip of a study is measured by both backends against the same reference, so
accuracy is compared clip by clip: ``d = |candidate error| - |baseline error|`` (ms;
negative = the candidate is closer to the reference on that clip). ``compare(d, margin)``
gives:

- the mean difference, its SD, a 95 % CI from the t distribution (``scipy.stats.t``)
  and a bootstrap CI (``scipy.stats.bootstrap``, BCa, fixed seed, so the same numbers
  give the same interval every time);
- the Wilcoxon signed-rank p (``scipy.stats.wilcoxon``, two-sided, zero differences
  dropped as Wilcoxon did);
- how many clips each backend was closer on, and how many tied;
- the **non-inferiority** answer against the margin (ms): *as accurate* when the t CI's
  upper end is under the margin, *less accurate* when its lower end is above it, *not yet
  known* otherwise; then how many clips in all would settle it at the observed spread
  (``statsmodels``' one-sample t power, one-sided 2.5 %, 80 % power: a sample-size
  estimate, not a fixed number).

Clips are not independent when one athlete supplies several. ``clusters(d, athletes)``
counts the athletes (and sessions), names the one who supplies most clips, and gives a
cluster bootstrap CI of the mean difference that resamples whole athletes (percentile,
fixed seed); with one athlete there is nothing to resample and it is not given.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95
POWER = 0.8  # the sample-size estimate's power
SEED = 20  # the bootstraps' fixed seed: the same clips give the same interval
RESAMPLES = 9999
VERDICTS = ("as accurate", "less accurate", "not yet known")
# One athlete supplying more than this share of the clips is named in the sentence.
MOST_CLIPS_SHARE = 0.5

# Field -> (unit, meaning): verdict.json's ``paired`` block and the Study page read this.
PAIRED_FIELDS: dict[str, tuple[str, str]] = {
    "n": ("clips", "Clips both backends measured against a reference."),
    "mean_ms": ("ms", "Mean of |candidate error| - |baseline error|: negative = the candidate is closer."),
    "sd_ms": ("ms", "SD of the per-clip differences."),
    "ci_t_low_ms": ("ms", "Lower end of the mean difference's 95 % CI (t distribution)."),
    "ci_t_high_ms": ("ms", "Upper end of that CI: under the margin = as accurate."),
    "ci_boot_low_ms": ("ms", "Lower end of the 95 % bootstrap CI (BCa, fixed seed)."),
    "ci_boot_high_ms": ("ms", "Upper end of the bootstrap CI."),
    "wilcoxon_p": ("", "Wilcoxon signed-rank p (two-sided) that the differences centre on 0."),
    "candidate_closer": ("clips", "Clips where the candidate's flight time was closer to the reference."),
    "baseline_closer": ("clips", "Clips where the baseline's flight time was closer."),
    "tied": ("clips", "Clips where both were equally far (within 0.5 ms)."),
    "margin_ms": ("ms", "Non-inferiority margin: how much further the candidate may be on average."),
    "verdict": ("", "as accurate, less accurate or not yet known (the CI against the margin)."),
    "clips_needed": ("clips", "Clips in all that would settle a 'not yet known' at the observed spread."),
    "errors": (
        "",
        "How the per-clip errors were obtained: as measured, or cross-validated when an event "
        "setting learns a calibration (learned on the other clips, never on the one judged).",
    ),
}
AS_MEASURED = "as measured"
TIE_MS = 0.5  # differences smaller than this are a tie (flight times are whole ms at best)


@dataclass
class Paired:
    n: int = 0
    mean_ms: float = math.nan
    sd_ms: float = math.nan
    ci_t_low_ms: float = math.nan
    ci_t_high_ms: float = math.nan
    ci_boot_low_ms: float = math.nan
    ci_boot_high_ms: float = math.nan
    wilcoxon_p: float = math.nan
    candidate_closer: int = 0
    baseline_closer: int = 0
    tied: int = 0
    margin_ms: float = 10.0
    verdict: str = "not yet known"
    clips_needed: float = math.nan  # NaN: settled, or no spread to estimate from
    errors: str = AS_MEASURED  # or: cross-validated (an event setting learns a calibration)

    def to_dict(self) -> dict:
        return {k: _clean(v) for k, v in asdict(self).items()}


@dataclass
class Clusters:
    n_clips: int = 0
    n_athletes: int = 0  # 0: the clips name no athlete
    n_sessions: int = 0
    largest: str = ""  # the athlete who supplies most clips
    largest_clips: int = 0
    ci_low_ms: float = math.nan  # cluster bootstrap CI of the mean difference (resampling athletes)
    ci_high_ms: float = math.nan
    athletes: dict[str, int] = field(default_factory=dict)  # athlete -> clips

    @property
    def one_supplies_most(self) -> bool:
        return self.n_athletes >= 1 and self.largest_clips > MOST_CLIPS_SHARE * self.n_clips

    def to_dict(self) -> dict:
        out = {k: _clean(v) for k, v in asdict(self).items()}
        out["one_athlete_supplies_most"] = self.one_supplies_most
        return out


# Column -> (unit, meaning) of the paired table: one row per clip both backends measured.
TABLE_COLUMNS: dict[str, tuple[str, str]] = {
    "clip": ("", "The clip (as the manifest names it)."),
    "sha256": ("", "SHA-256 of the clip's bytes."),
    "athlete": ("", "Who jumped (the manifest's athlete column)."),
    "session": ("", "When / where the clip was filmed (the manifest's session column)."),
    "reference_flight_time_s": ("s", "The clip's reference flight time."),
    "baseline_abs_error_ms": ("ms", "|Flight-time error| of the baseline on this clip."),
    "candidate_abs_error_ms": ("ms", "|Flight-time error| of the candidate on this clip."),
    "diff_ms": ("ms", "Candidate |error| - baseline |error|: negative = the candidate is closer."),
}


def paired_table(clips: pd.DataFrame, baseline: str, candidate: str) -> pd.DataFrame:
    """From a study's clip table (``studies.pooled.CLIP_COLUMNS``): the clips both backends
    measured against a reference, one row each (``TABLE_COLUMNS``)."""
    if clips.empty:
        return pd.DataFrame(columns=list(TABLE_COLUMNS))
    ok = clips[(clips["status"] == "ok") & clips["flight_time_error_ms"].notna()]
    base = ok[ok["backend"] == baseline].drop_duplicates("sha256").set_index("sha256")
    cand = ok[ok["backend"] == candidate].drop_duplicates("sha256").set_index("sha256")
    shared = [s for s in cand.index if s in base.index]
    out = cand.loc[shared, ["clip", "athlete", "session", "reference_flight_time_s"]].copy()
    out["baseline_abs_error_ms"] = pd.to_numeric(base.loc[shared, "flight_time_error_ms"]).abs()
    out["candidate_abs_error_ms"] = pd.to_numeric(cand.loc[shared, "flight_time_error_ms"]).abs()
    out["diff_ms"] = out["candidate_abs_error_ms"] - out["baseline_abs_error_ms"]
    return out.reset_index()[list(TABLE_COLUMNS)]


def _clean(value):
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(f"{float(value):.10g}")
    if isinstance(value, np.integer):
        return int(value)
    return value


def _values(diffs) -> np.ndarray:
    d = pd.to_numeric(pd.Series(list(diffs), dtype=object), errors="coerce").to_numpy(dtype=float)
    return d[np.isfinite(d)]


def t_interval(d: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    if len(d) < 2:
        return math.nan, math.nan
    sem = stats.sem(d)
    if not math.isfinite(sem) or sem == 0:
        return float(d.mean()), float(d.mean())
    lo, hi = stats.t.interval(confidence, len(d) - 1, loc=d.mean(), scale=sem)
    return float(lo), float(hi)


def bootstrap_interval(
    d: np.ndarray, confidence: float = CONFIDENCE, seed: int = SEED
) -> tuple[float, float]:
    """BCa bootstrap CI of the mean (percentile when BCa cannot be computed)."""
    if len(d) < 3 or np.ptp(d) == 0:
        return math.nan, math.nan
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = stats.bootstrap(
                (d,),
                np.mean,
                confidence_level=confidence,
                n_resamples=RESAMPLES,
                method=method,
                rng=np.random.default_rng(seed),
            )
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if math.isfinite(lo) and math.isfinite(hi):
            return lo, hi
    return math.nan, math.nan


def wilcoxon_p(d: np.ndarray) -> float:
    if len(d) < 2 or not np.any(d != 0):
        return math.nan
    try:
        return float(stats.wilcoxon(d).pvalue)
    except ValueError:
        return math.nan


def clips_needed(mean: float, sd: float, margin: float, power: float = POWER) -> float:
    """Clips in all for the t CI to come down on one side of the margin at this spread."""
    if not (math.isfinite(mean) and math.isfinite(sd)) or sd <= 0 or mean == margin:
        return math.nan
    from statsmodels.stats.power import TTestPower

    effect = abs(margin - mean) / sd
    alpha = (1 - CONFIDENCE) / 2  # one side of the two-sided 95 % CI
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            n = TTestPower().solve_power(effect_size=effect, alpha=alpha, power=power, alternative="larger")
    except (ValueError, RuntimeError):
        return math.nan
    n = float(np.asarray(n).ravel()[0])
    return float(math.ceil(n)) if math.isfinite(n) else math.nan


def non_inferiority(lo: float, hi: float, margin: float) -> str:
    if math.isfinite(hi) and hi < margin:
        return "as accurate"
    if math.isfinite(lo) and lo > margin:
        return "less accurate"
    return "not yet known"


def compare(diffs, margin_ms: float = 10.0) -> Paired:
    """The paired comparison of per-clip differences ``|cand error| - |base error|`` (ms)."""
    d = _values(diffs)
    out = Paired(n=len(d), margin_ms=float(margin_ms))
    if not len(d):
        return out
    out.mean_ms = float(d.mean())
    out.sd_ms = float(d.std(ddof=1)) if len(d) > 1 else math.nan
    out.ci_t_low_ms, out.ci_t_high_ms = t_interval(d)
    out.ci_boot_low_ms, out.ci_boot_high_ms = bootstrap_interval(d)
    out.wilcoxon_p = wilcoxon_p(d)
    out.candidate_closer = int((d < -TIE_MS).sum())
    out.baseline_closer = int((d > TIE_MS).sum())
    out.tied = int(len(d) - out.candidate_closer - out.baseline_closer)
    out.verdict = non_inferiority(out.ci_t_low_ms, out.ci_t_high_ms, out.margin_ms)
    if out.verdict == "not yet known":
        out.clips_needed = clips_needed(out.mean_ms, out.sd_ms, out.margin_ms)
    return out


def clusters(diffs, athletes, sessions=None, seed: int = SEED) -> Clusters:
    """Athletes (and sessions) behind the clips, and the cluster bootstrap CI of the mean."""
    d = pd.to_numeric(pd.Series(list(diffs), dtype=object), errors="coerce").to_numpy(dtype=float)
    names = pd.Series(["" if pd.isna(a) else str(a).strip() for a in athletes], dtype=str)
    keep = np.isfinite(d)
    d, names = d[keep], names[keep].reset_index(drop=True)
    out = Clusters(n_clips=len(d))
    if sessions is not None:
        sess = pd.Series(["" if pd.isna(s) else str(s).strip() for s in sessions], dtype=str)[keep]
        out.n_sessions = int(sess[sess != ""].nunique())
    if not len(d) or (names == "").all():
        return out
    # a clip without an athlete is its own athlete: it cannot be pooled with anyone
    names = pd.Series([n or f"(clip {i + 1}, athlete not named)" for i, n in enumerate(names)])
    counts = names.value_counts()
    out.athletes = {str(k): int(v) for k, v in counts.items()}
    out.n_athletes = len(counts)
    out.largest, out.largest_clips = str(counts.index[0]), int(counts.iloc[0])
    if out.n_athletes < 2:
        return out
    groups = [d[(names == a).to_numpy()] for a in counts.index]
    sums = np.array([g.sum() for g in groups])
    sizes = np.array([len(g) for g in groups])
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(groups), size=(RESAMPLES, len(groups)))
    means = sums[picks].sum(axis=1) / sizes[picks].sum(axis=1)
    tail = (1 - CONFIDENCE) / 2 * 100
    out.ci_low_ms, out.ci_high_ms = (float(v) for v in np.percentile(means, [tail, 100 - tail]))
    return out


def height_cm(flight_diff_ms: float, flight_time_s: float) -> float:
    """A flight-time difference in cm of jump height (h = g t² / 8, so dh = g t dt / 4) at
    the given flight time."""
    from posebench.analysis.jump_metrics import GRAVITY

    if not (math.isfinite(flight_diff_ms) and math.isfinite(flight_time_s)):
        return math.nan
    return GRAVITY * flight_time_s * (flight_diff_ms / 1000) / 4 * 100


__all__ = [
    "PAIRED_FIELDS",
    "TABLE_COLUMNS",
    "VERDICTS",
    "Clusters",
    "Paired",
    "clusters",
    "compare",
    "height_cm",
    "non_inferiority",
    "paired_table",
]
