"""Atomic writes: nothing is half-written. Write beside the target, then rename.

Every output goes through this module, which also refuses the targets a rename would damage:

* :func:`output_file` resolves a symbolic link (the file it points to is replaced, not the
  link) and refuses anything that is not a regular file or absent (a device such as
  ``/dev/null``, a FIFO, a directory) with an :class:`OutputError`;
* :func:`atomic_dir` refuses to replace a symbolic link, a file, the current directory or one
  of its parents, and names its temporary folders ``.<name>.tmp-<pid>-*`` so that an
  interrupted writer's leftovers are recognised (:func:`is_temporary_name`) and removed by the
  next writer once that process is gone (:func:`stale_temporaries`);
* :func:`output_lock` makes a second writer of the same output refuse instead of deleting the
  first one's work (``train --out``), with the ``filelock`` package (so this module imports on
  every system, Windows included);
* :func:`describe_os_error` turns what a user fixes (a full disk, including NumPy's short
  write without an errno; a read-only folder) into one line, and :func:`read_regular_file`
  reads a regular file within a size limit checked before any byte is read;
* folders are created with the mode a plain ``mkdir`` gives (``0777`` less the umask).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import inspect
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from anchorrec.errors import OutputError

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
#: ``.<name>.tmp-<pid>-<random>`` and ``.<name>.old-<pid>-<random>``: an atomic_dir's workings.
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)-[A-Za-z0-9_]+$")
#: Errors of the file system that a user fixes (space, permissions, a read-only disk).
_USER_FIXABLE = {
    errno.ENOSPC: "no space left on the device; free some space or write elsewhere",
    errno.EDQUOT: "the disk quota is exceeded; free some space or write elsewhere",
    errno.EROFS: "the file system is read-only; write elsewhere",
    errno.EACCES: "permission denied; check its permissions or use another path",
    errno.EPERM: "operation not permitted; check its permissions or use another path",
    errno.ENAMETOOLONG: "the path is too long; choose a shorter one",
    errno.EFBIG: "the file is too large for this file system",
}


#: NumPy's ``tofile`` (under ``np.save``) reports a short write as ``OSError("N requested and
#: M written")`` with no errno: the disk filled up (or a quota was hit) mid-write.
_SHORT_WRITE = re.compile(r"(\d+) requested and (\d+) written")


def is_short_write(exc: BaseException) -> bool:
    """Whether ``exc`` is a write that stopped short without an errno (NumPy's full disk)."""
    return (
        isinstance(exc, OSError)
        and exc.errno is None
        and bool(exc.args)
        and _SHORT_WRITE.search(str(exc.args[0])) is not None
    )


def describe_os_error(exc: OSError) -> str | None:
    """A one-line message for an OS error a user can fix (disk full, read-only…), else None.

    A short write without an errno (:func:`is_short_write`) is a full disk too.
    """
    if is_short_write(exc):
        where = exc.filename if exc.filename is not None else "writing"
        return f"{where}: {_USER_FIXABLE[errno.ENOSPC]} (a write stopped short: {exc.args[0]})."
    what = _USER_FIXABLE.get(exc.errno or 0)
    if what is None:
        return None
    where = exc.filename if exc.filename is not None else "writing"
    return f"{where}: {what} ({exc.strerror})."


def exchange_paths(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Swap two existing paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False where the system or file system cannot do it; the caller then falls back.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    renameat2.restype = ctypes.c_int
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), os.fspath(b))


def _read_umask() -> int:
    umask = os.umask(0)  # reading the umask means setting it: done once, at import
    os.umask(umask)
    return umask


