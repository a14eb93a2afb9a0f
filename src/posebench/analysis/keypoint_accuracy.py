"""Keypoint accuracy against ground truth: PCK and OKS on COCO-format annotations.

The person detectors stay out of it: each backend estimates the pose inside
the annotated box. RTMPose runs its pose model on the box itself (the
detector is not run); MediaPipe runs in IMAGE mode on the box enlarged by
a margin (its own detector needs some context around the person) and its
keypoints are mapped back to the image.

- PCK@α: share of labelled keypoints whose prediction is within α times a
  reference size of the truth. The size is the annotated box's longer side
  (``norm="box"``, as MMPose's PCK) or the annotated torso length, shoulder
  mid-point to hip mid-point (``norm="torso"``).
- OKS: COCO's object keypoint similarity, exp(-d² / (2·s²·k²)) averaged over
  the labelled keypoints that COCO defines a sigma for (k = 2σ, s² = the
  annotation's area). 1 is perfect; it is what COCO's AP is built on.

Only the 13 jump landmarks are scored; a landmark the annotation or the
backend lacks is left out, and a keypoint a backend did not find counts as
wrong (PCK) or 0 (OKS).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from posebench import backends
from posebench.backends import BackendConfig, ModelCache
from posebench.core.errors import BenchError, InputError
from posebench.core.keypoints import COCO_SIGMAS, LANDMARK_INDEX, LANDMARKS, torso_length
from posebench.io import untrusted_files, uploads

ALPHAS = (0.1, 0.2)
NORMS = ("box", "torso")
MEDIAPIPE_MARGIN = 0.25  # share of the box size added on each side of MediaPipe's crop

# COCO-17's keypoint order, used when the annotation file names none.
COCO17_NAMES = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
# Other datasets' names for our landmarks (Halpe, COCO-WholeBody feet).
ALIASES = {
    "left_big_toe": "left_foot_index",
    "right_big_toe": "right_foot_index",
    "left_toe": "left_foot_index",
    "right_toe": "right_foot_index",
}

ACCURACY_COLUMNS: dict[str, tuple[str, str]] = {
    "backend": ("", "The backend, run on the annotated boxes (no person detector)."),
    "pck_0.1": ("share", "Share of labelled keypoints within 0.1 of the reference size of the truth."),
    "pck_0.2": ("share", "Share of labelled keypoints within 0.2 of the reference size."),
    "oks": ("0-1", "Mean COCO object keypoint similarity over the annotations (1 = perfect)."),
    "annotations": ("people", "Annotated people scored."),
    "keypoints": ("keypoints", "Labelled keypoints scored for PCK."),
    "found": ("share", "Share of annotated people the backend found a pose for."),
    "norm": ("", "PCK reference size: 'box' (annotated box's longer side) or 'torso'."),
    "error": ("", "Why the backend could not be scored."),
}


@dataclass
class Annotation:
    image_path: Path
    image_id: int
    annotation_id: int
    box: np.ndarray  # (4,) x1, y1, x2, y2 in pixels
    truth: np.ndarray  # (13, 2) pixels, NaN where not labelled
    labelled: np.ndarray  # (13,) bool: labelled (v > 0)
    area: float  # COCO area (s² of OKS), pixels²


# -- reading -------------------------------------------------------------------
ANNOTATIONS_BYTES = 64 * 1024**2  # a COCO file of a few thousand people is a few MB
ANNOTATIONS_DEPTH = 32  # COCO nests 4 levels deep


def _read_json(path: Path) -> dict:
    """The annotations, read only when their size and nesting depth are sane (a file nested
    100 000 levels deep is refused before it is parsed, in one sentence)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such annotation file: {path}")
    try:
        data = untrusted_files.read_json(
            path, path.name, "the annotations", ANNOTATIONS_BYTES, ANNOTATIONS_DEPTH
        )
    except OSError as exc:
        raise InputError(f"{path.name} is not a readable JSON file ({exc.strerror or exc})") from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("annotations"), list)
        or not isinstance(data.get("images"), list)
    ):
        raise InputError(f"{Path(path).name} is not COCO format: it needs 'images' and 'annotations' lists")
    return data


