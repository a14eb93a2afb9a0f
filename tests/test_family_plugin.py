"""A third estimator family, installed the way another package installs one (an entry point in
its dist-info), shows up everywhere without a line of PoseBench changed: the CLI, the Run page,
a study and the verdict. The family itself is tests/plugin_family/ (one file)."""

from __future__ import annotations

import importlib
import sys
import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import RUNNING, goto
from posebench import backends
from posebench.backends import family_registry
from posebench.backends.backend_config import describe, parse
from posebench.cli.main import main
from posebench.core.errors import BenchError
from posebench.decision import headline_verdict
from posebench.decision.verdict_evidence import Evidence
from posebench.engine.runner import run_benchmark
from posebench.store.run_record import RunOptions
from posebench.studies import study_jobs
from posebench.studies.study_executor import LocalExecutor

pytestmark = pytest.mark.timeout(300)
APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture(scope="module")
def stillpose(tmp_path_factory):
    """The StillPose family installed through an entry point, as `pip install` would leave it:
    a dist-info folder with entry_points.txt on sys.path (the dashboard's worker processes
    inherit sys.path)."""
    site = tmp_path_factory.mktemp("site-packages")
    info = site / "posebench_stillpose-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: posebench-stillpose\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[posebench.families]\nstillpose = plugin_family:FAMILY\n")
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    family_registry.refresh()
    yield "stillpose"
    sys.path.remove(str(site))
    family_registry.refresh()


def test_without_its_entry_point_the_family_is_not_there():
    family_registry.refresh()
    assert "stillpose" not in backends.PRESETS
    assert [f.name for f in backends.estimator_families()][:2] == ["mediapipe", "rtmpose"]


def test_its_presets_parse_and_read_like_the_built_in_ones(stillpose):
    config = parse("stillpose:side=left,height=0.5")
    assert config.family == "stillpose" and config.spec() == "stillpose:side=left,height=0.5"
    assert describe(config) == "A skeleton that stands still; changed: stands on the left, height=0.5"
    assert backends.why_unavailable(config) is None and backends.keypoint_set(config) == "halpe26"
    with pytest.raises(BenchError, match=r"height must be between 0\.1 and 1\.0"):
        parse("stillpose:height=3")
    with pytest.raises(BenchError, match="unknown setting 'det_every'"):
        parse("stillpose:det_every=0")


def test_the_cli_lists_it_with_its_levers(stillpose, capsys):
    assert main(["backends"]) == 0
    out = capsys.readouterr().out
    assert "ok  stillpose                    StillPose: one fixed Halpe-26 skeleton" in out
    assert "ok  stillpose-left" in out
    assert "Settings (levers) of the StillPose presets:" in out
    assert "where the fixed skeleton stands" in out


def test_the_run_page_offers_it_with_its_settings(stillpose, results_root, tmp_path, monkeypatch):
    monkeypatch.setenv("POSEBENCH_UPLOADS", str(tmp_path / "uploads"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.session_state["clip_path"] = str(RUNNING)
    goto(at, "run").run()
    assert not at.exception
    assert "**StillPose (a plugin for tests)**" in [m.value for m in at.markdown]
    box = at.checkbox(key="use-stillpose-left")
    assert not box.disabled and "stands still, on the left" in box.help
    box.check().run()
    assert not at.exception
    side = at.selectbox(key="lever-stillpose-left-side")
    assert side.label == "Where the skeleton stands" and side.options == ["left", "centre", "right"]


def test_a_study_runs_it_and_its_rows_say_where_it_ran(stillpose):
    job = study_jobs.StudyJob(str(RUNNING), study_jobs.clip_sha256(RUNNING), "stillpose-left", {"warmup": 2})
    rows: list[dict] = []
    LocalExecutor().run([job], lambda i, row: rows.append(row), threading.Event())
    (row,) = rows
    assert row["backend"] == "stillpose-left"
    assert (row["provider"], row["engine"]) == ("stillpose CPU", "numpy")  # its family's words
    assert row["detection_rate"] == 1.0 and row["fps"] > 0
    assert "pose pass failed" not in str(row["error"]) and "unknown" not in str(row["error"])


@pytest.mark.integration
def test_the_verdict_judges_it_against_the_baseline(stillpose):
    run = run_benchmark(str(RUNNING), ["mediapipe-lite", "stillpose"], RunOptions(max_frames=12, warmup=2))
    families = dict(zip(run.summary["backend"], run.summary["family"]))
    assert families == {"mediapipe-lite": "mediapipe", "stillpose": "stillpose"}
    answer = headline_verdict.decide(Evidence.from_run(run), {"min_clips": 1})
    assert (answer.baseline, answer.candidate) == ("mediapipe-lite", "stillpose")
    assert answer.candidate_words == "A skeleton that stands still"
    assert answer.decision in ("replace", "keep", "undecided") and answer.reason
