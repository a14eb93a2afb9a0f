"""Probes: images and annotations handed to the Accuracy page are bounded before decoding.

A 30000 x 30000 PNG (a few hundred bytes here: its header says the size, its data is cut
short) with a one-person COCO file is refused from its header, before OpenCV decodes it,
on the Accuracy page (AppTest) with the server growing by less than 200 MB; an 8000 x 8000
header gets the size in the sentence; COCO JSON nested 100 000 levels deep is refused before
it is parsed.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import psutil
import pytest
from streamlit.testing.v1 import AppTest

from conftest import CLIPS, goto
from posebench.analysis import keypoint_accuracy
from posebench.core.errors import InputError
from posebench.dashboard import job_registry

pytestmark = [pytest.mark.timeout(300)]
APP = str(Path(__file__).resolve().parents[1] / "app.py")


def png_header(width: int, height: int) -> bytes:
    """A grey PNG whose header says ``width`` x ``height``; one row of data follows."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    row = zlib.compress(b"\x00" * (width + 1))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", row) + chunk(b"IEND", b"")


def coco(file_name: str) -> dict:
    kp = [100.0, 100.0, 2] * 17
    return {
        "images": [{"id": 1, "file_name": file_name, "width": 30000, "height": 30000}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "keypoints": kp, "bbox": [50, 50, 200, 400]}
        ],
        "categories": [{"id": 1, "name": "person"}],
    }


def test_a_pixel_bomb_is_refused_from_its_header(tmp_path):
    (tmp_path / "big.png").write_bytes(png_header(8000, 8000))
    (tmp_path / "ann.json").write_text(json.dumps(coco("big.png")))
    with pytest.raises(InputError, match=r"big.png is 8000 x 8000 pixels \(64.0 MP\), above this server"):
        keypoint_accuracy.load_coco(tmp_path / "ann.json", tmp_path)
    (tmp_path / "bomb.png").write_bytes(png_header(30000, 30000))
    (tmp_path / "ann.json").write_text(json.dumps(coco("bomb.png")))
    with pytest.raises(InputError, match=r"bomb.png has 900 MP, above this server's limit of 33.2 MP"):
        keypoint_accuracy.load_coco(tmp_path / "ann.json", tmp_path)


def test_deeply_nested_or_malformed_annotations_are_one_sentence(tmp_path):
    (tmp_path / "a.png").write_bytes(png_header(64, 64))
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputError, match="the annotations nests 100000 levels deep, more than 32"):
        keypoint_accuracy.load_coco(tmp_path / "deep.json", tmp_path)
    bad = coco("a.png")
    bad["annotations"][0]["keypoints"] = ["x"] * 51
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(InputError, match="annotation 1: its keypoints, box and area must be numbers"):
        keypoint_accuracy.load_coco(tmp_path / "bad.json", tmp_path)


def test_the_accuracy_page_refuses_a_pixel_bomb_without_growing(results_root, tmp_path, monkeypatch):
    from test_dashboard import fake_run

    monkeypatch.setenv("POSEBENCH_CLIP_DIRS", str(CLIPS))
    monkeypatch.setenv("POSEBENCH_UPLOADS", str(tmp_path / "uploads"))
    job_registry.registry.clear()
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["current_run"] = fake_run(tmp_path, "20250112-000000-bomb", frames=8, warmup=1)
    at.run()
    goto(at, "accuracy").run()
    assert not at.exception
    annotations = json.dumps(coco("bomb.png")).encode()
    at.file_uploader(key="acc-ann").upload("ann.json", annotations, "application/json")
    at.file_uploader(key="acc-images").upload("bomb.png", png_header(30000, 30000), "image/png")
    at.run()
    before = psutil.Process().memory_info().rss
    at.button(key="acc-score").click().run()
    grown_mb = (psutil.Process().memory_info().rss - before) / 1024**2
    assert not at.exception
    assert any("bomb.png has 900 MP" in e.value for e in at.error), [e.value for e in at.error]
    assert grown_mb < 200, grown_mb
