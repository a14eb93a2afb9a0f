"""Uploaded clips: streamed to disk under a size limit, judged by content, cleaned up.

``accept_upload(name, stream)`` is the one call the dashboard makes::

    with accept_upload(uploaded.name, uploaded) as clip:   # InputError: one sentence
        run = run_benchmark(clip.path, configs, clip.apply(options))
        show(clip.notices)
    # the temporary file is gone here, and also when anything above failed

What it does, in order:

1. The name is only a label. It is sanitised (no folders, no control or
   direction characters) and the bytes are stored under a random name with a
   known video suffix in a private work folder, never under the given name.
2. The bytes are copied in 1 MiB chunks and the size limit is enforced while
   copying, so a large upload is never held in memory by this code.
3. The file is judged by its content, not its extension: a separate Python
   process opens it and decodes every frame (OpenCV's FFmpeg), under a time
   limit and a memory limit, so a file crafted to crash or hang the decoder
   costs that process, not the server. Its answer (frame count, size,
   rotation, frame-rate regularity) is remembered, so the run does not decode
   the clip a second time to count frames.
4. Rules: at least ``MIN_FRAMES`` frames; above ``max_pixels`` (env
   ``POSEBENCH_MAX_PIXELS``) a clip is refused; above ``DOWNSCALE_ABOVE``
   pixels on the longer side (4K and up) frames are downscaled to
   ``DOWNSCALE_TO`` with a notice. Rotation metadata and a variable frame
   rate are accepted with a notice. A clip with no person in it is accepted:
   the run reports a detection rate of 0 and says so.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

from posebench.core.env import positive_env
from posebench.core.errors import InputError, ServerBusy
from posebench.io import video
from posebench.io.files import CHUNK_BYTES, copy_capped, megabytes

DEFAULT_LIMIT_MB = 200  # env POSEBENCH_UPLOAD_MB
DEFAULT_MAX_PIXELS = 7680 * 4320  # 8K UHD; env POSEBENCH_MAX_PIXELS
MIN_FRAMES = 2
DOWNSCALE_ABOVE = 2560  # longer side, pixels: 4K and above is downscaled ...
DOWNSCALE_TO = 1920  # ... so its longer side is this many pixels
INSPECT_BASE_S = 30.0  # processor-time limit of the content check: base ...
INSPECT_PER_MB_S = 1.0  # ... plus this per MB; env POSEBENCH_INSPECT_TIMEOUT (CPU seconds)
INSPECT_WALL_FACTOR = 10  # wall-clock backstop: this many times the CPU limit ...
INSPECT_WALL_MIN_S = 600.0  # ... and at least this long; env POSEBENCH_INSPECT_WALL
INSPECT_POLL_S = 0.1  # how often the checker's processor time is read
INSPECT_MEMORY_BYTES = 6 * 1024**3  # address-space limit of the checking process
LABEL_MAX = 100
STALE_AFTER_S = 24 * 3600  # leftovers of a killed server are swept after this
SAFE_SUFFIXES = video.VIDEO_SUFFIXES
LABEL_KEEP = " ._-()"  # besides letters and digits


def upload_limit_bytes() -> int:
    return int(positive_env("POSEBENCH_UPLOAD_MB", DEFAULT_LIMIT_MB, float) * 1024**2)


def max_pixels() -> int:
    return int(positive_env("POSEBENCH_MAX_PIXELS", DEFAULT_MAX_PIXELS, float))


def default_workdir() -> Path:
    """Private folder for uploads (``POSEBENCH_UPLOADS`` overrides)."""
    override = os.environ.get("POSEBENCH_UPLOADS")
    return Path(override) if override else Path(tempfile.gettempdir()) / "posebench-uploads"


# -- names ---------------------------------------------------------------------------
def safe_label(name: str | None) -> str:
    """The uploaded name made harmless to show: no folders, no control characters."""
    text = unicodedata.normalize("NFKC", str(name or ""))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]  # browsers may send a path
    text = "".join(ch if ch.isalnum() or ch in LABEL_KEEP else "_" for ch in text)
    text = text.strip(" .")  # no hidden names, no '..'
    if len(text) > LABEL_MAX:
        stem, dot, suffix = text.rpartition(".")
        text = (
            (stem[: LABEL_MAX - len(suffix) - 1] + dot + suffix)
            if dot and len(suffix) <= 5
            else text[:LABEL_MAX]
        )
    return text or "upload"


def safe_suffix(label: str) -> str:
    suffix = Path(label).suffix.lower()
    return suffix if suffix in SAFE_SUFFIXES else ".bin"


# -- the accepted clip -----------------------------------------------------------------
_LIVE: set[Path] = set()
_DIGESTS: dict[Path, str] = {}  # SHA-256 of each stored upload, taken while copying
_LIVE_LOCK = threading.Lock()


@dataclass
class AcceptedClip:
    path: Path  # where the bytes are (random name); pass this to the runner
    label: str  # the sanitised original name, for display only
    info: video.ClipInfo  # what the check found (info.name is the label)
    notices: list[str] = field(default_factory=list)  # sentences to show the user
    max_side: int | None = None  # downscale the run to this longer side (None: keep)

    def apply(self, options):
        """``RunOptions`` with this clip's downscale applied (the smaller limit wins)."""
        if self.max_side is None:
            return options
        current = getattr(options, "max_side", None)
        return replace(options, max_side=min(current, self.max_side) if current else self.max_side)

    def cleanup(self) -> None:
        """Delete the stored file; safe to call more than once."""
        _remove(self.path)

    def __enter__(self) -> AcceptedClip:
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()


