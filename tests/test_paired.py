"""A decision that holds: paired accuracy with its uncertainty, speed from a quiet dedicated
measurement, one answer per deployment target (issue 20)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import RUNNING, FakeBackend
from posebench import backends, cli
from posebench.analysis import paired_comparison
from posebench.decision import speed_evidence
from posebench.engine.runner import run_benchmark
from posebench.store import references, run_store
from posebench.store.run_record import RunOptions
from posebench.studies import study_folder

pytestmark = pytest.mark.timeout(300)

BASE, CAND = "mediapipe-lite", "rtmpose-lightweight-tuned"
# Darwin's Zea mays data as Fisher analysed it (The Design of Experiments, 1935, §17): the
# height differences (eighths of an inch) of 15 pairs of crossed and self-fertilised plants.
# Published: mean 20.93, t = 2.148 on 14 df, 95 % CI about 0.03 to 41.84; Wilcoxon signed-rank
# two-sided exact p = 0.0413 (the example in scipy.stats.wilcoxon's documentation).
DARWIN = [6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75]
REFERENCE_S = 0.55


def _sha(i: int) -> str:
    return f"{i:064x}"


def _row(sha: str, backend: str, flight_s: float, host: str = "study-host") -> dict:
    return {
        "clip": f"{sha[-3:]}.mp4",
        "sha256": sha,
        "backend": backend,
        "status": "ok",
        "error": "",
        "flight_time_s": flight_s,
        "jump_height_m": 9.81 * flight_s**2 / 8,
        "takeoff_frame": 100.0,
        "landing_frame": 100.0 + flight_s * 30,
        "fps_clip": 30.0,
        "fps": 20.0,
        "host": host,
        "detection_rate": 1.0,
    }


def darwin_study(tmp_path, athletes=None, diffs=DARWIN, speed_runs=(), margin=10.0, also=None):
    """A study from stored per-clip rows: the baseline is 100 ms off on every clip, the
    candidate 100 + d ms, so the per-clip |error| difference is exactly d (``also``: a third
    backend, 140 + d ms off)."""
    clips, rows = [], []
    for i, d in enumerate(diffs):
        sha = _sha(i + 1)
        ref = references.ClipReference(f"c{i}.mp4", sha, "cmj", flight_time_s=REFERENCE_S + i / 100)
        athlete = athletes[i] if athletes else ""
        clips.append(study_folder.StudyClip("", f"c{i}.mp4", sha, "cmj", ref, athlete=athlete))
        rows.append(_row(sha, BASE, ref.flight_time_s + 0.100))
        rows.append(_row(sha, CAND, ref.flight_time_s + (100 + d) / 1000))
        if also:
            rows.append(_row(sha, also, ref.flight_time_s + (140 + d) / 1000))
    study = study_folder.Study(
        "darwin",
        clips,
        [BASE, CAND, *([also] if also else [])],
        min_clips=10,
        margin_ms=margin,
        speed_runs=[str(r) for r in speed_runs],
    )
    folder = tmp_path / "studies" / study.study_id
    folder.mkdir(parents=True)
    return study_folder.tables(study, rows, folder, write=True)


def test_the_paired_comparison_gives_the_published_ci_and_p(tmp_path):
    result = darwin_study(tmp_path, athletes=[f"a{i % 5}" for i in range(15)])
    p = result.verdict.paired
    assert p["n"] == 15
    assert p["mean_ms"] == pytest.approx(20.933, abs=1e-3)
    assert p["ci_t_low_ms"] == pytest.approx(0.03, abs=0.01)  # Fisher's interval
    assert p["ci_t_high_ms"] == pytest.approx(41.84, abs=0.01)
    assert p["wilcoxon_p"] == pytest.approx(0.041259765625)  # exact, as scipy documents it
    # the bootstrap is scipy's BCa with the fixed seed, on the same numbers
    boot = stats.bootstrap(
        (np.array(DARWIN, float),),
        np.mean,
        n_resamples=paired_comparison.RESAMPLES,
        rng=np.random.default_rng(paired_comparison.SEED),
    ).confidence_interval
    assert (p["ci_boot_low_ms"], p["ci_boot_high_ms"]) == pytest.approx((boot.low, boot.high))
    assert (p["candidate_closer"], p["baseline_closer"], p["tied"]) == (2, 13, 0)
    # the CI straddles the 10 ms margin: not yet known, with a sample-size estimate
    assert p["verdict"] == "not yet known" and p["clips_needed"] > 15
    assert result.verdict.decision == "undecided"
    assert "so it is not yet known: about" in result.verdict.reason
    assert "over 15 jumps from 5 athletes" in result.verdict.reason
    k = result.verdict.clusters
    assert k["n_athletes"] == 5 and k["ci_low_ms"] < p["mean_ms"] < k["ci_high_ms"]
    saved = json.loads((result.folder / "verdict.json").read_text())
    assert {"paired", "clusters", "speed_source", "targets", "decision", "reason", "criteria"} <= set(saved)
    assert saved["paired"] == p

    # the candidate closer on the same numbers: as accurate (CI upper end under the margin)
    mirrored = darwin_study(tmp_path / "m", diffs=[-d for d in DARWIN])
    assert mirrored.verdict.paired["verdict"] == "as accurate"
    assert "20.9" not in mirrored.verdict.reason and "21 ms" in mirrored.verdict.reason
    assert "closer to the reference than mediapipe-lite's on average" in mirrored.verdict.reason
    # a margin under the CI's lower end: less accurate, and so keep
    strict = darwin_study(tmp_path / "s", diffs=[d + 40 for d in DARWIN], margin=5)
    assert strict.verdict.paired["verdict"] == "less accurate" and strict.verdict.decision == "keep"


def test_a_study_of_one_athlete_says_so(tmp_path):
    result = darwin_study(tmp_path, athletes=["side-series-athlete"] * 15)
    assert result.verdict.clusters["n_athletes"] == 1
    assert "all from one athlete" in result.verdict.reason
    assert result.verdict.clusters["ci_low_ms"] is None  # nothing to resample with one athlete
    mostly = darwin_study(tmp_path / "most", athletes=["A"] * 12 + ["B", "C", "D"])
    assert "12 of them from one athlete, A" in mostly.verdict.reason


# -- speed from a dedicated measurement ---------------------------------------------------------
def speed_run(tmp_path, name, *, load=0.1, cores=8, host="quiet-box", gpu="", cand_fps=15.0):
    """A saved run with rounds whose recorded machine and speeds are set (the load is recorded,
    as a run records it: 1-minute load average at the start and end)."""
    run = run_benchmark(str(RUNNING), [BASE, CAND], RunOptions(max_frames=6, warmup=1, rounds=2))
    run.run_id = name
    run.environment = {**run.environment, "host": host, "cpu": "Test CPU", "cores": cores, "gpu": gpu}
    machine = dict(run.extra.get("machine") or {})
    machine.update(
        load_1min_start=load, load_1min_end=load, cores=cores, usable_cores=cores, overlapping_runs=[]
    )
    # the other work this machine really did meanwhile is not the test's: none, as set
    machine.update(foreign_cpu_pct=0.0, foreign_cpu_pct_min=0.0, foreign_cpu_pct_max=0.0)
    run.extra["machine"] = machine
    summary = run.summary.set_index("backend")
    for label, fps in ((BASE, 30.0), (CAND, cand_fps)):
        summary.loc[label, ["fps", "fps_min", "fps_max", "rounds"]] = [fps, fps - 1, fps + 1, 5]
    run.summary = summary.reset_index()
    return run_store.save(run, tmp_path / "runs")


@pytest.fixture
def fake_backends(monkeypatch, results_root):
    monkeypatch.setattr(backends, "create", lambda config, cache=None: FakeBackend(config.display))


def test_a_busy_speed_measurement_never_decides_and_accuracy_stays_the_same(tmp_path, fake_backends):
    quiet = speed_run(tmp_path, "quiet", load=0.2, cores=8)
    busy = speed_run(tmp_path, "busy", load=7.5, cores=2)
    mirrored = [-d for d in DARWIN]  # as accurate
    on_quiet = darwin_study(tmp_path / "q", diffs=mirrored, speed_runs=[quiet]).verdict
    on_busy = darwin_study(tmp_path / "b", diffs=mirrored, speed_runs=[busy]).verdict
    assert on_quiet.paired == on_busy.paired  # the same accuracy answer
    assert on_quiet.paired["verdict"] == "as accurate"
    # quiet: the candidate's 15 frames/s against 30 decides (keep)
    assert on_quiet.decision == "keep" and {c.key: c for c in on_quiet.criteria}["speed"].status == "unmet"
    assert on_quiet.speed_source["reliable"] and on_quiet.speed_source["source"] == "run quiet"
    # busy: the same figures never decide, and the sentence says to re-measure
    speed_crit = {c.key: c for c in on_busy.criteria}["speed"]
    assert speed_crit.status == "not measured" and on_busy.decision == "undecided"
    assert (
        "measured while it was busy" in on_busy.reason and "re-measure on a quiet machine" in on_busy.reason
    )
    assert on_busy.targets[0]["speed_holds"].startswith("not measured reliably")
    # with no speed run, the study's own timings are shown but never decide
    none = darwin_study(tmp_path / "n", diffs=mirrored).verdict
    assert none.decision == "undecided" and "shown but never decide" in none.reason
    assert none.targets[0]["speed_source"] == "not measured"


def test_a_run_measured_on_a_busy_machine_is_not_speed_evidence(tmp_path, fake_backends):
    from posebench.decision import headline_verdict
    from posebench.decision.verdict_evidence import Evidence, Reference

    folder = speed_run(tmp_path, "busy-run", load=7.5, cores=2, host="busy-box")
    run = run_store.load(folder)
    jump = {"backend": [BASE, CAND], "status": ["ok", "ok"], "flight_time_s": [0.56, 0.555]}
    e = Evidence.from_run(run, Reference(flight_time_s=0.55), pd.DataFrame(jump))
    v = headline_verdict.decide(e, {"min_clips": 1})
    assert {c.key: c for c in v.criteria}["speed"].status == "not measured"
    assert v.decision == "undecided" and "re-measure on a quiet machine" in v.reason
    assert v.targets and v.targets[0]["target"].startswith("busy-box")


def test_an_imported_run_from_another_host_is_its_own_target(tmp_path, fake_backends, capsys):
    here = speed_run(tmp_path, "here", host="laptop", cand_fps=15.0)
    away = speed_run(tmp_path, "gpu-run", host="gpu-server", gpu="NVIDIA H100", cand_fps=60.0)
    archive = tmp_path / "gpu-run.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in away.iterdir():
            zf.write(path, f"gpu-run/{path.name}")
    imported_root = tmp_path / "imported"
    assert cli.main(["runs", "import", str(archive), "--out", str(imported_root)]) == 0
    imported = imported_root / "gpu-run"
    assert speed_evidence.from_folder(imported).host == "gpu-server"
    v = darwin_study(tmp_path / "t", diffs=[-d for d in DARWIN], speed_runs=[here, imported]).verdict
    rows = {r["host"]: r for r in v.targets}
    assert set(rows) == {"laptop", "gpu-server"}  # one row per deployment target
    assert rows["laptop"]["decision"] == "keep" and rows["laptop"]["speed_holds"] == "unmet"
    assert rows["gpu-server"]["speed_holds"] == "met" and "NVIDIA H100" in rows["gpu-server"]["target"]
    assert {r["accuracy"] for r in v.targets} == {"as accurate"}  # accuracy is shared
    assert v.headline.endswith("on laptop")  # the headline names the machine it speaks for
    saved = json.loads((tmp_path / "t" / "studies" / "darwin" / "verdict.json").read_text())
    assert len(saved["targets"]) == 2


def test_every_candidate_in_verdict_json_carries_its_evidence_and_targets(tmp_path, fake_backends):
    here = speed_run(tmp_path, "here", host="laptop")
    away = speed_run(tmp_path, "away", host="gpu-server", gpu="NVIDIA H100", cand_fps=60.0)
    third = "rtmpose-lightweight"
    result = darwin_study(tmp_path / "o", diffs=[-d for d in DARWIN], speed_runs=[here, away], also=third)
    saved = json.loads((result.folder / "verdict.json").read_text())
    assert {saved["candidate"], *(o["candidate"] for o in saved["others"])} == {CAND, third}
    for entry in [saved, *saved["others"]]:
        name = entry["candidate"]
        assert entry["paired"]["n"] == 15 and entry["clusters"]["n_clips"] == 15, name
        assert entry["speed_source"]["source"] == "run here", name  # the headline target's
        assert [r["host"] for r in entry["targets"]] == ["laptop", "gpu-server"], name
    # the headline's matrix holds each target's best candidate; every other candidate its own rows
    (other,) = saved["others"]
    assert {r["candidate"] for r in other["targets"]} == {other["candidate"]}
    by_name = {e["candidate"]: e for e in [saved, *saved["others"]]}
    # the third backend is 40 ms further than the candidate on every clip
    assert by_name[third]["paired"]["mean_ms"] == pytest.approx(by_name[CAND]["paired"]["mean_ms"] + 40)
    # the speed runs timed only mediapipe-lite and the tuned preset: the third is not measured there
    rows = [r for e in by_name.values() for r in e["targets"] if r["candidate"] == third]
    assert rows and {r["speed_holds"] for r in rows} == {"not measured"}
    gpu = [
        r
        for e in by_name.values()
        for r in e["targets"]
        if r["candidate"] == CAND and r["host"] == "gpu-server"
    ]
    assert gpu and gpu[0]["speed_holds"] == "met"
