"""The detail scores below the headline verdict, for one run.

(a) **Performance feasibility** (the original study): 0-4 points, one per
    criterion - FPS ≥ 80 % of the baseline's, mean latency ≤ 50 ms,
    optimisation potential, production readiness: 4 go, 3 conditional,
    0-2 no-go.
(b) **Decision framework** (the study plan): Technical 25 %, Performance
    25 %, Accuracy 30 %, Robustness 20 %, each scored 1-4 from measured
    inputs on threshold ladders; the weighted score falls in a band and the
    must-meet criteria are flagged.

The rules are the tables in ``decision_rules.py``; the inputs come from ``scorecard_inputs.py``.
These scores are the detail: the headline is ``headline_verdict.decide``.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from posebench.analysis import stability
from posebench.decision.decision_rules import (
    BANDS,
    DIMENSIONS,
    FEASIBILITY,
    FEASIBILITY_VERDICTS,
    INPUTS,
    LADDERS,
    MUST_MEET,
    OPS,
    SYMBOLS,
    TARGETS,
)
from posebench.decision.numbers import fmt, is_number
from posebench.decision.scorecard_inputs import measure
from posebench.decision.scorecard_settings import Settings, settings_for
from posebench.engine import selection

# Column -> (unit, meaning) of every detail table (the page's tables read this).
DETAIL_COLUMNS: dict[str, tuple[str, str]] = {
    "criterion": ("", "What is scored."),
    "measured": ("", "The measured value, with its unit."),
    "points": ("points", "1 when the criterion is met, else 0."),
    "rule": ("", "The rule with the thresholds in force (editable)."),
    "met": ("", "Whether the rule holds."),
    "overridden": ("", "An input of it was typed in by hand instead of measured."),
    "source": ("", "Where the value was measured."),
    "dimension": ("", "One of the framework's four dimensions."),
    "weight": ("share", "The dimension's weight in the weighted score."),
    "score": ("1-4", "Score on the framework's 1-4 scale (empty: not measured)."),
    "weighted": ("1-4", "Weight × score."),
    "measured_inputs": ("", "Inputs of the dimension that could be measured."),
    "value": ("1-4", "The combined score the must-meet rule reads."),
    "minimum": ("1-4", "The lowest score the rule allows."),
    "how": ("", "How the dimensions combine: mean, weighted (30:20) or sum."),
    "target": ("", "The study plan's accuracy target."),
    "input": ("", "The measured input (see docs/scorecard.md)."),
    "candidate": ("", "The configuration judged against the baseline."),
    "feasibility_points": ("points", "The original study's speed-only score, 0-4."),
    "feasibility_verdict": ("", "go (4), conditional (3) or no-go (0-2) on speed alone."),
    "framework_score": ("1-4", "The framework's weighted score."),
    "band": ("", "The framework's band for that score."),
    "recommendation": ("", "The band, or keep MediaPipe when a must-meet criterion is missed."),
}


@dataclass
class Score:
    """A detail score's outcome (not the headline verdict)."""

    decision: str  # go | conditional | no-go, or the framework's band
    sentence: str  # the verdict in one sentence
    rests_on: list[str]  # the measured facts it rests on
    score: float
    max_score: float
    baseline: str
    candidate: str
    flags: list[str] = field(default_factory=list)  # overrides, unmeasured inputs, failed must-meets


def _threshold(ref, thresholds: dict[str, float]) -> float:
    return float(thresholds[ref]) if isinstance(ref, str) else float(ref)


def _rule_text(key: str, op: str, ref, thresholds) -> str:
    limit = _threshold(ref, thresholds)
    unit = INPUTS[key][0]
    if unit == "yes=1":
        return f"{key} is {fmt(limit, unit)}"
    return f"{key} {SYMBOLS[op]} {fmt(limit, unit)}"


