"""RTMPose through rtmlib: a YOLOX person detector, then RTMPose on each box.

rtmlib's ``YOLOX`` and ``RTMPose`` classes supply the pre- and
post-processing; for the onnxruntime engine the sessions are built here with
the configured options (rtmlib offers no way to pass them) and given to thin
subclasses that skip rtmlib's own session creation. The levers of
``BackendConfig`` - detector cadence and choice, person selection, the
margin of the carried box, batching the crops into one pose run, the fused
float32 pre-processing, thread settings - are applied here, with the per-run
state (carried boxes) kept on the backend. With ``batch_pose`` and
``fused_preprocess`` off, every frame goes through rtmlib's own code path.
See docs/speed.md.
"""

from __future__ import annotations

import contextlib
import io
import time

import numpy as np

from posebench.core import catalogue
from posebench.core.errors import BackendUnavailable, BenchError
from posebench.models import model_store

from .backend_config import BackendConfig
from .base import PoseBackend, PoseResult, box_from_keypoints
from .sessions import DEFAULT_CACHE, ModelCache, ort_session, ov_model, ov_settings, session_settings

# rtmlib's RTMPose normalisation (ImageNet mean / std, BGR order as rtmlib feeds it).
_MEAN = np.array((123.675, 116.28, 103.53), dtype=np.float32)[:, None, None]
_INV_STD = (1.0 / np.array((58.395, 57.12, 57.375), dtype=np.float32))[:, None, None]


def _rtmlib():
    try:
        from rtmlib import YOLOX, RTMPose
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise BackendUnavailable(f"rtmlib is not installed ({exc})") from None
    return YOLOX, RTMPose


try:  # rtmlib's own crop geometry, reused by the fused pre-processing
    from rtmlib.tools.pose_estimation.pre_processings import bbox_xyxy2cs, top_down_affine
except ImportError:  # pragma: no cover - rtmlib missing: the backend reports it on creation
    bbox_xyxy2cs = top_down_affine = None


def _with_session(cls, session, engine: str = "onnxruntime", **attrs):
    """An rtmlib tool object that uses ``session`` (an ONNX Runtime session or an OpenVINO
    compiled model) instead of building its own."""
    tool = cls.__new__(cls)  # rtmlib's __init__ would create a session without options
    if engine == "openvino":
        tool.compiled_model = session
        tool._ov_outputs = list(session.outputs)
    else:
        tool.session = session
    tool.backend = engine
    tool.device = "cpu"
    tool.onnx_model = getattr(session, "_model_path", "")
    for key, value in attrs.items():
        setattr(tool, key, value)
    return tool


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _area(box: np.ndarray) -> float:
    return float(max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1]))


def select_people(boxes: np.ndarray, policy: str, frame_shape, previous: np.ndarray | None) -> np.ndarray:
    """Keep the boxes the pose model runs on; the first one is the athlete."""
    if len(boxes) == 0:
        return boxes
    areas = np.array([_area(b) for b in boxes])
    by_size = boxes[np.argsort(-areas)]
    if policy == "all":
        return by_size
    if policy == "largest":
        return by_size[:1]
    if policy == "central":
        h, w = frame_shape[:2]
        centres = (boxes[:, 0:2] + boxes[:, 2:4]) / 2
        dist = np.linalg.norm(centres - np.array([w / 2, h / 2]), axis=1)
        return boxes[np.argmin(dist)][None]
    if policy == "tracked":
        if previous is not None:
            overlaps = np.array([_iou(b, previous) for b in boxes])
            if overlaps.max() > 0.1:
                return boxes[np.argmax(overlaps)][None]
        return by_size[:1]
    raise BackendUnavailable(f"unknown person selection '{policy}'")


