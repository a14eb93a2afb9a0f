"""One decision on the same evidence, on real clips and models (issue 20): a CPU burner changes
no accuracy answer and its busy speed measurement never decides; the study's speed measured on
demand (command line and Study page); the CLI's verdict and the Scorecard page agree."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

import commands
from conftest import CLIPS, ROOT, page_test
from posebench import cli
from posebench.dashboard import safe_text, verdict_view
from posebench.decision import speed_evidence
from posebench.engine.runner import run_benchmark
from posebench.store import references, run_store
from posebench.store.run_record import RunOptions
from posebench.studies import study_folder, study_manifest


def shows_verdict(texts: list[str], data: dict) -> bool:
    """The page shows verdict.json's answer: its headline leads a box, the rest of the sentence under it."""
    detail = verdict_view.detail(SimpleNamespace(reason=data["reason"], headline=data["headline"]))
    return (
        any(t.startswith(f"**{safe_text.md(data['headline'])}: ") for t in texts)
        and safe_text.md(detail) in texts
    )


pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

BASE, CAND = "mediapipe-lite", "rtmpose-lightweight-tuned"
JUMPS = CLIPS / "jumps"
# the two shortest side-view jumps of the shared series, with their by-eye frames (study.csv)
SHORT = {"cmj_side_dhruvrahuja_4.mp4": (17, 33), "cmj_side_dhruvrahuja_5.mp4": (15, 32)}


def _manifest(folder, clips: int = len(SHORT)):
    lines = [",".join(references.CSV_COLUMNS) + ",athlete"]
    for name, (takeoff, landing) in list(SHORT.items())[:clips]:
        lines.append(f"{JUMPS / name},,cmj,,{takeoff},{landing},by eye (study.csv),,side-series-athlete")
    path = folder / "manifest.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextlib.contextmanager
def cpu_burner(cores: int = 2):
    """Processes spinning on every core. They are this test's children, not the study's (it runs
    in its own process), so the study's runs see them as other work on the machine. They
    write nothing and hold none of the study's output."""
    procs = []
    try:
        for _ in range(cores):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", "while True: pass"],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        yield procs
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(30)


def _study_cli(manifest, out, results_root, *more: str) -> dict:
    """``posebench study ... --speed measure`` in its own process (its output in files, never
    waited on for longer than the test's limit); its verdict.json. The study leaves no process
    of its own running once it has exited."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "POSEBENCH_RESULTS": str(results_root),
    }
    args = ["study", str(manifest), "-b", BASE, "-b", CAND, "--out", str(out), "--min-clips", "1"]
    args += ["--warmup", "2", "--speed", "measure", "--speed-rounds", "2", "--speed-frames", "24", *more]
    done = commands.run([sys.executable, "-m", "posebench", *args], env=env, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "speed run saved: " in done.stdout
    assert done.left_behind == [], done.left_behind  # nothing it started outlives it
    return json.loads((out / "manifest" / "verdict.json").read_text())


FORK_LOG = """
import os
def _log_fork():
    with open(os.environ["FORK_LOG"], "a") as out:
        import threading, traceback
        out.write(f"fork from {threading.current_thread().name}: {traceback.format_stack()[-3:-1]}\\n")