def feasibility(
    inputs: pd.DataFrame, thresholds: dict[str, float], baseline: str, candidate: str
) -> tuple[pd.DataFrame, Score]:
    """The 0-4 score: one row per criterion (input, measured value, rule, met, points)."""
    values = inputs.set_index("input")
    rows = []
    for template, conditions in FEASIBILITY:
        title = template.format(**thresholds)
        met, measured, rules, overridden = True, [], [], False
        for key, op, ref in conditions:
            value = values.loc[key, "value"]
            ok = is_number(value) and OPS[op](float(value), _threshold(ref, thresholds))
            met = met and bool(ok)
            measured.append(f"{key} = {fmt(value, INPUTS[key][0])}")
            rules.append(_rule_text(key, op, ref, thresholds))
            overridden = overridden or bool(values.loc[key, "overridden"])
        rows.append(
            {
                "criterion": title,
                "measured": "; ".join(measured),
                "rule": " and ".join(rules),
                "met": met,
                "points": int(met),
                "overridden": overridden,
                "source": "; ".join(str(values.loc[k, "source"]) for k, _o, _r in conditions),
            }
        )
    table = pd.DataFrame(rows)
    points = int(table["points"].sum())
    decision = next(v for minimum, v in FEASIBILITY_VERDICTS if points >= minimum)
    missed = table.loc[~table["met"], "criterion"].tolist()
    flags = [f"input overridden: {r['criterion']}" for _, r in table.iterrows() if r["overridden"]]
    rests = [
        f"{r['criterion']}: {r['measured']} ({'met' if r['met'] else 'not met'})" for _, r in table.iterrows()
    ]
    why = "all four criteria are met" if not missed else "not met: " + "; ".join(missed)
    sentence = (
        f"{decision.capitalize()}: {candidate} scores {points}/4 against {baseline} "
        f"on performance feasibility ({why})."
    )
    return table, Score(decision, sentence, rests, points, 4, baseline, candidate, flags)


def ladder_score(value: float, better: str, cuts: tuple[float, ...]) -> float:
    """4, 3, 2 or 1 from the cuts; NaN when the value was not measured."""
    if not is_number(value):
        return np.nan
    op = operator.ge if better == "higher" else operator.le
    for points, cut in zip((4, 3, 2), cuts):
        if op(float(value), cut):
            return float(points)
    return 1.0


@dataclass
class Framework:
    criteria: pd.DataFrame  # one row per sub-criterion: input, value, rule, score
    dimensions: pd.DataFrame  # one row per dimension: weight, score, weighted
    must_meet: pd.DataFrame  # one row per must-meet criterion: value, minimum, met
    targets: pd.DataFrame  # the accuracy targets: value, rule, met
    verdict: Score


def framework(inputs: pd.DataFrame, thresholds: dict[str, float], baseline: str, candidate: str) -> Framework:
    values = inputs.set_index("input")
    rows = []
    for dim, key, better, *raw_cuts in LADDERS:
        cuts = tuple(_threshold(c, thresholds) for c in raw_cuts)
        unit = INPUTS[key][0]
        sign = "≥" if better == "higher" else "≤"
        if len(set(cuts)) == 1:  # a yes/no input: 4 or 1
            limit = fmt(cuts[0], unit)
            rule = f"4 if {limit}, else 1" if unit == "yes=1" else f"4 if {sign} {limit}, else 1"
        else:
            rule = ", ".join(f"{p} if {sign} {fmt(c, unit)}" for p, c in zip((4, 3, 2), cuts)) + ", else 1"
        value = values.loc[key, "value"]
        rows.append(
            {
                "dimension": dim,
                "input": key,
                "measured": fmt(value, unit),
                "value": value,
                "rule": rule,
                "score": ladder_score(value, better, cuts),
                "overridden": bool(values.loc[key, "overridden"]),
                "source": values.loc[key, "source"],
            }
        )
    criteria = pd.DataFrame(rows)
    dim_rows = []
    for dim, weight in DIMENSIONS.items():
        scores = criteria.loc[criteria["dimension"] == dim, "score"]
        measured = scores.dropna()
        score = float(measured.mean()) if len(measured) else np.nan
        dim_rows.append(
            {
                "dimension": dim,
                "weight": weight,
                "score": score,
                "weighted": weight * score if np.isfinite(score) else np.nan,
                "measured_inputs": f"{len(measured)} of {len(scores)}",
            }
        )
    dims = pd.DataFrame(dim_rows)
    scored = dims[dims["score"].notna()]
    total = (
        float((scored["weight"] * scored["score"]).sum() / scored["weight"].sum()) if len(scored) else np.nan
    )
    dim_score = dims.set_index("dimension")["score"]
    must_rows = []
    for name, names, combine, minimum in MUST_MEET:
        parts = dim_score[list(names)]
        if combine == "sum":
            value = float(parts.sum()) if parts.notna().all() else np.nan
        elif combine == "weighted":
            w = np.array([DIMENSIONS[n] for n in names])
            value = float((parts.to_numpy() * w).sum() / w.sum()) if parts.notna().all() else np.nan
        else:
            value = float(parts.mean()) if parts.notna().all() else np.nan
        must_rows.append(
            {
                "criterion": name,
                "value": value,
                "minimum": minimum,
                "how": combine,
                "met": bool(np.isfinite(value) and value >= minimum),
            }
        )
    must = pd.DataFrame(must_rows)
    target_rows = []
    for name, key, op, ref in TARGETS:
        value = values.loc[key, "value"]
        bound = _threshold(ref, thresholds)
        target_rows.append(
            {
                "target": f"{name} {SYMBOLS[op]} {fmt(bound, INPUTS[key][0])}",
                "measured": fmt(value, INPUTS[key][0]),
                "met": bool(is_number(value) and OPS[op](float(value), bound)),
                "measured_at_all": is_number(value),
            }
        )
    targets = pd.DataFrame(target_rows)
    verdict = _framework_verdict(criteria, dims, must, total, baseline, candidate)
    return Framework(criteria, dims, must, targets, verdict)


