"""Video input: probe a clip, then stream its frames.

The decoded frame count is the truth: phone clips with an edit list make
``CAP_PROP_FRAME_COUNT`` report more frames than decode, so ``probe`` counts
by decoding. OpenCV's FFmpeg backend applies the rotation metadata of phone
clips (``CAP_PROP_ORIENTATION_AUTO``), and sizes are reported as displayed.
Frames are streamed, never all held, unless ``preload`` is asked for.

Content, not the file name, decides what a file is: ``probe`` reads the
container with PyAV (no decoding) to tell a still image, an audio-only file
or a cut-short file from a video, and says so in one sentence.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

# FFmpeg inside OpenCV prints demuxer complaints ("moov atom not found") to
# stderr; a bad clip is reported as one sentence instead. Set before the
# first capture opens; an explicit setting in the environment wins.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

import cv2
import numpy as np

from posebench.core.errors import InputError

if "OPENCV_LOG_LEVEL" not in os.environ:  # OpenCV's own warnings, same reason
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v")
IRREGULAR_TOLERANCE = 0.10  # an interval this far (share) from the median is irregular
IRREGULAR_SHARE = 0.05  # a clip with more irregular intervals than this is VFR
INTERVAL_SAMPLE = 20_000  # packets read to judge the frame rate of unindexed formats
NO_PYAV = "PyAV is not installed"

# What the first bytes say a file is; used only to word the error sentence.
SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (4, b"ftyp", "an MP4/MOV video"),
    (4, b"moov", "an MP4/MOV video"),
    (4, b"mdat", "an MP4/MOV video"),
    (0, b"\x1a\x45\xdf\xa3", "a Matroska/WebM video"),
    (8, b"AVI ", "an AVI video"),
    (8, b"WAVE", "a WAV audio file"),
    (0, b"RIFF", "a RIFF file"),
    (0, b"\x89PNG", "a PNG image"),
    (0, b"\xff\xd8\xff", "a JPEG image"),
    (0, b"GIF8", "a GIF image"),
    (0, b"BM", "a BMP image"),
    (0, b"%PDF", "a PDF document"),
    (0, b"PK\x03\x04", "a ZIP archive"),
    (0, b"ID3", "an MP3 audio file"),
)
IMAGE_FORMATS = {
    "image2": "an image",
    "gif": "a GIF image",
    "apng": "a PNG image",
    "webp_pipe": "a WebP image",
}  # plus every "<type>_pipe" demuxer


@dataclass(frozen=True)
class ClipInfo:
    path: str
    name: str  # shown in tables (an upload's sanitised original name)
    width: int  # as displayed, after rotation
    height: int
    fps: float  # average frame rate from the container
    frames: int  # decoded frames (the truth)
    reported_frames: int  # what the container claims (CAP_PROP_FRAME_COUNT)
    duration_s: float  # frames / fps
    rotation: int  # degrees of rotation metadata (0, 90, 180, 270)
    codec: str
    bytes: int
    container: str = ""  # FFmpeg's name for the container format
    variable_rate: bool = False  # frame intervals are irregular (VFR)
    interval_ms_min: float = 0.0  # shortest and longest interval between frames
    interval_ms_max: float = 0.0
    sha256: str = ""  # of the file's bytes: how a saved or imported run finds its clip again

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def edit_list_suspected(self) -> bool:
        return self.reported_frames > self.frames


@dataclass
class Frame:
    index: int  # 0-based index among decoded frames
    timestamp_ms: int  # strictly increasing, from index and fps
    image: np.ndarray  # BGR, displayed orientation, after optional downscale
    decode_ms: float  # time spent decoding (and scaling) this frame


@dataclass(frozen=True)
class ContainerFacts:
    """What the container says, read without decoding (PyAV)."""

    format: str = ""  # FFmpeg demuxer name, "" when unreadable
    error: str = ""  # why PyAV could not open it
    streams: tuple[str, ...] = ()  # stream types: video, audio, data ...
    indexed_frames: int = 0  # video frames in the index, edit-list discards left out
    needed_bytes: int = 0  # where the last indexed packet ends
    intervals_ms: tuple[float, ...] = ()  # intervals between video frames (sample)
    video_codec: str = ""  # codec of the first video stream ("h264", "av1"), "" when none

    @property
    def image_kind(self) -> str | None:
        if self.format.endswith("_pipe"):
            return IMAGE_FORMATS.get(self.format, f"a {self.format[:-5].upper()} image")
        return IMAGE_FORMATS.get(self.format)

    @property
    def audio_only(self) -> bool:
        return bool(self.streams) and "video" not in self.streams and "audio" in self.streams


def sniff(path: str | os.PathLike) -> str | None:
    """What the first bytes of a file say it is ("a PNG image"), or None."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    for offset, magic, kind in SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return kind
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text and all(ch.isprintable() or ch in "\r\n\t" for ch in text):
        return "a text file"
    return None


