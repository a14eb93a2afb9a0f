"""Backend configurations: named presets plus per-run overrides, as data.

A configuration is written ``PRESET`` or ``PRESET:key=value,key=value``, for
example ``rtmpose-lightweight:det_every=10,person=largest``. Every lever of
the benchmark is a field here, so the CLI, the dashboard and the results
table all speak of the same settings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from posebench.core import catalogue
from posebench.core.errors import BenchError

CADENCE_HELP = (
    "det_every: 1 = person detector on every frame (rtmlib default); "
    "N = every N-th frame, box carried from the last keypoints in between; "
    "0 = only when tracking is lost (the counterpart of MediaPipe's VIDEO mode)"
)
PERSON_CHOICES = ("all", "largest", "central", "tracked")
ENGINES = ("onnxruntime", "openvino", "opencv", "auto")
GRAPH_OPT = ("disabled", "basic", "extended", "all")
EXEC_MODES = ("sequential", "parallel")
RUNNING_MODES = ("VIDEO", "IMAGE")
DELEGATES = ("CPU", "GPU")
DETECTORS = tuple(a.name for a in catalogue.CATALOGUE if a.role == "detector")
POSE_MODELS = tuple(a.name for a in catalogue.CATALOGUE if a.role == "pose")
LANDMARKERS = tuple(a.name for a in catalogue.CATALOGUE if a.role == "landmarker")


@dataclass(frozen=True)
class BackendConfig:
    preset: str
    family: str  # "mediapipe" | "rtmpose"
    label: str = ""  # shown in tables; defaults to the spec string
    # MediaPipe
    model: str = ""  # landmarker asset name
    running_mode: str = "VIDEO"
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    delegate: str = "CPU"  # MediaPipe's CPU (XNNPACK) or GPU delegate
    # RTMPose through rtmlib
    detector: str = ""  # detector asset name
    pose: str = ""  # pose asset name
    det_input: int = 416  # detector input side (square), pixels
    det_every: int = 1  # see CADENCE_HELP
    person: str = "all"  # which people the pose model runs on
    det_score: float = 0.3  # boxes below this detector score are dropped
    lost_score: float = 0.3  # mean keypoint score under which tracking is lost
    carry_pad: float = 0.1  # margin of the box carried from keypoints (share of its size)
    carry_motion: bool = False  # move the carried box on by the athlete's last motion
    engine: str = "onnxruntime"
    provider: str = "CPUExecutionProvider"
    intra_threads: int = 0  # 0 = ONNX Runtime's default (one per core)
    inter_threads: int = 0
    spinning: bool = True  # ORT session.intra_op.allow_spinning
    graph_opt: str = "all"
    exec_mode: str = "sequential"
    batch_pose: bool = False  # one pose-model run on all person crops (dynamic batch)
    fused_preprocess: bool = False  # crop normalised in float32 straight into the model input

    def spec(self) -> str:
        """The ``PRESET:key=value`` string that recreates this configuration."""
        base = PRESETS[self.preset]
        changed = [
            f"{f.name}={_fmt(getattr(self, f.name))}"
            for f in fields(self)
            if f.name not in ("preset", "family", "label") and getattr(self, f.name) != getattr(base, f.name)
        ]
        return self.preset + (":" + ",".join(changed) if changed else "")

    @property
    def display(self) -> str:
        return self.label or self.spec()

    def settings(self) -> dict:
        """The settings that matter for this configuration, for tables and run.json.

        ONNX Runtime's own options are left out when another engine runs the models,
        since they do not apply there.
        """
        keep = FAMILY_FIELDS[self.family]
        if self.family == "rtmpose" and self.engine not in ("onnxruntime", "auto"):
            skip = ORT_ONLY_FIELDS if self.engine != "openvino" else OV_SKIPPED_FIELDS
            keep = tuple(k for k in keep if k not in skip)
        return {k: v for k, v in asdict(self).items() if k in keep}


def _fmt(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


FAMILY_FIELDS = {
    "mediapipe": ("model", "running_mode", "min_detection_confidence", "min_tracking_confidence", "delegate"),
    "rtmpose": (
        "detector",
        "pose",
        "det_input",
        "det_every",
        "person",
        "det_score",
        "lost_score",
        "carry_pad",
        "carry_motion",
        "engine",
        "provider",
        "intra_threads",
        "inter_threads",
        "spinning",
        "graph_opt",
        "exec_mode",
        "batch_pose",
        "fused_preprocess",
    ),
}
ORT_ONLY_FIELDS = ("provider", "intra_threads", "inter_threads", "spinning", "graph_opt", "exec_mode")
OV_SKIPPED_FIELDS = tuple(f for f in ORT_ONLY_FIELDS if f != "intra_threads")  # OpenVINO takes a thread count

# One line per lever: what it does, with its unit. `python -m posebench backends` prints
# these; the dashboard can use them as widget help.
LEVER_HELP = {
    "model": f"MediaPipe landmarker model ({', '.join(LANDMARKERS)})",
    "running_mode": "VIDEO = detector only when tracking is lost (the jump app); IMAGE = every frame",
    "min_detection_confidence": "MediaPipe: person detections below this score (0-1) are dropped",
    "min_tracking_confidence": "MediaPipe: below this score (0-1) VIDEO mode runs its detector again",
    "delegate": "MediaPipe: CPU (XNNPACK) or GPU delegate; GPU is offered where this mediapipe build "
    "and machine can run it (checked by starting it)",
    "detector": f"person detector model ({', '.join(DETECTORS)})",
    "pose": f"pose model ({', '.join(POSE_MODELS)})",
    "det_input": "detector input side in pixels; the YOLOX ONNX files accept only their fixed 416 or 640",
    "det_every": CADENCE_HELP.partition(": ")[2],
    "person": "people the pose model runs on: all, or one athlete: largest, central (nearest the "
    "frame centre) or tracked (overlaps the last athlete box most)",
    "det_score": "detector boxes below this score (0-1) are dropped (rtmlib itself drops those under 0.3)",
    "lost_score": "mean keypoint score (0-1) under which tracking counts as lost",
    "carry_pad": "margin added on each side of the box carried from the last keypoints, as a share "
    "of its width / height (0.1 = 10 %); the detector's own boxes are a little larger "
    "than the keypoints",
    "carry_motion": "true: the box carried to the next frame moves on by the athlete's motion "
    "between the last two frames (constant velocity), so a fast athlete stays centred in the "
    "crop; false: it stays where the last keypoints were",
    "engine": "runtime for the ONNX files: onnxruntime, openvino, rtmlib's opencv (cv2.dnn), or auto = "
    "the fastest engine and execution provider on this machine, chosen by measuring them (cached; "
    "the run records which); the session options below apply to onnxruntime, intra_threads to "
    "openvino too",
    "provider": "ONNX Runtime execution provider (see the list above)",
    "intra_threads": "ONNX Runtime (and OpenVINO) threads inside one operator; 0 = its default "
    "(one per core)",
    "inter_threads": "ONNX Runtime threads across operators (parallel exec_mode only); 0 = default",
    "spinning": "ONNX Runtime threads busy-wait between operators (true/false); off frees the CPU "
    "for the other model and for decoding",
    "graph_opt": f"ONNX Runtime graph optimisation ({', '.join(GRAPH_OPT)})",
    "exec_mode": f"ONNX Runtime execution mode ({', '.join(EXEC_MODES)})",
    "batch_pose": "true = all person crops of a frame go through the pose model in one run "
    "(its batch axis is dynamic); false = one run per crop, as rtmlib does",
    "fused_preprocess": "true = the crop is normalised in float32 straight into the model input; "
    "false = rtmlib's float64 normalise then copy (same numbers)",
}


def _mp(preset: str, model: str, mode: str) -> BackendConfig:
    return BackendConfig(preset=preset, family="mediapipe", model=model, running_mode=mode)


def _rtm(preset: str, detector: str, pose: str, det_input: int, **levers) -> BackendConfig:
    return BackendConfig(
        preset=preset, family="rtmpose", detector=detector, pose=pose, det_input=det_input, **levers
    )


# The tuned preset `rtmpose-lightweight-tuned` (numbers and method: docs/speed.md).
#
# Criterion. The issue asks for the fastest lever set that keeps the 13 landmarks within 0.1
# torso length of MediaPipe lite VIDEO on >= 95 % of detected frames of the shared
# single-person clips (running 47, lab 100, CMJ 330 frames). The rtmlib default itself
# reaches only 50.5 % of those frames (running 6 %, lab 57 %, CMJ 53 %): RTMPose and
# MediaPipe place some points differently (CMJ hips: a median 0.10 torso apart) and 5 of
# the running clip's 33 side-view frames fit better with the legs swapped. So the
# criterion used is "agrees with the baseline at least as well as the rtmlib default does",
# pooled over the three clips (posebench.analysis.metrics.frames_all_within): this preset scores 65.4 %
# (3 %, 60 %, 73 %) against the default's 50.5 %.
#
# Levers, each measured interleaved (python -m posebench explore / perf, frames preloaded):
# detector only when tracking is lost, one tracked athlete, a 2 % margin around the
# keypoints for the carried box (tighter crops agree better: 10 % gave 46.0 %), YOLOX-nano (runs only on
# lost frames; 3x faster there than tiny), pre-processing in float32 straight into the model
# input, 2 ORT threads without spinning (spinning is ~10 % faster on an idle machine with
# frames preloaded, slower end to end once decoding runs alongside, and its speed collapses
# under any other load).
#
# Engine: `auto`, the fastest engine present, measured on the machine (posebench.backends.engines;
# on this machine's CPU OpenVINO, which computes in bfloat16 here, against ONNX Runtime).
TUNED_LEVERS: dict[str, Any] = dict(
    engine="auto",
    detector="yolox_nano",
    det_every=0,
    person="tracked",
    carry_pad=0.02,
    intra_threads=2,
    spinning=False,
    fused_preprocess=True,
)
TUNED_NOTE = (
    "How this preset was chosen (once, on the three shared test clips, not on this clip): the "
    "fastest settings whose whole-skeleton match with MediaPipe lite is at least as good as "
    "RTMPose's own defaults; see docs/speed.md for the figures."
)

_PRESET_LIST: list[BackendConfig] = [
    _mp("mediapipe-lite", "pose_landmarker_lite", "VIDEO"),
    _mp("mediapipe-full", "pose_landmarker_full", "VIDEO"),
    _mp("mediapipe-heavy", "pose_landmarker_heavy", "VIDEO"),
    _mp("mediapipe-lite-image", "pose_landmarker_lite", "IMAGE"),
    _mp("mediapipe-full-image", "pose_landmarker_full", "IMAGE"),
    _mp("mediapipe-heavy-image", "pose_landmarker_heavy", "IMAGE"),
    replace(_mp("mediapipe-lite-gpu", "pose_landmarker_lite", "VIDEO"), delegate="GPU"),
    _rtm("rtmpose-lightweight", "yolox_tiny", "rtmpose_s_halpe26", 416),
    _rtm("rtmpose-balanced", "yolox_m", "rtmpose_m_halpe26", 640),
    _rtm("rtmpose-performance", "yolox_x", "rtmpose_x_halpe26", 640),
    _rtm("rtmpose-body-lightweight", "yolox_tiny", "rtmpose_s_coco17", 416),
    _rtm("rtmpose-body-balanced", "yolox_m", "rtmpose_m_coco17", 640),
    _rtm("rtmpose-body-performance", "yolox_x", "rtmpose_x_coco17", 640),
    replace(_rtm("rtmpose-lightweight-tuned", "yolox_tiny", "rtmpose_s_halpe26", 416), **TUNED_LEVERS),
]
PRESETS: dict[str, BackendConfig] = {c.preset: c for c in _PRESET_LIST}
# The default comparison (CLI `run`/`jump` and the Run page): the baseline as the jump app runs it,
# the rtmlib default, and the tuned preset, so that a user who keeps the defaults compares
# MediaPipe with the best RTMPose configuration as well as with RTMPose out of the box.
# The presets the studies, the CLI and the dashboard start from, by role.
BASELINE_PRESET = "mediapipe-lite"  # what the jump app runs today: the one to replace
CANDIDATE_PRESET = "rtmpose-lightweight"  # rtmlib's lightweight defaults: the candidate
TUNED_PRESET = "rtmpose-lightweight-tuned"  # the candidate with the chosen speed levers
ACCURACY_BASELINE_PRESET = "mediapipe-full"  # the MediaPipe model the accuracy check labels with
# A study's default backends: the baseline and the tuned candidate.
STUDY_PAIR: tuple[str, str] = (BASELINE_PRESET, TUNED_PRESET)
# A run's default backends: the baseline, the candidate and the tuned candidate.
DEFAULT_COMPARISON: tuple[str, ...] = (BASELINE_PRESET, CANDIDATE_PRESET, TUNED_PRESET)

PRESET_HELP = {
    "mediapipe-lite": "MediaPipe Pose Landmarker lite, VIDEO mode (as the jump app runs it)",
    "mediapipe-full": "MediaPipe Pose Landmarker full, VIDEO mode",
    "mediapipe-heavy": "MediaPipe Pose Landmarker heavy, VIDEO mode",
    "mediapipe-lite-image": "MediaPipe lite, IMAGE mode: its detector on every frame",
    "mediapipe-full-image": "MediaPipe full, IMAGE mode: its detector on every frame",
    "mediapipe-heavy-image": "MediaPipe heavy, IMAGE mode: its detector on every frame",
    "mediapipe-lite-gpu": "MediaPipe lite, VIDEO mode, on MediaPipe's GPU delegate (where supported)",
    "rtmpose-lightweight": "rtmlib BodyWithFeet lightweight defaults: YOLOX-tiny on every frame",
    "rtmpose-balanced": "rtmlib BodyWithFeet balanced: YOLOX-m + RTMPose-m (Halpe-26) on every frame",
    "rtmpose-performance": "rtmlib BodyWithFeet performance: YOLOX-x + RTMPose-x (Halpe-26) on every frame",
    "rtmpose-body-lightweight": "rtmlib Body lightweight: YOLOX-tiny + RTMPose-s (COCO-17: no heels or toes)",
    "rtmpose-body-balanced": "rtmlib Body balanced: YOLOX-m + RTMPose-m (COCO-17)",
    "rtmpose-body-performance": "rtmlib Body performance: YOLOX-x + RTMPose-x (COCO-17)",
    "rtmpose-lightweight-tuned": (
        "RTMPose-s with the fair levers: YOLOX-nano only when tracking "
        "is lost, one tracked athlete, tight carried box, 2 threads "
        "without spinning, on the fastest engine measured on this machine"
    ),
}

# Each preset in a coach's words (what it does, not how); the exact settings stay one click
# away (``format_settings``). ``describe`` adds words for settings changed from the preset.
PRESET_WORDS = {
    "mediapipe-lite": "MediaPipe, lite model, as the jump app runs it (finds the athlete once, then follows)",
    "mediapipe-full": "MediaPipe, full model (larger, slower), follows the athlete",
    "mediapipe-heavy": "MediaPipe, heavy model (largest, slowest), follows the athlete",
    "mediapipe-lite-image": "MediaPipe, lite model, looks for the athlete afresh on every frame",
    "mediapipe-lite-gpu": "MediaPipe, lite model, as the jump app runs it, on the graphics card",
    "mediapipe-full-image": "MediaPipe, full model, looks for the athlete afresh on every frame",
    "mediapipe-heavy-image": "MediaPipe, heavy model, looks for the athlete afresh on every frame",
    "rtmpose-lightweight": "RTMPose, small, out of the box: looks for people on every frame",
    "rtmpose-balanced": "RTMPose, medium: larger models, looks for people on every frame",
    "rtmpose-performance": "RTMPose, large: the largest models, looks for people on every frame",
    "rtmpose-body-lightweight": "RTMPose, small, 17 points (no heels or toes), people on every frame",
    "rtmpose-body-balanced": "RTMPose, medium, 17 points (no heels or toes), people on every frame",
    "rtmpose-body-performance": "RTMPose, large, 17 points (no heels or toes), people on every frame",
    "rtmpose-lightweight-tuned": (
        "RTMPose, tuned: detector only when the athlete is lost, one athlete, 2 threads"
    ),
}
# (setting, value) -> words, for settings changed from a preset; other changes read "name=value".
SETTING_WORDS = {
    ("det_every", 0): "detector only when the athlete is lost",
    ("det_every", 1): "detector on every frame",
    ("person", "tracked"): "one athlete, followed",
    ("person", "largest"): "one athlete, the largest person",
    ("person", "central"): "one athlete, the one nearest the centre",
    ("person", "all"): "everyone in the frame",
    ("running_mode", "IMAGE"): "looks afresh on every frame",
    ("running_mode", "VIDEO"): "follows the athlete",
    ("spinning", False): "threads rest between steps",
    ("batch_pose", True): "all people in one model run",
}


def describe(config: BackendConfig) -> str:
    """The configuration in words: its preset's words, then its changes from the preset."""
    words = PRESET_WORDS.get(config.preset, config.preset)
    base = PRESETS.get(config.preset)
    changes = []
    chosen = ""
    for name in FAMILY_FIELDS[config.family]:
        value = getattr(config, name)
        if base is None or value == getattr(base, name):
            continue
        if name == "engine" and base.engine == "auto":  # engine=auto resolved: not a change
            chosen = f"; engine {value}, measured the fastest on this machine"
        elif (name, value) in SETTING_WORDS:
            changes.append(SETTING_WORDS[(name, value)])
        elif name == "det_every":
            changes.append(f"detector every {value} frames")
        elif name == "intra_threads":
            changes.append(f"{value} threads" if value else "threads: one per core")
        else:
            changes.append(f"{name}={_fmt(value)}")
    return words + chosen + (f"; changed: {', '.join(changes)}" if changes else "")


