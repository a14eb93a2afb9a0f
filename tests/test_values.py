"""Probes: values handed in are checked against the schema, each refusal one sentence.

Imported runs: options typed and within their rules (warmup "ten", rounds -5), the jump table,
scorecard settings, notices and status in the shape PoseBench writes. References: frames
within the clip and plausible (take-off 1e15 on a 47-frame clip), from a CSV, a manifest and
the page's save.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from conftest import RUNNING
from posebench.access import import_runs
from posebench.core.errors import InputError
from posebench.decision.scorecard_settings import Settings
from posebench.store import references, run_store, sidecars
from posebench.studies import study_manifest

pytestmark = [pytest.mark.timeout(300)]
SHA = "ab" * 32


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory):
    from test_dashboard import fake_run

    root = tmp_path_factory.mktemp("made-elsewhere")
    return run_store.save(fake_run(root, "20250106-000000-values", frames=6, warmup=1), root)


def _import_with(saved_run: Path, tmp_path: Path, **changes):
    """Import the saved run with run.json's fields changed (the files uploaded one by one)."""
    meta = json.loads((saved_run / "run.json").read_text())
    for key, value in changes.items():
        if key == "options" and isinstance(value, dict):
            meta["options"] = {**meta["options"], **value}
        else:
            meta[key] = value
    sources = [("run.json", json.dumps(meta).encode())]
    sources += [
        (name, (saved_run / name).read_bytes()) for name in ("summary.csv", "frames.csv", "native.npz")
    ]
    return import_runs.import_run(sources, tmp_path / "results", shown="crafted.zip")


@pytest.mark.parametrize(
    ("changes", "sentence"),
    [
        ({"options": {"warmup": "ten"}}, "its option warmup is 'ten', not a whole number"),
        ({"options": {"rounds": -5}}, "its options make no sense (rounds must be between 1 and"),
        ({"options": {"max_seconds": "1e9999"}}, "its option max_seconds is '1e9999', not a number"),
        ({"options": ["warmup"]}, "options in run.json is not an object"),
        ({"jump": {"a": 1}}, "the jump table in run.json is not a list of rows"),
        ({"jump": "x"}, "the jump table in run.json is not a list of rows"),
        (
            {"jump": [{"backend": "a", "error": {"nested": 1}}]},
            "the jump table in run.json is not a list of rows",
        ),
        ({"scorecard": {"thresholds": {"speedup": "fast"}}}, "the scorecard settings in run.json are not"),
        ({"scorecard": {"overrides": ["x"]}}, "the scorecard settings in run.json are not"),
        ({"notices": "hello"}, "notices in run.json are not a list of texts"),
        ({"status": "pwned"}, "its status is not one of complete, cancelled, failed"),
        ({"reference": {"takeoff_frame": [1]}}, "the reference in run.json is not a set of plain values"),
    ],
)
def test_an_imported_run_with_values_of_the_wrong_shape_is_refused(saved_run, tmp_path, changes, sentence):
    with pytest.raises(InputError) as caught:
        _import_with(saved_run, tmp_path, **changes)
    text = str(caught.value)
    assert text.startswith("crafted.zip is refused: ") and sentence in text, text
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").iterdir())


def test_a_well_formed_import_still_goes_through(saved_run, tmp_path):
    folder = _import_with(
        saved_run,
        tmp_path,
        options={"warmup": 2, "max_frames": None},
        jump=[{"backend": "mediapipe-lite", "status": "ok", "flight_time_s": 0.41, "error": None}],
        notices=["a note"],
    )
    run = run_store.load(folder)
    assert run.options.warmup == 2 and run.extra["notices"] == ["a note"]
    assert (folder / "jump.csv").exists()


def test_malformed_saved_scorecard_settings_fall_back_to_the_defaults():
    for data in ({"thresholds": ["x"]}, {"overrides": "x"}, {"overrides": {"c": [1]}}, "x", {"baseline": 3}):
        settings = Settings.from_dict(data)
        assert settings.thresholds == Settings().thresholds and settings.overrides == {}
        assert settings.baseline is None


def test_absurd_reference_frames_are_refused_in_one_sentence(tmp_path):
    with pytest.raises(InputError, match=r"take-off frame for a.mp4 is 1e\+15, beyond frame 1,000,000"):
        references.import_csv(
            f"clip,sha256,takeoff_frame,landing_frame\na.mp4,{SHA},1e15,1000000000000002\n", tmp_path
        )
    with pytest.raises(InputError, match=r"the take-off frame for a\.mp4 must be a whole frame number"):
        references.import_csv(f"clip,sha256,takeoff_frame,landing_frame\na.mp4,{SHA},inf,5\n", tmp_path)
    with pytest.raises(InputError, match="longer than 2 s even at 1000 frames/s"):
        references.import_csv(f"clip,sha256,takeoff_frame,landing_frame\na.mp4,{SHA},0,900000\n", tmp_path)
    assert references.load(tmp_path) == {}


def test_reference_frames_must_lie_within_the_clip(tmp_path, results_root):
    os.symlink(RUNNING, tmp_path / "run.mp4")  # 47 frames
    manifest = tmp_path / "m.csv"
    manifest.write_text("clip,takeoff_frame,landing_frame\nrun.mp4,40,60\n")
    with pytest.raises(
        InputError, match=r"manifest line 2: the landing frame for run.mp4 is 60, but the clip has 47"
    ):
        study_manifest.from_manifest(manifest, ["mediapipe-lite"])
    manifest.write_text("clip,takeoff_frame,landing_frame\nrun.mp4,20,30\n")
    assert study_manifest.from_manifest(manifest, ["mediapipe-lite"]).clips[0].reference.landing_frame == 30

    from test_dashboard import fake_run

    run = fake_run(tmp_path, "20250107-000000-within", frames=4, warmup=1)
    assert run.clip.frames == 47 and run.clip.sha256
    with pytest.raises(InputError, match="the clip has 47 frames"):
        sidecars.save_reference(run, {"takeoff_frame": 10, "landing_frame": 60})
    assert sidecars.load_reference(run) is None
    sidecars.save_reference(run, {"takeoff_frame": 10, "landing_frame": 20})
    assert math.isclose(sidecars.load_reference(run)["landing_frame"], 20)
