"""Reading and writing point files: CSV (x,y[,label]), NPY ((N,2) or (N,3)) and pictures.

Every problem with a file is a `UserError` whose one line names the file. Writes are atomic
(temporary file in the same folder, then `os.replace`), so a crash never leaves half a file.
"""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import numpy as np

from sandbox.fileio import atomic_path
from sandbox.datasets.images import load_image
from sandbox.datasets.pointset import PointSet
from sandbox.errors import UserError

CSV_EXTS = (".csv", ".txt", ".tsv")
NPY_EXTS = (".npy",)
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
CLASSES_TAG = "# classes:"  # comment line written by save_points so class order survives a round trip


def load_points(path: str | os.PathLike, n: int = 2000, seed: int = 0) -> PointSet:
    """Load a PointSet from CSV / NPY / picture; `n` and `seed` only matter for pictures."""
    path = Path(path)
    ext = path.suffix.lower()
    if path.is_dir():   # was "unknown file type '(none)'"
        raise UserError(f"{path}: is a folder; give a points file (.csv, .npy) or a picture")
    if ext not in CSV_EXTS + NPY_EXTS + IMAGE_EXTS:
        raise UserError(f"{path}: unknown file type '{ext or '(none)'}'; use one of "
                        f"{', '.join(CSV_EXTS + NPY_EXTS + IMAGE_EXTS)}")
    try:
        # is_dir/exists/stat raise OSError or ValueError for names the OS rejects (too long, NUL).
        if path.is_dir():
            raise UserError(f"{path}: is a folder, not a file")
        if not path.exists():
            raise UserError(f"{path}: no such file")
        if path.stat().st_size == 0:
            raise UserError(f"{path}: the file is empty")
        if ext in CSV_EXTS:
            return _load_csv(path)
        if ext in NPY_EXTS:
            return _load_npy(path)
        return load_image(path, n=n, seed=seed)
    except UserError:  # a ValueError too: keep its own message
        raise
    except PermissionError:
        raise UserError(f"{path}: permission denied") from None
    except (OSError, ValueError) as e:
        raise UserError(f"{str(path)[:80]}: cannot read this file ({type(e).__name__})") from None


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        if b"\x00" in raw[:4096]:
            raise UserError(f"{path}: not a text file (binary data)") from None
        return raw.decode("latin-1")


def _split_rows(text: str) -> tuple[list[tuple[int, list[str]]], list[str] | None, str]:
    """Data rows as (line number, fields), class names from a classes comment, the delimiter."""
    rows, classes, delim = [], None, None
    for number, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            if s.lower().startswith(CLASSES_TAG):
                try:
                    classes = [str(c) for c in json.loads(s[len(CLASSES_TAG):])]
                except (ValueError, TypeError):
                    classes = None
            continue
        if delim is None:  # ';' before ',' so European files with decimal commas work
            delim = next((d for d in (";", ",", "\t") if d in s), " ")
        if delim == " ":
            fields = s.split()
        else:
            fields = next(csv.reader(io.StringIO(s), delimiter=delim))
        while fields and not fields[-1].strip():  # trailing delimiter
            fields.pop()
        rows.append((number, [f.strip() for f in fields]))
    return rows, classes, delim or ","


def _number(field: str, delim: str) -> float:
    if delim == ";":
        field = field.replace(",", ".")
    return float(field)


def _all_numbers(fields: list[str], delim: str) -> bool:
    try:
        [_number(f, delim) for f in fields]
    except ValueError:
        return False
    return True


