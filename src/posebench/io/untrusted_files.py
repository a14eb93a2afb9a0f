"""Reading files someone else made, without trusting them: zips, npz, JSON and CSV under limits.

Every reader here checks before it loads: a zip member is unpacked in 1 MiB pieces and
its real size is counted (the size the zip declares may lie); an ``.npz`` is judged by
the ``.npy`` headers of its members (shape, dtype) without reading their data; a JSON
file by its size and its nesting depth before it is parsed; a CSV file by its header
line (length, column count, names) and its row count before pandas reads it.

Each refusal is an ``InputError`` of one sentence that names the uploaded file (``shown``),
never a temporary path. The schema (which names, shapes and columns are allowed) is the
caller's: ``posebench.access.import_runs`` holds the one for saved runs.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import re
import shutil
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
from numpy.lib import format as npy_format

from posebench.core.errors import InputError
from posebench.io.files import CHUNK_BYTES, copy_capped, megabytes

# What reading a broken or hostile zip can raise besides BadZipFile.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,  # encrypted members
    KeyError,
    OverflowError,
)


@dataclass(frozen=True)
class Limits:
    """Bounds for one imported run (bytes are decompressed sizes)."""

    archive_bytes: int = 64 * 1024**2  # the uploaded zip itself
    total_bytes: int = 512 * 1024**2  # all members unpacked, the npz's own members included
    member_bytes: dict | None = None  # name -> largest size of that member
    json_depth: int = 32  # nesting of objects and lists in run.json
    header_bytes: int = 64 * 1024  # first line of a CSV
    csv_columns: int = 300
    csv_rows: int = 2_000_000
    npz_members: int = 64
    npz_elements: int = 16_000_000  # elements of all arrays together (128 MB of float64)

    def member_limit(self, name: str) -> int:
        return int((self.member_bytes or {}).get(name, self.total_bytes))


# -- zips ---------------------------------------------------------------------------------
def base_name(name: str) -> str:
    """The last part of a member or upload name (folders and drive letters dropped)."""
    return PurePosixPath(str(name).replace("\\", "/")).name


def copy_limited(source, target: Path, limit: int, shown: str, what: str) -> int:
    """Copy a readable stream to ``target`` 1 MiB at a time; refuse more than ``limit`` bytes."""
    return copy_capped(
        source, target, limit, f"{shown} is refused: {what} unpacks to more than {megabytes(limit)}."
    )


def unpack_zip(
    archive: Path, shown: str, wanted: Iterable[str], folder: Path, limits: Limits
) -> dict[str, Path]:
    """Unpack the members of ``archive`` whose base name is in ``wanted`` into ``folder``.

    Sizes are counted as the bytes come out, not read from the zip's directory, and
    the total is bounded; a member name that repeats (two runs in one zip) is refused.
    """
    wanted = set(wanted)
    found: dict[str, Path] = {}
    total = 0
    try:
        if archive.stat().st_size > limits.archive_bytes:
            raise InputError(f"{shown} is larger than the import limit of {megabytes(limits.archive_bytes)}.")
        declared = zip_entries(archive)  # before Python builds an object per entry
        if declared is not None and declared > MAX_ENTRIES:
            raise InputError(f"{shown} holds {declared:,} files; a run has at most {len(wanted)}.")
        with zipfile.ZipFile(archive) as zipped:
            infos = zipped.infolist()
            if len(infos) > MAX_ENTRIES:
                raise InputError(f"{shown} holds {len(infos)} files; a run has at most {len(wanted)}.")
            for info in infos:
                name = base_name(info.filename)
                if info.is_dir() or name not in wanted:
                    continue
                if name in found:
                    raise InputError(f"{shown} holds more than one run; zip one run folder at a time.")
                limit = min(limits.member_limit(name), limits.total_bytes - total)
                target = folder / name
                with zipped.open(info) as member:
                    total += copy_limited(member, target, limit, shown, name)
                found[name] = target
    except InputError:
        raise
    except OSError as exc:
        if exc.errno in WRITE_ERRNOS:  # the server's disk, not the zip: said by the caller
            raise
        raise InputError(f"{shown} is not a readable zip file ({_reason(exc)}).") from None
    except ZIP_ERRORS as exc:
        raise InputError(f"{shown} is not a readable zip file ({_reason(exc)}).") from None
    return found


# Write failures of this server (full disk, quota, file-size limit, read-only): not the zip's fault.
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM})
MAX_ENTRIES = 10_000


def zip_entries(archive: Path) -> int | None:
    """How many entries the zip's end record declares, read from its last 64 KB (no
    directory is parsed), or None when there is no end record to read."""
    size = archive.stat().st_size
    with open(archive, "rb") as fh:
        fh.seek(max(0, size - 65_557))
        tail = fh.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) < at + 22:
            return None
        (count,) = struct.unpack("<H", tail[at + 10 : at + 12])
        locator = tail.rfind(b"PK\x06\x07", 0, at)
        if count == 0xFFFF and locator >= 0 and len(tail) >= locator + 20:  # zip64
            (offset,) = struct.unpack("<Q", tail[locator + 8 : locator + 16])
            if 0 <= offset < size:
                fh.seek(offset)
                record = fh.read(56)
                if record[:4] == b"PK\x06\x06" and len(record) == 56:
                    (count,) = struct.unpack("<Q", record[32:40])
        return count


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().rstrip(".") or type(exc).__name__
    text = re.sub(r"(/[^\s'\"]+)+", "…", text)  # never show a server path
    return text[:120]


# -- npz ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ArrayHeader:
    name: str  # member name without .npy
    shape: tuple[int, ...]
    dtype: np.dtype


def npz_headers(path: Path, shown: str, limits: Limits, budget: int) -> list[ArrayHeader]:
    """The shape and dtype of every array in an ``.npz``, read from the ``.npy`` headers only.

    ``budget`` is what is left of the import's decompressed-size limit: the arrays'
    declared sizes and their real decompressed sizes (counted, not trusted) must fit.
    """
    headers = []
    try:
        with zipfile.ZipFile(path) as zipped:
            infos = zipped.infolist()
            if len(infos) > limits.npz_members:
                raise InputError(
                    f"{shown} is refused: native.npz holds {len(infos)} arrays, "
                    f"more than {limits.npz_members}."
                )
            elements = 0
            for info in infos:
                if not info.filename.endswith(".npy") or "/" in info.filename:
                    raise InputError(f"{shown} is refused: native.npz holds a file that is not an array.")
                with zipped.open(info) as member:
                    version = npy_format.read_magic(member)
                    if version == (1, 0):
                        shape, _fortran, dtype = npy_format.read_array_header_1_0(member)
                    elif version in ((2, 0), (3, 0)):
                        shape, _fortran, dtype = npy_format.read_array_header_2_0(member)
                    else:
                        raise ValueError(f"npy version {version}")
                    if dtype.hasobject:
                        raise InputError(f"{shown} is refused: native.npz holds Python objects, not numbers.")
                    count = int(np.prod(shape, dtype=np.float64)) if shape else 1
                    elements += count
                    if elements > limits.npz_elements or count * dtype.itemsize > budget:
                        raise InputError(
                            f"{shown} is refused: the arrays in native.npz would take more than "
                            f"{megabytes(min(budget, limits.npz_elements * 8))} in memory."
                        )
                    # The real size, counted as it decompresses: an array holding more data than
                    # its header says (a bomb, or a lying size field) is caught here.
                    declared = count * dtype.itemsize
                    real = 0
                    while chunk := member.read(CHUNK_BYTES):
                        real += len(chunk)
                        if real > declared:
                            raise InputError(
                                f"{shown} is refused: an array in native.npz holds more data than its "
                                "header says."
                            )
                    budget -= member.tell()  # header and data, as decompressed
                    if budget < 0:
                        raise InputError(
                            f"{shown} is refused: native.npz unpacks to more than the import limit."
                        )
                headers.append(ArrayHeader(info.filename[:-4], tuple(shape), dtype))
    except InputError:
        raise
    except (*ZIP_ERRORS, SyntaxError) as exc:
        raise InputError(f"{shown} has a damaged native.npz ({_reason(exc)}).") from None
    return headers


# -- JSON ---------------------------------------------------------------------------------
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def json_depth(text: str) -> int:
    """How deeply objects and lists nest in ``text`` (strings are skipped)."""
    bare = _STRING.sub("", text).encode("utf-8", "replace")
    if not bare:
        return 0
    codes = np.frombuffer(bare, dtype=np.uint8)
    steps = np.zeros(len(codes), dtype=np.int32)
    steps[(codes == ord("{")) | (codes == ord("["))] = 1
    steps[(codes == ord("}")) | (codes == ord("]"))] = -1
    return int(np.cumsum(steps).max(initial=0))


def read_json(path: Path, shown: str, what: str, max_bytes: int, max_depth: int):
    """Parse a JSON file after checking its size and nesting depth."""
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError(
            f"{shown} is refused: {what} is {megabytes(size)}, above the limit of {megabytes(max_bytes)}."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        raise InputError(f"{shown} is refused: {what} is not UTF-8 text.") from None
    depth = json_depth(text)
    if depth > max_depth:
        raise InputError(f"{shown} is refused: {what} nests {depth} levels deep, more than {max_depth}.")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{shown} is refused: {what} is not valid JSON ({_reason(exc)}).") from None


# -- CSV ----------------------------------------------------------------------------------
def csv_header(path: Path, shown: str, what: str, limits: Limits) -> list[str]:
    """The column names of a CSV file, read from a bounded first line."""
    with open(path, "rb") as fh:
        first = fh.readline(limits.header_bytes + 1)
    if len(first) > limits.header_bytes:
        raise InputError(
            f"{shown} is refused: the header line of {what} is longer than {limits.header_bytes // 1024} KB."
        )
    try:
        line = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{shown} is refused: {what} is not UTF-8 text.") from None
    if line.count(",") + 1 > limits.csv_columns:
        raise InputError(
            f"{shown} is refused: {what} has {line.count(',') + 1} columns, more than {limits.csv_columns}."
        )
    try:
        return next(csv.reader([line.rstrip("\r\n")]), [])
    except csv.Error as exc:
        raise InputError(f"{shown} is refused: the header of {what} cannot be read ({exc}).") from None


@dataclass(frozen=True)
class TableLimits:
    """Bounds for a small CSV a person hands in (a study manifest, a references file)."""

    max_bytes: int = 4 * 1024**2
    header_bytes: int = 16 * 1024
    columns: int = 64
    rows: int = 5_000


def check_small_csv(raw: bytes, shown: str, what: str, limits: TableLimits) -> bytes:
    """``raw`` when it is within ``limits``: size, header line, column and row counts are
    checked on the bytes, before any table is built (a million-column header costs nothing)."""
    if len(raw) > limits.max_bytes:
        raise InputError(
            f"{shown} is refused: {what} is {megabytes(len(raw))}, above the limit of "
            f"{megabytes(limits.max_bytes)}."
        )
    end = raw.find(b"\n", 0, limits.header_bytes + 1)
    if end < 0 and len(raw) > limits.header_bytes:
        raise InputError(
            f"{shown} is refused: the header line of {what} is longer than {limits.header_bytes // 1024} KB."
        )
    first = raw[: end if end >= 0 else len(raw)]
    columns = first.count(b",") + 1
    if columns > limits.columns:
        raise InputError(f"{shown} is refused: {what} has {columns:,} columns, more than {limits.columns}.")
    lines = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)  # a bound: quoted breaks count too
    rows = lines - 1
    if rows > limits.rows:
        raise InputError(f"{shown} is refused: {what} has {rows:,} rows, more than {limits.rows:,}.")
    return raw


def read_small_file(path: Path, shown: str, what: str, limits: TableLimits) -> bytes:
    """A file's bytes, read only when its size is within ``limits`` (then checked as a CSV)."""
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise InputError(
            f"{shown} is refused: {what} is {megabytes(size)}, above the limit of "
            f"{megabytes(limits.max_bytes)}."
        )
    with open(path, "rb") as fh:
        raw = fh.read(limits.max_bytes + 1)
    return check_small_csv(raw, shown, what, limits)