_UMASK = _read_umask()
#: 0666 / 0777 less the process umask: the modes a plain ``open(path, "w")`` / ``mkdir`` give.
_FILE_MODE = 0o666 & ~_UMASK
_DIR_MODE = 0o777 & ~_UMASK


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words (for messages)."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def output_file(path: str | os.PathLike[str]) -> Path:
    """The regular file an atomic write of ``path`` replaces, or an :class:`OutputError`.

    A symbolic link is followed (the file it points to is written, the link stays); a target
    that exists and is not a regular file (a device, a FIFO, a socket, a directory) is refused,
    since replacing it by a rename would destroy it.
    """
    raw = Path(path)
    if not raw.name or raw.name in (".", ".."):
        raise OutputError(f"{raw}: is a directory; give the path of a file to write.")
    try:
        resolved = raw.resolve(strict=False) if raw.is_symlink() else raw
        st = os.stat(resolved)
    except FileNotFoundError:
        if raw.is_symlink() and not resolved.parent.is_dir():  # dangling, nowhere to write
            raise OutputError(
                f"{raw}: is a symbolic link to {resolved}, whose folder does not exist; "
                "fix the link or write elsewhere."
            ) from None
        return resolved
    except RuntimeError:  # a symlink loop (Python < 3.13)
        raise OutputError(
            f"{raw}: is a looping symbolic link; remove it or write elsewhere."
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputError(
                f"{raw}: is a looping symbolic link; remove it or write elsewhere."
            ) from None
        message = describe_os_error(exc)
        if message is None:
            raise
        raise OutputError(message) from None
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(
            f"{raw}: is {file_kind(st.st_mode)}; an output is written as a new regular file, which "
            "would replace it. Give the path of a regular file."
        )
    return resolved


def check_output_file(path: str | os.PathLike[str]) -> Path:
    """:func:`output_file` plus a check that its folder can be written, before any work."""
    target = output_file(path)
    probe_writable(target.parent)
    return target


def probe_writable(directory: str | os.PathLike[str]) -> None:
    """Raise an :class:`OutputError` unless files can be created in ``directory``.

    Checked on the nearest existing folder, without writing anything: its permissions for
    this process (``os.access``) and whether its file system is mounted read-only (which
    ``os.access`` does not tell root).
    """
    folder = Path(directory)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"{folder}: is not a folder, so nothing can be written inside it.")
    try:
        read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if read_only:
        raise OutputError(
            f"{folder}: the file system is read-only; write the output elsewhere (checked before "
            "any work, so nothing was computed in vain)."
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(
            f"{folder}: permission denied; choose a folder you can write to (checked before any "
            "work, so nothing was computed in vain)."
        )


def _check_dir_target(target: Path) -> None:
    """Refuse directory targets that a replacement would damage."""
    if target.is_symlink():
        raise OutputError(
            f"{target}: is a symbolic link; give the real folder ({target.resolve()}) or a new "
            "path, so the link is not replaced."
        )
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target}: exists and is not a folder; choose another output.")
    resolved = target.resolve()
    cwd = Path.cwd().resolve()
    if resolved == resolved.parent or cwd == resolved or cwd.is_relative_to(resolved):
        raise OutputError(
            f"{target}: is the current folder or one of its parents; replacing it would delete "
            "what you are working in. Give a new folder as the output."
        )
    home = Path.home().resolve()
    if resolved == home or home.is_relative_to(resolved):
        raise OutputError(f"{target}: is your home folder or above it; give a new folder.")