def _remove(path: Path) -> None:
    video.forget(path)
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    with _LIVE_LOCK:
        _LIVE.discard(path)
        _DIGESTS.pop(path, None)


@atexit.register
def _remove_all() -> None:
    with _LIVE_LOCK:
        paths = list(_LIVE)
    for path in paths:
        _remove(path)


# -- storing -----------------------------------------------------------------------------
def _too_big(label: str, size: int, limit_bytes: int) -> str:
    if megabytes(size) == megabytes(limit_bytes):
        return f"{label} is slightly larger than the upload limit of {megabytes(limit_bytes)}."
    return f"{label} is {megabytes(size)}, above the upload limit of {megabytes(limit_bytes)}."


def store(label: str, stream: BinaryIO, limit_bytes: int, workdir: Path) -> Path:
    """Copy ``stream`` to a new random file in ``workdir``, refusing more than ``limit_bytes``."""
    declared = getattr(stream, "size", None)
    if isinstance(declared, int) and declared > limit_bytes:
        raise InputError(_too_big(label, declared, limit_bytes))
    workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if shutil.disk_usage(workdir).free < min(limit_bytes, declared or limit_bytes) + 2 * CHUNK_BYTES:
        raise InputError(
            f"there is not enough free disk space to take {label}; try again later or ask the administrator"
        )
    if hasattr(stream, "seek"):
        try:
            stream.seek(0)
        except (OSError, ValueError):
            pass
    path = workdir / f"upload-{uuid.uuid4().hex}{safe_suffix(label)}"
    with _LIVE_LOCK:
        _LIVE.add(path)
    digest = hashlib.sha256()
    too_large = f"{label} is larger than the upload limit of {megabytes(limit_bytes)}."
    try:
        written = copy_capped(stream, path, limit_bytes, too_large, digest.update)
    except BaseException:
        _remove(path)
        raise
    if written == 0:
        _remove(path)
        raise InputError(f"{label} is empty (0 bytes)")
    _DIGESTS[path] = digest.hexdigest()
    return path


# -- checking the content in a separate process -----------------------------------------------
def inspect_timeout(path: Path) -> float:
    """Processor seconds the content check may use (all its threads together)."""
    default = INSPECT_BASE_S + INSPECT_PER_MB_S * path.stat().st_size / 1024**2
    return positive_env("POSEBENCH_INSPECT_TIMEOUT", default, float)


def inspect_wall_limit(cpu_limit_s: float) -> float:
    """Wall-clock seconds after which a check that used little processor time is given up."""
    default = max(INSPECT_WALL_MIN_S, INSPECT_WALL_FACTOR * cpu_limit_s)
    return positive_env("POSEBENCH_INSPECT_WALL", default, float)


