"""`sentireview data download|prepare` through the real command-line entry point."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

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


def _prepare_cli(source: Path, out: Path) -> list[str]:
    return ["data", "prepare", str(source), "--out", str(out), "--workers", "1", "--no-progress"]


@pytest.mark.parametrize(
    ("layout", "content"),
    [
        ("kaggle", "review,sentiment\nA bright film,positive\nA grey film,negative\n"),
        ("tutorial", ",review,label\n4,A bright film,1\n9,A grey film,0\n"),
    ],
)
def test_both_csv_layouts_prepare_and_the_manifest_names_them(tmp_path, layout, content):
    source = tmp_path / "reviews.csv"
    source.write_text(content, "utf-8")
    assert main(_prepare_cli(source, tmp_path / "p")) == 0
    manifest = json.loads((tmp_path / "p" / "manifest.json").read_text("utf-8"))
    assert manifest["source"]["layout"] == layout and manifest["split"] == "tutorial"
    assert manifest["skipped"]["empty_review"] == 0


def test_skipped_rows_are_named_on_stderr(tmp_path):
    source = tmp_path / "valid_prepared.csv"
    rows = [f"{n},Cut {n} of the film was {'sharp' if n % 2 else 'limp'},{n % 2}" for n in (7, 3)]
    source.write_text(
        "\n".join([",review,label", rows[0], "12,,1", rows[1], "40,  ,0", rows[0], ""]), "utf-8"
    )
    # A real process: the command configures logging to stderr, which pytest would capture.
    done = subprocess.run(
        [sys.executable, "-m", "sentireview", *_prepare_cli(source, tmp_path / "p")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (
        f"{source}: skipped 2 row(s) with an empty review: row 2 (index 12), row 4 (index 40)"
        in done.stderr
    )
    manifest = json.loads((tmp_path / "p" / "manifest.json").read_text("utf-8"))
    assert manifest["source"]["layout"] == "tutorial"
    assert manifest["skipped"] == {"empty_review": 2, "first_rows": [2, 4]}
    assert manifest["duplicates"]["extra_copies"] == 1  # row 5 repeats row 1, kept


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "review,sentiment,label\nfine,positive,1\n",
            "header row: both 'sentiment' (Kaggle layout) and 'label' (tutorial layout) "
            "columns, so the labels are ambiguous (found review, sentiment, label)",
        ),
        (
            ",review,score\n0,fine,1\n",
            "header row: no label column; expected 'sentiment' (Kaggle layout review,sentiment) "
            "or 'label' (tutorial layout ,review,label) (found '', review, score)",
        ),
        (",review,label\n0,fine,1\n1,hmm,-1\n", "row 2: unknown label '-1' (expected 0 or 1)"),
    ],
    ids=["both label columns", "no label column", "label not 0 or 1"],
)
def test_ambiguous_or_unknown_columns_are_one_line_errors(tmp_path, capsys, content, message):
    source = tmp_path / "reviews.csv"
    source.write_text(content, "utf-8")
    assert main(_prepare_cli(source, tmp_path / "p")) == 2
    assert capsys.readouterr().err == f"sentireview: error: {source}: {message}\n"
    assert not (tmp_path / "p").exists()
