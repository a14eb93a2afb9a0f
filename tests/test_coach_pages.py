"""What a coach reads on the Accuracy, Scorecard and Study pages (issue 22): each sentence
once, no "differs by 0 ms", no raw "p = 1" or "– to –", empty reference inputs for "no value"."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pandas as pd
import pytest

from conftest import RUNNING, FakeBackend, page_test
from posebench import backends
from posebench.dashboard import jump_metrics_view, verdict_view
from posebench.decision import verdict_criteria, verdict_text
from posebench.engine.runner import run_benchmark
from posebench.store import run_store, sidecars
from posebench.store.run_record import RunOptions

pytestmark = pytest.mark.timeout(300)

BUSY_MACHINE = {  # as run.json's machine records a busy one
    "load_1min_start": 11.4,
    "load_1min_end": 17.6,
    "cores": 2,
    "foreign_cpu_pct": 160.0,
    "foreign_cpu_pct_min": 118.0,
    "foreign_cpu_pct_max": 166.0,
    "overlapped_runs": 15,
}


@pytest.fixture
def capped_busy_run(monkeypatch, results_root):
    """Two fake backends on 10 of the clip's 47 frames, timed on a busy machine, saved."""
    monkeypatch.setattr(backends, "create", lambda config, cache=None: FakeBackend(config.display))
    run = run_benchmark(
        str(RUNNING), ["mediapipe-lite", "rtmpose-lightweight-tuned"], RunOptions(max_frames=10, warmup=2)
    )
    run.extra["machine"] = {**dict(run.extra.get("machine") or {}), **BUSY_MACHINE}
    run_store.save(run)
    return run


def _texts(page) -> str:
    parts = [*page.success, *page.warning, *page.error, *page.info, *page.markdown, *page.caption]
    return "\n".join(str(p.value) for p in parts)


def test_the_scorecard_says_the_machine_was_busy_once_and_leaves_the_reference_empty(capped_busy_run):
    page = page_test("scorecard", default_timeout=120)
    page.session_state["current_run"] = capped_busy_run
    page.run()
    assert not page.exception
    shown = _texts(page)
    assert shown.count("1-minute load average 11.4") == 1, shown
    assert shown.count("overlapped this one") == 1, shown
    assert shown.count("The machine was busy") == 1, shown
    assert "by 0 ms" not in shown
    headline = page.warning[0].value  # not enough evidence: a warning box, short
    assert headline.startswith("**Not enough evidence") and len(headline) < 200, headline
    for key in ("score-ref-flight", "score-ref-takeoff", "score-ref-landing"):
        assert page.number_input(key=key).value is None  # empty, not 0.000 or -1


def test_the_accuracy_page_says_once_why_a_capped_run_has_no_jump_metrics(capped_busy_run):
    run = capped_busy_run
    sidecars.save_jump_table(  # as a saved capped run carries it: every backend failed alike
        run,
        pd.DataFrame(
            {
                "backend": ["mediapipe-lite", "rtmpose-lightweight-tuned"],
                "status": ["failed"] * 2,
                "error": [
                    f"{b} recorded 10 of the clip's 47 frames"
                    for b in ("mediapipe-lite", "rtmpose-lightweight-tuned")
                ],
            }
        ),
    )
    page = page_test("accuracy", default_timeout=120)
    page.session_state["current_run"] = run
    page.run()
    assert not page.exception
    shown = _texts(page)
    assert shown.count("recorded 10 of the clip's 47 frames") == 1, shown
    assert "The baseline mediapipe-lite failed" not in shown
    button = page.button(key="jump-run")
    assert "(10 frames × 2 backends)" in button.label and button.disabled
    for key in ("acc-ref-flight", "acc-ref-takeoff", "acc-ref-landing"):
        assert page.number_input(key=key).value is None
    page.number_input(key="acc-ref-flight").set_value(0.5)
    page.button(key="acc-ref-save").click().run()
    assert not page.exception
    saved = sidecars.load_reference(run)
    assert saved["flight_time_s"] == 0.5 and pd.isna(saved["takeoff_frame"])


