"""`sentireview data download|prepare` through the real command-line entry point."""

from __future__ import annotations

import hashlib
import json

import pytest

from sentireview.cli import main


def test_download_local_archive_then_prepare(tmp_path, aclimdb_tar):
    out = tmp_path / "dataset"
    sha = hashlib.sha256(aclimdb_tar.read_bytes()).hexdigest()
    args = ["data", "download", "--out", str(out), "--archive", str(aclimdb_tar), "--sha256", sha]
    assert main(args) == 0
    assert main(args) == 0  # second run: nothing to do
    prepared = tmp_path / "dataset" / "prepared"
    assert main(["data", "prepare", str(out / "aclImdb"), "--out", str(prepared),
                 "--workers", "1", "--no-progress"]) == 0  # fmt: skip
    manifest = json.loads((prepared / "manifest.json").read_text("utf-8"))
    assert manifest["split"] == "official" and manifest["recipe"] == "tutorial"


def test_user_errors_are_one_line_and_exit_2(tmp_path, capsys):
    source = tmp_path / "reviews.csv"
    source.write_text("review,sentiment\nfine,positive\nhmm,mixed\n", "utf-8")
    assert main(["data", "prepare", str(source), "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"sentireview: error: {source}: row 2: unknown sentiment 'mixed' "
        "(expected 'positive' or 'negative')"
    )
    assert not (tmp_path / "p").exists()


def test_help_texts(capsys):
    for command in (["data"], ["data", "download"], ["data", "prepare"]):
        with pytest.raises(SystemExit) as info:
            main([*command, "--help"])
        assert info.value.code == 0
    assert "--recipe {tutorial,recommended,words}" in capsys.readouterr().out