# Settings with a fixed set of values (the dashboard offers these as choices).
CHOICES = {
    "person": PERSON_CHOICES,
    "engine": ENGINES,
    "graph_opt": GRAPH_OPT,
    "exec_mode": EXEC_MODES,
    "running_mode": RUNNING_MODES,
    "delegate": DELEGATES,
    "detector": DETECTORS,
    "pose": POSE_MODELS,
    "model": LANDMARKERS,
}


def parse(spec: str) -> BackendConfig:
    """``PRESET[:key=value,...]`` -> BackendConfig, with a clear error when wrong."""
    spec = spec.strip()
    name, _, rest = spec.partition(":")
    if name not in PRESETS:
        raise BenchError(f"unknown backend '{name}'; choose from: {', '.join(PRESETS)}")
    config = PRESETS[name]
    if not rest:
        return config
    return override(config, dict(_split_pair(item) for item in rest.split(",") if item.strip()))


def as_config(item: BackendConfig | str) -> BackendConfig:
    """A configuration as given, or parsed from its ``PRESET[:key=value,...]`` spec."""
    return parse(item) if isinstance(item, str) else item


def as_configs(items: Iterable[BackendConfig | str]) -> list[BackendConfig]:
    """``as_config`` of each item, in order."""
    return [as_config(item) for item in items]