def container_facts(path: str | os.PathLike) -> ContainerFacts:
    """Read the container's streams and index with PyAV; never decodes."""
    try:
        import av
    except ImportError:  # pragma: no cover - PyAV is in requirements.txt
        return ContainerFacts(error=NO_PYAV)
    try:
        container = av.open(str(path), mode="r")
    except Exception as exc:  # FFmpeg errors are many; each means "cannot read"
        return ContainerFacts(error=type(exc).__name__)
    try:
        streams = tuple(s.type for s in container.streams)
        needed = 0
        for stream in container.streams:
            entries = stream.index_entries
            if len(entries):
                needed = max(needed, max(e.pos + e.size for e in entries))
        indexed, codec = 0, ""
        intervals: tuple[float, ...] = ()
        videos = container.streams.video
        if videos:
            stream = videos[0]
            context = stream.codec_context
            codec = getattr(context.codec, "canonical_name", "") or context.name or ""
            base = float(stream.time_base or 0) * 1000.0
            stamps = []
            if container.format.name.startswith("mov"):
                kept = [e for e in stream.index_entries if not e.is_discard]
                indexed = len(kept)
                stamps = [e.timestamp for e in kept]
            elif base > 0:
                for packet in container.demux(stream):
                    if packet.pts is not None and packet.size:
                        stamps.append(packet.pts)
                    if len(stamps) >= INTERVAL_SAMPLE:
                        break
            if base > 0 and len(stamps) >= 3:
                intervals = tuple(float(d) * base for d in np.diff(np.unique(stamps)))
        return ContainerFacts(
            format=container.format.name,
            streams=streams,
            indexed_frames=indexed,
            needed_bytes=int(needed),
            intervals_ms=intervals,
            video_codec=codec,
        )
    except Exception as exc:
        return ContainerFacts(format=getattr(container.format, "name", ""), error=type(exc).__name__)
    finally:
        container.close()


def frame_rate_regularity(intervals_ms: tuple[float, ...]) -> tuple[bool, float, float]:
    """(variable, shortest, longest): variable when intervals stray from the median."""
    if len(intervals_ms) < 2:
        return False, 0.0, 0.0
    values = np.asarray(intervals_ms, dtype=float)
    median = float(np.median(values))
    if median <= 0:
        return False, 0.0, 0.0
    stray = np.abs(values - median) > IRREGULAR_TOLERANCE * median
    return bool(stray.mean() > IRREGULAR_SHARE), float(values.min()), float(values.max())


def _cut_short(p: Path, facts: ContainerFacts, decoded: int = 0) -> InputError:
    frames = (
        f"; only {decoded} of its {facts.indexed_frames} frames can be read" if facts.indexed_frames else ""
    )
    return InputError(
        f"{p.name} is cut short: the file has {p.stat().st_size:,} bytes but its "
        f"index runs to {facts.needed_bytes:,}{frames} (an incomplete upload or copy)"
    )


def _not_a_video(p: Path, facts: ContainerFacts, opened: bool) -> InputError:
    """The one sentence for a file that yields no frame."""
    if facts.needed_bytes > p.stat().st_size:
        return _cut_short(p, facts)
    if facts.image_kind:
        return InputError(f"{p.name} is {facts.image_kind}, not a video")
    if facts.audio_only:
        return InputError(f"{p.name} has no video track (it holds audio only)")
    if (
        facts.format.startswith("mov")
        and not facts.indexed_frames
        and not facts.error
        and set(facts.streams) <= {"video", "data"}
    ):
        return InputError(f"{p.name} holds no video frames (its video track is empty)")
    kind = sniff(p)
    if facts.video_codec and other_decoder_reads(p):
        return InputError(
            f"{p.name} is not damaged, but its video is coded in {facts.video_codec.upper()}, which the "
            "video decoder PoseBench uses on this server cannot decode; convert it to H.264 (for "
            "example ffmpeg -i IN -c:v libx264 OUT.mp4) and try again"
        )
    if kind and "video" in kind:
        return InputError(
            f"{p.name} looks like {kind} but no frame can be read from it: it is truncated or damaged"
        )
    if kind:
        return InputError(f"{p.name} is {kind}, not a video")
    if opened or facts.format:
        return InputError(
            f"{p.name} has no video frame that can be decoded (truncated, damaged or an unsupported codec)"
        )
    return InputError(f"{p.name} is not a video file that can be read (unknown or damaged content)")


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file, read 1 MiB at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def other_decoder_reads(p: Path) -> bool:
    """True when PyAV's decoders get a frame out of ``p`` (so the file itself is sound)."""
    try:
        import av

        with av.open(str(p), mode="r") as container:
            for _frame in container.decode(video=0):
                return True
    except Exception:  # any FFmpeg error: it cannot be read that way either
        return False
    return False