def _keypoint_names(data: dict, category_id, count: int) -> list[str]:
    for cat in data.get("categories") or []:
        if isinstance(cat, dict) and cat.get("id") == category_id and cat.get("keypoints"):
            names = [str(n) for n in cat["keypoints"]]
            if len(names) == count:
                return [ALIASES.get(n, n) for n in names]
    if count == len(COCO17_NAMES):
        return list(COCO17_NAMES)
    raise InputError(
        f"annotations with {count} keypoints need their names in 'categories' "
        "(COCO-17 is assumed only for 17 keypoints)"
    )


def _image_path(images_dir: Path, file_name: str) -> Path:
    root = images_dir.resolve()
    path = (root / str(file_name)).resolve()
    if root not in path.parents:
        raise InputError(f"image '{file_name}' lies outside the images folder")
    if not path.is_file():
        raise InputError(f"image '{file_name}' named in the annotations is not in {images_dir}")
    check_image_size(path)
    return path


def check_image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image read from its header only; an image with more pixels
    than the server's limit (``POSEBENCH_MAX_PIXELS``, the clips' limit) is refused before
    anything decodes it (a 30000 x 30000 PNG is 854 KB on disk and 2.7 GB decoded)."""
    from PIL import Image, UnidentifiedImageError

    limit = uploads.max_pixels()
    try:
        with Image.open(path) as image:  # lazy: reads the header, not the pixels
            width, height = image.size
    except Image.DecompressionBombError as exc:  # Pillow's own bound, far above ours
        pixels = max([int(n) for n in re.findall(r"\d+", str(exc))] or [0])
        raise InputError(
            f"{path.name} has {pixels / 1e6:,.0f} MP, above this server's limit of {limit / 1e6:.1f} MP "
            "(POSEBENCH_MAX_PIXELS); nothing was decoded"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise InputError(f"{path.name} is not an image that can be read (PNG or JPEG)") from None
    if width * height > limit:
        size = f"{width} x {height} pixels ({width * height / 1e6:.1f} MP)"
        raise InputError(
            f"{path.name} is {size}, above this server's limit of {limit / 1e6:.1f} MP "
            "(POSEBENCH_MAX_PIXELS); nothing was decoded"
        )
    return width, height


def load_coco(annotations_path: str | Path, images_dir: str | Path) -> list[Annotation]:
    """The annotated people (crowd and keypoint-less annotations skipped)."""
    images_dir = Path(images_dir)
    if not images_dir.is_dir():
        raise InputError(f"{images_dir} is not a folder of images")
    data = _read_json(Path(annotations_path))
    images = {img.get("id"): img for img in data["images"] if isinstance(img, dict)}
    out: list[Annotation] = []
    for ann in data["annotations"]:
        if not isinstance(ann, dict) or ann.get("iscrowd"):
            continue
        try:
            kp = np.asarray(ann.get("keypoints") or [], dtype=float)
            bbox = [float(v) for v in ann.get("bbox") or []]
            area_given = float(ann.get("area") or 0)
        except (TypeError, ValueError):
            raise InputError(
                f"annotation {str(ann.get('id'))[:20]}: its keypoints, box and area must be numbers"
            ) from None
        if kp.size == 0 or kp.size % 3 or not (kp[2::3] > 0).any():
            continue
        image = images.get(ann.get("image_id"))
        if image is None:
            raise InputError(
                f"annotation {ann.get('id')} points to image {ann.get('image_id')}, "
                "which the file does not list"
            )
        kp = kp.reshape(-1, 3)
        names = _keypoint_names(data, ann.get("category_id"), len(kp))
        truth = np.full((len(LANDMARKS), 2), np.nan)
        labelled = np.zeros(len(LANDMARKS), bool)
        for name, (x, y, v) in zip(names, kp):
            if name in LANDMARKS and v > 0:
                i = LANDMARKS.index(name)
                truth[i], labelled[i] = (x, y), True
        if not labelled.any():
            continue
        if len(bbox) == 4 and bbox[2] > 1 and bbox[3] > 1:
            x, y, w, h = bbox
        else:  # no box: the labelled keypoints' extent
            pts = kp[kp[:, 2] > 0, :2]
            x, y = pts.min(axis=0)
            w, h = np.ptp(pts[:, 0]) or 1.0, np.ptp(pts[:, 1]) or 1.0
        area = area_given or w * h
        out.append(
            Annotation(
                image_path=_image_path(images_dir, image.get("file_name", "")),
                image_id=ann["image_id"],  # its image was found above
                annotation_id=ann.get("id", len(out)),
                box=np.array([x, y, x + w, y + h]),
                truth=truth,
                labelled=labelled,
                area=area,
            )
        )
    if not out:
        raise InputError(f"{Path(annotations_path).name} has no annotated person with keypoints")
    return out


# -- scores (pure functions) ------------------------------------------------------
def reference_size(annotations: list[Annotation], norm: str = "box") -> np.ndarray:
    """Per annotation: the box's longer side, or the annotated torso length (NaN if unlabelled)."""
    if norm == "box":
        return np.array([max(a.box[2] - a.box[0], a.box[3] - a.box[1]) for a in annotations])
    if norm == "torso":
        return np.array([float(torso_length(a.truth)) for a in annotations])
    raise InputError(f"PCK norm must be one of {', '.join(NORMS)}, not '{norm}'")


