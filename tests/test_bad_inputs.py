"""Every rejected input gets one clear sentence: the upload path and the CLI (issues 2 and 6)."""

from __future__ import annotations

import io
import os
import shutil
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import clipgen
import commands
from conftest import MODELS, RUNNING, child_pids, children_first_run
from posebench.core.errors import InputError
from posebench.engine.runner import run_benchmark
from posebench.io import uploads, video
from posebench.store.run_record import RunOptions

pytestmark = pytest.mark.timeout(300)

MB = 1024**2

# kind -> (how to make it in a folder, words its sentence must contain)
REFUSED = {
    "empty": (lambda d: _write(d / "empty.mp4", b""), "empty"),
    "text_as_mp4": (lambda d: clipgen.text_renamed(d / "notes.mp4"), "text file"),
    "png_as_mp4": (lambda d: clipgen.png_renamed(d / "photo.mp4"), "PNG image"),
    "audio_only": (lambda d: clipgen.audio_only_clip(d / "voice.m4a"), "audio only"),
    "zero_frames": (lambda d: clipgen.zero_frame_clip(d / "nothing.mp4"), "no video frames"),
    "one_frame": (lambda d: clipgen.single_frame_clip(d / "still.mp4"), "only 1 frame"),
    "truncated": (lambda d: clipgen.truncated_copy(RUNNING, d / "half.mp4"), "cut short"),
    "corrupt": (lambda d: _write(d / "noise.mp4", os.urandom(50_000)), "not a video"),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _accept(path: Path, workdir: Path, **kwargs) -> uploads.AcceptedClip:
    with open(path, "rb") as fh:
        return uploads.accept_upload(path.name, fh, 50 * MB, workdir, **kwargs)


# -- uploads: refused ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(REFUSED))
def test_refused_uploads_get_one_sentence_and_leave_no_file(tmp_path, kind):
    make, words = REFUSED[kind]
    source = make(tmp_path)
    workdir = tmp_path / "uploads"
    with pytest.raises(InputError) as err:
        _accept(source, workdir)
    sentence = str(err.value)
    assert words in sentence, sentence
    assert "\n" not in sentence and "upload-" not in sentence  # the label, not the random name
    assert source.name in sentence
    assert not workdir.exists() or list(workdir.iterdir()) == []


def test_size_limit_is_enforced_while_streaming(tmp_path):
    class Endless(io.RawIOBase):
        """A stream that never ends; counts what was read from it."""

        read_bytes = 0

        def readable(self):
            return True

        def read(self, n=-1):
            n = uploads.CHUNK_BYTES if n is None or n < 0 else n
            self.read_bytes += n
            return b"\0" * n

    stream = Endless()
    with pytest.raises(InputError, match="larger than the upload limit of 3 MB"):
        uploads.accept_upload("huge.mp4", stream, 3 * MB, tmp_path)
    assert stream.read_bytes <= 3 * MB + uploads.CHUNK_BYTES
    assert list(tmp_path.iterdir()) == []


def test_declared_size_above_the_limit_is_refused_before_reading(tmp_path):
    stream = io.BytesIO(b"x" * 100)
    stream.size = 500 * MB  # what Streamlit's UploadedFile reports
    with pytest.raises(InputError, match="above the upload limit"):
        uploads.accept_upload("big.mp4", stream, 200 * MB, tmp_path)
    assert stream.tell() == 0


def test_default_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("POSEBENCH_UPLOAD_MB", "5")
    assert uploads.upload_limit_bytes() == 5 * MB


# -- uploads: names ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "name,label",
    [
        ("../../etc/passwd.mp4", "passwd.mp4"),
        ("C:\\Users\\coach\\Jump 1.MOV", "Jump 1.MOV"),
        ("..", "upload"),
        ("", "upload"),
        (None, "upload"),
        (".hidden.mp4", "hidden.mp4"),
        ("clip\u202egnp.mp4", "clip_gnp.mp4"),  # right-to-left override
        ("a\x00b\nc.mp4", "a_b_c.mp4"),
        ("<b>x</script>.webm", "script_.webm"),  # "/" ends a folder name
        ("Sprung Müller.mp4", "Sprung Müller.mp4"),
    ],
)
def test_names_are_sanitised_labels(name, label):
    assert uploads.safe_label(name) == label


def test_long_names_keep_their_suffix():
    label = uploads.safe_label("x" * 500 + ".mp4")
    assert len(label) <= uploads.LABEL_MAX and label.endswith(".mp4")


