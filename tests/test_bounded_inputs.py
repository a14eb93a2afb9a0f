"""Probes: CSVs a person hands in (study manifests, references files) are bounded before any
table is built; missing clips are reported together; the same clip twice is counted once;
study uploads are stored by content.

The CLI probes run ``posebench study`` in its own process and read its peak resident memory
(``VmHWM``), as tests/test_imports.py does for run zips.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from conftest import CLIPS, LAB, RUNNING, goto
from posebench.core.errors import InputError
from posebench.store import references
from posebench.studies import study_manifest
from test_imports import MEASURE, ROOT

pytestmark = [pytest.mark.timeout(300)]
MILLION_COLUMNS = b"clip" + b",c" * 1_000_000 + b"\nx.mp4\n"  # a 2 MB header line


def _cli_study(manifest: Path, tmp_path: Path):
    rss_file = tmp_path / "rss"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            MEASURE,
            str(rss_file),
            "study",
            str(manifest),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,  # a hard stop; the refusal itself takes the start of Python and a read
    )
    peak_mb = int(rss_file.read_text()) / 1024 if rss_file.exists() else float("nan")
    return done, peak_mb


def test_a_million_column_manifest_is_refused_by_the_cli_in_one_line(tmp_path):
    manifest = tmp_path / "wide.csv"
    manifest.write_bytes(MILLION_COLUMNS)
    done, peak_mb = _cli_study(manifest, tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "wide.csv is refused" in lines[0] and "KB" in lines[0], lines
    assert peak_mb < 500, peak_mb


def test_a_million_column_references_file_is_refused_before_a_table_is_built():
    before = psutil.Process().memory_info().rss
    with pytest.raises(
        InputError, match=r"refs\.csv is refused: the header line of the file is longer than 16 KB"
    ):
        references.import_csv(MILLION_COLUMNS, shown="refs.csv")
    # columns just under the header cap: refused by the column count, one sentence
    wide = b"clip" + b",c" * 100 + b"\n"
    with pytest.raises(InputError, match="has 101 columns, more than 64"):
        references.import_csv(wide, shown="refs.csv")
    with pytest.raises(InputError, match="above the limit of 4"):
        references.import_csv(b"clip\n" + b"a.mp4\n" * 800_000, shown="refs.csv")
    assert psutil.Process().memory_info().rss - before < 200 * 1024**2


def test_a_million_column_references_file_on_the_study_page_is_one_sentence(
    results_root, monkeypatch, tmp_path
):
    from streamlit.testing.v1 import AppTest

    from posebench.dashboard import job_registry

    monkeypatch.setenv("POSEBENCH_CLIP_DIRS", str(CLIPS))
    monkeypatch.setenv("POSEBENCH_UPLOADS", str(tmp_path / "uploads"))
    job_registry.registry.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    goto(at, "study").run()
    at.multiselect(key="study-public").set_value([RUNNING.name]).run()
    at.button(key="study-add").click().run()
    at.file_uploader(key="study-refs-import").upload("wide.csv", MILLION_COLUMNS, "text/csv")
    at.run()
    before = psutil.Process().memory_info().rss
    at.button(key="study-refs-import-go").click().run()
    grown_mb = (psutil.Process().memory_info().rss - before) / 1024**2
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("wide.csv is refused" in e and "16 KB" in e for e in errors), errors
    assert grown_mb < 200, grown_mb


def _manifest(tmp_path: Path, lines: list[str], name: str = "m.csv") -> Path:
    path = tmp_path / name
    path.write_text("clip,kind,flight_time_s\n" + "\n".join(lines) + "\n")
    return path


def test_a_manifest_over_the_row_limit_is_refused_at_once(tmp_path):
    manifest = _manifest(tmp_path, [f"missing-{i}.mp4,cmj,0.5" for i in range(20_000)])
    with pytest.raises(InputError, match=r"has 20,000 rows, more than 5,000"):
        study_manifest.from_manifest(manifest, ["mediapipe-lite"])


def test_missing_clips_are_reported_together_in_one_sentence(tmp_path):
    manifest = _manifest(tmp_path, [f"missing-{i}.mp4,cmj,0.5" for i in range(3000)])
    with pytest.raises(InputError) as caught:
        study_manifest.from_manifest(manifest, ["mediapipe-lite"])
    text = str(caught.value)
    assert "none of the 3000 clips in m.csv" in text and "missing-0.mp4" in text and "2995 more" in text
    # some present: kept, and the missing ones named together in one notice
    (tmp_path / "clips").mkdir()
    os.symlink(RUNNING, tmp_path / "clips" / "run.mp4")
    manifest = _manifest(
        tmp_path, ["clips/run.mp4,cmj,0.5", "gone-a.mp4,cmj,0.5", "gone-b.mp4,cmj,0.5"], "n.csv"
    )
    study = study_manifest.from_manifest(manifest, ["mediapipe-lite"])
    assert len(study.clips) == 3
    assert study.notices == [
        "2 of the 3 clips in n.csv are not on this machine; their rows will say so: gone-a.mp4, gone-b.mp4."
    ]


def test_the_same_clip_listed_three_times_counts_once_and_says_so(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("a/one.mp4", "two.mp4", "three.mp4"):
        os.symlink(RUNNING, tmp_path / name)
    os.symlink(LAB, tmp_path / "lab.mp4")
    manifest = _manifest(
        tmp_path, ["a/one.mp4,cmj,0.5", "two.mp4,cmj,0.6", "lab.mp4,cmj,0.4", "three.mp4,cmj,"]
    )
    study = study_manifest.from_manifest(manifest, ["mediapipe-lite"], min_clips=3)
    assert [c.name for c in study.clips] == ["a/one.mp4", "lab.mp4"]
    assert study.clips[0].reference.flight_time_s == 0.5  # the first line's reference
    assert study.notices == [
        "manifest lines 2, 3, 5 are the same clip (one SHA-256): it is counted once, with the first "
        "line's reference"
    ]


def test_two_different_study_uploads_with_one_name_both_survive(results_root, monkeypatch, tmp_path):
    from posebench.dashboard import study_draft, study_view

    monkeypatch.setenv("POSEBENCH_UPLOADS", str(tmp_path / "uploads"))

    class Upload(io.BytesIO):
        def __init__(self, data: bytes):
            super().__init__(data)
            self.name, self.size = "same.mp4", len(data)

    study_draft.draft()["clips"].clear()  # bare mode: one session state for the whole process
    added, refused = study_draft.add_uploads(
        [Upload(RUNNING.read_bytes()), Upload(LAB.read_bytes()), Upload(RUNNING.read_bytes())], "dup", "cmj"
    )
    assert refused == [] and added == 2
    folder = study_view.study_root() / "dup" / "clips"
    kept = sorted(p.name for p in folder.iterdir())
    shas = sorted(c.sha256 for c in study_draft.draft()["clips"])
    assert kept == sorted(f"{sha}.mp4" for sha in shas) and len(set(shas)) == 2
    assert [c.name for c in study_draft.draft()["clips"]] == ["same.mp4", "same.mp4"]


def test_a_zip_of_many_entries_is_refused_from_its_end_record(tmp_path, monkeypatch):
    import zipfile

    from posebench.access import import_runs

    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zipped:
        for i in range(20_000):
            zipped.writestr(f"e{i}", b"")

    def never(*args, **kwargs):
        raise AssertionError("the zip's directory was parsed")

    monkeypatch.setattr(zipfile, "ZipFile", never)
    with pytest.raises(InputError, match=r"many.zip holds 20,000 files; a run has at most \d+\."):
        import_runs.import_run(archive, tmp_path / "results")


def test_clips_uploaded_into_studies_count_against_the_users_upload_cap(results_root, monkeypatch, tmp_path):
    from posebench.dashboard import clip_input, study_draft, study_view

    monkeypatch.setenv("POSEBENCH_UPLOADS", str(tmp_path / "uploads"))
    monkeypatch.setenv("POSEBENCH_UPLOADS_USER_MB", "1")

    class Upload(io.BytesIO):
        def __init__(self, name: str, data: bytes):
            super().__init__(data)
            self.name, self.size = name, len(data)

    study_draft.draft()["clips"].clear()  # bare mode: one session state for the whole process
    lab = LAB.read_bytes()  # 388 KB
    added, refused = study_draft.add_uploads([Upload("lab.mp4", lab)], "capped", "cmj")
    assert (added, refused) == (1, [])
    assert clip_input.user_usage("local") == len(lab)  # kept in the study: still counted
    bigger = lab + b"\0" * 300_000  # 688 KB: fits alone, not beside the first
    added, refused = study_draft.add_uploads([Upload("more.mp4", bigger)], "capped", "cmj")
    assert added == 0 and len(refused) == 1 and "above your share of 1 MB" in refused[0], refused
    assert len(list((study_view.study_root() / "capped" / "clips").iterdir())) == 1
    assert list((tmp_path / "uploads").glob("upload-*")) == []  # the refused upload is gone too
