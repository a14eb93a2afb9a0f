"""The RTMPose levers change behaviour as specified, on the real models and clips."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from conftest import BOXFLIP, LAB
from posebench import backends
from posebench.backends.backend_config import FAMILY_FIELDS, parse
from posebench.backends.families.rtmpose import DETECTORS, TUNED_LEVERS, RTMPoseLevers
from posebench.backends.family import lever_of
from posebench.backends.sessions import session_settings
from posebench.core.errors import BackendUnavailable, BenchError
from posebench.io import video

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def lab_frames():
    return list(video.iter_frames(LAB, max_frames=30))


@pytest.fixture(scope="module")
def two_people_frames():
    """Frames 70-84 of the box-flip clip: the athlete and the walker both in view."""
    return list(itertools.islice(video.iter_frames(BOXFLIP, max_frames=85), 70, 85))


def _run(spec: str, frames) -> list:
    backend = backends.create(spec)
    try:
        return [backend.process(f.image, f.timestamp_ms) for f in frames]
    finally:
        backend.close()


def _lost_before(results, i: int) -> bool:
    """True when frame i - 1 left no box to carry (no person, or too unsure)."""
    return i == 0 or not results[i - 1].detected


# -- detector cadence -------------------------------------------------------------------
@pytest.mark.integration
def test_det_every_0_runs_the_detector_only_first_and_after_loss(lab_frames):
    results = _run("rtmpose-lightweight:det_every=0,person=tracked", lab_frames)
    ran = [r.model_runs["detector"] for r in results]
    assert ran[0] == 1
    for i, r in enumerate(results):
        assert r.detector_ran == bool(ran[i])
        if ran[i] and i > 0:
            assert _lost_before(results, i), f"detector ran on frame {i} while tracking held"
    assert sum(ran) < len(results) / 5, "a single athlete in view is tracked, not re-detected"
    assert sum(r.detected for r in results) >= 0.9 * len(results)


@pytest.mark.integration
def test_det_every_5_runs_the_detector_on_about_a_fifth(lab_frames):
    results = _run("rtmpose-lightweight:det_every=5", lab_frames)
    ran = [i for i, r in enumerate(results) if r.model_runs["detector"]]
    due = {i for i in range(len(results)) if i % 5 == 0}
    assert due <= set(ran)
    assert all(i in due or _lost_before(results, i) for i in ran)
    assert len(ran) <= len(due) + sum(not r.detected for r in results)


@pytest.mark.integration
def test_det_every_1_runs_the_detector_on_every_frame(lab_frames):
    results = _run("rtmpose-lightweight", lab_frames[:8])
    assert [r.model_runs["detector"] for r in results] == [1] * 8


@pytest.mark.integration
def test_carry_motion_moves_the_carried_box_on_by_the_athletes_last_motion(lab_frames):
    from posebench.backends.base import box_from_keypoints

    spec = "rtmpose-lightweight:det_every=0,person=tracked,carry_pad=0.02"
    still = _run(spec, lab_frames[:12])
    moving = _run(spec + ",carry_motion=true", lab_frames[:12])
    shape = lab_frames[0].image.shape
    checked = 0
    for i in range(3, 12):
        if not all(r.detected and not r.detector_ran for r in moving[i - 2 : i + 1]):
            continue
        kp = [
            box_from_keypoints(moving[j].keypoints, moving[j].scores, pad=0.02, frame_shape=shape)
            for j in (i - 2, i - 1)
        ]
        shift = (
            ((kp[1][0] + kp[1][2]) - (kp[0][0] + kp[0][2])) / 2,
            ((kp[1][1] + kp[1][3]) - (kp[0][1] + kp[0][3])) / 2,
        )
        expected = np.clip(kp[1] + np.array([*shift, *shift]), 0, [shape[1] - 1, shape[0] - 1] * 2)
        np.testing.assert_allclose(moving[i].box, expected, atol=1e-6)
        checked += 1
    assert checked >= 5
    assert not np.allclose([r.box for r in still[3:12]], [r.box for r in moving[3:12]])  # it did move


# -- person selection and batching --------------------------------------------------------
@pytest.mark.integration
def test_person_largest_poses_one_person_where_all_poses_more(two_people_frames):
    largest = _run("rtmpose-lightweight:person=largest", two_people_frames)
    everyone = _run("rtmpose-lightweight:person=all", two_people_frames)
    assert all(r.model_runs["pose"] == (1 if r.people else 0) for r in largest)
    assert all(r.people <= 1 for r in largest)
    assert sum(r.model_runs["pose"] for r in everyone) > sum(r.model_runs["pose"] for r in largest)
    assert max(r.people for r in everyone) >= 2


@pytest.mark.integration
def test_batch_pose_runs_the_model_once_for_all_crops_with_the_same_keypoints(two_people_frames):
    frames = two_people_frames[:6]
    one_by_one = _run("rtmpose-lightweight", frames)
    batched = _run("rtmpose-lightweight:batch_pose=true", frames)
    assert any(r.people >= 2 for r in batched)
    for a, b in zip(one_by_one, batched):
        assert b.model_runs["pose"] == (1 if b.people else 0)
        assert a.model_runs["pose"] == a.people
        assert a.detected == b.detected
        if a.detected:
            np.testing.assert_allclose(a.keypoints, b.keypoints, atol=0.05)


@pytest.mark.integration
def test_fused_preprocess_gives_rtmlibs_keypoints(lab_frames):
    frames = lab_frames[:5]
    rtmlib_path = _run("rtmpose-lightweight", frames)
    fused = _run("rtmpose-lightweight:fused_preprocess=true", frames)
    for a, b in zip(rtmlib_path, fused):
        assert a.detected and b.detected
        np.testing.assert_allclose(a.keypoints, b.keypoints, atol=0.05)
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-3)


# -- detector choice and its input size ----------------------------------------------------
@pytest.mark.integration
def test_detector_choice_uses_that_model_file(lab_frames):
    backend = backends.create("rtmpose-lightweight:detector=yolox_nano")
    assert "yolox_nano" in backend.model_files["detector"]
    assert backend.process(lab_frames[0].image, 0).detected
    assert "yolox_nano" in DETECTORS and "yolox_tiny" in lever_of(RTMPoseLevers, "detector").choices


@pytest.mark.integration
def test_fixed_detector_input_size_is_refused_with_a_clear_reason():
    with pytest.raises(BackendUnavailable, match="fixed 416x416"):
        backends.create("rtmpose-lightweight:det_input=320")


def test_unknown_detector_is_refused():
    with pytest.raises(BenchError, match="detector"):
        parse("rtmpose-lightweight:detector=rtmpose_s_halpe26")


@pytest.mark.integration
def test_det_score_one_drops_every_box(lab_frames):
    results = _run("rtmpose-lightweight:det_score=1.0", lab_frames[:3])
    assert not any(r.detected for r in results)
    assert all(r.model_runs["pose"] == 0 for r in results)


# -- session options ------------------------------------------------------------------------
@pytest.mark.integration
def test_thread_settings_reach_the_session_options():
    spec = (
        "rtmpose-lightweight:intra_threads=1,inter_threads=2,spinning=false,"
        "graph_opt=basic,exec_mode=parallel"
    )
    backend = backends.create(spec, backends.ModelCache())
    for role, session in backend.sessions().items():
        got = session_settings(session)
        assert got["intra_threads"] == 1, role
        assert got["inter_threads"] == 2, role
        assert got["spinning"] is False, role
        assert got["graph_opt"] == "basic", role
        assert got["exec_mode"] == "parallel", role
    default = backends.create("rtmpose-lightweight", backends.ModelCache())
    assert session_settings(default.sessions()["pose"])["spinning"] is True


# -- the configuration table ---------------------------------------------------------------
def test_every_rtmpose_lever_is_documented_and_in_the_settings():
    config = parse("rtmpose-lightweight")
    for name in FAMILY_FIELDS["rtmpose"]:
        assert lever_of(RTMPoseLevers, name).help != name, name  # documented
        assert name in config.settings(), name


def test_tuned_preset_carries_the_tuned_levers():
    tuned = parse("rtmpose-lightweight-tuned").settings()
    for key, value in TUNED_LEVERS.items():
        assert tuned[key] == value


def test_ort_options_are_left_out_of_other_engines_settings():
    settings = parse("rtmpose-lightweight:engine=openvino").settings()
    assert "spinning" not in settings and "provider" not in settings
    assert settings["intra_threads"] == 0  # OpenVINO takes a thread count too
    assert settings["engine"] == "openvino"
    settings = parse("rtmpose-lightweight:engine=opencv").settings()
    assert "intra_threads" not in settings and "spinning" not in settings


def test_lever_values_are_checked():
    with pytest.raises(BenchError, match="carry_pad"):
        parse("rtmpose-lightweight:carry_pad=2")
    with pytest.raises(BenchError, match="true or false"):
        parse("rtmpose-lightweight:batch_pose=maybe")


@pytest.mark.parametrize(
    "spec",
    ["mediapipe-lite:det_every=0", "mediapipe-lite:person=tracked", "rtmpose-lightweight:running_mode=IMAGE"],
)
def test_a_setting_of_the_other_family_is_refused(spec):
    """Accepting it would change the label and do nothing."""
    with pytest.raises(BenchError, match="unknown setting"):
        parse(spec)


def test_every_preset_says_what_it_is():
    from posebench.backends.backend_config import PRESET_HELP, PRESETS

    assert set(PRESET_HELP) == set(PRESETS)
