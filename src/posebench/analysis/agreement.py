"""Agreement of a method with a reference over many trials: what a validation paper reports.

For paired measurements (a backend's flight time and the reference's, one
pair per clip) ``agreement`` gives the number of pairs, the bias (mean
difference) with its 95 % confidence interval (t distribution), the mean
absolute error, the SD of the differences, the 95 % limits of agreement
(Bland & Altman 1986: bias ± 1.96 SD), the intraclass correlation ICC(2,1)
(Shrout & Fleiss 1979 form 2,1: two-way random effects, absolute agreement,
single measurement; McGraw & Wong's ICC(A,1)) with its 95 % CI, and Pearson's
r with its 95 % CI.

The statistics come from maintained libraries: ``pingouin.intraclass_corr``
for the ICC and its confidence interval, ``scipy.stats`` for the t interval
of the bias and for r. The tests check them against the published worked
examples of Shrout & Fleiss (1979) and Bland & Altman (1986).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

ICC_FORM = "ICC(2,1), two-way random effects, absolute agreement, single measurement (Shrout & Fleiss 1979)"
LOA_Z = 1.96  # 95 % limits of agreement: bias ± 1.96 SD of the differences

# Column -> (unit, meaning): the pooled table, its CSV and the pages read this.
AGREEMENT_COLUMNS: dict[str, tuple[str, str]] = {
    "n": ("pairs", "Clips with a value from both the method and the reference."),
    "bias": ("unit", "Mean of (method - reference): positive = the method reads higher."),
    "bias_ci_low": ("unit", "Lower end of the bias's 95 % confidence interval (t distribution)."),
    "bias_ci_high": ("unit", "Upper end of the bias's 95 % confidence interval."),
    "mae": ("unit", "Mean absolute difference."),
    "sd": ("unit", "Standard deviation of the differences (n - 1)."),
    "loa_low": ("unit", "Lower 95 % limit of agreement: bias - 1.96 SD (Bland & Altman)."),
    "loa_high": ("unit", "Upper 95 % limit of agreement: bias + 1.96 SD."),
    "icc": ("", ICC_FORM + "."),
    "icc_ci_low": ("", "Lower end of the ICC's 95 % confidence interval."),
    "icc_ci_high": ("", "Upper end of the ICC's 95 % confidence interval."),
    "r": ("", "Pearson correlation of method and reference (agreement needs more than r)."),
    "r_ci_low": ("", "Lower end of r's 95 % confidence interval (Fisher z)."),
    "r_ci_high": ("", "Upper end of r's 95 % confidence interval."),
}


@dataclass
class Agreement:
    n: int = 0
    bias: float = np.nan
    bias_ci_low: float = np.nan
    bias_ci_high: float = np.nan
    mae: float = np.nan
    sd: float = np.nan
    loa_low: float = np.nan
    loa_high: float = np.nan
    icc: float = np.nan
    icc_ci_low: float = np.nan
    icc_ci_high: float = np.nan
    r: float = np.nan
    r_ci_low: float = np.nan
    r_ci_high: float = np.nan

    def as_dict(self, scale: float = 1.0) -> dict:
        """The numbers, with the ones in the measurement's unit multiplied by ``scale``."""
        out = asdict(self)
        for key, (unit, _) in AGREEMENT_COLUMNS.items():
            if unit == "unit":
                out[key] = out[key] * scale
        return out


def _pairs(method, reference) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(method, dtype=float)
    b = np.asarray(reference, dtype=float)
    if a.shape != b.shape:
        raise ValueError("method and reference need one value each per trial")
    keep = np.isfinite(a) & np.isfinite(b)
    return a[keep], b[keep]


def bias_interval(differences, confidence: float = 0.95) -> tuple[float, float]:
    """Confidence interval of the mean difference (t distribution, n - 1 degrees of freedom)."""
    from scipy import stats

    d = np.asarray(differences, dtype=float)
    if len(d) < 2:
        return np.nan, np.nan
    if np.std(d) == 0:
        return float(d.mean()), float(d.mean())
    low, high = stats.ttest_1samp(d, 0.0).confidence_interval(confidence)
    return float(low), float(high)


def icc(method, reference) -> tuple[float, float, float]:
    """ICC(2,1) of two raters (method, reference) over the trials, with its 95 % CI (pingouin)."""
    a, b = _pairs(method, reference)
    return icc_table(np.column_stack([a, b]))


def icc_table(ratings: np.ndarray, form: str = "ICC2") -> tuple[float, float, float]:
    """ICC of a targets x raters table, with its 95 % CI, from ``pingouin.intraclass_corr``.

    ``form`` is pingouin's name: ICC1, ICC2 (= ICC(2,1), absolute agreement), ICC3,
    ICC1k, ICC2k, ICC3k.
    """
    ratings = np.asarray(ratings, dtype=float)
    targets, raters = ratings.shape
    if targets < 3 or raters < 2 or np.ptp(ratings) == 0:
        return np.nan, np.nan, np.nan
    import pingouin

    long = pd.DataFrame(
        [(t, r, ratings[t, r]) for t in range(targets) for r in range(raters)],
        columns=["target", "rater", "rating"],
    )
    table = pingouin.intraclass_corr(long, targets="target", raters="rater", ratings="rating")
    row = table.set_index("Type").iloc[["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"].index(form)]
    low, high = row["CI95"]
    return float(row["ICC"]), float(low), float(high)


def pearson(method, reference) -> tuple[float, float, float]:
    """Pearson's r with its 95 % CI (scipy)."""
    from scipy import stats

    a, b = _pairs(method, reference)
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return np.nan, np.nan, np.nan
    result = stats.pearsonr(a, b)
    ci = result.confidence_interval(0.95)
    return float(result.statistic), float(ci.low), float(ci.high)


def agreement(method, reference, loa_z: float = LOA_Z) -> Agreement:
    """Bland-Altman agreement, ICC(2,1) and r of paired measurements (NaN pairs left out)."""
    a, b = _pairs(method, reference)
    out = Agreement(n=len(a))
    if not len(a):
        return out
    d = a - b
    out.bias = float(d.mean())
    out.mae = float(np.abs(d).mean())
    if len(d) >= 2:
        out.sd = float(d.std(ddof=1))
        out.loa_low = out.bias - loa_z * out.sd
        out.loa_high = out.bias + loa_z * out.sd
        out.bias_ci_low, out.bias_ci_high = bias_interval(d)
    out.icc, out.icc_ci_low, out.icc_ci_high = icc(a, b)
    out.r, out.r_ci_low, out.r_ci_high = pearson(a, b)
    return out


def mean_or_nan(values) -> float:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else np.nan


def calibration_offset(frame_bias: float) -> int | None:
    """Whole frames to add to a detected event so that, on average, it meets the reference."""
    if not math.isfinite(frame_bias):
        return None
    return int(-round(frame_bias))


__all__ = [
    "AGREEMENT_COLUMNS",
    "Agreement",
    "ICC_FORM",
    "agreement",
    "bias_interval",
    "calibration_offset",
    "icc",
    "icc_table",
    "pearson",
]
