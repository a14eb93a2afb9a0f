"""The headline verdict: replace, keep or undecided, in one sentence with its numbers.

``decide(evidence, rules=None, candidate=None) -> Verdict`` judges an
``verdict_evidence.Evidence`` (one run, or a study pooled over many clips) by the
rules in ``decision_rules.py`` (``rules`` overrides the editable thresholds: margins,
speed bar, minimum clips):

- **Accuracy** is decided by error against a reference whenever there is one
  (a known flight time, or reference take-off/landing frames). Both backends
  are measured against it the same way, and the candidate may be worse than
  the baseline by at most ``accuracy_margin_ms`` (flight time) and
  ``frame_margin_frames`` (take-off and landing frames). Agreement with the
  baseline decides only when there is no reference; the sentence then says
  so and names the evidence that would settle it.
- **Detection** may drop by at most ``detection_drop_max_pts``; **speed**
  must reach ``fps_ratio_min`` of the baseline's across the run's spread of
  rounds (a single pass counts, and the notes say it is weaker evidence).
- **Nothing unmeasured passes**: a criterion that could not be measured is
  ``not measured`` and the decision cannot be ``replace``.
- A ``replace`` needs at least ``min_clips`` clips; with fewer the decision
  is ``undecided`` and the sentence says how many more clips are needed.

Without ``candidate`` every other backend is judged and the best one is the
headline (``Verdict.others`` keeps the rest). ``Verdict.to_json()`` is the
content of ``verdict.json``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from posebench.decision import decision_rules, speed_evidence, verdict_criteria
from posebench.decision.numbers import is_number, number
from posebench.decision.verdict_criteria import Criterion
from posebench.decision.verdict_evidence import BackendEvidence, Evidence
from posebench.io.files import write_atomic


@dataclass
class Verdict:
    decision: str  # replace | keep | undecided
    headline: str  # e.g. "Keep mediapipe-lite"
    reason: str  # one plain sentence with the deciding reason and its numbers
    baseline: str
    candidate: str
    candidate_words: str  # the candidate's configuration in plain words
    evidence: dict  # what accuracy was judged against (reference or fallback), clips, source
    criteria: list[Criterion]
    notes: list[str] = field(default_factory=list)  # machine state, single pass, ...
    others: list[dict] = field(default_factory=list)  # the other candidates' decisions
    machine: str = ""  # the machine the speed criterion (and so the headline) speaks for
    paired: dict = field(default_factory=dict)  # the paired accuracy comparison (a study)
    clusters: dict = field(default_factory=dict)  # the athletes behind it
    speed_source: dict = field(default_factory=dict)  # the measurement speed was judged on
    targets: list[dict] = field(default_factory=list)  # one row per deployment target

    @property
    def unmeasured(self) -> list[Criterion]:
        return [c for c in self.criteria if c.status in decision_rules.UNSETTLED_STATES]

    def to_json(self) -> dict:
        def clean(value):
            if isinstance(value, float):
                return None if math.isnan(value) else round(value, 6)
            return value

        return {
            "decision": self.decision,
            "headline": self.headline,
            "reason": self.reason,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "candidate_settings": self.candidate_words,
            "evidence": self.evidence,
            "criteria": [{k: clean(v) for k, v in asdict(c).items()} for c in self.criteria],
            "notes": self.notes,
            "others": self.others,
            "machine": self.machine,
            "paired": self.paired,
            "clusters": self.clusters,
            "speed_source": self.speed_source,
            "targets": self.targets,
        }


def write_json(verdict: Verdict, path: Path) -> Path:
    """Write ``verdict.json`` atomically."""
    write_atomic(Path(path), json.dumps(verdict.to_json(), indent=2, ensure_ascii=False).encode("utf-8"))
    return Path(path)


def rules_with(overrides: dict | None = None) -> dict[str, float]:
    values = decision_rules.default_thresholds()
    values.update(
        {k: float(v) for k, v in (overrides or {}).items() if k in decision_rules.THRESHOLDS and is_number(v)}
    )
    return values


def decide(evidence: Evidence, rules: dict | None = None, candidate: str | None = None) -> Verdict:
    """The headline verdict on ``evidence`` (see the module docstring)."""
    thresholds = rules_with(rules)
    if evidence.baseline not in evidence.backends:
        raise ValueError(f"the baseline {evidence.baseline} has no evidence")
    names = [candidate] if candidate else evidence.candidates()
    names = [n for n in names if n in evidence.backends and n != evidence.baseline]
    if not names:
        raise ValueError("a verdict needs a baseline and at least one other backend")
    judged = [_judge(evidence, name, thresholds) for name in names]
    best = min(judged, key=lambda v: _rank(v, evidence))
    if evidence.speed is not None:
        for v in judged:
            v.targets = [target_row(v, evidence.speed)]
    best.others = [other_entry(v) for v in judged if v is not best]
    return best


def other_entry(v: Verdict) -> dict:
    """A candidate that is not the headline, as ``verdict.json``'s ``others`` holds it: its
    decision and sentence, and the same evidence blocks as the headline's (``paired``,
    ``clusters``, ``speed_source``, ``targets``)."""
    return {
        "candidate": v.candidate,
        "decision": v.decision,
        "headline": v.headline,
        "reason": v.reason,
        "candidate_settings": v.candidate_words,
        "paired": v.paired,
        "clusters": v.clusters,
        "speed_source": v.speed_source,
        "targets": list(v.targets),
    }


def _rank(verdict: Verdict, evidence: Evidence) -> tuple:
    cand = evidence.backends[verdict.candidate]
    error = cand.flight_abs_error_ms if evidence.has_reference else cand.flight_diff_ms
    return (
        decision_rules.DECISION_RANK[verdict.decision],
        error if is_number(error) else math.inf,
        -cand.fps if is_number(cand.fps) else math.inf,
    )


# -- the decision -----------------------------------------------------------------------
def headline_for(
    decision: str, baseline: str, candidate: str, source: speed_evidence.SpeedSource | None
) -> str:
    """The headline, for a run and a study alike: the decision and the machine it speaks for
    (the one its speed evidence was measured on, or would be: speed depends on the machine).
    Without a speed source there is no machine to name."""
    headline = decision_rules.DECISIONS[decision].format(baseline=baseline, candidate=candidate)
    if source is not None:
        headline += f" on {source.host or source.machine}"
    return headline


def _judge(e: Evidence, candidate: str, t: dict) -> Verdict:
    b, c = e.backends[e.baseline], e.backends[candidate]
    if candidate in e.paired:
        e = replace(
            e,
            paired={
                **e.paired,
                candidate: verdict_criteria.with_margin(e.paired[candidate], t["accuracy_margin_ms"]),
            },
        )
    criteria, notes = verdict_criteria.of_candidate(e, c, b, t)
    clips = next(k for k in criteria if k.key == "clips")
    decision, why = _decision(criteria, clips)
    src = e.speed
    headline = headline_for(decision, b.label, c.label, src)
    if e.kind == "study" and c.label in e.paired and e.paired[c.label].n > 0:
        why = _study_why(criteria, decision, clips)
    reason = f"{headline}: {why}." + _fallback(e.evidence_kind, b, criteria, decision)
    pair = e.paired.get(c.label)
    cluster = e.clusters.get(c.label)
    return Verdict(
        decision,
        headline,
        reason,
        b.label,
        c.label,
        c.words,
        _evidence_facts(e, b, c, clips),
        criteria,
        notes,
        machine=src.machine if src is not None else "",
        paired=pair.to_dict() if pair is not None else {},
        clusters=cluster.to_dict() if cluster is not None else {},
        speed_source=src.to_dict() if src is not None else {},
    )


def _unmet(criteria: list[Criterion]) -> list[Criterion]:
    """The must-meet criteria not met (a too small clip count makes undecided, not keep)."""
    return [k for k in criteria if k.status == "unmet" and k.key != "clips" and k.must_meet]


def _decision(criteria: list[Criterion], clips: Criterion) -> tuple[str, str]:
    """Keep (a must-meet criterion not met), undecided (one not measured, or too few clips)
    or replace, with why in words; the first criterion (accuracy) leads the sentence."""
    unmet = _unmet(criteria)
    missing = [k for k in criteria if k.status in decision_rules.UNSETTLED_STATES and k.must_meet]
    first = criteria[0]  # the accuracy (or agreement) criterion
    if unmet:
        why = unmet[0].detail
        if unmet[0] is not first and first.status == "met":
            why += f", although {first.detail}"
        return "keep", why
    if missing:
        why = "; ".join(k.detail for k in missing) + ", so it cannot be judged"
        if first not in missing:  # what was measured comes first (accuracy), then what was not
            why = f"{first.detail}; but {why}"
        return "undecided", why
    if clips.status == "unmet":
        return "undecided", f"{first.detail}, and every other criterion is met, but {clips.detail}"
    n = int(clips.measured)
    return "replace", f"{first.detail}; every criterion is met on {n} clip{'s' if n != 1 else ''}"


def _fallback(kind: str, b: BackendEvidence, criteria: list[Criterion], decision: str) -> str:
    """Without a reference only agreement was judged: the sentence that says so (with a
    leading space), unless a criterion other than agreement decided to keep."""
    if kind != "agreement":
        return ""
    if decision == "keep" and _unmet(criteria)[0] is not criteria[0]:
        return ""
    return (
        f" There is no reference, so only agreement with {b.label} was judged; agreement is not "
        f"accuracy, and {decision_rules.SETTLING_EVIDENCE} would settle it."
    )


def _evidence_facts(e: Evidence, b: BackendEvidence, c: BackendEvidence, clips: Criterion) -> dict:
    """What the verdict rests on, as verdict.json's ``evidence``."""
    kind = e.evidence_kind
    return {
        "kind": kind,
        "judged_against": e.reference_text
        if kind != "agreement"
        else (f"agreement with {b.label} only, in place of accuracy, because the clip has no reference"),
        "reference": e.reference.to_dict() if e.reference is not None else None,
        "n_clips": int(clips.measured),
        "source": e.source,
        "would_settle_it": decision_rules.SETTLING_EVIDENCE if kind == "agreement" else "",
        "calibration_applied": {x.label: x.calibration_applied for x in (b, c)},
    }


