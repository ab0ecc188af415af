"""Every malformed input of the corpus ends in a clear error that names the file and
line/field, exits 2 through the CLI with a short message and no traceback, and writes nothing."""

from __future__ import annotations

import errno
import os
import pathlib
import stat
from pathlib import Path

import pytest

from anchorrec.cli import main
from anchorrec.data.archive import safe_extract_zip
from anchorrec.data.catalog import import_catalog
from anchorrec.data.mmrec import load_mmrec
from anchorrec.errors import CheckpointError, DatasetError, OutputError
from tests.data.malformed.corpus import CASES, Case

#: Options of the catalogue cases unless a case overrides them.
CATALOG_DEFAULTS = {"k_core": 3, "on_missing_image": "fail", "split": "auto"}
#: Options that steer the test, not the importer.
TEST_OPTIONS = {
    "out_exists", "untouched", "fault", "cwd", "needs_no_gpu", "allowed", "absent", "images"
}  # fmt: skip
#: The longest message an error may print (the file, the place, the value, the fix).
MAX_MESSAGE = 1200


def snapshot(root: Path) -> dict[str, object]:
    """Every path under ``root`` with its kind and, for files, its mtime (folders' own mtimes
    change when a lock file comes and goes; what is inside them is compared)."""
    out: dict[str, object] = {}
    for p in root.rglob("*"):
        st = p.lstat()
        kind = stat.S_IFMT(st.st_mode)
        out[str(p.relative_to(root))] = (kind, None if stat.S_ISDIR(kind) else st.st_mtime_ns)
    return out


def test_the_corpus_is_large_and_covers_every_kind() -> None:
    kinds = {c.kind for c in CASES}
    assert len(CASES) >= 135
    assert kinds == {"mmrec", "catalog", "zip", "checkpoint", "cli"}
    assert len({c.name for c in CASES}) == len(CASES)


def _catalog_args(d: Path, case: Case) -> tuple[list[str], dict[str, object]]:
    opts = {k: v for k, v in {**CATALOG_DEFAULTS, **case.options}.items() if k not in TEST_OPTIONS}
    argv = [
        "import-catalog",
        "--items", str(d / "items.csv"),
        "--interactions", str(d / "interactions.csv"),
        "--images", str(d / str(case.options.get("images", "photos"))),
        "--out", str(d / "out"),
        "--k-core", str(opts["k_core"]),
        "--split", str(opts["split"]),
        "--on-missing-image", str(opts["on_missing_image"]),
        "--device", "cpu",
        "--no-progress",
    ]  # fmt: skip
    if "name" in opts:
        argv += ["--name", str(opts["name"])]
    if opts.get("overwrite"):
        argv.append("--overwrite")
    return argv, opts


def _inject(fault: str | None, d: Path, monkeypatch) -> None:
    """The faults a command line case asks for: a full disk, a read-only folder, a folder
    that cannot be listed (a lock held by another run is taken in the test itself)."""
    if fault == "enospc":
        real = pathlib.Path.write_bytes

        def full(self, data):
            if self.name == "model.safetensors":
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
            return real(self, data)

        monkeypatch.setattr(pathlib.Path, "write_bytes", full)
    elif fault == "read-only":
        real_statvfs = os.statvfs

        class _ReadOnly:
            f_flag = os.ST_RDONLY

        def statvfs(path):
            return _ReadOnly() if Path(path).is_relative_to(d / "ro") else real_statvfs(path)

        monkeypatch.setattr(os, "statvfs", statvfs)
    elif fault == "unreadable":
        real_listdir = os.listdir

        def listdir(path="."):
            if Path(path) == d / "data":
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return real_listdir(path)

        monkeypatch.setattr(os, "listdir", listdir)
    elif fault == "short-write":  # NumPy's full disk: part written, then an errno-less OSError
        import numpy.lib._npyio_impl as npyio

        def short(fid, arr, **kwargs):
            fid.write(b"\x93NUMPY")
            raise OSError(f"{arr.nbytes} requested and 6 written")

        monkeypatch.setattr(npyio.format, "write_array", short)