def pck_hits(
    pred: np.ndarray, truth: np.ndarray, labelled: np.ndarray, size: np.ndarray, alpha: float
) -> np.ndarray:
    """(N, 13) float: 1 hit, 0 miss, NaN not scored. A prediction that is NaN is a miss."""
    dist = np.linalg.norm(pred[..., :2] - truth[..., :2], axis=-1)
    hit = np.where(np.isfinite(dist), dist <= alpha * size[:, None], False).astype(float)
    scored = labelled & np.isfinite(size)[:, None]
    return np.where(scored, hit, np.nan)


def pck(
    pred: np.ndarray,
    truth: np.ndarray,
    labelled: np.ndarray,
    size: np.ndarray,
    alpha: float,
    scored_landmarks: np.ndarray | None = None,
) -> float:
    """Pooled PCK@alpha over every scored keypoint (see module docstring)."""
    hits = pck_hits(pred, truth, labelled, size, alpha)
    if scored_landmarks is not None:
        hits = hits[:, scored_landmarks]
    return float(np.nanmean(hits)) if np.isfinite(hits).any() else float("nan")


def sigma_array() -> np.ndarray:
    """(13,) COCO sigmas in landmark order, NaN for landmarks COCO lacks."""
    return np.array([COCO_SIGMAS.get(name, np.nan) for name in LANDMARKS])


def oks(pred: np.ndarray, truth: np.ndarray, labelled: np.ndarray, area: np.ndarray) -> np.ndarray:
    """(N,) COCO OKS per annotation over the labelled landmarks with a sigma; NaN if none."""
    sig = sigma_array()
    use = labelled & np.isfinite(sig)[None, :]
    d2 = np.sum((pred[..., :2] - truth[..., :2]) ** 2, axis=-1)
    k2 = (2 * sig) ** 2
    e = d2 / (2 * k2[None, :] * (np.asarray(area, float)[:, None] + np.spacing(1)))
    sim = np.where(np.isfinite(e), np.exp(-e), 0.0)
    n = use.sum(axis=1)
    total = np.where(use, sim, 0.0).sum(axis=1)
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


# -- predictions on boxes -----------------------------------------------------------
# Each family says how it runs on a given box (``Family.on_boxes``): RTMPose runs its pose
# model on the box itself, MediaPipe runs in IMAGE mode on the box enlarged by ``margin``.


def predict(
    config: BackendConfig | str,
    annotations: list[Annotation],
    *,
    cache: ModelCache | None = None,
    margin: float = MEDIAPIPE_MARGIN,
    progress: Callable[[str, int, int], None] | None = None,
) -> np.ndarray:
    """(N, 13, 3) x, y (image pixels), score of one backend on every annotated box."""
    config = backends.as_config(config)
    model = backends.on_boxes(config, cache, margin)
    out = np.full((len(annotations), len(LANDMARKS), 3), np.nan)
    images: dict[Path, np.ndarray] = {}
    try:
        for i, ann in enumerate(annotations):
            if ann.image_path not in images:
                images.clear()  # annotations are grouped by image; hold one at a time
                image = cv2.imread(str(ann.image_path), cv2.IMREAD_COLOR)
                if image is None:
                    raise InputError(f"{ann.image_path.name} is not an image OpenCV can read")
                images[ann.image_path] = image
            out[i] = model.predict(images[ann.image_path], ann.box)
            if progress is not None:
                progress(config.display, i + 1, len(annotations))
    finally:
        model.close()
    return out