class RTMPoseBackend(PoseBackend):
    def __init__(self, config: BackendConfig, cache: ModelCache | None = None):
        YOLOX, RTMPose = _rtmlib()
        self.config = config
        self.name = config.display
        cache = cache if cache is not None else DEFAULT_CACHE
        det_asset = catalogue.get(config.detector)
        pose_asset = catalogue.get(config.pose)
        if pose_asset.keypoint_set is None or pose_asset.input_size is None:
            raise BenchError(f"{config.pose} is not a pose model (it has no keypoint set or input size)")
        self.keypoint_set = pose_asset.keypoint_set
        det_path = str(model_store.resolve(config.detector, fetch=False))
        pose_path = str(model_store.resolve(config.pose, fetch=False))
        self.model_files = {"detector": det_path, "pose": pose_path}
        start = time.perf_counter()
        det_loaded = cache.get(self._key(det_path), lambda: self._load(det_path))
        pose_loaded = cache.get(self._key(pose_path), lambda: self._load(pose_path))
        det_size = (config.det_input, config.det_input)
        self._check_input(det_loaded.value, det_size, det_asset.filename)
        pose_size = tuple(pose_asset.input_size)
        if config.engine in ("onnxruntime", "openvino"):
            self._det = _with_session(
                YOLOX,
                det_loaded.value,
                config.engine,
                model_input_size=det_size,
                mean=None,
                std=None,
                det_mode="human",
                nms_thr=0.45,
                score_thr=config.det_score,
            )
            self._pose = _with_session(
                RTMPose,
                pose_loaded.value,
                config.engine,
                model_input_size=pose_size,
                mean=(123.675, 116.28, 103.53),
                std=(58.395, 57.12, 57.375),
                to_openpose=False,
            )
        else:  # rtmlib's own classes load the files for opencv (cv2.dnn)
            with contextlib.redirect_stdout(io.StringIO()):  # rtmlib prints "load ..." lines
                self._det = YOLOX(
                    det_path,
                    model_input_size=det_size,
                    backend=config.engine,
                    device="cpu",
                    score_thr=config.det_score,
                )
                self._pose = RTMPose(
                    pose_path, model_input_size=pose_size, backend=config.engine, device="cpu"
                )
        if config.engine == "onnxruntime":
            self._pose_input_name = self._pose.session.get_inputs()[0].name
            self._pose_outputs = [o.name for o in self._pose.session.get_outputs()]
        if config.engine == "openvino":  # requests per run: the compiled models are shared
            self._ov_pose_request = self._pose.compiled_model.create_infer_request()
            self._ov_det_request = self._det.compiled_model.create_infer_request()
        self.init_ms = (time.perf_counter() - start) * 1000.0
        self.init_cached = det_loaded.cached and pose_loaded.cached
        self.cold_init_ms = (
            self.init_ms - det_loaded.load_ms - pose_loaded.load_ms + det_loaded.cold_ms + pose_loaded.cold_ms
        )
        self._frame_no = 0
        self._idle_skipped: int | None = None  # frames skipped since the detector last found no one
        self._carried: np.ndarray | None = None  # boxes carried from the last keypoints
        self._athlete_from_keypoints: np.ndarray | None = None  # its unshifted box (carry_motion)
        self._athlete: np.ndarray | None = None  # last box of the athlete (tracked)
        self._blobs: dict[int, np.ndarray] = {}  # pose input buffers by batch size

    # -- models ---------------------------------------------------------------
    def _key(self, path: str) -> tuple:
        c = self.config
        return (
            "rtm",
            path,
            c.engine,
            c.provider,
            c.intra_threads,
            c.inter_threads,
            c.spinning,
            c.graph_opt,
            c.exec_mode,
        )

    def _load(self, path: str):
        c = self.config
        if c.engine == "onnxruntime":
            return ort_session(
                path, c.provider, c.intra_threads, c.inter_threads, c.spinning, c.graph_opt, c.exec_mode
            )
        if c.engine == "openvino":
            return ov_model(path, c.intra_threads)
        return path  # rtmlib's own classes load opencv models

    @staticmethod
    def _check_input(session, size: tuple[int, int], filename: str) -> None:
        shape = getattr(session, "get_inputs", lambda: None)()
        if not shape:
            return
        dims = shape[0].shape[2:4]
        if all(isinstance(d, int) for d in dims) and tuple(dims) != (size[1], size[0]):
            raise BackendUnavailable(
                f"{filename} takes a fixed {dims[1]}x{dims[0]} input; det_input={size[0]} "
                f"cannot be used with it"
            )

    def settings(self) -> dict:
        return self.config.settings()

    # -- per frame -------------------------------------------------------------
    def _detector_due(self) -> bool:
        every = self.config.det_every
        if self._carried is None or len(self._carried) == 0:
            idle = self.config.idle_det_every
            return self._idle_skipped is None or idle <= 1 or self._idle_skipped + 1 >= idle
        if every == 0:
            return False
        return self._frame_no % every == 0

    def _detect(self, image_bgr: np.ndarray, stage: dict) -> np.ndarray:
        """Person boxes (x1, y1, x2, y2) the pose model will run on, athlete first."""
        t0 = time.perf_counter()
        det_in, ratio = self._det.preprocess(image_bgr)
        t1 = time.perf_counter()
        raw = self._det_infer(det_in)
        t2 = time.perf_counter()
        if raw.ndim == 3 and raw.shape[-1] == 5:  # NMS inside the graph: x1, y1, x2, y2, score
            raw = raw[:, raw[0, :, 4] >= self.config.det_score]
        boxes = np.asarray(self._det.postprocess(raw, ratio), dtype=np.float64).reshape(-1, 4)
        boxes = select_people(boxes, self.config.person, image_bgr.shape, self._athlete)
        t3 = time.perf_counter()
        stage["preprocess"] += (t1 - t0) * 1e3
        stage["detect"] += (t2 - t1) * 1e3
        stage["postprocess"] += (t3 - t2) * 1e3
        return boxes

    def _det_infer(self, det_in: np.ndarray) -> np.ndarray:
        """The detector's raw output for rtmlib's pre-processed (H, W, 3) input."""
        if self.config.engine != "openvino":
            return self._det.inference(det_in)[0]
        feed = np.ascontiguousarray(det_in.transpose(2, 0, 1), dtype=np.float32)[None]
        return self._ov_det_request.infer({0: feed})[self._det._ov_outputs[0]]

    def _pose_input(self, image_bgr: np.ndarray, box: np.ndarray, out: np.ndarray):
        """Write one crop into ``out`` (3, H, W) float32; return rtmlib's center and scale."""
        if self.config.fused_preprocess:
            center, scale = bbox_xyxy2cs(np.asarray(box), padding=1.25)
            crop, scale = top_down_affine(self._pose.model_input_size, scale, center, image_bgr)
            np.subtract(crop.transpose(2, 0, 1), _MEAN, out=out, dtype=np.float32)
            out *= _INV_STD
            return center, scale
        crop, center, scale = self._pose.preprocess(image_bgr, box)  # rtmlib: float64 HWC
        out[...] = crop.transpose(2, 0, 1)
        return center, scale

    def _pose_people(self, image_bgr: np.ndarray, boxes: np.ndarray, stage: dict, runs: dict):
        """Keypoints and scores of every box: one pose run per crop, or one for all of them."""
        if not (self.config.batch_pose or self.config.fused_preprocess):
            return self._pose_rtmlib(image_bgr, boxes, stage, runs)
        t0 = time.perf_counter()
        blob = self._blob(len(boxes))
        placed = [self._pose_input(image_bgr, box, blob[i]) for i, box in enumerate(boxes)]
        t1 = time.perf_counter()
        step = len(boxes) if self.config.batch_pose else 1
        outputs = []
        for start in range(0, len(boxes), step):
            outputs.append(self._run_pose(blob[start : start + step]))
            runs["pose"] += 1
        simcc_x = np.concatenate([o[0] for o in outputs])
        simcc_y = np.concatenate([o[1] for o in outputs])
        t2 = time.perf_counter()
        keypoints, scores = [], []
        for i, (center, scale) in enumerate(placed):
            kpts, kscores = self._pose.postprocess([simcc_x[i : i + 1], simcc_y[i : i + 1]], center, scale)
            keypoints.append(kpts[0])
            scores.append(kscores[0])
        t3 = time.perf_counter()
        stage["preprocess"] += (t1 - t0) * 1e3
        stage["pose"] += (t2 - t1) * 1e3
        stage["postprocess"] += (t3 - t2) * 1e3
        return keypoints, scores

    def _blob(self, n: int) -> np.ndarray:
        """A reused (n, 3, H, W) float32 input buffer: no fresh allocation every frame."""
        blob = self._blobs.get(n)
        if blob is None:
            w, h = self._pose.model_input_size
            blob = self._blobs[n] = np.empty((n, 3, h, w), dtype=np.float32)
        return blob

    def _pose_rtmlib(self, image_bgr: np.ndarray, boxes: np.ndarray, stage: dict, runs: dict):
        """rtmlib's own path, crop by crop (the rtmlib default)."""
        keypoints, scores = [], []
        for box in boxes:
            t0 = time.perf_counter()
            pose_in, center, scale = self._pose.preprocess(image_bgr, box)
            t1 = time.perf_counter()
            outputs = self._pose.inference(pose_in)
            t2 = time.perf_counter()
            kpts, kscores = self._pose.postprocess(outputs, center, scale)
            t3 = time.perf_counter()
            keypoints.append(kpts[0])
            scores.append(kscores[0])
            stage["preprocess"] += (t1 - t0) * 1e3
            stage["pose"] += (t2 - t1) * 1e3
            stage["postprocess"] += (t3 - t2) * 1e3
            runs["pose"] += 1
        return keypoints, scores

    def _run_pose(self, blob: np.ndarray) -> list[np.ndarray]:
        """One pose-model run on an (N, 3, H, W) float32 batch, on whichever engine."""
        tool = self._pose
        if self.config.engine == "onnxruntime":
            return tool.session.run(self._pose_outputs, {self._pose_input_name: blob})
        if self.config.engine == "opencv":
            tool.session.setInput(blob)
            return list(tool.session.forward(tool.session.getUnconnectedOutLayersNames()))
        results = self._ov_pose_request.infer({0: blob})  # openvino
        return [results[out] for out in tool._ov_outputs]

    def pose_on_boxes(self, image_bgr: np.ndarray, boxes) -> tuple[np.ndarray, np.ndarray]:
        """The pose model alone on given person boxes (x1, y1, x2, y2), with rtmlib's pre- and
        post-processing: native keypoints (n, K, 2) and scores (n, K). No detector runs."""
        return self._pose(image_bgr, bboxes=[list(box) for box in boxes])

    def model_inputs(self, image_bgr: np.ndarray) -> dict[str, np.ndarray]:
        """The exact inputs the detector and the pose model get for this frame (the pose
        model's for the first selected person, or the whole frame when none): fixed
        inputs for measuring the bare models. Leaves the tracking state untouched."""
        det_in, _ratio = self._det.preprocess(image_bgr)
        det_feed = np.ascontiguousarray(det_in.transpose(2, 0, 1), dtype=np.float32)[None]
        boxes = self._detect(image_bgr, {"preprocess": 0.0, "detect": 0.0, "postprocess": 0.0})
        h, w = image_bgr.shape[:2]
        box = boxes[0] if len(boxes) else np.array([0, 0, w - 1, h - 1], dtype=np.float64)
        pw, ph = self._pose.model_input_size
        pose_feed = np.empty((1, 3, ph, pw), dtype=np.float32)
        self._pose_input(image_bgr, box, pose_feed[0])
        return {"detector": det_feed, "pose": pose_feed}

    def _moved_on(self, box: np.ndarray, frame_shape: tuple[int, ...]) -> np.ndarray:
        """The athlete's carried box moved on by its centre's motion since the last frame
        (``carry_motion``): where a constant-velocity athlete will be in the next frame."""
        last, self._athlete_from_keypoints = self._athlete_from_keypoints, box
        if last is None:
            return box
        dx = (box[0] + box[2] - last[0] - last[2]) / 2
        dy = (box[1] + box[3] - last[1] - last[3]) / 2
        fh, fw = frame_shape[:2]
        moved = box + np.array([dx, dy, dx, dy])
        return np.clip(moved, [0, 0, 0, 0], [fw - 1, fh - 1, fw - 1, fh - 1])

    def sessions(self) -> dict:
        """The ONNX Runtime sessions in use (role -> session), for floor measurements."""
        if self.config.engine != "onnxruntime":
            return {}
        return {"detector": self._det.session, "pose": self._pose.session}

    def model_runners(self) -> dict:
        """role -> ``run(feed)``: one bare run of that model on this backend's own session or
        compiled model (ONNX Runtime and OpenVINO), for floor measurements."""
        if self.config.engine == "onnxruntime":
            out = {}
            for role, session in self.sessions().items():
                name = session.get_inputs()[0].name
                out[role] = lambda feed, s=session, n=name: s.run(None, {n: feed})
            return out
        if self.config.engine == "openvino":
            return {
                "detector": lambda feed: self._ov_det_request.infer({0: feed}),
                "pose": lambda feed: self._ov_pose_request.infer({0: feed}),
            }
        return {}

    def engine_settings(self) -> dict:
        """What the engine actually runs with, read back from it (role -> settings)."""
        if self.config.engine == "onnxruntime":
            return {role: session_settings(s) for role, s in self.sessions().items()}
        if self.config.engine == "openvino":
            return {
                "detector": ov_settings(self._det.compiled_model),
                "pose": ov_settings(self._pose.compiled_model),
            }
        return {}

    def process(self, image_bgr: np.ndarray, timestamp_ms: int) -> PoseResult:
        if self.config.engine != "opencv":
            return self._process(image_bgr)
        import cv2

        try:
            return self._process(image_bgr)
        except cv2.error as exc:
            # cv2 5.0's dnn cannot run the YOLOX graph (NMS inside) on every frame.
            reason = str(exc).strip().splitlines()[-1][:160]
            raise BackendUnavailable(
                f"OpenCV's dnn engine (cv2 {cv2.__version__}) failed on this frame ({reason}); "
                f"use engine=onnxruntime"
            ) from None

    def _process(self, image_bgr: np.ndarray) -> PoseResult:
        stage = {"preprocess": 0.0, "detect": 0.0, "pose": 0.0, "postprocess": 0.0}
        runs = {"detector": 0, "pose": 0}
        run_det = self._detector_due()
        if run_det:
            boxes = self._detect(image_bgr, stage)
            runs["detector"] = 1
        else:  # due unless boxes are carried
            boxes = self._carried if self._carried is not None else np.empty((0, 4))
        keypoints: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        if len(boxes):
            keypoints, scores = self._pose_people(image_bgr, boxes, stage, runs)
        t0 = time.perf_counter()
        self._frame_no += 1
        carried: list[np.ndarray] = []
        for kpts, kscores in zip(keypoints, scores):
            nb = None
            if np.mean(kscores) >= self.config.lost_score:
                nb = box_from_keypoints(kpts, kscores, pad=self.config.carry_pad, frame_shape=image_bgr.shape)
            if nb is None and not carried:
                break  # the athlete (first box) is lost: detect again rather than follow a bystander
            if nb is not None:
                carried.append(nb)
        if carried and self.config.carry_motion:
            carried[0] = self._moved_on(carried[0], image_bgr.shape)
        elif not carried:
            self._athlete_from_keypoints = None
        self._carried = np.array(carried) if carried else None
        result_kpts = result_scores = result_box = None
        if keypoints:
            result_kpts, result_scores, result_box = keypoints[0], scores[0], boxes[0]
            if np.mean(result_scores) < self.config.lost_score:
                result_kpts = result_scores = result_box = None  # the pose model found no person
        self._athlete = result_box if result_box is not None else self._athlete
        if result_kpts is not None or carried:
            self._idle_skipped = None  # someone is in view: the usual cadence
        elif run_det:
            self._idle_skipped = 0  # the detector found no one: the idle cadence starts
        elif self._idle_skipped is not None:
            self._idle_skipped += 1
        stage["postprocess"] += (time.perf_counter() - t0) * 1e3
        return PoseResult(
            keypoints=result_kpts,
            scores=result_scores,
            keypoint_set=self.keypoint_set,
            box=result_box,
            detector_ran=run_det,
            people=len(boxes),
            stage_ms=stage,
            model_runs=runs,
        )