def _load_csv(path: Path) -> PointSet:
    rows, classes, delim = _split_rows(_read_text(path))
    if not rows:
        raise UserError(f"{path}: the file is empty (no data rows)")
    if len(rows[0][1]) >= 2 and not _all_numbers(rows[0][1][:2], delim):  # a header
        rows = rows[1:]
        if not rows:
            raise UserError(f"{path}: only a header, no data rows")
    ncols = len(rows[0][1])
    xy = np.empty((len(rows), 2))
    raw_labels: list[str] = []
    for i, (number, fields) in enumerate(rows):
        if len(fields) not in (2, 3) or len(fields) != ncols:
            want = "2 or 3" if i == 0 else str(ncols)
            raise UserError(f"{path}: line {number} has {len(fields)} columns; expected {want} "
                            f"(x, y[, label])")
        for j in range(2):
            try:
                xy[i, j] = _number(fields[j], delim)
            except ValueError:
                raise UserError(f"{path}: line {number}: '{fields[j]}' is not a number") from None
            if not np.isfinite(xy[i, j]):
                raise UserError(f"{path}: line {number}: {'xy'[j]} is '{fields[j]}'; "
                                f"every coordinate must be a finite number")
        if ncols == 3:
            if not fields[2]:
                raise UserError(f"{path}: line {number}: empty label")
            raw_labels.append(fields[2])
    if ncols == 2:
        return PointSet(xy, None, [], path.name)
    labels, names = _encode_labels(raw_labels, classes, path)
    return PointSet(xy, labels, names, path.name)


def _encode_labels(raw: list[str], classes: list[str] | None, path: Path) -> tuple[np.ndarray, list[str]]:
    """Label strings -> (indices (N,), class names). Numbers sort numerically, names alphabetically."""
    if classes is not None and set(raw) <= set(classes):
        names = classes
    else:
        unique = sorted(set(raw))
        try:
            unique = sorted(unique, key=float)
        except ValueError:
            pass
        names = unique
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[r] for r in raw], dtype=np.int64), list(names)


def _load_npy(path: Path) -> PointSet:
    with open(path, "rb") as f:
        if f.read(6) != b"\x93NUMPY":
            raise UserError(f"{path}: not a .npy file (save it with numpy.save)")
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as e:
        msg = "it holds Python objects; save a plain numeric array" if "pickle" in str(e) \
            else "not a valid .npy file"
        raise UserError(f"{path}: {msg}") from None
    except (OSError, EOFError):
        raise UserError(f"{path}: not a valid .npy file (corrupt or truncated)") from None
    if isinstance(arr, np.lib.npyio.NpzFile) or arr.dtype.kind not in "iuf":
        raise UserError(f"{path}: expected numbers, got an array of {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] not in (2, 3):
        raise UserError(f"{path}: expected shape (N, 2) or (N, 3) (x, y[, label]), got {arr.shape}")
    if arr.shape[1] == 2:
        return PointSet(arr, None, [], path.name)
    lab = arr[:, 2]
    if not np.all(np.isfinite(lab)) or np.any(lab != np.round(lab)) or np.any(lab < 0):
        raise UserError(f"{path}: third column (labels) must hold whole numbers >= 0")
    return PointSet(arr[:, :2], lab.astype(np.int64), [], path.name)


def save_points(pointset: PointSet, path: str | os.PathLike) -> Path:
    """Write `pointset` to .csv (x,y[,label name]) or .npy ((N,2) or (N,3)), atomically."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in (".csv", ".npy"):
        raise UserError(f"{path}: can only save points as .csv or .npy, not '{ext or '(none)'}'")
    with atomic_path(path) as tmp, open(tmp, "xb") as f:
        if ext == ".npy":
            np.save(f, _as_array(pointset))
        else:
            f.write(_as_csv(pointset).encode("utf-8"))
    return path


def _as_array(ps: PointSet) -> np.ndarray:
    if ps.labels is None:
        return ps.points.astype(np.float32)
    return np.column_stack([ps.points.astype(np.float64), ps.labels.astype(np.float64)])


def _as_csv(ps: PointSet) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if ps.labels is None:
        writer.writerow(["x", "y"])
        writer.writerows((f"{x:.7g}", f"{y:.7g}") for x, y in ps.points.tolist())
        return out.getvalue()
    out.write(f"{CLASSES_TAG} {json.dumps(ps.class_names)}\n")
    writer.writerow(["x", "y", "label"])
    names = ps.class_names
    writer.writerows((f"{x:.7g}", f"{y:.7g}", names[k])
                     for (x, y), k in zip(ps.points.tolist(), ps.labels.tolist()))
    return out.getvalue()
