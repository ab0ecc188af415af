"""Round three of the reliability work: a full disk that NumPy reports without an errno, faults
while derived results (layouts, caches) are written, reads of photos within their limit, the
lock without ``fcntl``, strict numbers, file names with control characters, and a read-only
model directory whose layouts went to the workspace."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from anchorrec.cli import main
from anchorrec.errors import DatasetError, printable
from anchorrec.fileio import (
    FileTooLargeError,
    describe_os_error,
    is_short_write,
    read_regular_file,
    save_npy,
)
from anchorrec.photos import MAX_PHOTO_FILE_BYTES, read_photo_file
from tests.conftest import PROJECT_ROOT, make_tiny_dataset
from tests.data.malformed.corpus import write_valid_model


def _short_writes(monkeypatch) -> None:
    """NumPy's full disk: part of the array written, then ``OSError`` without an errno."""
    import numpy.lib._npyio_impl as npyio

    def short(fid, arr, **kwargs):
        fid.write(b"\x93NUMPY")
        raise OSError(f"{arr.nbytes} requested and 6 written")

    monkeypatch.setattr(npyio.format, "write_array", short)


# ------------------------------------------------------------------------------ short writes
def test_a_short_write_without_errno_is_a_full_disk():
    exc = OSError("4096 requested and 1024 written")
    assert exc.errno is None and is_short_write(exc)
    message = describe_os_error(exc)
    assert message is not None and "no space left" in message and "1024 written" in message
    assert not is_short_write(OSError(errno.EIO, "I/O error"))
    assert describe_os_error(OSError("something else")) is None


def test_save_npy_names_the_file_of_a_short_write(tmp_path, monkeypatch):
    _short_writes(monkeypatch)
    with pytest.raises(OSError) as err:
        save_npy(tmp_path / "image_feat.npy", np.zeros((4, 3), np.float32))
    assert err.value.errno == errno.ENOSPC
    assert err.value.filename == str(tmp_path / "image_feat.npy")
    assert "no space left" in describe_os_error(err.value)


def test_save_mmrec_on_a_full_disk_leaves_nothing(tmp_path, monkeypatch):
    from anchorrec.data.mmrec import save_mmrec

    _short_writes(monkeypatch)
    with pytest.raises(OSError) as err:
        save_mmrec(make_tiny_dataset(n_users=20, n_items=12), tmp_path / "shop")
    assert "no space left" in describe_os_error(err.value)
    assert list(tmp_path.iterdir()) == []  # no dataset, no temporary folder


# ------------------------------------------------------------------------------ derived results
@pytest.fixture
def model(tmp_path) -> Path:
    return write_valid_model(tmp_path / "m")


def _project(model: Path, capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["project", str(model), "--methods", "pca"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_full_disk_while_caching_layouts_is_a_message_and_keeps_nothing_half(
    model, capsys, monkeypatch
):
    real = os.fsync

    def full(fd):
        name = os.readlink(f"/proc/self/fd/{fd}")
        if "projections" in name:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd)

    monkeypatch.setattr(os, "fsync", full)
    code, _, err = _project(model, capsys)
    assert code == 2 and err.startswith("error: ") and "no space left" in err
    assert "Traceback" not in err
    left = [p.name for p in model.rglob("*") if p.name.endswith(".tmp")]
    assert left == [], left  # no temporary file of the interrupted write
    monkeypatch.setattr(os, "fsync", real)
    code, out, _ = _project(model, capsys)  # space freed: the next run completes
    assert code == 0 and "layouts cached in" in out


def test_layouts_of_a_read_only_model_are_cached_where_the_message_says(
    model, capsys, monkeypatch, tmp_path
):
    import anchorrec.models.model_dir as model_dir

    home = tmp_path / "home"
    monkeypatch.setenv("ANCHORREC_HOME", str(home))
    monkeypatch.setattr(model_dir, "is_writable", lambda path: False)
    code, out, _ = _project(model, capsys)
    assert code == 0
    said = Path(out.strip().splitlines()[-1].split(" cached in ", 1)[1])
    assert said.is_relative_to(home) and said.is_dir() and any(said.iterdir())
    assert not (model / "projections").exists()


def test_an_interrupted_layout_write_leaves_no_layout_and_no_temporary(model, capsys, monkeypatch):
    real = os.replace

    def killed(src, dst):  # Ctrl-C between writing a layout and renaming it into place
        if "projections" in str(dst):
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(os, "replace", killed)
    capsys.readouterr()
    assert main(["project", str(model), "--methods", "pca"]) == 130
    monkeypatch.setattr(os, "replace", real)
    folder = model / "projections"
    left = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    assert not [n for n in left if n.endswith((".tmp", ".npz"))], left  # nothing half-written
    code, out, _ = _project(model, capsys)  # the next run computes and stores it whole
    assert code == 0 and any(p.suffix == ".npz" for p in folder.iterdir())


# ------------------------------------------------------------------------------ photos
def test_a_photo_over_the_limit_is_refused_from_its_size(tmp_path, monkeypatch):
    path = tmp_path / "huge.jpg"
    with open(path, "wb") as fh:
        fh.truncate(MAX_PHOTO_FILE_BYTES + 1)  # sparse
    reads = []
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: reads.append(n) or real_read(fd, n))
    with pytest.raises(ValueError, match="over the 64 MB limit"):
        read_photo_file(path)
    with pytest.raises(FileTooLargeError):
        read_regular_file(path, max_bytes=10)
    assert reads == []  # refused from fstat, before any byte was read


