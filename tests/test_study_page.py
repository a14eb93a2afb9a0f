"""The Study page with Streamlit's AppTest: clips added, reference frames marked with the scrubber."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import CLIPS, RUNNING, goto
from posebench.store import references
from posebench.studies import study_jobs

pytestmark = [pytest.mark.timeout(300)]
APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_reference_frames_are_marked_with_the_scrubber(results_root, monkeypatch, tmp_path):
    monkeypatch.setenv("POSEBENCH_CLIP_DIRS", str(CLIPS))
    monkeypatch.setenv("POSEBENCH_UPLOADS", str(tmp_path / "uploads"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    goto(at, "study").run()
    assert not at.exception
    assert any("No study yet" in i.value for i in at.info)
    at.multiselect(key="study-public").set_value([RUNNING.name]).run()
    at.button(key="study-add").click().run()
    assert not at.exception
    assert any("References for 1 clips" in s.value for s in at.subheader)

    at.slider(key="scrub-frame").set_value(10).run()
    at.button(key="scrub-takeoff").click().run()  # last ground contact at 10: take-off is 11
    at.slider(key="scrub-frame").set_value(20).run()
    at.button(key="scrub-landing").click().run()  # first landing contact at 20
    assert not at.exception
    saved = references.get(study_jobs.clip_sha256(RUNNING), results_root)
    assert (saved.takeoff_frame, saved.landing_frame, saved.source) == (11.0, 20.0, "by eye")

    at.slider(key="scrub-frame").set_value(5).run()
    at.button(key="scrub-landing").click().run()  # a landing before the take-off is refused
    assert any("must come after the take-off" in e.value for e in at.error)
    assert references.get(study_jobs.clip_sha256(RUNNING), results_root).landing_frame == 20.0


def test_the_scrubber_steps_frame_by_frame_and_the_table_shows_the_mark_at_once(
    results_root, monkeypatch, tmp_path
):
    monkeypatch.setenv("POSEBENCH_CLIP_DIRS", str(CLIPS))
    monkeypatch.setenv("POSEBENCH_UPLOADS", str(tmp_path / "uploads"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    goto(at, "study").run()
    at.multiselect(key="study-public").set_value([RUNNING.name]).run()
    at.button(key="study-add").click().run()
    at.slider(key="scrub-frame").set_value(10).run()
    at.button(key="scrub-next").click().run()
    assert at.slider(key="scrub-frame").value == 11
    at.button(key="scrub-prev").click().run()
    at.button(key="scrub-prev").click().run()
    assert at.slider(key="scrub-frame").value == 9
    assert len(at.get("image")) == 3  # frames 8, 9 and 10, side by side
    at.button(key="scrub-takeoff").click().run()  # last ground contact at 9: take-off is 10
    assert not at.exception
    table = at.dataframe[0].value  # the references table (a data editor)
    assert table["takeoff_frame"].iloc[0] == 10  # shown on the same click