def _study_why(criteria: list[Criterion], decision: str, clips: Criterion) -> str:
    """A study's sentence: the paired accuracy first, then what else decided, and the speed
    with the machine it was measured on (it is named whether it decided or not)."""
    parts = [criteria[0].detail]
    for k in criteria[1:]:
        if k.key == "speed" or (k.status != "met" and k.key != "clips"):
            parts.append(k.detail)
    if clips.status != "met":
        parts.append(clips.detail)
    elif decision == "replace":
        n = int(clips.measured)
        parts.append(f"every criterion is met on {n} clip{'s' if n != 1 else ''}")
    return "; ".join(parts)


# -- deployment targets -------------------------------------------------------------------
# Column -> (unit, meaning) of the verdict's matrix (verdict.json's ``targets``, the pages' table).
TARGET_COLUMNS: dict[str, tuple[str, str]] = {
    "target": ("", "The deployment target: the machine the speed was measured on."),
    "speed_source": ("", "The speed measurement (a run with rounds), or none."),
    "speed": ("× baseline", "The candidate's frames per second over the baseline's there."),
    "speed_holds": ("", "met, NOT met, or not measured (none, or measured on a busy machine)."),
    "accuracy": ("", "The shared accuracy answer (accuracy does not depend on the machine)."),
    "decision": ("", "replace, keep or undecided for that target."),
    "candidate": ("", "The candidate judged for that target."),
}


