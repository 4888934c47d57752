"""The live page's files: onnxruntime-web from the npm registry, and the exported models.

At ``builder-inited`` this extension

* installs the pinned ``onnxruntime-web`` of ``docs/_live/package-lock.json``
  with ``npm ci`` into ``docs/_generated/npm`` (once; a later build reuses
  it while the lock file is unchanged), and copies its WebAssembly build into
  ``_generated/site-extra/live/ort/``. Where npm is missing (a fresh Debian
  has no Node.js), it takes the same package's tarball from the npm registry
  and checks it against the lock file's integrity hash before unpacking the
  three files the page needs; The 14.8 MB ``.wasm`` is also written
  gzipped (3.8 MB): the page fetches the small copy and unpacks it with the
  browser's ``DecompressionStream``, so a plain static server (``python -m
  http.server``) sends a quarter of the bytes;
* copies the ONNX models of ``cladec/web_models`` (exported from the shipped
  weights by :mod:`cladec.studies.web_models`) into ``live/models/``;
* writes ``live/config.json``: the runtime's version, the models' file names,
  input and output names, the datasets' class names, the alphas, and the
  site's colour scale for differences (matplotlib's ``RdBu_r``, 256 steps).

The page itself is ``docs/live.rst``; its script is ``_static/cladec-live.js``.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import urllib.request
from io import BytesIO
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger("cladec.live")

DOCS = Path(__file__).resolve().parents[1]
REPO = DOCS.parent
LOCK_DIR = DOCS / "_live"
NPM_DIR = DOCS / "_generated" / "npm"
LIVE_DIR = DOCS / "_generated" / "site-extra" / "live"
WEB_MODELS = REPO / "cladec" / "web_models"
#: What the page needs of the package: the script, its WebAssembly glue and binary.
RUNTIME_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
REGISTRY = "https://registry.npmjs.org"


def _lock_digest() -> str:
    return hashlib.sha256((LOCK_DIR / "package-lock.json").read_bytes()).hexdigest()


def _locked() -> dict:
    lock = json.loads((LOCK_DIR / "package-lock.json").read_text())
    return lock["packages"]["node_modules/onnxruntime-web"]


def unpack_checked(tarball: bytes, integrity: str, dist: Path) -> None:
    """Check ``tarball`` against an npm ``integrity`` (``sha512-<base64>``), then unpack the runtime.

    Only the files the page needs leave the archive, by name, into ``dist``.
    """
    algorithm, _, expected = integrity.partition("-")
    if algorithm not in ("sha512", "sha384", "sha256"):
        raise ExtensionError(
            f"unknown integrity {integrity[:16]!r}; accepted: sha512, sha384, sha256"
        )
    actual = base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode()
    if actual != expected:
        raise ExtensionError(
            f"the onnxruntime-web tarball does not match the lock file's {algorithm} "
            f"({actual[:16]}... against {expected[:16]}...): nothing was unpacked"
        )
    with tarfile.open(fileobj=BytesIO(tarball), mode="r:gz") as archive:
        members = {m.name: m for m in archive.getmembers() if m.isfile()}
        missing = [f for f in RUNTIME_FILES if f"package/dist/{f}" not in members]
        if missing:
            raise ExtensionError(f"the onnxruntime-web tarball lacks {missing}")
        dist.mkdir(parents=True, exist_ok=True)
        for name in RUNTIME_FILES:
            data = archive.extractfile(members[f"package/dist/{name}"]).read()
            (dist / name).write_bytes(data)


def _from_registry(dist: Path) -> None:
    locked = _locked()
    registry = os.environ.get("npm_config_registry", "").strip().rstrip("/") or REGISTRY
    url = f"{registry}/onnxruntime-web/-/onnxruntime-web-{locked['version']}.tgz"
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            tarball = response.read()
    except OSError as exc:
        raise ExtensionError(
            f"npm is missing and {url} could not be read ({exc}): install Node.js's npm, "
            "or let the build reach the npm registry"
        ) from exc
    unpack_checked(tarball, locked["integrity"], dist)


def _npm_ci(npm: str) -> None:
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(LOCK_DIR / name, NPM_DIR / name)
    command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
    result = subprocess.run(command, cwd=NPM_DIR, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ExtensionError(
            f"npm ci of docs/_live/package-lock.json failed (exit {result.returncode}):\n"
            f"{result.stderr.strip()[-2000:]}"
        )


def install_runtime() -> Path:
    """Install the pinned onnxruntime-web (once per lock file); return its ``dist`` folder.

    With npm: ``npm ci``. Without: the registry's tarball, checked against the lock file.
    """
    dist = NPM_DIR / "node_modules" / "onnxruntime-web" / "dist"
    stamp = NPM_DIR / ".lock-sha256"
    if stamp.is_file() and stamp.read_text() == _lock_digest() and dist.is_dir():
        return dist
    shutil.rmtree(NPM_DIR, ignore_errors=True)
    NPM_DIR.mkdir(parents=True)
    npm = shutil.which("npm")
    if npm is not None:
        _npm_ci(npm)
    else:
        _from_registry(dist)
    if not all((dist / name).is_file() for name in RUNTIME_FILES):
        raise ExtensionError(f"onnxruntime-web was installed without {RUNTIME_FILES}")
    stamp.write_text(_lock_digest())
    return dist


def _runtime_version() -> str:
    return _locked()["version"]


def _copy_if_changed(source: Path, target: Path) -> None:
    if target.is_file() and target.stat().st_size == source.stat().st_size:
        if target.read_bytes() == source.read_bytes():
            return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


def copy_runtime(dist: Path, folder: Path) -> dict:
    """Copy the runtime's files and a gzipped ``.wasm``; return ``{file: bytes}``.

    The script's header carries the runtime's copyright and MIT licence notice.
    """
    sizes = {}
    for name in RUNTIME_FILES:
        _copy_if_changed(dist / name, folder / name)
        sizes[name] = (folder / name).stat().st_size
    wasm = folder / RUNTIME_FILES[-1]
    packed = folder / f"{wasm.name}.gz"
    if not packed.is_file() or packed.stat().st_mtime < wasm.stat().st_mtime:
        # mtime=0: the same input gives the same bytes, build after build
        packed.write_bytes(gzip.compress(wasm.read_bytes(), compresslevel=9, mtime=0))
    sizes[packed.name] = packed.stat().st_size
    return sizes


def _colour_scale(steps: int = 256) -> list[str]:
    from matplotlib import colormaps

    cmap = colormaps["RdBu_r"].resampled(steps)
    return [
        "#{:02x}{:02x}{:02x}".format(*(round(255 * c) for c in cmap(i)[:3])) for i in range(steps)
    ]


def copy_models(folder: Path) -> dict:
    """Copy the exported models; return the manifest of ``cladec/web_models``."""
    manifest_path = WEB_MODELS / "manifest.json"
    if not manifest_path.is_file():
        raise ExtensionError(
            "cladec/web_models/manifest.json is missing: export the live page's models with "
            "python -m cladec.studies.web_models"
        )
    manifest = json.loads(manifest_path.read_text())
    for dataset, info in manifest["datasets"].items():
        for name in [*info["files"], "examples.json"]:
            _copy_if_changed(WEB_MODELS / dataset / name, folder / dataset / name)
    return manifest


def _dataset_config(dataset: str, info: dict) -> dict:
    from cladec.dataset_registry import dataset_title

    files = info["files"]
    return {
        "title": dataset_title(dataset),
        "class_names": info["class_names"],
        "test_accuracy": info["test_accuracy"],
        "files": {
            name: {"input": entry["input"], "outputs": entry["outputs"], "bytes": entry["bytes"]}
            for name, entry in files.items()
        },
    }


def write_live_files(app) -> None:
    """Install the runtime, copy it and the models, and write ``live/config.json``."""
    dist = install_runtime()
    sizes = copy_runtime(dist, LIVE_DIR / "ort")
    manifest = copy_models(LIVE_DIR / "models")
    config = {
        "runtime": {"package": "onnxruntime-web", "version": _runtime_version(), "files": sizes},
        "layer": manifest["layer"],
        "alphas": manifest["alphas"],
        "default_alpha": 0.99,
        "decoders": [{"alpha": a, "file": f"cladec-alpha-{a:g}.onnx"} for a in manifest["alphas"]],
        "colour_scale": _colour_scale(),
        "datasets": {d: _dataset_config(d, info) for d, info in manifest["datasets"].items()},
    }
    text = json.dumps(config, indent=1, sort_keys=True)
    target = LIVE_DIR / "config.json"
    if not target.is_file() or target.read_text() != text:
        target.write_text(text)
    logger.info(
        f"[cladec] live page: onnxruntime-web {config['runtime']['version']}, "
        f"runtime {sum(sizes.values()) / 1e6:.1f} MB (wasm gzipped "
        f"{sizes[RUNTIME_FILES[-1] + '.gz'] / 1e6:.1f} MB)"
    )


def setup(app):
    app.connect("builder-inited", write_live_files, priority=450)
    return {"version": "1", "parallel_read_safe": True}