def test_failed_rows_sharing_a_reason_are_one_sentence_without_the_name_twice():
    table = pd.DataFrame(
        {
            "backend": ["a", "b", "c"],
            "status": ["failed", "failed", "failed"],
            "error": ["a recorded 3 of 9 frames", "b recorded 3 of 9 frames", "no flight phase"],
            "warnings": ["", None, "low light"],
        }
    )
    assert jump_metrics_view.problems(table, "error") == [
        "a and b recorded 3 of 9 frames",
        "c: no flight phase",
    ]
    assert jump_metrics_view.problems(table, "warnings") == ["c: low light"]


def test_a_flight_time_difference_under_a_millisecond_is_said_in_words():
    e = SimpleNamespace(kind="run")
    b = SimpleNamespace(label="mediapipe-lite")
    same = verdict_criteria._agreement(
        e, SimpleNamespace(label="rtm", flight_diff_ms=0.3), b, {"flight_time_target_ms": 25.0}
    )
    assert "by 0 ms" not in same.detail and "same flight time to the millisecond" in same.detail
    off = verdict_criteria._agreement(
        e, SimpleNamespace(label="rtm", flight_diff_ms=33.2), b, {"flight_time_target_ms": 25.0}
    )
    assert "differs from mediapipe-lite's by 33 ms" in off.detail


def test_the_busy_notes_make_one_sentence_each_reason_once():
    notes = [
        "15 other benchmark runs overlapped this one: its speed figures are not comparable.",
        "The machine was busy: 1-minute load average 11.4 on 2 cores when the measurement started, "
        "at or over the bar of 1 per core; speed figures measured on a busy machine are doubtful, "
        "so re-measure on a quiet machine.",
        "The machine was busy: other work used 160 % of one core; speed figures measured beside "
        "other work are doubtful, so re-measure on a quiet machine.",
    ]
    sentence = verdict_view.busy_sentence(notes)
    assert sentence.count("The machine was busy") == 1 and sentence.count("doubtful") == 1
    assert "15 other benchmark runs overlapped this one; 1-minute load average 11.4" in sentence
    assert "other work used 160 % of one core" in sentence
    assert verdict_view.busy_sentence([]) == ""


def _paired(**changes) -> dict:
    p = {
        "n": 2,
        "mean_ms": 0.0,
        "sd_ms": math.nan,
        "ci_t_low_ms": None,
        "ci_t_high_ms": None,
        "ci_boot_low_ms": math.nan,
        "ci_boot_high_ms": math.nan,
        "wilcoxon_p": 1.0,
        "candidate_closer": 0,
        "baseline_closer": 0,
        "tied": 2,
        "margin_ms": 10.0,
        "verdict": "not yet known",
    }
    return {**p, **changes}


def test_the_paired_accuracy_is_in_sentences_with_words_for_what_is_missing():
    verdict = {"paired": _paired(), "clusters": {}, "baseline": "mp", "candidate": "rtm"}
    shown = " ".join(verdict_text.paired_lines(verdict))
    assert "p = 1.00 (no sign of a difference)" in shown
    assert "p = 1 " not in shown and "p = 1;" not in shown
    assert "- to -" not in shown and "– to –" not in shown and "nan" not in shown.lower()
    assert "not known (too few clips)" in shown and "SD —" in shown
    assert verdict_text.p_value(0.0004) == "p < 0.001" and verdict_text.p_value(0.034) == "p = 0.03"
    assert verdict_text.p_value(None).startswith("p not computed")


def test_the_study_page_shows_the_paired_accuracy_as_wrapping_text():
    from streamlit.testing.v1 import AppTest

    def page():
        from types import SimpleNamespace

        from posebench.dashboard import study_result_view

        paired = {"n": 2, "mean_ms": 4.0, "wilcoxon_p": 1.0, "verdict": "not yet known", "margin_ms": 10.0}
        study_result_view.paired_and_targets(
            SimpleNamespace(paired=paired, clusters={}, baseline="mp", candidate="rtm", targets=[])
        )

    at = AppTest.from_function(page, default_timeout=60).run()
    assert not at.exception
    assert not at.code  # no monospace block cut off at the right
    shown = " ".join(m.value for m in at.markdown)
    assert "p = 1.00 (no sign of a difference)" in shown and "– to –" not in shown and "- to -" not in shown