os.register_at_fork(before=_log_fork)
"""


def test_the_study_command_copies_nothing_of_itself_and_leaves_no_process_behind(tmp_path, results_root):
    """A study on the command line starts no copy of itself (a fork inherits its output: a
    caller reading that through pipes would wait for the copy too) and nothing it started is
    still running once it has exited. OpenVINO's telemetry forked on import until PoseBench
    hid it; ``CI`` is unset so that the telemetry would be on."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(FORK_LOG, encoding="utf-8")
    manifest = _manifest(tmp_path, clips=1)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env |= {
        "PYTHONPATH": os.pathsep.join([str(site), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "POSEBENCH_RESULTS": str(results_root),
        "FORK_LOG": str(tmp_path / "forks.txt"),
    }
    args = ["study", str(manifest), "-b", BASE, "-b", CAND, "--out", str(tmp_path / "out"), "--warmup", "2"]
    done = commands.run([sys.executable, "-m", "posebench", *args], env=env, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (tmp_path / "out" / "manifest" / "verdict.json").is_file()
    forks = (tmp_path / "forks.txt").read_text() if (tmp_path / "forks.txt").exists() else ""
    assert forks == "", forks
    assert done.left_behind == [], done.left_behind


def _speed_decides(v: dict) -> bool:
    return {c["key"]: c for c in v["criteria"]}["speed"]["status"] in ("met", "unmet")


def test_a_cpu_burner_changes_no_accuracy_and_its_busy_speed_never_decides(tmp_path, results_root):
    manifest = _manifest(tmp_path)
    with cpu_burner(cores=1):  # one core is enough to be seen
        busy = _study_cli(manifest, tmp_path / "burner-on", results_root)
    quiet = _study_cli(manifest, tmp_path / "burner-off", results_root)

    # the same accuracy answer, clip for clip
    assert busy["paired"]["n"] == 2 and busy["paired"] == quiet["paired"]
    assert busy["clusters"] == quiet["clusters"]
    # under the burner the speed run is recorded as busy (other work took the processor)
    assert busy["speed_source"]["source"].startswith("run ") and busy["speed_source"]["busy"]
    assert not busy["speed_source"]["reliable"]
    # busy => speed does not decide. The machine may be busy from other work during the
    # "quiet" run too (it is shared): then the same must hold for it.
    for v in (busy, quiet):
        if v["speed_source"]["reliable"]:
            assert _speed_decides(v)
            continue
        assert not _speed_decides(v)
        assert v["decision"] != "replace"
        assert "measured while it was busy" in v["reason"] and "re-measure on a quiet machine" in v["reason"]
        assert v["targets"][0]["speed_holds"].startswith("not measured reliably")
        assert all(r["speed_holds"] != "met" for o in v["others"] for r in o["targets"])
    # the measurement is an ordinary run folder, readable as speed evidence later
    run_id = busy["speed_source"]["source"].removeprefix("run ")
    assert speed_evidence.from_folder(results_root / run_id).busy


def test_the_cli_verdict_and_the_scorecard_page_agree_on_one_run(tmp_path, results_root):
    clip = JUMPS / "cmj_side_dhruvrahuja_5.mp4"
    run = run_benchmark(str(clip), [BASE, CAND], RunOptions(warmup=2, rounds=2))
    folder = run_store.save(run, results_root)
    takeoff, landing = SHORT[clip.name]
    assert cli.main(["verdict", str(folder), "--takeoff", str(takeoff), "--landing", str(landing)]) == 0
    saved = json.loads((folder / "verdict.json").read_text())
    assert {"paired", "clusters", "speed_source", "targets"} <= set(saved)
    assert saved["speed_source"]["source"] == f"run {run.run_id}"  # a run is its own speed measurement
    assert len(saved["targets"]) == 1

    page = page_test("scorecard", default_timeout=240)
    page.session_state["current_run"] = run_store.load(folder)
    page.run()
    assert not page.exception
    boxes = {"replace": page.success, "undecided": page.warning, "keep": page.error}
    shown = [b.value for b in boxes[saved["decision"]]]
    assert shows_verdict(shown + [m.value for m in page.markdown], saved)  # the same decision and sentence
    # the headline names the machine the run was timed on, as a study's does
    assert saved["headline"].endswith(f" on {run.environment['host']}")
    assert saved["reason"].startswith(f"{saved['headline']}: ")
    if not saved["speed_source"]["reliable"]:  # a busy run's speed decides on neither
        assert {c["key"]: c for c in saved["criteria"]}["speed"]["status"] == "not measured"
        assert "re-measure on a quiet machine" in saved["reason"]


def test_the_study_page_measures_the_speed_on_demand_and_uses_it(tmp_path, results_root):
    clip = JUMPS / "cmj_side_dhruvrahuja_5.mp4"
    study = study_manifest.from_manifest(_manifest(tmp_path), [BASE, CAND], name="on-demand", min_clips=1)
    study.clips = [c for c in study.clips if c.name.endswith(clip.name)]
    rows = [
        {"clip": study.clips[0].name, "sha256": study.clips[0].sha256, "backend": b, "status": "ok",
         "error": "", "flight_time_s": f, "jump_height_m": 9.81 * f * f / 8, "takeoff_frame": 15.0,
         "landing_frame": 15.0 + f * 28.913, "fps_clip": 28.913, "fps": 20.0, "host": "h",
         "detection_rate": 1.0}
        for b, f in ((BASE, 0.62), (CAND, 0.60))
    ]  # fmt: skip

    class Stored:  # the study's jobs from stored rows: only the speed run is real here
        def run(self, pending, on_result, cancel):
            for i, job in enumerate(pending):
                on_result(i, next(r for r in rows if r["backend"] == job.backend))

    root = results_root / "studies"
    study_folder.run(study, root, executor=Stored())
    before = json.loads((root / study.study_id / "verdict.json").read_text())
    assert before["speed_source"]["kind"] == "none"

    page = page_test("study", default_timeout=240)
    page.session_state["open_study"] = study.study_id
    page.run()
    assert not page.exception
    page.number_input(key="study-speed-rounds").set_value(2)
    page.button(key="study-speed-measure").click().run()
    assert not page.exception
    job = page.session_state["study_job"]
    assert job.wait(480) and job.error is None, job.error
    assert job.worker_pid not in (None, os.getpid())  # timed in a worker process, not the server
    page.run()
    assert not page.exception

    saved = study_folder.load(study.study_id, root)
    assert saved.speed_runs[0] == str(job.saved_to.resolve())
    after = json.loads((root / study.study_id / "verdict.json").read_text())
    assert after["speed_source"]["source"] == f"run {job.run.run_id}"
    assert after["speed_source"]["rounds"] == 2
    assert after["paired"] == before["paired"]  # the accuracy evidence is untouched
    if not after["speed_source"]["reliable"]:
        assert "re-measure on a quiet machine" in after["reason"]
    texts = [str(m.value) for m in [*page.warning, *page.error, *page.success, *page.markdown]]
    assert shows_verdict(texts, after)