def test_the_name_is_never_used_as_a_path(tmp_path):
    workdir = tmp_path / "uploads"
    with open(RUNNING, "rb") as fh:
        clip = uploads.accept_upload("../../outside/run.MOV", fh, 50 * MB, workdir)
    with clip:
        assert clip.path.parent == workdir and clip.path.name.startswith("upload-")
        assert clip.path.suffix == ".mov" and clip.label == "run.MOV"
        assert clip.info.name == "run.MOV" and clip.info.frames == 47
        assert not (tmp_path / "outside").exists()
    assert not clip.path.exists()


# -- uploads: accepted with a notice -------------------------------------------------------------
def test_4k_is_downscaled_with_a_notice(tmp_path):
    source = clipgen.sized_clip(tmp_path / "uhd.mp4", 3840, 2160, frames=2)
    with _accept(source, tmp_path / "up") as clip:
        assert clip.max_side == uploads.DOWNSCALE_TO
        assert any("downscaled to 1920x1080" in n for n in clip.notices)
        assert clip.apply(RunOptions()).max_side == 1920
        assert clip.apply(RunOptions(max_side=640)).max_side == 640


def test_too_many_pixels_are_refused(tmp_path, monkeypatch):
    source = clipgen.sized_clip(tmp_path / "uhd.mp4", 3840, 2160, frames=2)
    monkeypatch.setenv("POSEBENCH_MAX_PIXELS", str(4_000_000))
    with pytest.raises(InputError, match=r"8\.3 megapixels.*limit of 4\.0 megapixels"):
        _accept(source, tmp_path / "up")
    assert list((tmp_path / "up").iterdir()) == []


def test_variable_frame_rate_is_accepted_with_a_notice(tmp_path):
    with _accept(clipgen.vfr_clip(tmp_path / "vfr.mp4"), tmp_path / "up") as clip:
        assert clip.info.variable_rate
        assert any("variable frame rate" in n and "approximate" in n for n in clip.notices)


def test_rotated_phone_clip_is_accepted_upright_with_a_notice(tmp_path):
    with _accept(clipgen.rotated_clip(tmp_path / "phone.mp4", 90), tmp_path / "up") as clip:
        assert (clip.info.width, clip.info.height, clip.info.rotation) == (240, 320, 270)
        assert any("rotation metadata" in n for n in clip.notices)
        assert next(video.iter_frames(clip.path)).image.shape[:2] == (320, 240)


def test_the_check_result_is_reused_by_the_run(tmp_path, monkeypatch, fake_backend):
    """The run finds the upload's frame count (and label) without decoding it again."""
    from posebench import backends

    monkeypatch.setattr(backends, "create", lambda config, cache=None: fake_backend())
    with _accept(Path(RUNNING), tmp_path / "up") as clip:
        looked = []
        original = video.container_facts
        monkeypatch.setattr(video, "container_facts", lambda p: looked.append(p) or original(p))
        run = run_benchmark(str(clip.path), ["mediapipe-lite"], RunOptions(max_frames=5, warmup=0))
        assert looked == [] and run.clip.name == RUNNING.name and run.clip.frames == 47


# -- uploads: isolation, clean-up ------------------------------------------------------------
def test_a_hanging_check_is_stopped_and_leaves_no_process(tmp_path, monkeypatch):
    before = child_pids()
    monkeypatch.setenv("POSEBENCH_INSPECT_TIMEOUT", "0.05")
    with pytest.raises(InputError, match="took longer than"):
        _accept(Path(RUNNING), tmp_path / "up")
    assert child_pids() - before == set()  # no process left behind
    assert list((tmp_path / "up").iterdir()) == []


def test_a_crashing_check_is_a_clean_refusal(tmp_path, monkeypatch):
    """The checking process dies of a segmentation fault: the server does not."""
    children_first_run("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n", tmp_path, monkeypatch)
    with pytest.raises(InputError, match="made the video decoder fail"):
        _accept(Path(RUNNING), tmp_path / "up")
    assert list((tmp_path / "up").iterdir()) == []


def test_a_clip_needing_more_memory_than_allowed_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("POSEBENCH_INSPECT_MEMORY", str(30 * MB))
    with pytest.raises(InputError):
        _accept(Path(RUNNING), tmp_path / "up")
    assert list((tmp_path / "up").iterdir()) == []


def test_stale_uploads_are_swept(tmp_path):
    old = tmp_path / "upload-old.mp4"
    new = tmp_path / "upload-new.mp4"
    other = tmp_path / "keep.txt"
    for p in (old, new, other):
        p.write_bytes(b"x")
    past = time.time() - 2 * uploads.STALE_AFTER_S
    os.utime(old, (past, past))
    os.utime(other, (past, past))
    assert uploads.sweep(tmp_path) == 1
    assert not old.exists() and new.exists() and other.exists()


