"""``posebench events`` on three of the shared side-view jumps (issue 23): each clip posed once per
backend (session-scoped), the named settings scored leave-one-clip-out, events.csv/json written."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import CLIPS
from posebench.analysis import event_detection, event_settings, jump_metrics
from posebench.cli.main import main
from posebench.store import run_store
from posebench.studies import study_jobs

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

MP, RTM = "mediapipe-lite", "rtmpose-lightweight-tuned"
JUMPS = CLIPS / "jumps"
PICKED = ("cmj_side_dhruvrahuja_2.mp4", "cmj_side_dhruvrahuja_4.mp4", "cmj_side_dhruvrahuja_5.mp4")


@pytest.fixture(scope="session")
def searched(tmp_path_factory):
    folder = tmp_path_factory.mktemp("events")
    manifest = pd.read_csv(JUMPS / "study.csv", dtype=str)
    manifest = manifest[manifest["clip"].isin(PICKED)].copy()
    manifest["clip"] = [str(JUMPS / c) for c in manifest["clip"]]
    manifest.to_csv(folder / "study.csv", index=False)
    out = folder / "out"
    import contextlib
    import io

    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        code = main(
            ["events", str(folder / "study.csv"), "-b", MP, "-b", RTM, "--out", str(out), "--named-only"]
        )
    return code, text.getvalue(), out


def test_events_prints_current_and_best_side_by_side(searched):
    code, text, _ = searched
    assert code == 0
    assert "3 clips with references" in text and "leave-one-clip-out" in text
    for label in (MP, RTM):
        assert f"{label} (3 folds" in text
    assert text.count("  current  app-current") == 2
    assert text.count("in-sample MAE") == 4 and text.count("cross-validated MAE") >= 4
    assert "against mediapipe-lite's" in text and "with the app's current settings" in text


def test_events_writes_csv_and_json(searched):
    _, _, out = searched
    scores = pd.read_csv(out / "events.csv")
    assert set(scores["backend"]) == {MP, RTM}
    assert set(scores["setting"]) == set(event_settings.NAMED)
    assert (scores["n_clips"] == 3).all()
    current = scores[scores["setting"] == "app-current"]
    assert (current["in_sample_mae_ms"] == current["cv_mae_ms"]).all()  # nothing is fitted
    learned = scores[scores["setting"] == "app-current-calibrated"]
    assert (learned["cv_mae_ms"] >= learned["in_sample_mae_ms"] - 1e-9).all()
    report = json.loads((out / "events.json").read_text())
    assert report["folds_by"] == "clip" and len(report["clips"]) == 3
    for label in (MP, RTM):
        r = report["results"][label]
        assert r["current"]["setting"] == "app-current"
        assert sum(1 for _ in r["search"]["fold_choices"]) == 3
        assert set(r["search"]["held_out_error_ms"]) == {str(JUMPS / c) for c in PICKED}


def test_app_current_replays_exactly_what_the_app_gets(searched):
    """The step-by-step replay with app-current gives jump_metrics.from_run's events, and a study job with a
    named setting times the jump with it (from the runs the search kept)."""
    _, _, out = searched
    for meta in sorted((out / "runs").glob("*/*/*/run.json")):
        run = run_store.load(meta.parent)
        label = run.configs[0].display
        app = jump_metrics.from_run(run).iloc[0]
        mine = event_detection.Detector(event_detection.sequence_of(run, label), run.clip.fps).detect(
            event_settings.get("app-current")
        )
        assert (mine.takeoff_frame, mine.landing_frame) == (app["takeoff_frame"], app["landing_frame"])
        toes = study_jobs._with_setting(run, label, "toes-subframe")
        expected = event_detection.Detector(event_detection.sequence_of(run, label), run.clip.fps).detect(
            event_settings.get("toes-subframe")
        )
        assert toes["status"] == "ok" and toes["landing_frame"] == expected.landing_frame
        assert toes["flight_time_s"] == pytest.approx(expected.flight_time_s)
