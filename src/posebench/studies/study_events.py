"""A study run with a named event setting per backend (issue 23).

``Study.events`` maps a backend's label to an event setting
(``analysis.event_settings``); a job of a backend with a setting other than
``app-current`` times its jump with that setting (``studies.study_jobs``). A setting
whose calibration is *learned* gets, on every clip, the whole-frame offsets
learned on the study's other clips (leave-one-athlete-out when the clips name
more than one athlete, else leave-one-clip-out), never on the clip judged; so
the study's errors are cross-validated, and its verdict says so and names the
settings.
"""

from __future__ import annotations

import math

import numpy as np

from posebench import backends
from posebench.analysis import event_search, event_settings, paired_comparison
from posebench.analysis.event_settings import APP_CURRENT
from posebench.analysis.jump_metrics import GRAVITY
from posebench.core.errors import InputError


def resolve(events: dict[str, str], labels: list[str]) -> dict[str, str]:
    """``{backend spec or label: setting}`` -> ``{label: setting}``; refuses unknown names."""
    out = {}
    for key, setting in (events or {}).items():
        label = key if key in labels else _label(key)
        if label not in labels:
            raise InputError(
                f"--events names {key}, which is not one of the study's backends ({', '.join(labels)})"
            )
        event_settings.get(setting)
        out[label] = setting
    return out


def _label(spec: str) -> str:
    try:
        return backends.parse(spec).display
    except Exception:
        return spec


def setting_of(study, label: str) -> str:
    return (study.events or {}).get(label, APP_CURRENT)


def calibrate_rows(study, rows: list[dict]) -> list[dict]:
    """Rows with each one's event setting named, and learned calibration applied out of fold."""
    if not study.events:
        return rows
    clips = [c.name for c in study.clips]
    folds, _ = event_search.folds_for(clips, [getattr(c, "athlete", "") for c in study.clips])
    fold_of = dict(zip(clips, folds))
    refs = study.references()
    out = [{**r, "event_setting": setting_of(study, str(r.get("backend", "")))} for r in rows]
    for label, name in study.events.items():
        if not event_settings.get(name).learns:
            continue
        mine = [r for r in out if r.get("backend") == label and r.get("status") == "ok"]
        tk, ld, fo = [], [], []
        for r in mine:
            ref = refs.get(str(r.get("sha256", "")))
            has = ref is not None and ref.has_frames
            tk.append(float(r["takeoff_frame"]) - ref.takeoff_frame if has else math.nan)
            ld.append(float(r["landing_frame"]) - ref.landing_frame if has else math.nan)
            fo.append(fold_of.get(str(r.get("clip", "")), str(r.get("clip", ""))))
        for r, (t_off, l_off) in zip(mine, event_search.out_of_fold_offsets(tk, ld, fo)):
            fps = float(r.get("fps_clip") or np.nan)
            r["takeoff_frame"] = float(r["takeoff_frame"]) + t_off
            r["landing_frame"] = float(r["landing_frame"]) + l_off
            r["flight_time_s"] = (r["landing_frame"] - r["takeoff_frame"]) / fps
            r["jump_height_m"] = GRAVITY * r["flight_time_s"] ** 2 / 8
            r["calibration_frames"] = f"take-off {t_off:+d}, landing {l_off:+d} (learned on the other clips)"
    return out


def errors_words(study, labels: list[str]) -> str:
    """How the paired comparison's per-clip errors of ``labels`` were obtained: cross-validated
    when one of their settings learns a calibration, else as measured (with the settings named
    when the study names any)."""
    if not study.events:
        return paired_comparison.AS_MEASURED
    learned = [label for label in labels if _learns(setting_of(study, label))]
    named = ", ".join(f"{label}: {setting_of(study, label)}" for label in labels)
    if not learned:
        return f"{paired_comparison.AS_MEASURED} (event settings {named}; none learns a calibration)"
    athletes = {getattr(c, "athlete", "") for c in study.clips} - {""}
    left_out = "athlete" if len(athletes) > 1 else "clip"
    return (
        f"cross-validated: the calibration of {', '.join(learned)} is learned leave-one-{left_out}-out, "
        f"never on the jump judged (event settings {named})"
    )


def _learns(name: str) -> bool:
    try:
        return event_settings.get(name).learns
    except InputError:
        return False


def sentence(study, summary=None) -> str:
    """What the study compares: the backends with their event settings, and how the errors were judged."""
    if not study.events:
        return ""
    labels = [backends.parse(b).display for b in study.backends]
    named = "; ".join(
        f"{label}: {setting_of(study, label)} ({_words(setting_of(study, label))})" for label in labels
    )
    athletes = {getattr(c, "athlete", "") for c in study.clips} - {""}
    left_out = "athlete" if len(athletes) > 1 else "clip"
    text = (
        f"This study compares the backends with these jump-event settings - {named}. "
        "The flight-time errors are cross-validated: calibration offsets, where a setting learns them, "
        f"are learned leave-one-{left_out}-out, never on the jump judged; the other levers are fixed data "
        "(if you picked them with `posebench events` on these same clips, its cross-validated error is the "
        "honest one)."
    )
    plain = plain_statement(study, summary)
    return f"{text} {plain}".strip()


def _words(name: str) -> str:
    try:
        return event_settings.get(name).summary()
    except InputError:
        return name


def plain_statement(study, summary) -> str:
    """ "with toes-only landing, RTMPose's cross-validated flight-time error is X ms against MediaPipe's
    Y ms with the app's current settings" (from the study's pooled MAE)."""
    if summary is None or not len(summary) or "flight_time_mae_ms" not in summary.columns:
        return ""
    table = summary.set_index("backend")
    labels = [backends.parse(b).display for b in study.backends]
    base = labels[0]
    if base not in table.index or not np.isfinite(float(table.loc[base, "flight_time_mae_ms"])):
        return ""
    parts = []
    for label in labels[1:]:
        if label not in table.index or not np.isfinite(float(table.loc[label, "flight_time_mae_ms"])):
            continue
        parts.append(
            f"with {setting_of(study, label)}, {label}'s cross-validated flight-time error is "
            f"{float(table.loc[label, 'flight_time_mae_ms']):.0f} ms against {base}'s "
            f"{float(table.loc[base, 'flight_time_mae_ms']):.0f} ms with "
            + (
                "the app's current settings"
                if setting_of(study, base) == APP_CURRENT
                else setting_of(study, base)
            )
        )
    if not parts:
        return ""
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:]


def say_settings(study, verdict, summary=None):
    """The verdict, its reason opened by what it compares (the settings) when the study names any."""
    if verdict is None or not study.events:
        return verdict
    text = sentence(study, summary)
    verdict.reason = f"{text} {verdict.reason}"
    verdict.evidence = {
        **(verdict.evidence or {}),
        "event_settings": {
            backends.parse(b).display: setting_of(study, backends.parse(b).display) for b in study.backends
        },
    }
    return verdict


__all__ = [
    "APP_CURRENT",
    "calibrate_rows",
    "errors_words",
    "plain_statement",
    "resolve",
    "say_settings",
    "sentence",
]

# Columns a study with event settings adds to study_clips.csv: column -> (unit, meaning).
EVENT_COLUMNS: dict[str, tuple[str, str]] = {
    "event_setting": ("", "The event setting the backend's jump was timed with (app-current: the app's)."),
    "calibration_frames": (
        "frames",
        "Learned calibration added to take-off and landing, learned on the other clips.",
    ),
}