def test_files_left_at_exit_are_removed(tmp_path):
    clip = _accept(Path(RUNNING), tmp_path / "up")
    assert clip.path.exists()
    uploads._remove_all()
    assert not clip.path.exists()


# -- a clip with no person is a result, not an error ------------------------------------------
@pytest.mark.integration
def test_no_person_gives_detection_rate_zero_and_a_notice(tmp_path):
    source = clipgen.blank_wall_clip(tmp_path / "wall.mp4", frames=12)
    with _accept(source, tmp_path / "up") as clip:
        assert clip.notices == []
        run = run_benchmark(
            str(clip.path),
            ["mediapipe-lite", "rtmpose-lightweight"],
            clip.apply(RunOptions(max_frames=8, warmup=2)),
        )
    assert list(run.summary["status"]) == ["ok", "ok"]
    assert list(run.summary["detection_rate"]) == [0.0, 0.0]
    assert run.summary["notes"].str.contains("no person found").all()
    assert sum("found no person" in n for n in run.extra["notices"]) == 2


# -- the command line (issue 2's list) --------------------------------------------------------
def _cli(args, tmp_path, **env):
    full_env = {**os.environ, "POSEBENCH_RESULTS": str(tmp_path / "results"), **env}
    return commands.run(
        [sys.executable, "-m", "posebench", "run", *map(str, args)], env=full_env, timeout=240
    )


def _one_line_error(done) -> str:
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


@pytest.mark.parametrize(
    "kind,words",
    [
        ("missing", "no such file"),
        ("text_as_mp4", "text file"),
        ("empty", "empty"),
        ("truncated", "cut short"),
        ("png_as_mp4", "PNG image"),
        ("audio_only", "audio only"),
    ],
)
def test_cli_refuses_bad_clips_in_one_line(tmp_path, kind, words):
    path = tmp_path / "missing.mp4" if kind == "missing" else REFUSED[kind][0](tmp_path)
    line = _one_line_error(_cli([path, "-b", "mediapipe-lite", "--frames", "3"], tmp_path))
    assert words in line
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").iterdir())


def test_cli_refuses_an_unknown_backend(tmp_path):
    line = _one_line_error(_cli([RUNNING, "-b", "posenet-xl", "--frames", "3"], tmp_path))
    assert "unknown backend 'posenet-xl'" in line and "mediapipe-lite" in line


def test_cli_refuses_an_unknown_provider(tmp_path):
    spec = "rtmpose-lightweight:provider=CUDAExecutionProvider"
    line = _one_line_error(_cli([RUNNING, "-b", spec, "--frames", "3"], tmp_path))
    assert "CUDAExecutionProvider is not in this onnxruntime build" in line


def test_cli_refuses_a_model_whose_sha256_does_not_match(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    bad = models / "pose_landmarker_lite.task"
    shutil.copyfile(MODELS / bad.name, bad)
    with open(bad, "r+b") as fh:  # flip one byte: same size, different hash
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    cache = tmp_path / "cache"
    cache.mkdir()
    line = _one_line_error(
        _cli(
            [RUNNING, "-b", "mediapipe-lite", "--frames", "3"],
            tmp_path,
            POSEBENCH_MODEL_DIRS=str(models),
            POSEBENCH_CACHE=str(cache),
            POSEBENCH_OFFLINE="1",
        )
    )
    assert "wrong SHA-256" in line and "not used" in line
    assert list(cache.rglob("*.task")) == []


@pytest.mark.integration
def test_cli_on_a_clip_with_no_person_reports_zero_and_does_not_fail(tmp_path):
    wall = clipgen.blank_wall_clip(tmp_path / "wall.mp4", frames=10)
    done = _cli(
        [wall, "-b", "mediapipe-lite", "-b", "rtmpose-lightweight", "--frames", "6", "--warmup", "1"],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "found no person" in done.stdout
    (run_dir,) = (tmp_path / "results").iterdir()
    summary = pd.read_csv(run_dir / "summary.csv")
    assert list(summary["detection_rate"]) == [0.0, 0.0]


def test_settings_that_are_not_numbers_fall_back_to_the_defaults(monkeypatch):
    monkeypatch.setenv("POSEBENCH_UPLOAD_MB", "lots")
    monkeypatch.setenv("POSEBENCH_MAX_PIXELS", "-5")
    assert uploads.upload_limit_bytes() == uploads.DEFAULT_LIMIT_MB * MB
    assert uploads.max_pixels() == uploads.DEFAULT_MAX_PIXELS