def _check_file(p: Path) -> None:
    if not p.exists():
        raise InputError(f"no such file: {p}")
    if p.is_dir():
        raise InputError(f"{p} is a folder, not a video file")
    if not p.is_file():
        raise InputError(
            f"{p.name} is not a regular file (a pipe, socket or device), so it cannot be read as a video"
        )
    if p.stat().st_size == 0:
        raise InputError(f"{p.name} is empty (0 bytes)")


def _open(path: str | os.PathLike) -> cv2.VideoCapture:
    p = Path(path)
    _check_file(p)
    cap = cv2.VideoCapture(str(p), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        raise _not_a_video(p, container_facts(p), opened=False)
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return cap


def _fourcc(cap: cv2.VideoCapture) -> str:
    code = int(cap.get(cv2.CAP_PROP_FOURCC))
    text = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
    return text if text.isprintable() and text.strip() else "unknown"


_PROBE_CACHE: dict[tuple[str, int, float], ClipInfo] = {}
_PROBE_LOCK = threading.Lock()


def _cache_key(p: Path) -> tuple[str, int, float]:
    try:
        stat = p.stat()
    except OSError:
        return (str(p), -1, -1.0)
    return (str(p.resolve()), stat.st_size, stat.st_mtime)


def remember(info: ClipInfo) -> None:
    """Keep ``info`` as the probe result for its file (e.g. after an upload check)."""
    with _PROBE_LOCK:
        _PROBE_CACHE[_cache_key(Path(info.path))] = info


def remembered(path: str | os.PathLike) -> ClipInfo | None:
    """The probe result kept for ``path`` (None when it was never probed or has changed)."""
    with _PROBE_LOCK:
        return _PROBE_CACHE.get(_cache_key(Path(path)))


def forget(path: str | os.PathLike) -> None:
    """Drop every cached probe result for ``path`` (its file is going away)."""
    resolved = str(Path(path).resolve())
    with _PROBE_LOCK:
        for key in [k for k in _PROBE_CACHE if k[0] == resolved]:
            del _PROBE_CACHE[key]


def probe(path: str | os.PathLike, max_frames: int | None = None) -> ClipInfo:
    """Open a clip, decode it once to count its frames, and describe it.

    ``max_frames`` stops the count early (for a quick look at long clips); the
    reported ``frames`` is then at most that many. Raises ``InputError`` with
    one sentence when the file is not a usable video.
    """
    p = Path(path)
    key = _cache_key(p)
    with _PROBE_LOCK:
        cached = _PROBE_CACHE.get(key)
    if cached is not None and max_frames is None:
        return cached
    _check_file(p)
    size = p.stat().st_size
    facts = container_facts(p)
    if facts.image_kind or facts.audio_only or (facts.error and not facts.format and facts.error != NO_PYAV):
        raise _not_a_video(p, facts, opened=False)
    cap = _open(p)
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        reported = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        rotation = int(cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0) % 360
        codec = _fourcc(cap)
        ok, first = cap.read()
        if not ok or first is None or first.size == 0:
            raise _not_a_video(p, facts, opened=True)
        height, width = first.shape[:2]
        count = 1
        while max_frames is None or count < max_frames:
            if not cap.grab():
                break
            count += 1
    finally:
        cap.release()
    if max_frames is None and facts.needed_bytes > size and count < max(facts.indexed_frames, 2):
        raise _cut_short(p, facts, count)
    if not np.isfinite(fps) or fps <= 0 or fps > 1000:
        fps = 30.0  # containers without a rate: assume 30 fps
    variable, shortest, longest = frame_rate_regularity(facts.intervals_ms)
    info = ClipInfo(
        path=str(p),
        name=p.name,
        width=int(width),
        height=int(height),
        fps=fps,
        frames=count,
        reported_frames=reported,
        duration_s=count / fps,
        rotation=rotation,
        codec=codec,
        bytes=size,
        container=facts.format,
        variable_rate=variable,
        interval_ms_min=shortest,
        interval_ms_max=longest,
        sha256=file_sha256(p) if max_frames is None else "",
    )
    if max_frames is None:
        with _PROBE_LOCK:
            _PROBE_CACHE[key] = info
    return info


def clip_notices(info: ClipInfo) -> list[str]:
    """Sentences a reviewer should read about this clip (rotation, frame rate)."""
    notices = []
    if info.rotation:
        notices.append(
            f"{info.name} carries {info.rotation}° rotation metadata (a phone clip); "
            f"frames are turned upright before analysis, so it is "
            f"{info.width}x{info.height} as displayed."
        )
    if info.variable_rate:
        notices.append(
            f"{info.name} has a variable frame rate (frames {info.interval_ms_min:.0f}"
            f" to {info.interval_ms_max:.0f} ms apart); timestamps are derived from "
            f"the decoded frame order at the average {info.fps:.2f} fps, so times "
            f"in the results are approximate."
        )
    if info.edit_list_suspected:
        notices.append(
            f"{info.name}'s container lists {info.reported_frames} frames but "
            f"{info.frames} decode (an edit list trims it); the {info.frames} "
            f"decoded frames are the clip."
        )
    return notices


def scaled_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """Size after downscaling so the longer side is at most ``max_side``."""
    if not max_side or max(width, height) <= max_side:
        return width, height
    ratio = max_side / max(width, height)
    return max(1, round(width * ratio)), max(1, round(height * ratio))


def iter_frames(
    path: str | os.PathLike,
    *,
    max_frames: int | None = None,
    stride: int = 1,
    max_side: int | None = None,
    fps: float | None = None,
) -> Iterator[Frame]:
    """Decode frames one at a time (``stride`` keeps every n-th frame).

    ``max_side`` downscales so the longer side is at most that many pixels.
    Timestamps are derived from the decoded index and ``fps`` so they are
    strictly increasing, as MediaPipe's VIDEO mode needs. Only the frame
    being handed out is held: memory does not grow with the clip's length.
    """
    if stride < 1:
        raise InputError("frame stride must be 1 or more")
    cap = _open(path)
    try:
        rate = fps or float(cap.get(cv2.CAP_PROP_FPS) or 0.0) or 30.0
        index = -1
        yielded = 0
        last_ts = -1
        start = time.perf_counter()  # reset after each yield: skipped frames' decoding counts
        while max_frames is None or yielded < max_frames:
            index += 1
            if index % stride:
                if not cap.grab():
                    break
                continue
            ok, image = cap.read()
            if not ok or image is None:
                break
            h, w = image.shape[:2]
            size = scaled_size(w, h, max_side)
            if size != (w, h):
                image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            decode_ms = (time.perf_counter() - start) * 1000.0
            ts = max(int(round(index * 1000.0 / rate)), last_ts + 1)
            last_ts = ts
            yielded += 1
            yield Frame(index=index, timestamp_ms=ts, image=image, decode_ms=decode_ms)
            start = time.perf_counter()
    finally:
        cap.release()


class BackgroundFrames:
    """Decode in a background thread so decoding overlaps inference.

    A bounded queue (``depth`` frames) keeps memory bounded: at most
    ``depth + 2`` decoded frames exist at once. Use as an iterator; ``close``
    stops the thread early.
    """

    _END = object()

    def __init__(self, frames: Iterator[Frame], depth: int = 4):
        self._frames = frames
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="posebench-decode", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        try:
            for frame in self._frames:
                while not self._stop.is_set():
                    try:
                        self._queue.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    break
        except BaseException as exc:  # handed to the consumer, not lost
            self._error = exc
        finally:
            close = getattr(self._frames, "close", None)
            if close:
                close()
            while not self._stop.is_set():
                try:
                    self._queue.put(self._END, timeout=0.1)
                    break
                except queue.Full:
                    continue

    def __iter__(self) -> Iterator[Frame]:
        while True:
            wait = time.perf_counter()
            item = self._queue.get()
            if item is self._END:
                if self._error is not None:
                    raise self._error
                return
            # What the consumer waited for is what decoding cost it.
            item.decode_ms = (time.perf_counter() - wait) * 1000.0
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def read_frame(path: str | os.PathLike, index: int, max_side: int | None = None) -> np.ndarray:
    """Decode one frame by its decoded index (seeks by decoding, so it is exact)."""
    for frame in iter_frames(path, max_frames=index + 1, max_side=max_side):
        if frame.index == index:
            return frame.image
    raise InputError(f"frame {index} is past the end of the clip")
