"""Real time: the simulated camera (``engine.simulated_camera``), the realtime table and the command."""

from __future__ import annotations

import shutil
import zipfile

import numpy as np
import pandas as pd
import pytest

from conftest import CLIPS, CMJ, FakeBackend
from posebench.access import import_runs
from posebench.cli.main import main
from posebench.core import schema
from posebench.engine import simulated_camera
from posebench.engine.runner import run_benchmark
from posebench.io import video
from posebench.store import run_store, sidecars
from posebench.store.run_record import RunOptions
from posebench.studies import realtime_run

SIDE = CLIPS / "jumps" / "cmj_side_dhruvrahuja_6.mp4"  # 61 frames, the whole jump


class TimedFake(FakeBackend):
    """The fake skeleton, taking ``seconds`` of the given clock per frame."""

    def __init__(self, clock, seconds: float):
        super().__init__("timed")
        self.clock, self.seconds = clock, seconds

    def process(self, image, timestamp_ms):
        self.clock.advance(self.seconds)
        return super().process(image, timestamp_ms)


def _frames(n: int) -> list[video.Frame]:
    image = np.zeros((48, 64, 3), np.uint8)
    return [video.Frame(i, int(i * 1000 / 30), image, 0.0) for i in range(n)]


def test_a_50_ms_backend_on_a_30_fps_camera_drops_a_third_with_the_expected_latency():
    # 50 ms a frame keeps up with 20 of the camera's 30 frames a second: every third frame is
    # dropped; the frames taken wait 0 or 16.7 ms, so the skeleton is 50 or 66.7 ms old.
    clock = simulated_camera.FakeClock()
    streams = simulated_camera.run_streams(
        None, _frames(300), [30.0], 1, np.ones(2), clock=clock, make=lambda: TimedFake(clock, 0.050)
    )
    stream = streams[0]["stream"]
    stats = simulated_camera.stream_stats([stream])
    assert stats["frames_offered"] == 300
    assert stats["frames_processed"] == 201  # pairs of frames, then the last frame
    assert stats["drop_pct"] == pytest.approx(100 * 99 / 300)
    assert stats["longest_drop_run"] == 1
    latencies = [round(s.latency_ms, 3) for s in stream.served]
    assert latencies[:-1] == [50.0, 66.667] * 100  # the last frame waited for the one before
    assert latencies[-1] == pytest.approx(83.333)
    assert stats["latency_ms_p50"] == pytest.approx(200 / 3)
    assert stats["service_ms_mean"] == pytest.approx(50.0)
    assert stats["processed_fps"] == pytest.approx(201 / 10)
    assert 20.0 <= stats["sustained_fps"] < 20.5  # 1000 ms / 50 ms, and not much more
    assert len(streams[0]["rows"]) == 201 and {r["frame"] for r in streams[0]["rows"]} == set(
        stream.processed_frames
    )


def test_the_same_backend_on_the_wall_clock_drops_at_least_a_quarter():
    # Tolerant bounds: the backend cannot be faster than its 50 ms sleep, so drops and latency
    # have floors; a busy machine only raises them.
    import time

    stream = simulated_camera.simulate(30, 30.0, lambda k: time.sleep(0.05), simulated_camera.RealClock())
    stats = simulated_camera.stream_stats([stream])
    assert stats["frames_offered"] == 30
    assert 25.0 <= stats["drop_pct"] <= 90.0
    assert stats["latency_ms_p50"] >= 49.0


def test_a_fast_backend_drops_nothing_and_each_frame_waits_for_its_release():
    clock = simulated_camera.FakeClock()
    stream = simulated_camera.simulate(60, 60.0, lambda k: clock.advance(0.004), clock)
    assert stream.processed_frames == list(range(60))
    assert all(s.latency_ms == pytest.approx(4.0) for s in stream.served)
    assert simulated_camera.stream_stats([stream])["sustained_fps"] == pytest.approx(250.0, rel=0.02)


def test_longest_run_and_sustained_rate_of_uneven_times():
    assert simulated_camera.longest_run([2, 3, 4, 7, 9, 10]) == 3
    assert simulated_camera.longest_run([]) == 0
    # a 100 ms detector frame every 10th frame, 10 ms otherwise: 100 fps drops at every
    # detector frame (10 %), so the sustained rate lies well below 100
    times = [100.0 if i % 10 == 0 else 10.0 for i in range(100)]
    sustained = simulated_camera.sustained_fps(times)
    assert 10.0 <= sustained < 100.0
    clock = simulated_camera.FakeClock()
    taken = iter(times * 10)
    stream = simulated_camera.simulate(300, sustained, lambda k: clock.advance(next(taken) / 1000), clock)
    assert simulated_camera.stream_stats([stream])["drop_pct"] < 1.0


def test_live_frames_give_dropped_frames_no_pose():
    rows = [{"frame": 0, "detected": True, "nose_x": 1.0}, {"frame": 2, "detected": True, "nose_x": 3.0}]
    table = realtime_run._live_frames(rows, "b", "p", 4, 30.0)
    assert list(table.columns) == list(schema.FRAME_COLUMNS)
    assert table["detected"].tolist() == [True, False, True, False]
    assert table["nose_x"].isna().tolist() == [False, True, False, True]
    assert table["timestamp_ms"].tolist() == [0, 33, 67, 100]


