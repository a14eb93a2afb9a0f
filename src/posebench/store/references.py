"""References for clips, keyed by the clip's SHA-256: saved, listed, edited, exported, imported.

A reference says what a clip's jump really was, from something better than a
pose model: a known flight time (contact mat, force plate, validated app)
and/or the take-off and landing frames marked by eye (take-off = first frame
with both feet off the ground; landing = first frame with ground contact after
the flight; 0-based decoded frames). One reference per clip, whatever its file
name: the key is the SHA-256 of the clip's bytes.

The store is one CSV per results folder (``<root>/references.csv``) with the
columns of ``CSV_COLUMNS``; the same columns are the export/import format and
the study manifest format (``clip`` there is a path relative to the manifest).
"""

from __future__ import annotations

import io
import math
import threading
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import pandas as pd

from posebench.core.errors import InputError
from posebench.io import untrusted_files
from posebench.io.files import neutralise, unneutralise, write_atomic
from posebench.store import run_store

CSV_COLUMNS = ("clip", "sha256", "kind", "flight_time_s", "takeoff_frame", "landing_frame", "source", "note")
KINDS = ("cmj", "dj")  # countermovement jump, drop jump
STORE_NAME = "references.csv"
MAX_FLIGHT_S = 2.0  # no human jump flies longer
MAX_FRAME = 1_000_000  # 9 hours at 30 frames/s: a frame number beyond is no jump's
MAX_FLIGHT_FRAMES = int(MAX_FLIGHT_S * 1000)  # 2 s at 1000 frames/s (the fastest phone slow motion)
_LOCK = threading.Lock()

# Column -> (unit, meaning): the page's captions and docs read this.
REFERENCE_COLUMNS: dict[str, tuple[str, str]] = {
    "clip": ("", "The clip's file name (in a manifest: its path relative to the manifest)."),
    "sha256": ("", "SHA-256 of the clip's bytes: the reference belongs to these bytes."),
    "kind": ("", "Jump kind: cmj (countermovement jump) or dj (drop jump)."),
    "flight_time_s": ("s", "Known flight time from a contact mat, force plate or validated app."),
    "takeoff_frame": ("frame", "First frame with both feet off the ground (0-based decoded frame)."),
    "landing_frame": ("frame", "First frame with ground contact after the flight (0-based)."),
    "source": ("", "Where the reference comes from: contact mat, force plate, by eye, ..."),
    "note": ("", "Anything else worth knowing."),
}


@dataclass
class ClipReference:
    clip: str = ""
    sha256: str = ""
    kind: str = "cmj"
    flight_time_s: float = math.nan
    takeoff_frame: float = math.nan
    landing_frame: float = math.nan
    source: str = ""
    note: str = ""

    def check(self, frames: int | None = None) -> ClipReference:
        """Refuse a reference that makes no sense, in one sentence. ``frames``: the clip's
        decoded frame count when known (the frames must lie within the clip)."""
        name = self.clip or "the clip"
        sha = str(self.sha256 or "").strip().lower()
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise InputError(f"the reference for {name} needs the clip's SHA-256 (64 hex digits)")
        self.sha256 = sha
        self.kind = str(self.kind or "cmj").strip().lower()
        if self.kind not in KINDS:
            raise InputError(f"the jump kind for {name} must be cmj or dj, not '{self.kind}'")
        ft = self.flight_time_s
        if not math.isnan(ft) and not 0 < ft <= MAX_FLIGHT_S:
            raise InputError(
                f"the flight time for {name} must be between 0 and {MAX_FLIGHT_S:g} s (got {ft:g})"
            )
        for label, value in (("take-off", self.takeoff_frame), ("landing", self.landing_frame)):
            if math.isinf(value) or (not math.isnan(value) and (value < 0 or value != int(value))):
                raise InputError(f"the {label} frame for {name} must be a whole frame number from 0")
            if not math.isnan(value) and value > MAX_FRAME:
                raise InputError(
                    f"the {label} frame for {name} is {value:g}, beyond frame {MAX_FRAME:,} (9 hours at "
                    "30 frames/s): it cannot be a jump's"
                )
            if frames and not math.isnan(value) and value >= frames:
                raise InputError(
                    f"the {label} frame for {name} is {value:g}, but the clip has {frames} frames "
                    f"(0 to {frames - 1})"
                )
        if self.has_frames and self.landing_frame <= self.takeoff_frame:
            raise InputError(f"the landing frame for {name} must come after the take-off frame")
        if self.has_frames and self.landing_frame - self.takeoff_frame > MAX_FLIGHT_FRAMES:
            raise InputError(
                f"the flight of {name} from frame {self.takeoff_frame:g} to {self.landing_frame:g} is longer "
                f"than {MAX_FLIGHT_S:g} s even at 1000 frames/s: check the frames"
            )
        if math.isnan(ft) and (math.isnan(self.takeoff_frame) or math.isnan(self.landing_frame)):
            raise InputError(
                f"the reference for {name} needs a flight time or both the take-off and landing frames"
            )
        self.source, self.note = str(self.source or ""), str(self.note or "")
        return self

    @property
    def has_frames(self) -> bool:
        return not (math.isnan(self.takeoff_frame) or math.isnan(self.landing_frame))

    def flight_time(self, fps: float | None) -> float:
        """Seconds: the known flight time, else (landing - take-off) / fps."""
        if not math.isnan(self.flight_time_s):
            return self.flight_time_s
        if self.has_frames and fps and fps > 0:
            return (self.landing_frame - self.takeoff_frame) / fps
        return math.nan

    def as_row(self) -> dict:
        return asdict(self)


