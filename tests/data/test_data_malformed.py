"""Every malformed input of the corpus ends in a clear DatasetError that names the file and
line/field, exits 2 through the CLI, and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from anchorrec.cli import main
from anchorrec.data.archive import safe_extract_zip
from anchorrec.data.catalog import import_catalog
from anchorrec.data.mmrec import load_mmrec
from anchorrec.errors import DatasetError
from tests.data.malformed.corpus import CASES, Case

#: Options of the catalogue cases unless a case overrides them.
CATALOG_DEFAULTS = {"k_core": 3, "on_missing_image": "fail", "split": "auto"}


def snapshot(root: Path) -> dict[str, float]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*")}


def test_the_corpus_is_large_and_covers_every_kind() -> None:
    kinds = {c.kind for c in CASES}
    assert len(CASES) >= 25
    assert kinds == {"mmrec", "catalog", "zip"}
    assert len({c.name for c in CASES}) == len(CASES)


def _catalog_args(d: Path, case: Case) -> tuple[list[str], dict[str, object]]:
    opts = {**CATALOG_DEFAULTS, **case.options}
    argv = [
        "import-catalog",
        "--items", str(d / "items.csv"),
        "--interactions", str(d / "interactions.csv"),
        "--images", str(d / "photos"),
        "--out", str(d / "out"),
        "--k-core", str(opts["k_core"]),
        "--split", str(opts["split"]),
        "--on-missing-image", str(opts["on_missing_image"]),
        "--device", "cpu",
        "--no-progress",
    ]  # fmt: skip
    return argv, opts


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_malformed_input_is_a_clear_error(case: Case, tmp_path: Path, capsys) -> None:
    d = tmp_path / "case"
    case.build(d)
    before = snapshot(tmp_path)

    if case.kind == "mmrec":
        with pytest.raises(DatasetError) as err:
            load_mmrec(d, **case.options)
        argv = ["validate", str(d)]
        if case.options.get("on_duplicate") == "error":
            argv.append("--strict-duplicates")
    elif case.kind == "catalog":
        argv, opts = _catalog_args(d, case)
        with pytest.raises(DatasetError) as err:
            import_catalog(
                d / "items.csv",
                d / "interactions.csv",
                d / "photos",
                d / "out",
                device="cpu",
                progress=False,
                **opts,
            )
        assert not (d / "out").exists()
    else:
        target = tmp_path / "extracted"
        with pytest.raises(DatasetError) as err:
            safe_extract_zip(d / "upload.zip", target, **case.options)
        assert not target.exists()
        argv = None

    message = str(err.value)
    for needle in case.needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    assert snapshot(tmp_path) == before, "a failed check wrote or changed files"

    if argv is not None:
        capsys.readouterr()
        assert main(argv) == 2
        stderr = capsys.readouterr().err
        assert stderr.startswith("error: ")
        assert case.needles[0] in stderr
        assert "Traceback" not in stderr
        assert snapshot(tmp_path) == before