def inspect(
    path: Path, label: str | None = None, timeout_s: float | None = None, isolate: bool = True
) -> video.ClipInfo:
    """Probe ``path`` (decoding every frame) in a separate process; raise ``InputError``.

    ``isolate=False`` probes in this process (for trusted files and tests).
    """
    label = label or path.name
    limit_s = 0.0  # processor seconds the check may use (isolated checks only)
    if not isolate:
        outcome = _inspect_here(str(path))
    else:
        limit_s = inspect_timeout(path) if timeout_s is None else timeout_s
        outcome = run_inspector(path, limit_s)
    if outcome["kind"] == "ok":
        return video.ClipInfo(**outcome["info"])
    if outcome["kind"] == "input_error":
        raise InputError(outcome["error"].replace(path.name, label))
    if outcome["kind"] == "timeout":
        limit = f"{round(limit_s, 1):g}" if limit_s >= 0.1 else f"{limit_s:g}"
        raise InputError(
            f"{label} took longer than {limit} s of processor time to read and was refused "
            "(a damaged or unusually long clip; POSEBENCH_INSPECT_TIMEOUT)"
        )
    if outcome["kind"] == "busy":
        raise ServerBusy(
            f"The server was too busy to finish checking {label} within "
            f"{outcome['wall_s'] / 60:.0f} minutes (it had {outcome['cpu_s']:.0f} s of processor "
            "time); nothing is known to be wrong with the file. Try again when fewer people are "
            "running things."
        )
    raise InputError(f"{label} made the video decoder fail and was refused (a damaged file)")