def check_output_dir(target: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Check, before any work, that :func:`atomic_dir` will be able to write ``target``.

    Refuses (:class:`OutputError`) a symbolic link, a file, the current folder or one of its
    parents, an existing ``target`` without ``overwrite``, and a parent that cannot be
    written (tried, not guessed: a read-only disk says no even to root).
    """
    target = Path(target)
    _check_dir_target(target)
    if target.exists() and not overwrite:
        raise OutputError(f"{target}: already exists; choose another output or pass --overwrite.")
    probe_writable(target.parent)
    return target


def is_temporary_name(name: str) -> bool:
    """Whether ``name`` is an atomic write's temporary or old folder (never a dataset or model)."""
    return _TEMPORARY.match(name) is not None or bool(re.match(r"^\..+\.tmp-", name))


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Temporary folders in ``folder`` left by an atomic write whose process is gone."""
    folder = Path(folder)
    try:
        names = sorted(p.name for p in folder.iterdir())
    except OSError:
        return []
    out = []
    for name in names:
        m = _TEMPORARY.match(name)
        if m and not _pid_alive(int(m["pid"])):
            out.append(folder / name)
    return out


def make_dirs(path: str | os.PathLike[str]) -> Path:
    """``mkdir -p`` with the umask's mode; an unwritable parent is an :class:`OutputError`."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{path}: exists and is not a folder.") from None
    except OSError as exc:
        message = describe_os_error(exc)
        if message is None:
            raise
        raise OutputError(message) from None
    return path


def _mkdtemp(parent: Path, name: str, kind: str) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.{kind}-{os.getpid()}-", dir=parent))
    os.chmod(tmp, _DIR_MODE)  # mkdtemp makes 0700; a folder follows the umask like mkdir's
    return tmp


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a fresh temporary directory beside ``target``; on success rename it into place.

    On any exception the temporary directory is removed and ``target`` is untouched. With
    ``overwrite`` an existing ``target`` is replaced in one atomic exchange where the system
    offers it (Linux), else by moving the old one aside first; either way a reader sees the
    old or the new directory, never a mix. A symbolic link, a file, the current folder or one
    of its parents is never replaced (:class:`OutputError`). Temporary folders left by a
    killed writer of the same target are removed first.
    """
    target = Path(target)
    _check_dir_target(target)
    if target.exists() and not overwrite:
        raise FileExistsError(
            f"{target} already exists; choose another output or pass --overwrite."
        )
    make_dirs(target.parent)
    for stale in stale_temporaries(target.parent):
        if _TEMPORARY.match(stale.name)["name"] == target.name:  # type: ignore[index]
            shutil.rmtree(stale, ignore_errors=True)
    tmp = _mkdtemp(target.parent, target.name, "tmp")
    try:
        yield tmp
        if target.exists():
            if exchange_paths(tmp, target):  # readers see the old or the new, never nothing
                shutil.rmtree(tmp, ignore_errors=True)
                return
            old = _mkdtemp(target.parent, target.name, "old")
            os.replace(target, old / "x")
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename.

    A symbolic link is written through (its target is replaced); a device, FIFO or folder at
    ``path`` is refused (:func:`output_file`). On a failure (a full disk) the temporary file
    is removed and ``path`` keeps its old content.
    """
    path = output_file(path)
    make_dirs(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _FILE_MODE)  # mkstemp makes 0600; behave like open()
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def save_npy(path: str | os.PathLike[str], array: Any) -> None:
    """``np.save(path, array)`` whose short write (a full disk, which NumPy reports without an
    errno) is an ``OSError(ENOSPC)`` naming ``path``, so :func:`describe_os_error` says so."""
    import numpy as np

    try:
        np.save(path, array)
    except OSError as exc:
        if not is_short_write(exc):
            raise
        raise OSError(
            errno.ENOSPC, f"{os.strerror(errno.ENOSPC)}; {exc.args[0]}", os.fspath(path)
        ) from None


class FileTooLargeError(OSError):
    """A file is larger than the reader's limit (raised before anything is read)."""


def read_regular_file(path: str | os.PathLike[str], max_bytes: int | None = None) -> bytes:
    """The bytes of ``path`` if it is a regular file (after links), read within a limit.

    A FIFO or a device raises ``IsADirectoryError`` at once instead of blocking or streaming
    forever; a file over ``max_bytes`` raises :class:`FileTooLargeError` from its size, before
    any byte is read (and at most ``max_bytes + 1`` bytes are ever read, should it grow).
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "not a regular file", os.fspath(path))
        if max_bytes is not None and st.st_size > max_bytes:
            raise FileTooLargeError(
                errno.EFBIG, f"{st.st_size} bytes, over the limit of {max_bytes}", os.fspath(path)
            )
        os.set_blocking(fd, True)
        data = fh.read() if max_bytes is None else fh.read(max_bytes + 1)
        if max_bytes is not None and len(data) > max_bytes:
            raise FileTooLargeError(
                errno.EFBIG, f"over the limit of {max_bytes} bytes", os.fspath(path)
            )
        return data


# ------------------------------------------------------------------------------ locks
def lock_path(target: str | os.PathLike[str]) -> Path:
    """The lock file of an output: ``.<name>.lock`` beside it."""
    target = Path(target)
    return target.parent / f".{target.name}.lock"


def _write_pid(path: Path) -> None:
    """Note the holder's process id in the lock file (for the second writer's message)."""
    with contextlib.suppress(OSError), open(path, "r+b") as fh:  # Windows may refuse: no name
        fh.truncate(0)
        fh.write(f"{os.getpid()}\n".encode())


def _lock_holder(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()[:32] or "?"
    except OSError:  # Windows refuses to read a locked file; the lock is still held
        return "?"


@contextlib.contextmanager
def output_lock(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold an exclusive lock on the output ``target`` (and everything beside it named after it,
    such as ``<target>.resume``) for the duration of the block.

    A second holder gets an :class:`OutputError` at once, naming the process that holds it.
    The lock is the maintained ``filelock`` package's lock on ``.<name>.lock`` beside
    ``target`` (``flock`` on Linux and macOS, ``msvcrt`` locking on Windows), so it is released
    when the process dies (even by SIGKILL); the file is removed on release.
    """
    import filelock

    target = Path(target)
    make_dirs(target.parent)
    path = lock_path(target)
    lock = filelock.FileLock(path, blocking=False, thread_local=False)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise OutputError(
            f"{target}: another run (process {_lock_holder(path)}) is writing this output now; "
            "wait for it to finish or choose another --out."
        ) from None
    except OSError as exc:
        message = describe_os_error(exc)
        if message is None:
            raise
        raise OutputError(message) from None
    _write_pid(path)
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):  # removed while held: a waiter then locks anew
            os.unlink(path)
        lock.release()