def band_for(score: float) -> str:
    if not np.isfinite(score):
        return "not scored"
    return next((name for minimum, name in BANDS if score >= minimum), BANDS[-1][1])


def _framework_verdict(criteria, dims, must, total, baseline, candidate) -> Score:
    band = band_for(total)
    flags = []
    unmeasured = criteria.loc[criteria["score"].isna(), "input"].tolist()
    if unmeasured:
        flags.append("not measured (left out of the dimension mean): " + ", ".join(unmeasured))
    missing_dims = dims.loc[dims["score"].isna(), "dimension"].tolist()
    if missing_dims:
        flags.append("dimension not scored, weights renormalised: " + ", ".join(missing_dims))
    overridden = criteria.loc[criteria["overridden"], "input"].tolist()
    if overridden:
        flags.append("overridden by the user: " + ", ".join(overridden))
    failed = [
        r.criterion if np.isfinite(r.value) else f"{r.criterion} (not measured)"
        for r in must.itertuples()
        if not r.met
    ]
    if failed:
        flags.append("must-meet not met: " + "; ".join(failed))
    rests = [
        f"{r.dimension} {r.score:.2f}/4 × {r.weight:.0%}"
        if np.isfinite(r.score)
        else f"{r.dimension} not scored"
        for r in dims.itertuples()
    ]
    decision = band if not failed else "keep MediaPipe"
    if not np.isfinite(total):
        sentence = f"{candidate} could not be scored against {baseline}: no dimension was measured."
    elif failed:
        sentence = (
            f"{candidate} scores {total:.2f}/4 against {baseline} (band: {band}), but "
            f"misses the must-meet criteria {'; '.join(failed)}, so keep MediaPipe "
            "until they are met."
        )
    else:
        sentence = (
            f"{candidate} scores {total:.2f}/4 against {baseline}: {band} (all must-meet criteria met)."
        )
    if unmeasured or overridden:
        sentence += " Some inputs are unmeasured or overridden; see the flags."
    return Score(decision, sentence, rests, total, 4.0, baseline, candidate, flags)


# -- everything for one run --------------------------------------------------------------
@dataclass
class Scorecard:
    settings: Settings
    inputs: pd.DataFrame
    feasibility: pd.DataFrame
    feasibility_verdict: Score
    framework: Framework
    candidates: pd.DataFrame  # one row per candidate: points, framework score, band


def candidates_of(run, baseline: str) -> list[str]:
    ok = run.summary[run.summary["status"] == "ok"]["backend"].tolist()
    return [b for b in run.summary["backend"].tolist() if b != baseline and b in ok] or [
        b for b in run.summary["backend"].tolist() if b != baseline
    ]


def evaluate(run, settings: Settings | None = None, jump_table: pd.DataFrame | None = None) -> Scorecard:
    """Both scorecards for the settings' candidate (default: the best framework score)."""
    settings = settings or settings_for(run)
    labels = run.summary["backend"].tolist()
    if len(labels) < 2:
        raise ValueError("a scorecard needs a baseline and at least one other backend")
    baseline = selection.default_baseline(run.summary, settings.baseline)
    jitter = stability.jitter_overview(run.frames, run.clip.fps, baseline) if len(run.frames) else None
    overview, scored = [], {}
    for cand in candidates_of(run, baseline):
        inputs = measure(run, baseline, cand, jump_table, settings.overrides.get(cand), jitter)
        feas, fv = feasibility(inputs, settings.thresholds, baseline, cand)
        fw = framework(inputs, settings.thresholds, baseline, cand)
        scored[cand] = (inputs, feas, fv, fw)
        overview.append(
            {
                "candidate": cand,
                "feasibility_points": fv.score,
                "feasibility_verdict": fv.decision,
                "framework_score": fw.verdict.score,
                "band": band_for(fw.verdict.score),
                "recommendation": fw.verdict.decision,
            }
        )
    table = pd.DataFrame(overview)
    chosen = (
        settings.candidate
        if settings.candidate in scored
        else table.sort_values(
            ["framework_score", "feasibility_points"], ascending=False, na_position="last"
        )["candidate"].iloc[0]
    )
    inputs, feas, fverdict, fw = scored[chosen]
    settings = Settings(
        baseline=baseline, candidate=chosen, thresholds=settings.thresholds, overrides=settings.overrides
    )
    return Scorecard(settings, inputs, feas, fverdict, fw, table)