def with_speed(evidence: Evidence, source: speed_evidence.SpeedSource) -> Evidence:
    """The evidence with its speed figures taken from ``source`` (NaN where it has none)."""
    backends = {}
    for label, ev in evidence.backends.items():
        figures = source.fps.get(label, {}) if source.kind == "run" else {}
        backends[label] = replace(
            ev,
            fps=number(figures.get("fps")),
            fps_min=number(figures.get("fps_min")),
            fps_max=number(figures.get("fps_max")),
            rounds=int(figures.get("rounds") or 1),
        )
    return replace(evidence, backends=backends, speed=source, paired=dict(evidence.paired))


def target_row(v: Verdict, source: speed_evidence.SpeedSource) -> dict:
    crit = {c.key: c for c in v.criteria}
    speed = crit.get("speed")
    accuracy = crit.get("accuracy") or crit.get("agreement")
    holds = speed.status if speed is not None else "not measured"
    if holds == "not measured" and source.busy:
        holds = "not measured reliably (busy)"
    return {
        "target": source.machine,
        "host": source.host,
        "cpu": source.cpu,
        "cores": source.cores,
        "gpu": source.gpu,
        "speed_source": source.source or "not measured",
        "speed": None if speed is None or not is_number(speed.measured) else round(speed.measured, 4),
        "speed_spread": speed.spread if speed is not None else "",
        "speed_holds": holds,
        "accuracy": v.paired.get("verdict") or (accuracy.status if accuracy is not None else ""),
        "decision": v.decision,
        "candidate": v.candidate,
        "reason": v.reason,
    }


def decide_for_targets(
    evidence: Evidence,
    sources: list[speed_evidence.SpeedSource],
    rules: dict | None = None,
    candidate: str | None = None,
) -> Verdict:
    """One decision per deployment target: the shared accuracy evidence, each target's own
    speed measurement (``speed_evidence.by_target``; no measurement: this machine, 'not measured').
    The first target is the headline; ``Verdict.targets`` holds every row."""
    targets = speed_evidence.by_target(list(sources)) or [speed_evidence.this_machine()]
    judged = [(decide(with_speed(evidence, src), rules, candidate), src) for src in targets]
    head = judged[0][0]
    head.targets = [target_row(v, src) for v, src in judged]
    # every other candidate gets its own row per target too (its own decision there)
    for other in head.others:
        name = other["candidate"]
        other["targets"] = [
            target_row(decide(with_speed(evidence, src), rules, name), src) for src in targets
        ]
    return head
