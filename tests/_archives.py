"""Cache entries and archives made byte by byte, for the file-safety tests (no Keras needed).

Import checks names, types, sizes and checksums, never whether the weights
load, so an entry here is a ``meta.json`` of the store's format beside a few
random bytes whose SHA-256 it records.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
from pathlib import Path

from cladec.store.archive import FORMAT, INDEX


def entry_files(seed: int) -> tuple[str, dict[str, bytes]]:
    """A fabricated entry: its folder name and ``{file name: bytes}``."""
    key = hashlib.sha256(f"entry-{seed}".encode()).hexdigest()
    weights = hashlib.sha256(f"weights-{seed}".encode()).digest() * (1 + seed % 4)
    meta = {
        "key": key,
        "fields": {"seed": seed},
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
    }
    return key[:24], {"meta.json": json.dumps(meta).encode(), "model.weights.h5": weights}


def write_entry(root: Path, seed: int) -> Path:
    folder, files = entry_files(seed)
    (root / folder).mkdir(parents=True)
    for name, data in files.items():
        (root / folder / name).write_bytes(data)
    return root / folder


def index_for(entries: dict[str, dict[str, bytes]]) -> bytes:
    digests = {
        folder: hashlib.sha256(files["model.weights.h5"]).hexdigest()
        for folder, files in entries.items()
    }
    return json.dumps({"format": FORMAT, "entries": digests}).encode()


def member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = "", size=None):
    """One tar member: ``(TarInfo, data)``; ``size`` may claim more than ``data`` holds."""
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    info.size = len(data) if size is None else size
    info.mode = 0o644
    return info, data


def valid_members(seeds) -> list:
    entries = dict(entry_files(s) for s in seeds)
    members = [member(INDEX, index_for(entries))]
    for folder, files in entries.items():
        members += [member(f"{folder}/{name}", data) for name, data in files.items()]
    return members


def tar_bytes(members, *, compress: bool = True) -> bytes:
    """A (gzipped) tar of ``members``, written header by header so nothing is normalised."""
    raw = io.BytesIO()
    for info, data in members:
        raw.write(info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape"))
        if info.type in (tarfile.REGTYPE, tarfile.AREGTYPE):
            raw.write(data)
            raw.write(b"\0" * (-len(data) % 512))
    raw.write(b"\0" * 1024)
    return gzip.compress(raw.getvalue(), mtime=0) if compress else raw.getvalue()


def snapshot(root: Path) -> dict:
    """Every path under ``root`` (links not followed) with its type, mode and content."""
    found = {}
    if not os.path.lexists(root):
        return found
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                found[path] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                found[path] = ("file", stat.S_IMODE(info.st_mode), path.read_bytes())
            elif stat.S_ISDIR(info.st_mode):
                found[path] = ("dir",)
            else:
                found[path] = ("other", stat.S_IFMT(info.st_mode))
    return found