@pytest.mark.parametrize("kind", ["fifo", "directory", "empty", "missing"])
def test_a_photo_that_is_not_a_readable_file_is_refused_without_blocking(tmp_path, kind):
    path = tmp_path / "p.png"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    words = {"fifo": "pipe", "directory": "directory", "empty": "0 bytes", "missing": "not found"}
    with pytest.raises(ValueError, match=words[kind]):
        read_photo_file(path)


def test_the_image_encoder_and_the_thumbnails_read_through_the_bounded_reader(tmp_path):
    from anchorrec.encoders.image import open_image
    from anchorrec.ui.images import thumbnail

    path = tmp_path / "big.png"
    with open(path, "wb") as fh:
        fh.truncate(MAX_PHOTO_FILE_BYTES + 1)
    with pytest.raises(ValueError, match="limit"):
        open_image(path)
    os.mkfifo(tmp_path / "pipe.png")
    assert thumbnail.__wrapped__(str(tmp_path / "pipe.png")) is None  # at once, no block
    assert thumbnail.__wrapped__(str(path)) is None


# ------------------------------------------------------------------------------ the lock
def test_the_write_path_imports_and_locks_without_fcntl(tmp_path):
    """Windows has no ``fcntl``: the package's write path must not need it."""
    code = (
        "import sys; sys.modules['fcntl'] = None\n"
        "import anchorrec.fileio as f, anchorrec.data.mmrec, anchorrec.training.trainer\n"
        f"f.atomic_write_text({str(tmp_path / 'x.txt')!r}, 'ok')\n"
        "print(open(" + repr(str(tmp_path / "x.txt")) + ").read())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    source = (PROJECT_ROOT / "anchorrec" / "fileio.py").read_text(encoding="utf-8")
    assert "import fcntl" not in source and "filelock" in source


def test_filelock_is_a_declared_requirement():
    lines = (PROJECT_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert any(line.split(">")[0].split("=")[0].strip() == "filelock" for line in lines)


# ------------------------------------------------------------------------------ names, numbers
def test_messages_escape_control_characters_of_names():
    exc = DatasetError("/data/to\ny\x1b[31m\u2028.inter, line 3: bad\tvalue")
    assert str(exc) == "/data/to\\ny\\x1b[31m\\u2028.inter, line 3: bad\tvalue"
    assert "\n" not in str(exc)
    assert printable("a\nb", keep_newlines=True) == "a\nb"


def test_validate_prints_a_name_with_a_newline_on_one_line(tmp_path, capsys):
    from tests.data.malformed.corpus import write_valid_mmrec

    d = write_valid_mmrec(tmp_path / "shop\nfake: ok")
    (d / "toy.inter").rename(d / "to\ny.inter")
    capsys.readouterr()
    assert main(["validate", str(d)]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("dataset"))
    assert "shop\\nfake: ok" in line and not any(x.startswith("fake") for x in out.splitlines())


@pytest.mark.parametrize("spec", ["0_1", "\u0661", "1\u2028", "\xa01"])
def test_cli_user_ids_are_parsed_strictly(model, spec, capsys):
    capsys.readouterr()
    assert main(["recommend", str(model), "--user", spec, "--device", "cpu"]) == 2
    assert "--user" in capsys.readouterr().err