def count_rows(path: Path, shown: str, what: str, limit: int) -> int:
    """Lines after the header, counted in 1 MiB pieces (quoted line breaks count too: a bound)."""
    lines = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            lines += chunk.count(b"\n")
            if lines > limit + 1:
                raise InputError(f"{shown} is refused: {what} has more than {limit:,} rows.")
    return max(0, lines - 1)


def check_columns(
    names: list[str], shown: str, what: str, allowed: Callable[[str], bool], required: Iterable[str]
) -> None:
    if len(set(names)) != len(names):
        raise InputError(f"{shown} is refused: {what} repeats a column name.")
    unknown = [n for n in names if not allowed(n)]
    if unknown:
        raise InputError(
            f"{shown} is refused: {what} has a column PoseBench does not write ({_shown_name(unknown[0])})."
        )
    missing = [n for n in required if n not in names]
    if missing:
        raise InputError(f"{shown} is refused: {what} lacks the column {missing[0]}.")


def _shown_name(name: str) -> str:
    """A column name fit for a sentence: printable, short, quoted."""
    text = "".join(ch if ch.isprintable() else "?" for ch in name)
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


def copy_upload(stream, target: Path, limit: int, shown: str) -> int:
    """An uploaded file (file-like or bytes) to ``target``, refusing more than ``limit`` bytes."""
    if isinstance(stream, (bytes, bytearray)):
        stream = io.BytesIO(stream)
    if hasattr(stream, "seek"):
        try:
            stream.seek(0)
        except (OSError, ValueError):
            pass
    try:
        return copy_capped(
            stream, target, limit, f"{shown} is larger than the import limit of {megabytes(limit)}."
        )
    except InputError:
        target.unlink(missing_ok=True)
        raise


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
