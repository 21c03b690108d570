"""The command line as a user meets it: help texts, version, one-line errors."""

import subprocess
import sys

import pytest

from sentireview import __version__
from sentireview.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sentireview", *args], capture_output=True, text=True, timeout=120
    )


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_help_lists_command_groups():
    out = run_cli("--help")
    assert out.returncode == 0
    for group in ("data", "train", "evaluate", "predict", "export"):
        assert group in out.stdout
    assert "ensemble" not in out.stdout  # removed with the LSTM ensembles


@pytest.mark.parametrize(
    "argv",
    [
        ["data", "download", "--help"],
        ["data", "prepare", "--help"],
        ["train", "lstm", "--help"],
        ["train", "transformer", "--help"],
        ["evaluate", "--help"],
        ["predict", "--help"],
        ["export", "--help"],
    ],
)
def test_every_command_has_help(argv):
    out = run_cli(*argv)
    assert out.returncode == 0, out.stderr
    assert "usage: sentireview" in out.stdout
    assert len(out.stdout.splitlines()) > 3


def test_missing_command_is_an_error():
    out = run_cli()
    assert out.returncode != 0
    assert "COMMAND" in out.stderr


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "lstm", "--data", "d", "--out", "r", "--epochs", "0"], "must be at least 1"),
        (["data", "download", "--out", "{tmp}/d", "--url", "notaurl", "--sha256", "0" * 64],
         "cannot download notaurl"),
        (["data", "prepare", "{tmp}/r.csv", "--out", "/proc/nope/out"], "/proc/nope"),
    ],
)
def test_bad_arguments_give_one_line_and_no_traceback(tmp_path, argv, message):
    (tmp_path / "r.csv").write_text("review,sentiment\nfine film,positive\nbad one,negative\n")
    out = run_cli(*[a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    assert message in out.stderr.strip().splitlines()[-1]


def test_batch_commands_use_every_usable_cpu_unless_told(tmp_path, monkeypatch):
    import os

    from sentireview.backends.onnx import default_threads
    from sentireview.cli import usable_cpus

    monkeypatch.delenv("SENTIREVIEW_THREADS", raising=False)
    assert default_threads() == 1  # the library's default (the web process)
    assert main(["evaluate", str(tmp_path / "none"), "--data", str(tmp_path)]) == 2
    assert os.environ["SENTIREVIEW_THREADS"] == str(usable_cpus())
    assert default_threads() == usable_cpus()
    monkeypatch.setenv("SENTIREVIEW_THREADS", "1")  # a setting of the user's is kept
    main(["evaluate", str(tmp_path / "none"), "--data", str(tmp_path)])
    assert os.environ["SENTIREVIEW_THREADS"] == "1"