def _split_pair(item: str) -> tuple[str, str]:
    key, eq, value = item.partition("=")
    if not eq:
        raise BenchError(f"backend setting '{item}' is not of the form key=value")
    return key.strip(), value.strip()


def override(config: BackendConfig, changes: dict) -> BackendConfig:
    """Return ``config`` with settings changed; values may be strings."""
    settable = (*FAMILY_FIELDS[config.family], "label")
    typed = {}
    for key, raw in changes.items():
        if key not in settable:  # another family's setting would be accepted and do nothing
            allowed = ", ".join(FAMILY_FIELDS[config.family]) + ", label"
            raise BenchError(f"unknown setting '{key}' for {config.preset}; settings: {allowed}")
        typed[key] = _coerce(key, raw, type(getattr(config, key)))
    return replace(config, **typed)


def _coerce(key: str, raw, kind):
    if not isinstance(raw, str):
        value = raw
    elif kind is bool:
        if raw.lower() not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
            raise BenchError(f"setting {key} must be true or false, not '{raw}'")
        value = raw.lower() in ("true", "1", "yes", "on")
    elif kind in (int, float):
        try:
            value = kind(raw)
        except ValueError:
            raise BenchError(f"setting {key} must be a number, not '{raw}'") from None
    else:
        value = raw
    if key in CHOICES and value not in CHOICES[key]:
        raise BenchError(f"setting {key}='{value}' is not one of: {', '.join(CHOICES[key])}")
    if key in ("det_every", "intra_threads", "inter_threads") and value < 0:
        raise BenchError(f"setting {key} must be 0 or more")
    if key == "carry_pad" and not 0.0 <= value <= 1.0:
        raise BenchError("setting carry_pad must be between 0 and 1")
    if key == "det_input" and not 32 <= value <= 2048:
        raise BenchError("setting det_input must be between 32 and 2048 pixels")
    return value


def format_settings(config: BackendConfig) -> str:
    """``key=value, ...`` of every setting that matters for ``config``: its exact settings."""
    return ", ".join(f"{k}={_fmt(v)}" for k, v in config.settings().items())


def settings_help() -> list[str]:
    """Lines for `python -m posebench backends`: every lever, then the tuned preset in full."""
    lines = ["Settings (levers) of the RTMPose presets:"]
    lines += [f"  {name:25s} {LEVER_HELP[name]}" for name in FAMILY_FIELDS["rtmpose"]]
    lines += ["Settings of the MediaPipe presets:"]
    lines += [f"  {name:25s} {LEVER_HELP[name]}" for name in FAMILY_FIELDS["mediapipe"]]
    tuned = PRESETS["rtmpose-lightweight-tuned"]
    lines += ["", f"rtmpose-lightweight-tuned runs with: {format_settings(tuned)}", TUNED_NOTE]
    return lines
