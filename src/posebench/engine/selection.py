"""Which backends of a run can be compared, and which one is the baseline by default.

One rule for the dashboard, the verdict, the analyses and the CLI:

- a backend is **usable** when it ran (status "ok") and timed at least one frame;
- the **default baseline** is the one chosen when the run has it, else the first
  MediaPipe configuration that ran, else the first that ran, else the first
  MediaPipe one, else the first backend;
- a comparison needs two usable backends, and a baseline and candidate that ran.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from posebench.backends import backend_config


def labels(summary: pd.DataFrame | None) -> list[str]:
    """Backend labels of a summary table, in the order they ran."""
    if summary is None or not len(summary) or "backend" not in summary.columns:
        return []
    return [str(label) for label in summary["backend"].tolist()]


def usable(summary: pd.DataFrame | None) -> list[str]:
    """Labels of the backends that ran ("ok") and have timed frames."""
    if summary is None or not len(summary):
        return []
    keep = pd.Series(True, index=summary.index)
    if "status" in summary.columns:
        keep &= summary["status"] == "ok"
    if "frames" in summary.columns:
        keep &= summary["frames"].fillna(0) > 0
    return [str(label) for label in summary.loc[keep, "backend"].tolist()]


def pick_baseline(
    names: Sequence[str],
    families: Sequence[str] | None = None,
    ran: Sequence[bool] | None = None,
    chosen: str | None = None,
) -> str:
    """The default-baseline rule on plain lists (see the module's docstring); ``chosen`` (or "")
    when there are no names."""
    names = list(names)
    if not names:
        return chosen or ""
    if chosen in names:
        return chosen
    families = list(families) if families is not None else [""] * len(names)
    ran = list(ran) if ran is not None else [True] * len(names)
    base = backend_config.baseline_family()  # the app's current pose estimator: what the others replace
    ranked = (
        [n for n, fam, good in zip(names, families, ran) if good and fam == base]
        + [n for n, good in zip(names, ran) if good]
        + [n for n, fam in zip(names, families) if fam == base]
        + names
    )
    return ranked[0]


def default_baseline(summary: pd.DataFrame | None, chosen: str | None = None) -> str:
    """The baseline of a run's summary: ``chosen`` when the run has it, else the default rule
    (``chosen`` or "" when the summary has no backends)."""
    names = labels(summary)
    if summary is None or not names:
        return chosen or ""
    families = summary["family"].astype(str).tolist() if "family" in summary.columns else [""] * len(names)
    good = set(usable(summary))
    return pick_baseline(names, families, [n in good for n in names], chosen)


def baseline_or_first(chosen: str | None, names: Sequence[str]) -> str:
    """``chosen`` when it is one of ``names``, else the first name (tables without families);
    "" when there are no names."""
    names = list(names)
    if chosen is not None and chosen in names:
        return chosen
    return names[0] if names else ""


def why_not_comparable(
    summary: pd.DataFrame, baseline: str | None, candidate: str | None = None
) -> str | None:
    """One sentence when the run cannot give a fair comparison, else None."""
    good = usable(summary)
    if len(good) < 2:
        return (
            f"Only {len(good)} of the run's {len(summary)} backends ran and timed "
            "frames; a comparison needs two, so run the benchmark again with backends "
            "that work here."
        )
    for role, label in (("baseline", baseline), ("candidate", candidate)):
        if label is not None and label not in good:
            return (
                f"The {role} {label} failed or has no timed frames in this run; pick one "
                f"that ran ({', '.join(good)})."
            )
    return None