@pytest.fixture(scope="module")
def side_run():
    """MediaPipe lite offline on the whole side-view jump (61 frames)."""
    run = run_benchmark(str(SIDE), ["mediapipe-lite"], RunOptions(warmup=0))
    assert run.status == "complete"
    return run


def test_dropping_the_take_off_frame_is_reported_and_the_jump_re_run(side_run):
    from posebench.analysis import jump_metrics

    offline = jump_metrics.from_run(side_run)
    takeoff = int(round(float(offline.loc[0, "takeoff_frame"])))
    landing = int(round(float(offline.loc[0, "landing_frame"])))
    kept = [k for k in range(side_run.clip.frames) if k not in (takeoff - 1, takeoff)]
    label = side_run.configs[0].display
    frames = side_run.frames.set_index("frame")
    stream = simulated_camera.Stream(fps=side_run.clip.fps, offered=side_run.clip.frames)
    stream.served = [
        simulated_camera.Served(k, k / stream.fps, k / stream.fps, k / stream.fps + 0.01) for k in kept
    ]
    rows = [dict(frames.loc[k], frame=k) for k in kept]
    measured = {
        label: {
            "streams": [
                {"fps": stream.fps, "round": 1, "stream": stream, "rows": rows, "load_1min_start": 0.0}
                | {"load_1min_end": 0.0}
            ],
            "machine": {"usable_cores": 2, "overlapping_runs": []},
            "frames": side_run.clip.frames,
        }
    }
    table = realtime_run.table_from_streams(side_run, measured, [stream.fps], 1, {}, offline)
    row = table.iloc[0]
    assert list(table.columns) == list(schema.REALTIME_COLUMNS)
    assert row["status"] == "ok" and row["frames_dropped"] == 2 and row["longest_drop_run"] == 2
    assert bool(row["takeoff_frame_lost"]) and not bool(row["landing_frame_lost"])
    assert row["offline_flight_time_s"] == pytest.approx(float(offline.loc[0, "flight_time_s"]))
    assert row["offline_landing_frame"] == pytest.approx(float(offline.loc[0, "landing_frame"]))
    assert np.isfinite(row["live_flight_time_s"]) or "no jump" in row["notes"]
    assert landing not in (takeoff - 1, takeoff)


def test_realtime_command_writes_realtime_csv_beside_the_run(tmp_path, capsys):
    out = tmp_path / "results"
    code = main(
        [
            "realtime",
            str(CMJ),
            "-b",
            "mediapipe-lite",
            "-b",
            "rtmpose-lightweight-tuned",
            "--fps",
            "30",
            "--frames",
            "60",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    (folder,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    for name in ("summary.csv", "frames.csv", "run.json", "realtime.csv"):
        assert (folder / name).is_file(), name
    table = pd.read_csv(folder / "realtime.csv")
    assert list(table.columns) == list(schema.REALTIME_COLUMNS)
    assert table["backend"].tolist() == ["mediapipe-lite", "rtmpose-lightweight-tuned"]
    assert (table["status"] == "ok").all()
    assert (table["frames_offered"] == 60).all()
    assert (table["frames_processed"] + table["frames_dropped"] == 60).all()
    assert (table["latency_ms_p50"] > 0).all() and (table["sustained_fps"] > 0).all()
    assert table["notes"].str.contains("jump not compared").all()  # 60 frames hold no jump
    assert "drop_pct" in printed and "rtmpose-lightweight-tuned" in printed

    # the run store and an import carry it
    loaded = run_store.load(folder)
    assert sidecars.load_realtime_table(loaded, out)["frames_offered"].tolist() == [60, 60]
    archive = tmp_path / "run.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in folder.iterdir():
            zf.write(path, f"{folder.name}/{path.name}")
    shutil.rmtree(out)
    imported = import_runs.import_run(archive, root=tmp_path / "imported", owner="someone")
    again = pd.read_csv(imported / "realtime.csv")
    pd.testing.assert_frame_equal(again, table, check_dtype=False)


def test_idle_detector_cadence_runs_the_detector_every_third_empty_frame(tmp_path):
    from clipgen import with_empty_tail

    clip = with_empty_tail(SIDE, tmp_path / "tail.mp4", 30)
    tuned = "rtmpose-lightweight-tuned"
    idle = f"{tuned}:idle_det_every=3"
    run = run_benchmark(str(clip), [f"{tuned}:idle_det_every=1", idle], RunOptions(warmup=0))
    frames = run.frames
    every, third = (frames[frames["backend"] == b].sort_values("frame") for b in run.summary["backend"])
    person = every["frame"] < 61
    columns = schema.landmark_columns()
    # while the athlete is in view nothing changes
    assert np.array_equal(
        every.loc[person, columns].to_numpy(),
        third.loc[person.to_numpy(), columns].to_numpy(),
        equal_nan=True,
    )
    tail_every = every.loc[~person, "detector_ran"].to_numpy()
    tail_third = third.loc[~person.to_numpy(), "detector_ran"].to_numpy()
    assert not third.loc[~person.to_numpy(), "detected"].any()
    assert tail_every[1:].all()  # nobody found: rtmlib's way, the detector on every frame
    first = int(np.argmax(tail_third))
    assert tail_third[first::3].all() and tail_third.sum() == len(tail_third[first::3])
