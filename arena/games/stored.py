"""Named numpy arrays on disk, memory-mapped when read: the store of compiled games.

A file is an uncompressed .npz (a zip of .npy members, as `np.savez` writes them) whose member `meta` holds a JSON
object. `read` maps every member straight from the file (no copy, no decompression), so loading a compiled game
costs the page faults of what is used. Files are written under a temporary name and renamed, so that a reader never
sees half a file.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

_LOCAL_HEADER = struct.Struct("<4s5H3I2H")  # a zip member's local header, before its name and extra field


def write(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Write `arrays` and the JSON-able `meta` to `path` (atomically: a temporary file renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    members = {name: np.ascontiguousarray(array) for name, array in arrays.items()}
    members["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            for name, array in members.items():
                with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, array, allow_pickle=False)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def read(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The meta object and the arrays of a file written by `write`, each a read-only view of one memory map.

    Raises OSError or ValueError when the file is missing, damaged or not of this kind.
    """
    arrays: dict[str, np.ndarray] = {}
    mapping: mmap.mmap | None = None  # the whole file, mapped once; the arrays keep it alive
    try:
        with zipfile.ZipFile(path) as archive, open(path, "rb") as handle:
            for member in archive.infolist():
                if member.compress_type != zipfile.ZIP_STORED or not member.filename.endswith(".npy"):
                    raise ValueError(f"{path}: member {member.filename} is not a stored .npy")
                handle.seek(member.header_offset)
                fields = _LOCAL_HEADER.unpack(handle.read(_LOCAL_HEADER.size))
                if fields[0] != b"PK\x03\x04":
                    raise ValueError(f"{path}: damaged member {member.filename}")
                handle.seek(fields[-2] + fields[-1], os.SEEK_CUR)  # past the name and the extra field
                version = np.lib.format.read_magic(handle)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
                else:
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
                if dtype.hasobject:
                    raise ValueError(f"{path}: member {member.filename} holds objects")
                name = member.filename[: -len(".npy")]
                count = int(np.prod(shape))
                if count == 0:
                    arrays[name] = np.empty(shape, dtype=dtype)
                else:
                    if mapping is None:
                        mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
                    flat = np.frombuffer(mapping, dtype=dtype, count=count, offset=handle.tell())
                    arrays[name] = flat.reshape(shape, order="F" if fortran else "C")
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{path}: {exc}") from None
    if "meta" not in arrays:
        raise ValueError(f"{path}: no meta member")
    meta = json.loads(arrays.pop("meta").tobytes().decode())
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: meta is not an object")
    return meta, arrays