def _stack(annotations: list[Annotation]):
    truth = np.stack([a.truth for a in annotations])
    labelled = np.stack([a.labelled for a in annotations])
    area = np.array([a.area for a in annotations])
    return truth, labelled, area


def offered_landmarks(config: BackendConfig | str) -> np.ndarray:
    """(13,) bool: the landmarks the backend's keypoint set has (COCO-17 lacks heels and toes)."""
    config = backends.as_config(config)
    keypoint_set = backends.keypoint_set(config)
    if keypoint_set is None:
        raise InputError(f"{config.display} has no known keypoint set (is its pose model a pose model?)")
    index = LANDMARK_INDEX[keypoint_set]
    return np.array([index[name] is not None for name in LANDMARKS])


def score(
    pred: np.ndarray,
    annotations: list[Annotation],
    norm: str = "box",
    alphas: tuple[float, ...] = ALPHAS,
    offered: np.ndarray | None = None,
) -> dict:
    """The summary numbers of one backend's predictions.

    ``offered`` marks the landmarks the backend can report at all; the others
    are not scored for PCK (a missing heel of a COCO-17 model is not an error).
    OKS uses only COCO's own keypoints, which every backend has.
    """
    truth, labelled, area = _stack(annotations)
    size = reference_size(annotations, norm)
    has = np.isfinite(pred[..., :2]).all(axis=-1)
    offered = np.ones(len(LANDMARKS), bool) if offered is None else np.asarray(offered, bool)
    row: dict[str, float | int | str] = {
        f"pck_{a:g}": pck(pred, truth, labelled & offered, size, a) for a in alphas
    }
    per_person = oks(pred, truth, labelled, area)
    row["oks"] = float(np.nanmean(per_person)) if np.isfinite(per_person).any() else float("nan")
    row["annotations"] = len(annotations)
    row["keypoints"] = int((labelled & offered & np.isfinite(size)[:, None]).sum())
    row["found"] = float(has.any(axis=1).mean())
    row["norm"] = norm
    return row


def per_landmark(
    pred: np.ndarray,
    annotations: list[Annotation],
    norm: str = "box",
    alphas: tuple[float, ...] = ALPHAS,
    offered: np.ndarray | None = None,
) -> pd.DataFrame:
    """PCK per landmark (rows) for one backend; NaN where not labelled or not offered."""
    truth, labelled, _area = _stack(annotations)
    size = reference_size(annotations, norm)
    offered = np.ones(len(LANDMARKS), bool) if offered is None else np.asarray(offered, bool)
    labelled = labelled & offered
    rows = []
    for i, name in enumerate(LANDMARKS):
        row = {"landmark": name, "keypoints": int(labelled[:, i].sum())}
        for a in alphas:
            hits = pck_hits(pred, truth, labelled, size, a)[:, i]
            row[f"pck_{a:g}"] = float(np.nanmean(hits)) if np.isfinite(hits).any() else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def evaluate(
    images_dir: str | Path,
    annotations_path: str | Path,
    configs: Sequence[BackendConfig | str],
    *,
    norm: str = "box",
    cache: ModelCache | None = None,
    margin: float = MEDIAPIPE_MARGIN,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary: one row per backend, per-landmark PCK: one row per backend and landmark).

    A backend that cannot run is reported in ``error`` and the others go on.
    """
    if norm not in NORMS:
        raise InputError(f"PCK norm must be one of {', '.join(NORMS)}, not '{norm}'")
    annotations = load_coco(annotations_path, images_dir)
    annotations.sort(key=lambda a: str(a.image_path))
    rows, parts = [], []
    for config in configs:
        config = backends.as_config(config)
        try:
            pred = predict(config, annotations, cache=cache, margin=margin, progress=progress)
        except InputError:
            raise
        except BenchError as exc:
            rows.append(
                {"backend": config.display, "annotations": len(annotations), "norm": norm, "error": str(exc)}
            )
            continue
        rows.append(
            {
                "backend": config.display,
                **score(pred, annotations, norm, offered=offered_landmarks(config)),
                "error": "",
            }
        )
        table = per_landmark(pred, annotations, norm, offered=offered_landmarks(config))
        table.insert(0, "backend", config.display)
        parts.append(table)
    summary = pd.DataFrame(rows, columns=list(ACCURACY_COLUMNS))
    landmarks = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return summary, landmarks
