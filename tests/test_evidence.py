"""The evidence report: every CSV with units, verdict.json, an offline HTML page; run names."""

from __future__ import annotations

import base64
import io
import json
import re
import zipfile

import pandas as pd
import pytest

from conftest import RUNNING, FakeBackend
from posebench import backends
from posebench.analysis import jump_metrics
from posebench.backends import backend_config
from posebench.core.errors import InputError
from posebench.engine.runner import run_benchmark
from posebench.report import html_page, run_evidence, study_evidence
from posebench.store import run_store, sidecars
from posebench.store.run_record import RunOptions

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def saved_run(monkeypatch, results_root):
    monkeypatch.setattr(backends, "create", lambda config, cache=None: FakeBackend(config.display))
    run = run_benchmark(
        str(RUNNING), ["mediapipe-lite", "rtmpose-lightweight-tuned"], RunOptions(warmup=2, max_frames=8)
    )
    run_store.save(run)
    return run


def _unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}


def test_run_bundle_holds_every_table_with_units_and_an_offline_report(saved_run):
    jump = jump_metrics.results_table(
        [
            jump_metrics.JumpResult(
                "mediapipe-lite",
                "cmj",
                takeoff_frame=11.0,
                landing_frame=35.0,
                flight_time_s=0.8,
                jump_height_m=0.785,
            ),
            jump_metrics.JumpResult(
                "rtmpose-lightweight-tuned",
                "cmj",
                takeoff_frame=12.0,
                landing_frame=35.5,
                flight_time_s=0.7833333333333,
                jump_height_m=0.7531,
            ),
        ],
        known_flight_time_s=0.789,
    )
    sidecars.save_jump_table(saved_run, jump)
    files = _unzip(run_evidence.run_bundle(saved_run))

    for name in (
        "summary.csv",
        "frames.csv",
        "jump.csv",
        "references.csv",
        "scorecard-settings.csv",
        "settings.csv",
        "machine.csv",
        "verdict.json",
        "run.json",
        "report.html",
    ):
        assert name in files, name
    summary = pd.read_csv(io.BytesIO(files["summary.csv"]))
    assert "fps (frames/s)" in summary.columns and "detection_rate (%)" in summary.columns
    assert summary["detection_rate (%)"].tolist() == [100.0, 100.0]  # shares become percent
    # rounded to what they can mean, not 15 digits
    assert all(len(str(v).split(".")[-1]) <= 2 for v in summary["fps (frames/s)"])
    jump_csv = pd.read_csv(io.BytesIO(files["jump.csv"]))
    assert jump_csv["flight_time_s (s)"].tolist() == [0.8, 0.783]
    references = pd.read_csv(io.BytesIO(files["references.csv"]))
    known = references[references["reference"] == "Known flight time"]
    assert known["value"].tolist() == ["0.789"] or known["value"].astype(float).tolist() == [0.789]

    verdict = json.loads(files["verdict.json"])
    assert verdict["decision"] and verdict["sentence"]
    page = files["report.html"].decode("utf-8")
    assert verdict["sentence"].split(",")[0] in page.replace("&#x27;", "'")
    assert not re.search(r"(src|href)=['\"]https?:", page)  # nothing fetched
    images = re.findall(r"src='data:image/png;base64,([^']+)'", page)
    assert len(images) == 6  # the run's four charts, the feet around the events and the filmstrip
    assert "Feet around take-off and landing" in page
    assert "Jump by jump" in page and page.count("alt='Filmstrip of") == 1
    assert any(n.startswith("filmstrips/") for n in files) and "jumps.csv" in files
    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", page)
    assert headers and not [h for h in headers if "_" in h]
    settings = pd.read_csv(io.BytesIO(files["settings.csv"]))
    assert "detector only when the athlete is lost" in settings["in words"].iloc[1]


def test_user_text_in_the_report_is_text(saved_run):
    run_store.set_label(saved_run.run_id, "<script>alert(1)</script>", "=cmd|' /C calc'!A0 <b>x</b>")
    page = _unzip(run_evidence.run_bundle(saved_run, with_charts=False))["report.html"].decode()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<b>x</b>" not in page


def test_runs_are_named_annotated_and_listed(saved_run, results_root):
    run_store.set_label(saved_run.run_id, "  CMJ   Anna  ", "first session")
    listed = run_store.list_runs()
    row = listed.iloc[0]
    assert (row["name"], row["note"], row["clip"]) == ("CMJ Anna", "first session", RUNNING.name)
    with pytest.raises(InputError, match="at most 80"):
        run_store.set_label(saved_run.run_id, "x" * 81, "")
    with pytest.raises(InputError, match="no saved run"):
        run_store.set_label("nope", "a", "")
    (results_root / saved_run.run_id / "verdict.json").write_text(json.dumps({"decision": "keep"}))
    assert run_store.list_runs().iloc[0]["verdict"] == "keep"


def test_presets_in_words():
    tuned = backend_config.PRESETS["rtmpose-lightweight-tuned"]
    assert backend_config.describe(tuned).startswith("RTMPose, tuned: detector only when the athlete is lost")
    changed = backend_config.parse("rtmpose-lightweight:det_every=0,person=tracked")
    assert backend_config.describe(changed).endswith(
        "changed: detector only when the athlete is lost, one athlete, followed"
    )
    assert set(backend_config.PRESET_WORDS) == set(backend_config.PRESETS)
    # engine=auto resolved to the measured engine is said as such, not as a change
    from posebench.backends import engines

    on_openvino = backend_config.describe(engines.apply(tuned, "openvino", "CPU"))
    assert on_openvino.endswith(
        "runs on OpenVINO, Intel's inference engine, measured the fastest on this machine"
    )
    assert "changed" not in on_openvino


def test_human_headers_have_no_underscores():
    assert html_page.human_header("flight_time_error_ms", "ms") == "Flight time error (ms)"
    assert html_page.human_header("detection_rate", "share") == "Detection rate (%)"


def test_study_bundle_holds_the_pooled_tables_the_verdict_and_an_offline_report(tmp_path):
    from posebench.store import references
    from posebench.studies import study_folder
    from test_study import SHA_A, SHA_B, _row

    clips = [
        study_folder.StudyClip(
            name=f"{s[:3]}.mp4",
            path=f"/nowhere/{s[:3]}.mp4",
            sha256=s,
            kind="cmj",
            reference=references.ClipReference(f"{s[:3]}.mp4", s, "cmj", flight_time_s=ft),
        )
        for s, ft in ((SHA_A, 0.50), (SHA_B, 0.60))
    ]
    study = study_folder.Study("Squad <b>A</b>", clips, ["mediapipe-lite", "rtmpose-lightweight-tuned"])
    rows = [
        _row(SHA_A, "mediapipe-lite", 0.51, 100),
        _row(SHA_B, "mediapipe-lite", 0.58, 201),
        _row(SHA_A, "rtmpose-lightweight-tuned", 0.46, 102),
        _row(SHA_B, "rtmpose-lightweight-tuned", 0.55, 202),
    ]
    result = study_folder.tables(study, rows, tmp_path)
    files = _unzip(study_evidence.study_bundle(result, note="pre-season"))
    assert {"study_clips.csv", "study_summary.csv", "verdict.json", "report.html"} <= set(files)
    verdict = json.loads(files["verdict.json"])
    page = files["report.html"].decode()
    assert verdict["decision"] in ("replace", "keep", "undecided")
    assert "pre-season" in page and "Squad &lt;b&gt;A&lt;/b&gt;" in page
    assert len(re.findall(r"src='data:image/png;base64,", page)) == 2