def _kinds(paths: tuple[str, ...], d: Path) -> dict[str, int]:
    return {p: stat.S_IFMT(os.lstat(d / p).st_mode) for p in paths}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_malformed_input_is_a_clear_error(case: Case, tmp_path: Path, capsys, monkeypatch) -> None:
    import contextlib

    d = tmp_path / "case"
    if case.options.get("needs_no_gpu"):
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has a GPU")
    built = case.build(d)
    untouched = tuple(case.options.get("untouched", ()))
    kinds = _kinds(untouched, d)
    holder = contextlib.nullcontext()
    if case.options.get("fault") == "lock":
        from anchorrec.fileio import output_lock

        holder = output_lock(d / "m")  # another run writing the same --out
    with holder:
        before = snapshot(tmp_path)
        _inject(case.options.get("fault"), d, monkeypatch)
        if case.options.get("cwd"):
            monkeypatch.chdir(d / str(case.options["cwd"]))

        err = None
        if case.kind == "mmrec":
            with pytest.raises(DatasetError) as err:
                load_mmrec(d, **{k: v for k, v in case.options.items() if k not in TEST_OPTIONS})
            argv = ["validate", str(d)]
            if case.options.get("on_duplicate") == "error":
                argv.append("--strict-duplicates")
        elif case.kind == "catalog":
            argv, opts = _catalog_args(d, case)
            with pytest.raises((DatasetError, OutputError)) as err:
                import_catalog(
                    d / "items.csv",
                    d / "interactions.csv",
                    d / str(case.options.get("images", "photos")),
                    d / "out",
                    device="cpu",
                    progress=False,
                    **opts,
                )
            assert case.options.get("out_exists") or not (d / "out").exists()
        elif case.kind == "zip":
            target = tmp_path / "extracted"
            with pytest.raises(DatasetError) as err:
                safe_extract_zip(d / "upload.zip", target, **case.options)
            assert not target.exists()
            argv = None
        elif case.kind == "checkpoint":
            from anchorrec.models.checkpoint import load_model

            with pytest.raises(CheckpointError) as err:
                load_model(d / "model")
            argv = ["evaluate", str(d / "model")]
        else:
            assert isinstance(built, list)
            argv = built

        if err is not None:
            message = str(err.value)
            for needle in case.needles:
                assert needle in message, f"{needle!r} not in {message!r}"
            assert len(message) <= MAX_MESSAGE, f"{len(message)} characters: {message[:300]}"
            for raw in case.options.get("absent", ()):  # e.g. a raw newline, a temp folder
                assert raw not in message, f"{raw!r} in {message!r}"
            assert snapshot(tmp_path) == before, "a failed check wrote or changed files"

        if argv is not None:
            capsys.readouterr()
            assert main(argv) == 2
            stderr = capsys.readouterr().err
            assert stderr.startswith("error: ")
            assert "Traceback" not in stderr
            assert len(stderr) <= MAX_MESSAGE + 100, stderr[:300]
            needles = case.needles if case.kind == "cli" else case.needles[:1]
            for needle in needles:
                assert needle in stderr, f"{needle!r} not in {stderr!r}"
            for raw in case.options.get("absent", ()):  # and the message stays one line
                body = stderr.rstrip("\n")
                assert raw not in body and "\n" not in body, f"{raw!r} in {stderr!r}"
            after = snapshot(tmp_path)
            for kept in case.options.get("allowed", ()):  # complete state the message names
                prefix = str((d / kept).relative_to(tmp_path))
                after = {k: v for k, v in after.items() if not k.startswith(prefix)}
            assert after == before, "the command wrote or changed files"
    assert _kinds(untouched, d) == kinds, "an output that is not a regular file was replaced"
