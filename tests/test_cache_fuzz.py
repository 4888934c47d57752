"""Generated hostile archives and folder trees: ``cache import`` and ``cache clear`` touch only the cache.

Each generated case runs against a fresh sandbox: a folder of someone else's
files (one of them shaped like a cache entry, so a link or an absolute name
has something worth destroying), a working directory, and a cache holding
one entry. The assertion is the same for every case: everything outside the
cache is byte for byte as it was, and the cache holds exactly its entries
from before, or (for an import that was accepted) those plus the archive's.

``CLADEC_FUZZ_EXAMPLES`` sets the number of cases per test (default 300).
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from _archives import entry_files, member, snapshot, tar_bytes, valid_members, write_entry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cladec._ownership import is_store_entry
from cladec.exceptions import FolderNotOwned
from cladec.store import ModelStore
from cladec.store.archive import INDEX, LIMITS, ArchiveError, import_cache

EXAMPLES = int(os.environ.get("CLADEC_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Small limits, so that a bomb or an oversized member costs the test kilobytes, not gigabytes.
SMALL_LIMITS = {
    "entries": 20,
    "weights_bytes": 32 << 10,
    "meta_bytes": 8 << 10,
    "index_bytes": 8 << 10,
    "unpacked_bytes": 128 << 10,
}
LOOK_ALIKES = ["\uff10", "\u0430", "\u2044", "\uff0f", "\u2215", "\u00b7", "\u200b", "\u0435"]
LINK_KINDS = [tarfile.SYMTYPE, tarfile.LNKTYPE]
ODD_KINDS = [tarfile.DIRTYPE, tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE, tarfile.CONTTYPE]


@contextmanager
def _sandbox():
    """``(base, outside, cache_root)``: a fresh world per generated case, the cwd inside it."""
    base = Path(tempfile.mkdtemp(prefix="cladec-fuzz-"))
    outside = base / "outside"
    (outside / "victim").mkdir(parents=True)
    (outside / "victim" / "thesis.tex").write_text("three years of work\n")
    write_entry(outside, 1)  # shaped like entry 1, which the archives carry
    cwd = outside / "cwd"
    cwd.mkdir()
    root = base / "home" / "models"
    write_entry(root, 50)
    saved = os.getcwd()
    os.chdir(cwd)
    try:
        yield base, outside, root
    finally:
        os.chdir(saved)
        shutil.rmtree(base, ignore_errors=True)


def _hostile_names(outside: Path, folder: str):
    segment = st.one_of(
        st.sampled_from(["..", ".", "", folder, "meta.json", "model.weights.h5", INDEX]),
        st.text(st.sampled_from(list("ab0f.\\/-_") + LOOK_ALIKES), min_size=1, max_size=12),
        st.just("x" * 300),
    )
    built = st.lists(segment, min_size=1, max_size=5).map("/".join)
    # staging sits at home/models/.cladec-import-*/: three ".." reach the base, four pass it
    escapes = [f"{'../' * depth}outside/victim/thesis.tex" for depth in range(1, 5)]
    escapes += [f"{'../' * depth}{folder}/meta.json" for depth in range(1, 4)]
    fixed = st.sampled_from(
        escapes
        + [
            f"{outside}/victim/thesis.tex",
            f"{outside}/{folder}/meta.json",
            f"{folder}/../../../../outside/victim/x",
            f"{folder}\\..\\..\\x",
            f"{folder.upper()}/meta.json",
            f"{folder}/meta.json/",
            f"./{folder}/meta.json",
            f"{folder[:-1]}\uff10/meta.json",
            f"{folder}/model.weights.h5\u200b",
        ]
    )
    return st.one_of(fixed, fixed, fixed, built)


@st.composite
def _archives(draw, outside: Path):
    """The bytes of a mutated export: hostile names, links, devices, duplicates, bombs, damage."""
    seeds = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3, unique=True))
    members = valid_members(seeds)
    folder = entry_files(seeds[0])[0]
    names = _hostile_names(outside, folder)
    targets = st.one_of(
        names, st.sampled_from([str(outside / "victim"), str(outside / folder), "../../..", folder])
    )
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(members) - 1))
        info, data = members[at]
        action = draw(
            st.sampled_from(
                [
                    "rename",
                    "add",
                    "add",
                    "link",
                    "link",
                    "odd",
                    "duplicate",
                    "index",
                    "oversize",
                    "header",
                    "bomb",
                    "reorder",
                    "drop",
                ]
            )
        )
        if action == "rename":
            members[at] = member(draw(names), data)
        elif action == "add":
            members.append(member(draw(names), draw(st.binary(max_size=64))))
        elif action == "link":
            name = draw(st.one_of(st.just(info.name), names))
            members.insert(
                at, member(name, kind=draw(st.sampled_from(LINK_KINDS)), link=draw(targets))
            )
        elif action == "odd":
            members[at] = member(info.name, kind=draw(st.sampled_from(ODD_KINDS)))
        elif action == "duplicate":
            members.insert(
                draw(st.integers(at, len(members))), member(info.name, draw(st.binary(max_size=64)))
            )
        elif action == "index":
            hostile = draw(st.one_of(names, st.just(str(outside / "victim"))))
            members[0] = member(
                INDEX, members[0][1].replace(folder.encode(), hostile.encode()[:200])
            )
        elif action == "oversize":
            members[at] = member(info.name, data, size=draw(st.integers(1 << 20, 1 << 34)))
        elif action == "header":
            kind = draw(
                st.sampled_from([tarfile.XHDTYPE, tarfile.GNUTYPE_LONGNAME, tarfile.XGLTYPE])
            )
            members.insert(
                at, member("././@LongLink", kind=kind, size=draw(st.integers(1 << 20, 1 << 33)))
            )
        elif action == "bomb":
            size = SMALL_LIMITS["unpacked_bytes"] * draw(st.integers(1, 4))
            members.append(member(f"{folder}/model.weights.h5", bytes(size)))
        elif action == "reorder":
            draw(st.randoms(use_true_random=False)).shuffle(members)
        elif action == "drop" and len(members) > 1:
            members.pop(at)
    blob = tar_bytes(members)
    damage = draw(st.sampled_from(["none"] * 5 + ["truncate", "flip", "raw tar", "garbage"]))
    if damage == "truncate":
        blob = blob[: draw(st.integers(0, 1 << 20)) % len(blob)]
    elif damage == "flip":  # positions drawn before the length is known keep the draws reproducible
        at = draw(st.integers(0, 1 << 20)) % len(blob)
        blob = blob[:at] + bytes([blob[at] ^ draw(st.integers(1, 255))]) + blob[at + 1 :]
    elif damage == "raw tar":
        blob = tar_bytes(members, compress=False)
    elif damage == "garbage":
        blob = draw(st.binary(max_size=256))
    return blob


def _without(found: dict, root: Path) -> dict:
    return {p: v for p, v in found.items() if root not in p.parents and p != root}


@FUZZ
@given(data=st.data())
def test_a_hostile_archive_changes_nothing_outside_the_cache(data):
    with _sandbox() as (base, outside, root), mock.patch.dict(LIMITS, SMALL_LIMITS):
        archive = base / "in" / "lab.tar.gz"
        archive.parent.mkdir()
        archive.write_bytes(data.draw(_archives(outside)))
        world, cache = _without(snapshot(base), root), snapshot(root)
        try:
            added = import_cache(ModelStore(root), archive)
        except ArchiveError as exc:
            assert str(archive) in str(exc)
            added = None
        assert _without(snapshot(base), root) == world
        after = snapshot(root)
        if added is None:
            assert after == cache
        else:  # accepted: the old entry untouched, and only entries added beside it
            assert {p: v for p, v in after.items() if p in cache} == cache
            folders = [p for p in root.iterdir()]
            assert len(folders) == 1 + added and all(is_store_entry(p) for p in folders)


def _entry(root, n, _):
    write_entry(root, n)


def _leftover(root, n, suffix):
    folder = root / f".{entry_files(n)[0]}.{suffix}.tmp"
    write_entry(folder, n + 1)
    (folder / "full-model.weights.h5").write_bytes(b"half")


def _user_file(root, n, name):
    if not os.path.lexists(root / name):
        (root / name).write_text("mine")


def _user_folder(root, n, name):
    if not os.path.lexists(root / name):
        (root / name).mkdir()
        (root / name / "keep.txt").write_text("mine")


def _entry_with_stranger(root, n, name):
    made = write_entry(root, n)
    (made / name).write_text("x")


def _bad_meta(root, n, text):
    (write_entry(root, n) / "meta.json").write_text(text)


def _link_to_outside(root, n, choice):
    name, target = choice
    outside = root.parent.parent / "outside"
    if not os.path.lexists(root / name):
        (root / name).symlink_to(outside / target)


def _fifo(root, n, _):
    os.mkfifo(root / entry_files(n)[0])


def _leftover_with_stranger(root, n, _):
    folder = root / f".{entry_files(n)[0]}.zzzzzzzz.old"
    (folder / "old").mkdir(parents=True)
    (folder / "old" / "thesis.tex").write_text("mine")


_ONE = entry_files(1)[0]
_MAKERS = [
    (_entry, st.none()),
    (_leftover, st.text("abc_019", min_size=8, max_size=8)),
    (_user_file, st.sampled_from(["README", "notes.md", ".DS_Store", "a" * 24])),
    (_user_folder, st.sampled_from(["my_thesis", "photos", ".git", "0" * 23])),
    (_entry_with_stranger, st.sampled_from(["notes.md", "old", "model.weights.h5.bak"])),
    (_bad_meta, st.sampled_from(["{}", "[", '{"key": 1}', ""])),
    (
        _link_to_outside,
        st.tuples(
            st.sampled_from([_ONE, f".{_ONE}.abcdefgh.tmp", "link"]),
            st.sampled_from([_ONE, "victim", "victim/thesis.tex"]),
        ),
    ),
    (_fifo, st.none()),
    (_leftover_with_stranger, st.none()),
]
# Each item gets its own entry numbers, far from the sandbox's (1 and 50).
_TREES = st.lists(
    st.one_of([st.tuples(st.just(make), params) for make, params in _MAKERS]), max_size=8
)


@FUZZ
@given(data=st.data(), force=st.booleans())
def test_clear_removes_only_what_is_the_caches_own(data, force):
    with _sandbox() as (base, outside, root):
        shutil.rmtree(root)
        root.mkdir()
        for number, (make, params) in enumerate(data.draw(_TREES)):
            make(root, 100 + 2 * number, params)
        ours = [p for p in root.iterdir() if _is_ours(p)]
        theirs = {p: _subtree(p) for p in root.iterdir() if p not in ours}
        world = _without(snapshot(base), root)
        store = ModelStore(root)
        try:
            removed = store.clear(force=force)
        except FolderNotOwned as exc:
            assert theirs and not force and str(root) in str(exc)
            removed = None
        assert _without(snapshot(base), root) == world
        for path, before in theirs.items():
            assert _subtree(path) == before
        if removed is None:
            assert all(os.path.lexists(p) for p in ours)
        else:
            assert removed == len(ours) and not any(os.path.lexists(p) for p in ours)


def _is_ours(path: Path) -> bool:
    from cladec._ownership import is_store_leftover

    return is_store_entry(path) or is_store_leftover(path)


def _subtree(path: Path) -> dict:
    info = path.lstat()
    if os.path.islink(path):
        return {path: ("link", os.readlink(path))}
    if path.is_dir():
        return {path: ("dir",), **snapshot(path)}
    return {path: ("file", info.st_mode, path.read_bytes() if path.is_file() else None)}


def test_the_generators_reach_every_refusal():
    """The fuzz is only as good as its cases: every kind of refusal must be generated."""
    reasons = {
        "24 lowercase hex digits": False,
        "not a regular file": False,
        "appears twice": False,
        "over the": False,
        "damaged": False,
        "holds only <entry>": False,
        "more than": False,
    }

    @settings(
        max_examples=400,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def collect(data):
        with _sandbox() as (base, outside, root), mock.patch.dict(LIMITS, SMALL_LIMITS):
            archive = base / "lab.tar.gz"
            archive.write_bytes(data.draw(_archives(outside)))
            try:
                import_cache(ModelStore(root), archive)
            except ArchiveError as exc:
                for reason in reasons:
                    reasons[reason] |= reason in str(exc)

    collect()
    assert all(reasons.values()), reasons
