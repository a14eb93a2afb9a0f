"""The speed-check script: its structure, not its numbers (timings are never asserted)."""

from __future__ import annotations

import numpy as np
import pytest

import posebench.studies.speed_check
from conftest import RUNNING
from posebench import backends
from posebench.cli.main import main
from posebench.core.errors import BenchError
from posebench.studies.speed_check import RTMLIB_DEFAULT, TARGETS, run_perf

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def report():
    return run_perf(str(RUNNING), frames=8, rounds=2, warmup=2)


@pytest.mark.integration
def test_perf_reports_the_three_ratios_with_verdicts(report):
    assert report.ratios["ratio"].tolist() == list(TARGETS)
    assert report.ratios["verdict"].isin(["PASS", "MISS"]).all()
    assert (report.ratios["value"] > 0).all() and np.isfinite(report.ratios["value"]).all()


@pytest.mark.integration
def test_perf_times_every_contestant_and_floors_each_model(report):
    assert set(report.table["contestant"]) == {
        RTMLIB_DEFAULT,
        "rtmpose-lightweight-tuned",
        "mediapipe-lite",
        "rtmpose-lightweight",
    }
    assert sorted(report.passes["round"].unique()) == [1, 2]
    assert (report.passes["frames"] == 6).all()  # 8 frames, the first 2 of each pass untimed
    assert (report.table["fps"] > 0).all()
    assert set(report.floors["model"]) == {"detector", "pose"}
    assert (report.floors["ms"] > 0).all()
    rtmlib = report.table.set_index("contestant").loc[RTMLIB_DEFAULT]
    assert rtmlib["detector_runs_per_frame"] == 1.0  # rtmlib: detector on every frame
    tuned = report.table.set_index("contestant").loc["rtmpose-lightweight-tuned"]
    assert tuned["detector_runs_per_frame"] < 1.0


@pytest.mark.integration
def test_perf_states_the_exact_settings(report):
    tuned = report.settings["rtmpose-lightweight-tuned"]
    assert tuned["det_every"] == 0 and "intra_threads" in tuned
    # engine=auto was resolved by measurement, and the report says which engine ran
    assert tuned["engine"] == report.engine_choice["engine"] != "auto"
    assert {c["engine"] for c in report.engine_choice["candidates"]} >= {"onnxruntime"}
    assert report.settings[RTMLIB_DEFAULT]["object"] == "rtmlib.BodyWithFeet"


@pytest.mark.integration
def test_cli_perf_prints_ratios_and_settings(capsys):
    rc = main(
        ["perf", str(RUNNING), "--frames", "4", "--warmup", "1", "--rounds", "1", "--no-preset-default"]
    )
    assert rc == 0
    out = capsys.readouterr().out
    for key in TARGETS:
        assert key in out
    assert "n/a   landmarks_vs_default" in out  # no rtmlib-default preset to compare with
    assert sum(out.count(word) for word in ("PASS", "MISS")) >= 3
    assert "intra_threads" in out and "exact settings" in out


@pytest.mark.integration
def test_perf_saves_its_rounds_as_a_run_a_study_can_use_as_speed_evidence(tmp_path, capsys):
    from posebench.decision import speed_evidence

    args = ["perf", str(RUNNING), "--frames", "6", "--warmup", "2", "--rounds", "2", "--no-preset-default"]
    assert main([*args, "--save", str(tmp_path)]) == 0
    assert "saved the timed rounds as a run: " in capsys.readouterr().out
    (folder,) = [p for p in tmp_path.iterdir() if (p / "run.json").is_file()]
    source = speed_evidence.from_folder(folder)
    assert source.kind == "run" and source.rounds == 2
    assert {"mediapipe-lite", "rtmpose-lightweight-tuned"} <= set(source.fps)
    assert all(f["fps"] > 0 for f in source.fps.values())


@pytest.mark.integration
def test_perf_measures_the_tuned_landmarks_against_the_rtmlib_default(report):
    row = report.ratios.set_index("ratio").loc["landmarks_vs_default"]
    assert 0 < row["value"] <= 1 and row["verdict"] in ("PASS", "MISS")
    agree = report.agreement.set_index("contestant")
    assert agree.loc["rtmpose-lightweight-tuned", "landmarks_within_0.1_of_default"] == row["value"]


def test_rtmlib_default_that_will_not_load_is_a_bench_error(monkeypatch):
    import rtmlib

    def broken(**_kwargs):
        raise RuntimeError("bad model file")

    monkeypatch.setattr(rtmlib, "BodyWithFeet", broken)
    monkeypatch.setattr(
        posebench.studies.speed_check.model_store, "resolve", lambda name, fetch=False: f"/x/{name}"
    )
    with pytest.raises(BenchError, match="BodyWithFeet failed to load: RuntimeError: bad model"):
        posebench.studies.speed_check._RtmlibDefault(backends.parse("rtmpose-lightweight"))
