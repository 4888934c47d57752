"""The live page's runtime without npm: the registry's tarball is checked before anything is unpacked."""

from __future__ import annotations

import base64
import hashlib
import io
import sys
import tarfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "_ext"))
cladec_live = pytest.importorskip("cladec_live", reason="pip install sphinx (docs extra)")
from sphinx.errors import ExtensionError  # noqa: E402


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _package() -> dict[str, bytes]:
    files = {f"package/dist/{name}": name.encode() * 3 for name in cladec_live.RUNTIME_FILES}
    files["package/dist/ort.webgl.min.js"] = b"not needed"
    files["package/../escape.txt"] = b"never written"
    return files


def test_a_matching_tarball_gives_the_three_runtime_files_only(tmp_path):
    tarball = _tarball(_package())
    cladec_live.unpack_checked(tarball, _integrity(tarball), tmp_path / "dist")
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == sorted(
        cladec_live.RUNTIME_FILES
    )
    assert (tmp_path / "dist" / "ort.wasm.min.js").read_bytes() == b"ort.wasm.min.js" * 3
    assert not (tmp_path / "escape.txt").exists()


def test_a_tarball_that_does_not_match_the_lock_file_is_not_unpacked(tmp_path):
    tarball = _tarball(_package())
    with pytest.raises(ExtensionError, match="does not match the lock file"):
        cladec_live.unpack_checked(
            tarball[:-1] + bytes([tarball[-1] ^ 1]), _integrity(tarball), tmp_path / "dist"
        )
    assert not (tmp_path / "dist").exists()
    with pytest.raises(ExtensionError, match="accepted: sha512"):
        cladec_live.unpack_checked(tarball, "md5-abc", tmp_path / "dist")


def test_a_tarball_without_the_wasm_is_refused(tmp_path):
    files = _package()
    del files["package/dist/ort-wasm-simd-threaded.wasm"]
    tarball = _tarball(files)
    with pytest.raises(ExtensionError, match="lacks"):
        cladec_live.unpack_checked(tarball, _integrity(tarball), tmp_path / "dist")
    assert not (tmp_path / "dist").exists()


def test_the_lock_file_pins_the_version_the_page_names():
    locked = cladec_live._locked()
    assert locked["version"] == "1.31.1" and locked["integrity"].startswith("sha512-")
