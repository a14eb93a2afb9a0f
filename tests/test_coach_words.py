"""What a coach reads: a running benchmark while its models load and once its frames are timed,
and the time-per-frame chart's legend with a sample of each line style."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from posebench.dashboard import background_jobs, widgets
from posebench.report import run_charts
from posebench.store import run_record


def _job() -> background_jobs.RunJob:
    configs = [SimpleNamespace(display="mediapipe"), SimpleNamespace(display="rtmpose")]
    job = background_jobs.RunJob("clip.mp4", configs, run_record.RunOptions(max_frames=20, warmup=2))
    job.started_at -= 60  # past the first seconds in which no estimate is shown anyway
    return job


def test_a_run_says_it_loads_the_models_until_its_first_timed_frame():
    job = _job()  # not started: its worker would be loading the models
    assert job.loading()
    line = widgets.job_line(job)
    assert "loading the models" in line and "left" not in line and "%" not in line
    assert widgets.job_fraction_left(job)[1] is None
    job._on_progress("mediapipe", 2, 20, 0.5)  # warm-up frames only: no timed frame yet
    assert job.loading() and "loading the models" in widgets.job_line(job)
    assert "left" not in job.progress()[0].text()  # its bar gives no time left either
    job._on_progress("mediapipe", 6, 20, 1.0)  # the first timed frames
    assert not job.loading()
    line = widgets.job_line(job)
    assert "loading" not in line and "s left" in line and "15 % done" in line


def test_the_share_done_reads_100_only_when_all_is_done():
    assert widgets.share_done(0.996) == "99 %"
    assert widgets.share_done(1.0) == "100 %"
    assert widgets.share_done(0.0) == "0 %"


def test_the_time_per_frame_legend_draws_a_sample_of_each_line_style():
    frames = pd.DataFrame(
        {
            "backend": ["a"] * 6 + ["b"] * 6,
            "frame": list(range(6)) * 2,
            "latency_ms": [30.0, 29, 20, 21, 22, 20] * 2,
            "model_ms": [25.0] * 12,
            "warmup": [True, True, False, False, False, False] * 2,
        }
    )
    spec = run_charts.latency_over_time(frames, "Settings.").chart.to_dict()
    lines = [layer for layer in spec["layer"] if layer["mark"]["type"] == "line"]
    points = [layer for layer in spec["layer"] if layer["mark"]["type"] == "point"]
    assert len(lines) == 1 and len(points) == 1
    dash = lines[0]["encoding"]["strokeDash"]
    assert dash["scale"]["domain"] == list(run_charts.PHASES)
    solid, dashed = dash["scale"]["range"]
    assert solid != dashed and len(set(dashed)) > 1  # one solid, one visibly dashed
    assert dash["legend"]["symbolType"] == "stroke"  # a line sample, not a circle
    assert "strokeDash" not in points[0]["encoding"]  # the points add no legend of their own


def test_the_explorers_settings_are_offered_in_words_that_tell_them_apart():
    from posebench.dashboard import explorer_view
    from posebench.studies import lever_explorer

    labels = [explorer_view.in_words(c) for c in lever_explorer.default_candidates()]
    assert not [label for label in labels if "=" in label or "_" in label]  # no raw settings
    # a pill cuts a label longer than about 115 characters at its end (1280 px): the first 100
    # tell every setting apart
    assert len({label[:100] for label in labels}) == len(labels), labels