def _number(value) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"'{value}' is not a number") from None


def from_mapping(row) -> ClipReference:
    """A reference from a CSV row or a dict (unknown keys ignored, numbers parsed)."""
    get = row.get
    text = lambda k: "" if pd.isna(get(k, "")) else str(get(k, "")).strip()  # noqa: E731
    return ClipReference(
        clip=text("clip"),
        sha256=text("sha256").lower(),
        kind=text("kind") or "cmj",
        flight_time_s=_number(get("flight_time_s")),
        takeoff_frame=_number(get("takeoff_frame")),
        landing_frame=_number(get("landing_frame")),
        source=text("source"),
        note=text("note"),
    )


# A references file or a study manifest: checked on its bytes before pandas builds a table.
CSV_LIMITS = untrusted_files.TableLimits(
    max_bytes=4 * 1024**2, header_bytes=16 * 1024, columns=64, rows=5_000
)
# The server's own store (written by PoseBench, one row per clip) may grow larger.
STORE_LIMITS = untrusted_files.TableLimits(
    max_bytes=256 * 1024**2, header_bytes=16 * 1024, columns=64, rows=1_000_000
)


def read_csv(
    data: bytes | str | Path, shown: str | None = None, limits: untrusted_files.TableLimits = CSV_LIMITS
) -> pd.DataFrame:
    """A references/manifest CSV (a ``Path``, or its text or bytes) as a table of text.

    Its size (4 MB), header line (16 KB), columns (64) and rows (5 000) are checked on the
    bytes before any table is built (``CSV_LIMITS``). Parsing the numbers is
    ``from_mapping``'s job.
    """
    what = "the file"
    try:
        if isinstance(data, Path):
            shown = shown or data.name
            raw = untrusted_files.read_small_file(data, shown, what, limits)
        else:
            raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
            untrusted_files.check_small_csv(raw, shown or "the references file", what, limits)
        table = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"the references file is not a readable CSV ({exc})") from None
    table.columns = [str(c).strip().lower() for c in table.columns]
    if "clip" not in table.columns and "sha256" not in table.columns:
        raise InputError(
            "the references file needs a 'clip' or 'sha256' column (columns: " + ", ".join(CSV_COLUMNS) + ")"
        )
    return unneutralise(table)


def store_path(root: Path | None = None) -> Path:
    return Path(root or run_store.default_root()) / STORE_NAME


USERS = "users"  # <results>/users/<name>/: a signed-in user's references and studies