F = TypeVar("F", bound=Callable[..., Any])


def locks_output(argument: str) -> Callable[[F], F]:
    """Decorate a function so that it holds :func:`output_lock` on its ``argument`` (a path,
    or None for no output) while it runs."""

    def deco(fn: F) -> F:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            target = signature.bind_partial(*args, **kwargs).arguments.get(argument)
            if target is None:
                return fn(*args, **kwargs)
            with output_lock(target):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return deco


# ------------------------------------------------------------------------------ CSV exports
#: A cell that starts with one of these is a formula to a spreadsheet (OWASP, CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula.

    OWASP's rule for CSV injection: a text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab
    or a carriage return is prefixed with a single quote, so it is shown as text. Numbers are
    left as they are (a negative number is not a formula).
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def spreadsheet_safe(frame: Any) -> Any:
    """A copy of the DataFrame ``frame`` whose text cells and column names are neutralised."""
    out = frame.copy()
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in ("string", "str", "category"):
            out[col] = out[col].astype(object).map(neutralise_cell)
    return out


def csv_bytes(frame: Any, **to_csv: Any) -> bytes:
    """``frame`` as UTF-8 CSV bytes for a download, with every text cell neutralised.

    Text cells are always quoted (numbers are not), so a carriage return inside a cell cannot
    end a row; the header is quoted only where it needs to be.
    """
    import csv

    safe = spreadsheet_safe(frame)
    names = [str(c) for c in safe.columns]
    header = ",".join(
        '"' + n.replace('"', '""') + '"' if any(ch in n for ch in ',"\r\n') else n for n in names
    )
    options = {"index": False, "header": False, "quoting": csv.QUOTE_NONNUMERIC, **to_csv}
    return (header + "\n" + safe.to_csv(**options)).encode("utf-8")