def run_inspector(path: Path, timeout_s: float, wall_s: float | None = None) -> dict:
    """Run the probe in a child process. ``kind``: ok | input_error | crash | timeout | busy.

    ``timeout_s`` limits the child's **processor time** (read every 0.1 s with psutil, and
    ``RLIMIT_CPU`` a little above it as a second line), so a check that waits for the CPU
    on a busy server is not refused for it. ``wall_s`` is a backstop for a child that hangs
    without using the processor; running past it with the processor time unspent is "busy".
    """
    import psutil

    wall_s = inspect_wall_limit(timeout_s) if wall_s is None else wall_s
    env = dict(os.environ)
    env["POSEBENCH_INSPECT_CPU"] = str(int(timeout_s) + 5)
    env["POSEBENCH_INSPECT_PARENT"] = str(os.getpid())
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    child = subprocess.Popen(
        [sys.executable, "-m", "posebench.io.uploads", "inspect", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    started = time.monotonic()
    cpu_s = 0.0
    try:
        watched = psutil.Process(child.pid)
    except psutil.Error:
        watched = None
    outcome = None
    while True:
        try:
            stdout, stderr = child.communicate(timeout=INSPECT_POLL_S)
            break
        except subprocess.TimeoutExpired:
            pass
        try:
            if watched is not None:
                t = watched.cpu_times()
                cpu_s = t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            pass
        if cpu_s > timeout_s:
            outcome = {"kind": "timeout", "returncode": None, "cpu_s": cpu_s}
        elif time.monotonic() - started > wall_s:
            outcome = {"kind": "busy", "returncode": None, "cpu_s": cpu_s, "wall_s": wall_s}
        if outcome is not None:
            child.kill()
            child.communicate()
            return outcome
    lines = stdout.strip().splitlines()
    if child.returncode == 0 and lines:
        try:
            answer = json.loads(lines[-1])
            answer["returncode"] = 0
            return answer
        except ValueError:
            pass
    if child.returncode in (-signal.SIGXCPU, -signal.SIGKILL) and cpu_s > 0.8 * timeout_s:
        return {"kind": "timeout", "returncode": child.returncode, "cpu_s": cpu_s}
    return {"kind": "crash", "returncode": child.returncode, "stderr": stderr[-2000:]}


def _inspect_here(path: str) -> dict:
    """The child's side: probe, and say what happened as JSON-ready data."""
    try:
        info = video.probe(path)
        return {"kind": "ok", "info": info.as_dict()}
    except InputError as exc:
        return {"kind": "input_error", "error": str(exc)}
    except Exception as exc:  # anything else is a clean refusal, not a crash
        return {"kind": "input_error", "error": f"{Path(path).name} could not be read ({type(exc).__name__})"}


def _bound_this_process(memory_bytes: int, cpu_s: int) -> None:
    """The checking process: capped memory and CPU time, and it dies with its parent."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s))
    except (ImportError, ValueError, OSError):  # not on this platform: the time limit still holds
        pass
    try:
        import ctypes
        import signal

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        parent = os.environ.get("POSEBENCH_INSPECT_PARENT")
        if parent and os.getppid() != int(parent):  # the parent died before the line above
            os._exit(1)
    except (OSError, AttributeError):  # not Linux: it ends by its own limits
        pass


# -- the rules -------------------------------------------------------------------------------
def judge(info: video.ClipInfo, label: str, pixel_limit: int | None = None) -> tuple[int | None, list[str]]:
    """Refuse what cannot be benchmarked; return (downscale side, notices)."""
    pixel_limit = max_pixels() if pixel_limit is None else pixel_limit
    if info.frames < MIN_FRAMES:
        raise InputError(
            f"{label} has only {info.frames} frame{'s' if info.frames != 1 else ''}; "
            f"a benchmark needs at least {MIN_FRAMES}"
        )
    pixels = info.width * info.height
    if pixels > pixel_limit:
        size, limit = f"{pixels / 1e6:.1f} megapixels", f"{pixel_limit / 1e6:.1f} megapixels"
        if size == limit:  # never "33.2 MP, above the limit of 33.2 MP"
            size, limit = f"{pixels:,} pixels", f"{pixel_limit:,} pixels"
        raise InputError(
            f"{label} is {info.width}x{info.height} ({size}), "
            f"above this server's limit of {limit} (POSEBENCH_MAX_PIXELS)"
        )
    notices = video.clip_notices(info)
    max_side = None
    if max(info.width, info.height) > DOWNSCALE_ABOVE:
        max_side = DOWNSCALE_TO
        w, h = video.scaled_size(info.width, info.height, max_side)
        notices.append(
            f"{label} is {info.width}x{info.height}; frames are downscaled to {w}x{h} "
            f"for the models (keypoints are still given in the original pixels)."
        )
    return max_side, notices


def _relabel(info: video.ClipInfo, path: Path, label: str) -> video.ClipInfo:
    sha = _DIGESTS.get(path) or info.sha256 or video.file_sha256(path)
    return replace(info, path=str(path), name=label, sha256=sha)


def accept_upload(
    name: str | None,
    stream: BinaryIO,
    limit_bytes: int | None = None,
    workdir: Path | None = None,
    *,
    pixel_limit: int | None = None,
    timeout_s: float | None = None,
    isolate: bool = True,
    gate=None,
) -> AcceptedClip:
    """Store, check and describe an uploaded clip; ``InputError`` (one sentence) if refused.

    The file is removed again when it is refused, and by ``cleanup()`` or the
    ``with`` block when the caller is done with it. ``gate``, when given, is called for a
    context manager held around the content check (the server's queue, ``engine.queue``).
    """
    label = safe_label(name)
    limit = upload_limit_bytes() if limit_bytes is None else int(limit_bytes)
    path = store(label, stream, limit, Path(workdir) if workdir else default_workdir())
    try:
        with gate() if gate is not None else contextlib.nullcontext():
            checked = inspect(path, label, timeout_s, isolate)
        info = _relabel(checked, path, label)
        max_side, notices = judge(info, label, pixel_limit)
    except BaseException:
        _remove(path)
        raise
    video.remember(info)  # the run finds the count here instead of decoding again
    return AcceptedClip(path=path, label=label, info=info, notices=notices, max_side=max_side)


def sweep(workdir: Path | None = None, older_than_s: float = STALE_AFTER_S) -> int:
    """Delete uploads left behind by a server that was killed; returns how many."""
    workdir = Path(workdir) if workdir else default_workdir()
    if not workdir.is_dir():
        return 0
    removed = 0
    cutoff = time.time() - older_than_s
    for path in workdir.glob("upload-*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


def _main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "inspect":
        print("usage: python -m posebench.io.uploads inspect PATH", file=sys.stderr)
        return 2
    print(json.dumps(_inspect_here(argv[1])), flush=True)
    return 0


if __name__ == "__main__":
    _bound_this_process(
        int(positive_env("POSEBENCH_INSPECT_MEMORY", INSPECT_MEMORY_BYTES, float)),
        int(positive_env("POSEBENCH_INSPECT_CPU", 3600, float)),
    )
    sys.exit(_main(sys.argv[1:]))