def root_of(owner: str | None, root: Path | None = None) -> Path:
    """The folder whose ``references.csv`` (and ``studies/``) belong to ``owner``.

    On a shared server every user has their own (``<results>/users/<name>``): Bob neither
    sees nor changes Alice's references. Single-user mode (``owners.LOCAL``) and things
    without an owner (the command line) use the results folder itself.
    """
    from posebench.store import owners

    base = Path(root or run_store.default_root())
    if not owner or owner == owners.LOCAL:
        return base
    return base / USERS / owners.check_user_name(owner)


def load(root: Path | None = None) -> dict[str, ClipReference]:
    """Every saved reference, by SHA-256."""
    path = store_path(root)
    if not path.exists():
        return {}
    out = {}
    for _, row in read_csv(Path(path), limits=STORE_LIMITS).iterrows():
        try:
            ref = from_mapping(row).check()
        except InputError:
            continue  # a damaged line is left out, not a broken store
        out[ref.sha256] = ref
    return out


def table(refs: dict[str, ClipReference] | list[ClipReference]) -> pd.DataFrame:
    items = list(refs.values()) if isinstance(refs, dict) else list(refs)
    return pd.DataFrame([r.as_row() for r in items], columns=list(CSV_COLUMNS))


def list_references(root: Path | None = None) -> pd.DataFrame:
    """The saved references as a table (the export's columns), sorted by clip name."""
    return table(load(root)).sort_values(["clip", "sha256"], ignore_index=True)


def _write(refs: dict[str, ClipReference], root: Path | None) -> Path:
    path = store_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, neutralise(table(refs)).to_csv(index=False).encode("utf-8"))
    return path


def get(sha256: str, root: Path | None = None) -> ClipReference | None:
    return load(root).get(str(sha256).lower())


def save(reference: ClipReference, root: Path | None = None, frames: int | None = None) -> ClipReference:
    """Add or replace (edit) the reference of one clip (``frames``: the clip's frame count, when known)."""
    reference.check(frames)
    with _LOCK:
        refs = load(root)
        refs[reference.sha256] = reference
        _write(refs, root)
    return reference


def delete(sha256: str, root: Path | None = None) -> None:
    with _LOCK:
        refs = load(root)
        if refs.pop(str(sha256).lower(), None) is None:
            raise InputError("there is no saved reference for that clip")
        _write(refs, root)


def export_csv(root: Path | None = None) -> bytes:
    """The saved references as CSV bytes (formula-neutralised), columns ``CSV_COLUMNS``."""
    return neutralise(list_references(root)).to_csv(index=False).encode("utf-8")


def parse_rows(data: bytes | str | Path, shown: str | None = None) -> list[ClipReference]:
    """Every row of a references CSV, checked; the first bad row stops it with its line number."""
    out = []
    for i, (_, row) in enumerate(read_csv(data, shown).iterrows(), start=2):
        try:
            out.append(from_mapping(row).check())
        except InputError as exc:
            raise InputError(f"line {i}: {exc}") from None
    return out


def import_csv(
    data: bytes | str | Path, root: Path | None = None, shown: str | None = None
) -> list[ClipReference]:
    """Save every reference in a CSV (rows need ``sha256``); all or nothing. ``shown`` names
    the file in sentences."""
    return save_rows(parse_rows(data, shown), root)


def save_rows(rows: list[ClipReference], root: Path | None = None) -> list[ClipReference]:
    """Save references parsed by ``parse_rows`` (e.g. in a worker process), all together."""
    rows = [ref.check() for ref in rows]
    with _LOCK:
        refs = load(root)
        for ref in rows:
            refs[ref.sha256] = ref
        _write(refs, root)
    return rows


FIELDS = tuple(f.name for f in fields(ClipReference))

__all__ = [
    "CSV_COLUMNS",
    "ClipReference",
    "REFERENCE_COLUMNS",
    "delete",
    "export_csv",
    "from_mapping",
    "get",
    "import_csv",
    "list_references",
    "load",
    "parse_rows",
    "read_csv",
    "save",
    "save_rows",
]
