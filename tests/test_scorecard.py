"""The go / no-go scorecard: rules as data, inputs traceable, settings saved beside the run."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import RUNNING, FakeBackend, page_test
from posebench import backends
from posebench.backends import backend_config
from posebench.dashboard import safe_text, verdict_view
from posebench.decision import (
    decision_rules,
    evaluate,
    headline_verdict,
    scorecard_inputs,
    scorecard_settings,
)
from posebench.decision.verdict_evidence import Evidence, jump_table_for
from posebench.engine.runner import run_benchmark
from posebench.store import run_store, sidecars
from posebench.store.run_record import RunOptions

pytestmark = pytest.mark.timeout(300)

BEST = {
    "fps": 60,
    "fps_baseline": 50,
    "fps_ratio": 1.2,
    "latency_ms_mean": 20,
    "latency_ms_p95": 30,
    "best_family_fps_ratio": 1.2,
    "failed_backends": 0,
    "models_pinned": 1,
    "ready": 1,
    "detection_rate": 1,
    "detection_rate_baseline": 1,
    "detection_drop_pts": 0,
    "landmark_coverage": 13,
    "peak_rss_mb": 300,
    "cold_init_ms": 200,
    "agreement_0.1": 0.99,
    "abs_lag_frames": 0,
    "trajectory_r2": 0.995,
    "flight_time_diff_ms": 5,
    "takeoff_diff_frames": 0,
    "still_jitter_ratio": 0.7,
}


def inputs(**changes):
    values = {**BEST, **changes}
    return scorecard_inputs.inputs_table({k: (v, "test value") for k, v in values.items() if v is not None})


def test_ladders_and_bands_follow_the_tables():
    assert evaluate.ladder_score(0.96, "higher", (0.95, 0.9, 0.8)) == 4
    assert evaluate.ladder_score(0.9, "higher", (0.95, 0.9, 0.8)) == 3
    assert evaluate.ladder_score(0.5, "higher", (0.95, 0.9, 0.8)) == 1
    assert evaluate.ladder_score(60, "lower", (33.3, 50, 100)) == 2
    assert np.isnan(evaluate.ladder_score(np.nan, "lower", (1, 2, 3)))
    bands = {
        4.0: "full replacement",
        3.5: "full replacement",
        3.4: "conditional replacement",
        2.8: "conditional replacement",
        2.7: "hybrid",
        2.0: "hybrid",
        1.9: "selective adoption",
        1.5: "selective adoption",
        1.4: "keep MediaPipe",
        1.0: "keep MediaPipe",
    }
    for score, band in bands.items():
        assert evaluate.band_for(score) == band


def test_feasibility_scores_one_point_per_criterion():
    thresholds = decision_rules.default_thresholds()
    table, verdict = evaluate.feasibility(inputs(), thresholds, "mp", "rtm")
    assert table["points"].tolist() == [1, 1, 1, 1] and verdict.decision == "go"
    assert verdict.sentence.startswith("Go: rtm scores 4/4 against mp")

    slow = inputs(fps_ratio=0.7, latency_ms_mean=70, best_family_fps_ratio=0.9)
    table, verdict = evaluate.feasibility(slow, thresholds, "mp", "rtm")
    assert table["points"].tolist() == [0, 0, 1, 1]
    assert verdict.decision == "no-go" and verdict.score == 2
    assert "fps_ratio = 70 % of baseline" in table.loc[0, "measured"]
    assert table.loc[0, "rule"] == "fps_ratio ≥ 80 % of baseline"

    # thresholds are data: lowering the bar changes the points, and the titles say so
    table, verdict = evaluate.feasibility(slow, {**thresholds, "fps_ratio_min": 0.6}, "mp", "rtm")
    assert table["points"].tolist() == [1, 0, 1, 1] and verdict.decision == "conditional"
    assert table.loc[0, "criterion"] == "FPS ≥ 60% of the baseline's"

    dropped = inputs(detection_drop_pts=8)
    table, _ = evaluate.feasibility(dropped, thresholds, "mp", "rtm")
    assert table.loc[3, "points"] == 0 and "detection_drop_pts = 8 pts" in table.loc[3, "measured"]


def test_the_decision_framework_weights_bands_and_must_meets():
    thresholds = decision_rules.default_thresholds()
    best = evaluate.framework(inputs(), thresholds, "mp", "rtm")
    assert best.dimensions["score"].tolist() == [4.0, 4.0, 4.0, 4.0]
    assert best.dimensions["weight"].tolist() == [0.25, 0.25, 0.30, 0.20]
    assert best.verdict.score == 4.0 and best.verdict.decision == "full replacement"
    assert best.must_meet["met"].all() and best.targets["met"].all()

    # jittery and late: Accuracy and Robustness fall, the combined must-meet fails
    weak = evaluate.framework(
        inputs(
            still_jitter_ratio=3,
            detection_drop_pts=6,
            abs_lag_frames=2,
            takeoff_diff_frames=2,
            flight_time_diff_ms=40,
            trajectory_r2=0.93,
        ),
        thresholds,
        "mp",
        "rtm",
    )
    dims = weak.dimensions.set_index("dimension")["score"]
    assert dims["Robustness"] == 1.0
    assert dims["Accuracy"] == pytest.approx((4 + 2 + 2 + 2 + 2) / 5)
    expected = 0.25 * 4 + 0.25 * 4 + 0.30 * dims["Accuracy"] + 0.20 * 1
    assert weak.verdict.score == pytest.approx(expected)
    must = weak.must_meet.set_index("criterion")
    assert must.loc["Accuracy + Robustness ≥ 3.0", "value"] == pytest.approx(
        (0.3 * dims["Accuracy"] + 0.2 * 1) / 0.5
    )
    assert not must.loc["Accuracy + Robustness ≥ 3.0", "met"]
    assert weak.verdict.decision == "keep MediaPipe"
    assert any("must-meet" in f for f in weak.verdict.flags)
    targets = weak.targets.set_index("target")["met"]
    assert not targets["Flight-time difference from the baseline ≤ 25 ms"]


def test_unmeasured_inputs_are_left_out_and_overrides_are_marked():
    thresholds = decision_rules.default_thresholds()
    partial = evaluate.framework(
        inputs(flight_time_diff_ms=None, takeoff_diff_frames=None), thresholds, "mp", "rtm"
    )
    row = partial.dimensions.set_index("dimension").loc["Accuracy"]
    assert row["score"] == 4.0 and row["measured_inputs"] == "3 of 5"
    assert any("flight_time_diff_ms" in f for f in partial.verdict.flags)
    assert not partial.targets.set_index("target")["measured_at_all"].iloc[0]

    table = scorecard_inputs.inputs_table({"fps_ratio": (0.7, "summary.fps")}, {"fps_ratio": 0.9})
    row = table.set_index("input").loc["fps_ratio"]
    assert row["value"] == 0.9 and row["overridden"]
    assert row["source"].startswith("OVERRIDDEN by the user (measured: 70 % of baseline")
    _table, verdict = evaluate.feasibility(table, thresholds, "mp", "rtm")
    assert any("overridden" in f for f in verdict.flags)


@pytest.fixture
def fake_run(monkeypatch, results_root):
    """Two fake backends (identical skeletons) on ten frames, saved under results_root."""
    monkeypatch.setattr(backends, "create", lambda config, cache=None: FakeBackend(config.display))
    run = run_benchmark(
        str(RUNNING), ["mediapipe-lite", "rtmpose-lightweight-tuned"], RunOptions(max_frames=10, warmup=2)
    )
    return run, run_store.save(run)


def test_settings_are_saved_beside_the_run_without_touching_it(fake_run):
    run, folder = fake_run
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    settings = scorecard_settings.settings_for(run)
    assert settings.thresholds == decision_rules.default_thresholds() and settings.overrides == {}
    settings.thresholds["latency_max_ms"] = 40.0
    settings.overrides = {"rtmpose-lightweight-tuned": {"fps_ratio": 0.5}}
    settings.baseline = "mediapipe-lite"
    path = scorecard_settings.save_settings(run, settings)
    assert path == folder / "scorecard.json"
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.name in before} == before
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "no temporary file left"

    again = scorecard_settings.settings_for(run_store.load(folder))
    assert again == settings
    assert json.loads(path.read_text())["thresholds"]["latency_max_ms"] == 40.0
    card = evaluate.evaluate(run_store.load(folder))
    assert card.inputs.set_index("input").loc["fps_ratio", "overridden"]
    assert card.settings.thresholds["latency_max_ms"] == 40.0


def test_the_jump_sidecar_is_formula_neutralised_and_written_whole(fake_run):
    run, folder = fake_run
    table = pd.DataFrame({"backend": ["=HYPERLINK(1)"], "flight_time_s": [-0.5]})
    path = sidecars.save_jump_table(run, table)
    assert path.read_text().splitlines() == ["backend,flight_time_s", "'=HYPERLINK(1),-0.5"]
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "no temporary file left"


def test_identical_backends_agree_perfectly_on_the_scorecard(fake_run):
    run, _folder = fake_run
    card = evaluate.evaluate(run)
    values = card.inputs.set_index("input")["value"]
    assert values["agreement_0.1"] == 1.0 and values["trajectory_r2"] == pytest.approx(1.0)
    assert values["detection_drop_pts"] == 0
    # the fake skeleton only drifts down at a steady 1 px a frame: nothing to line up
    assert np.isnan(values["abs_lag_frames"])
    assert card.inputs.set_index("input").loc["abs_lag_frames", "source"].startswith("No offset")
    assert values["failed_backends"] == 0 and values["ready"] == 1
    assert np.isnan(values["flight_time_diff_ms"])


def test_a_failed_candidate_is_scored_not_crashed(monkeypatch, results_root):
    def create(config, cache=None):
        return FakeBackend(config.display, fail_at=0 if config.family == "rtmpose" else None)

    monkeypatch.setattr(backends, "create", create)
    run = run_benchmark(
        str(RUNNING), ["mediapipe-lite", "rtmpose-lightweight"], RunOptions(max_frames=5, warmup=0)
    )
    card = evaluate.evaluate(run)
    values = card.inputs.set_index("input")["value"]
    assert values["failed_backends"] == 1 and values["ready"] == 0
    assert np.isnan(values["fps_ratio"]) and np.isnan(values["agreement_0.1"])
    assert card.feasibility_verdict.decision == "no-go"
    assert (
        "summary.status: rtmpose-lightweight failed"
        in card.inputs.set_index("input").loc["failed_backends", "source"]
    )


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """MediaPipe lite against RTMPose (default and tuned) on the tiny running clip, saved."""
    root = tmp_path_factory.mktemp("results")
    run = run_benchmark(
        str(RUNNING),
        ["mediapipe-lite", "rtmpose-lightweight", "rtmpose-lightweight-tuned"],
        RunOptions(warmup=5),
    )
    return run, run_store.save(run, root), root


@pytest.mark.integration
def test_every_input_is_traced_to_the_run(real_run):
    run, _folder, _root = real_run
    card = evaluate.evaluate(run, scorecard_settings.Settings(candidate="rtmpose-lightweight"))
    s = run.summary.set_index("backend")
    values = card.inputs.set_index("input")
    assert card.settings.baseline == "mediapipe-lite"
    assert values.loc["fps_ratio", "value"] == pytest.approx(
        s.loc["rtmpose-lightweight", "fps"] / s.loc["mediapipe-lite", "fps"]
    )
    assert "summary.fps of rtmpose-lightweight" in values.loc["fps_ratio", "source"]
    best = s.loc[["rtmpose-lightweight", "rtmpose-lightweight-tuned"], "fps"].max()
    assert values.loc["best_family_fps_ratio", "value"] == pytest.approx(
        best / s.loc["mediapipe-lite", "fps"]
    )
    assert values.loc["landmark_coverage", "value"] == 13
    assert not values["overridden"].any()
    assert card.feasibility["points"].sum() == card.feasibility_verdict.score
    expected = {4: "go", 3: "conditional"}.get(int(card.feasibility_verdict.score), "no-go")
    assert card.feasibility_verdict.decision == expected
    assert set(card.candidates["candidate"]) == {"rtmpose-lightweight", "rtmpose-lightweight-tuned"}
    assert card.framework.verdict.score == pytest.approx(
        (card.framework.dimensions["weight"] * card.framework.dimensions["score"]).sum()
        / card.framework.dimensions.loc[card.framework.dimensions["score"].notna(), "weight"].sum()
    )


@pytest.mark.integration
def test_the_pages_render_the_run_and_save_the_settings(real_run, monkeypatch):
    run, folder, root = real_run
    monkeypatch.setenv("POSEBENCH_RESULTS", str(root))
    page = page_test("scorecard", default_timeout=120)
    page.session_state["current_run"] = run
    page.run()
    assert not page.exception
    boxes = [b.value for b in [*page.success, *page.warning, *page.error]]
    expected = headline_verdict.decide(
        Evidence.from_run(run, None, jump_table_for(run)), scorecard_settings.settings_for(run).thresholds
    )
    assert f"**{safe_text.md(verdict_view.short_reason(expected))}**" in boxes  # the headline first
    assert safe_text.md(verdict_view.detail(expected)) in [m.value for m in page.markdown]  # then why
    assert not page.success  # one clip, no reference: never a success box
    shown = " ".join(m.value for m in page.markdown)
    assert "Speed-only score: " not in shown  # one story: the other scores start collapsed
    captions = " ".join(c.value for c in page.caption)
    chosen = next(c for c in run.configs if c.display == expected.candidate)
    assert safe_text.md(backend_config.format_settings(chosen)) not in captions  # raw: CSV and hover only
    page.toggle(key="score-other-schemes").set_value(True).run()
    assert not page.exception
    shown = " ".join(m.value for m in page.markdown)
    assert "Speed-only score: " in shown and "on performance feasibility" in shown
    page.button(key="score-save").click().run()
    assert not page.exception
    assert (folder / "scorecard.json").exists()

    page = page_test("accuracy", default_timeout=300)
    page.session_state["current_run"] = run
    page.run()
    assert not page.exception
    texts = " ".join(m.value for m in page.markdown)
    assert "mediapipe-lite" in texts and ("trails" in texts or "leads" in texts or "in step" in texts)
    page.multiselect(key="jump-backends").set_value(["mediapipe-lite"])
    page.run()
    page.button(key="jump-run").click().run()
    assert not page.exception
    assert page.session_state["jump_job"].wait(300)  # the jump analysis runs in the background
    page.run()
    assert not page.exception
    assert (folder / "jump.csv").exists()
    assert sidecars.load_jump_table(run_store.load(folder))["backend"].tolist() == ["mediapipe-lite"]
