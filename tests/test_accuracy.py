"""PCK and OKS against COCO-format annotations."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pandas as pd
import pytest

from conftest import LAB
from posebench import backends, cli
from posebench.analysis import keypoint_accuracy
from posebench.core.errors import InputError
from posebench.core.keypoints import LANDMARKS
from posebench.io import video

pytestmark = pytest.mark.timeout(300)

NOSE, L_SHO, R_SHO, L_HIP, R_HIP, L_KNEE = (
    LANDMARKS.index(n)
    for n in ("nose", "left_shoulder", "right_shoulder", "left_hip", "right_hip", "left_knee")
)


def annotation(box=(0.0, 0.0, 100.0, 200.0), points=None, area=None) -> keypoint_accuracy.Annotation:
    truth = np.full((len(LANDMARKS), 2), np.nan)
    labelled = np.zeros(len(LANDMARKS), bool)
    for i, xy in (points or {}).items():
        truth[i], labelled[i] = xy, True
    box = np.array(box)
    return keypoint_accuracy.Annotation(
        image_path=None,
        image_id=0,
        annotation_id=0,
        box=box,
        truth=truth,
        labelled=labelled,
        area=area if area is not None else (box[2] - box[0]) * (box[3] - box[1]),
    )


def predictions(truth: np.ndarray, offsets: dict[int, float]) -> np.ndarray:
    """Predictions displaced to the right by ``offsets[i]`` pixels (NaN: not found)."""
    pred = np.full(truth.shape[:-1] + (3,), np.nan)
    for i, dx in offsets.items():
        pred[i, :2] = truth[i] + [dx, 0.0]
        pred[i, 2] = 0.9
    return pred


def test_pck_on_a_hand_made_annotation():
    # box 100 x 200 px: reference size 200 px, so PCK@0.1 allows 20 px and PCK@0.2 40 px
    points = {NOSE: (50, 20), L_SHO: (30, 60), R_SHO: (70, 60), L_HIP: (35, 120), R_HIP: (65, 120)}
    ann = annotation(points=points)
    pred = predictions(ann.truth, {NOSE: 10, L_SHO: 30, R_SHO: 50})  # hips not found
    truth, labelled = ann.truth[None], ann.labelled[None]
    size = keypoint_accuracy.reference_size([ann], "box")
    assert size.tolist() == [200.0]
    assert keypoint_accuracy.pck(pred[None], truth, labelled, size, 0.1) == pytest.approx(1 / 5)
    assert keypoint_accuracy.pck(pred[None], truth, labelled, size, 0.2) == pytest.approx(2 / 5)
    # torso: shoulder mid (50, 60) to hip mid (50, 120) = 60 px, so 0.2 allows 12 px
    torso = keypoint_accuracy.reference_size([ann], "torso")
    assert torso.tolist() == [60.0]
    assert keypoint_accuracy.pck(pred[None], truth, labelled, torso, 0.2) == pytest.approx(1 / 5)
    assert keypoint_accuracy.pck(pred[None], truth, labelled, torso, 0.5) == pytest.approx(2 / 5)
    per = keypoint_accuracy.per_landmark(pred[None], [ann]).set_index("landmark")
    assert per.loc["nose", "pck_0.1"] == 1.0 and per.loc["left_shoulder", "pck_0.1"] == 0.0
    assert np.isnan(per.loc["left_knee", "pck_0.1"]) and per.loc["left_knee", "keypoints"] == 0


def test_oks_on_a_hand_made_annotation():
    area = 100.0 * 200.0
    sigma = keypoint_accuracy.sigma_array()
    # an offset d with d² = 2·ln2·area·(2σ)² gives a similarity of exactly 1/2
    d = math.sqrt(2 * math.log(2) * area * (2 * sigma[L_KNEE]) ** 2)
    points = {NOSE: (50, 20), L_KNEE: (40, 150), LANDMARKS.index("left_heel"): (40, 190)}
    ann = annotation(points=points, area=area)
    pred = predictions(ann.truth, {NOSE: 0.0, L_KNEE: d, LANDMARKS.index("left_heel"): 99.0})
    # the heel has no COCO sigma and is left out: (1 + 1/2) / 2
    value = keypoint_accuracy.oks(pred[None], ann.truth[None], ann.labelled[None], np.array([area]))
    assert value.tolist() == pytest.approx([0.75])
    missing = predictions(ann.truth, {NOSE: 0.0})  # the knee not found counts 0
    assert keypoint_accuracy.oks(
        missing[None], ann.truth[None], ann.labelled[None], np.array([area])
    ).tolist() == pytest.approx([0.5])
    nothing = annotation(points={LANDMARKS.index("left_heel"): (1, 1)})
    assert np.isnan(
        keypoint_accuracy.oks(missing[None], nothing.truth[None], nothing.labelled[None], np.array([area]))[0]
    )
    row = keypoint_accuracy.score(pred[None], [ann])
    assert row["oks"] == pytest.approx(0.75) and row["annotations"] == 1 and row["found"] == 1.0


def _write_coco(folder, images, annotations, categories=None):
    path = folder / "ann.json"
    path.write_text(
        json.dumps(
            {
                "images": images,
                "annotations": annotations,
                "categories": categories or [{"id": 1, "name": "person"}],
            }
        )
    )
    return path


def test_coco_files_are_read_by_keypoint_name_and_checked(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    cv2.imwrite(str(images / "a.jpg"), np.zeros((50, 40, 3), np.uint8))
    names = ["left_ankle", "left_big_toe", "nose"]
    ann = {
        "id": 1,
        "image_id": 7,
        "category_id": 1,
        "bbox": [1, 2, 30, 40],
        "keypoints": [10, 40, 2, 12, 45, 1, 20, 5, 0],
        "iscrowd": 0,
    }
    crowd = dict(ann, id=2, iscrowd=1)
    path = _write_coco(
        tmp_path,
        [{"id": 7, "file_name": "a.jpg"}],
        [ann, crowd],
        [{"id": 1, "name": "person", "keypoints": names}],
    )
    [read] = keypoint_accuracy.load_coco(path, images)
    assert read.box.tolist() == [1, 2, 31, 42] and read.area == 30 * 40
    assert read.labelled[LANDMARKS.index("left_ankle")] and read.labelled[LANDMARKS.index("left_foot_index")]
    assert not read.labelled[NOSE], "v = 0 means not labelled"
    assert read.truth[LANDMARKS.index("left_foot_index")].tolist() == [12, 45]

    cats = [{"id": 1, "name": "person", "keypoints": names}]
    outside = _write_coco(tmp_path, [{"id": 7, "file_name": "../ann.json"}], [ann], cats)
    with pytest.raises(InputError, match="outside the images folder"):
        keypoint_accuracy.load_coco(outside, images)
    missing = _write_coco(tmp_path, [{"id": 7, "file_name": "b.jpg"}], [ann], cats)
    with pytest.raises(InputError, match="not in"):
        keypoint_accuracy.load_coco(missing, images)
    unnamed = _write_coco(tmp_path, [{"id": 7, "file_name": "a.jpg"}], [ann])
    with pytest.raises(InputError, match="need their names"):
        keypoint_accuracy.load_coco(unnamed, images)
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(InputError, match="not COCO format"):
        keypoint_accuracy.load_coco(tmp_path / "bad.json", images)


# Where COCO-17's keypoints sit among MediaPipe's 33.
MEDIAPIPE_FOR_COCO17 = [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]


@pytest.fixture(scope="module")
def lab_coco(tmp_path_factory):
    """Two LAB frames as JPEGs, labelled with MediaPipe lite's full-frame keypoints.

    There is no ground truth for these clips; these labels only make a real run possible
    and tell whether the crops are mapped back to the right place.
    """
    folder = tmp_path_factory.mktemp("lab-coco")
    (folder / "images").mkdir()
    labeller = backends.create("mediapipe-lite-image")
    images, anns = [], []
    try:
        for frame in video.iter_frames(LAB, max_frames=100, stride=50):
            found = labeller.process(frame.image, frame.timestamp_ms)
            assert found.detected
            name = f"lab_{frame.index:03d}.jpg"
            cv2.imwrite(str(folder / "images" / name), frame.image)
            kp = found.keypoints[MEDIAPIPE_FOR_COCO17]
            (x1, y1), (x2, y2) = kp.min(axis=0), kp.max(axis=0)
            pad = 0.1 * (y2 - y1)
            box = [x1 - pad, y1 - pad, x2 - x1 + 2 * pad, y2 - y1 + 2 * pad]
            images.append({"id": frame.index, "file_name": name})
            anns.append(
                {
                    "id": frame.index + 1,
                    "image_id": frame.index,
                    "category_id": 1,
                    "bbox": [float(v) for v in box],
                    "iscrowd": 0,
                    "keypoints": [float(v) for x, y in kp for v in (x, y, 2)],
                }
            )
    finally:
        labeller.close()
    return folder / "images", _write_coco(folder, images, anns)


@pytest.mark.integration
def test_a_real_run_scores_both_backends_on_the_annotated_boxes(lab_coco):
    images, path = lab_coco
    summary, per_landmark = keypoint_accuracy.evaluate(
        images, path, ["mediapipe-full", "rtmpose-lightweight"]
    )
    assert summary["backend"].tolist() == ["mediapipe-full", "rtmpose-lightweight"]
    for _, row in summary.iterrows():
        assert row["error"] == ""
        assert row["annotations"] == 2 and row["keypoints"] == 18 and row["found"] == 1.0
        for column in ("pck_0.1", "pck_0.2", "oks"):
            assert 0.0 <= row[column] <= 1.0
        assert row["pck_0.1"] <= row["pck_0.2"]
        # the labels come from another backend, but the same athlete, so the backends land close
        # to them; a crop mapped back without its offset scored PCK@0.1 0.30 and OKS 0.50 here
        assert row["pck_0.1"] >= 0.8 and row["oks"] >= 0.8
    assert set(per_landmark["backend"]) == set(summary["backend"])


@pytest.mark.integration
def test_the_accuracy_command_prints_and_writes_csv(lab_coco, tmp_path, capsys):
    images, path = lab_coco
    code = cli.main(
        [
            "accuracy",
            str(images),
            str(path),
            "-b",
            "mediapipe-full",
            "-b",
            "rtmpose-lightweight",
            "--out",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "pck_0.1" in out and "oks" in out
    table = pd.read_csv(tmp_path / "accuracy.csv")
    assert {"backend", "pck_0.1", "pck_0.2", "oks"} <= set(table.columns)
    assert table[["pck_0.1", "pck_0.2", "oks"]].apply(lambda c: c.between(0, 1)).all().all()
    assert (tmp_path / "accuracy_landmarks.csv").exists()


def test_an_rtmpose_model_that_will_not_load_is_reported_and_the_others_go_on(tmp_path, monkeypatch):
    configs = ["rtmpose-lightweight", "mediapipe-lite"]
    for name in configs:
        if backends.why_unavailable(backends.parse(name)):
            pytest.skip(f"{name} cannot run here")
    images = tmp_path / "images"
    images.mkdir()
    cv2.imwrite(str(images / "a.jpg"), np.full((96, 64, 3), 128, np.uint8))
    keypoints = [0.0] * 51
    keypoints[5 * 3 : 5 * 3 + 3] = [20, 30, 2]  # left shoulder
    keypoints[11 * 3 : 11 * 3 + 3] = [22, 60, 2]  # left hip
    ann = {
        "id": 1,
        "image_id": 1,
        "category_id": 1,
        "bbox": [5, 10, 50, 80],
        "iscrowd": 0,
        "keypoints": keypoints,
    }
    path = _write_coco(tmp_path, [{"id": 1, "file_name": "a.jpg"}], [ann])
    import onnxruntime

    def corrupt(*_args, **_kwargs):
        raise RuntimeError("corrupt model")

    monkeypatch.setattr(onnxruntime, "InferenceSession", corrupt)
    summary, _ = keypoint_accuracy.evaluate(images, path, configs, cache=backends.ModelCache())
    rows = summary.set_index("backend")
    assert "failed to load" in rows.loc["rtmpose-lightweight", "error"]
    assert "corrupt model" in rows.loc["rtmpose-lightweight", "error"]
    assert rows.loc["mediapipe-lite", "error"] == ""
