"""Installed size of the web requirements (requirements.txt) in a fresh virtual environment.

    python bench/web_size.py [--keep DIR]

Creates a new venv in a temporary folder, ``pip install -r requirements.txt`` there, and
reports the size of its site-packages, the largest packages, and whether torch came in.
Goal (issue 4): under 300 MB, far below Heroku's 1 GB slug limit.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

log = logging.getLogger("web_size")
ROOT = Path(__file__).resolve().parents[1]
GOAL_MB = 300


def folder_size(path: Path) -> int:
    """Bytes of all regular files under ``path`` (symlinks not followed)."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def measure(env_dir: Path) -> dict:
    """Build the venv in ``env_dir``, install requirements.txt, return the figures."""
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-cache-dir", "-r", "requirements.txt"],
        cwd=ROOT, check=True,
    )
    (site,) = (env_dir / "lib").glob("python*/site-packages")
    packages = {}
    for entry in site.iterdir():
        if entry.name.endswith((".dist-info", ".pth")) or entry.name == "__pycache__":
            continue
        size = folder_size(entry) if entry.is_dir() else entry.stat().st_size
        packages[entry.name] = size
    frozen = subprocess.run(
        [str(python), "-m", "pip", "freeze"], capture_output=True, text=True, check=True
    ).stdout.split()
    return {
        "site_packages": folder_size(site),
        "venv": folder_size(env_dir),
        "packages": packages,
        "freeze": frozen,
        "torch": any(line.lower().startswith("torch") for line in frozen),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="build the venv here and keep it")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with tempfile.TemporaryDirectory(prefix="web-size-") as tmp:
        figures = measure(args.keep or Path(tmp) / "venv")
    mb = figures["site_packages"] / 1e6
    log.info("installed: %s", " ".join(figures["freeze"]))
    log.info("largest packages:")
    for name, size in sorted(figures["packages"].items(), key=lambda kv: -kv[1])[:10]:
        log.info("  %-28s %7.1f MB", name, size / 1e6)
    log.info("site-packages: %.1f MB; whole venv: %.1f MB (goal < %d MB); torch installed: %s",
             mb, figures["venv"] / 1e6, GOAL_MB, figures["torch"])
    return 0 if mb < GOAL_MB and not figures["torch"] else 1


if __name__ == "__main__":
    sys.exit(main())
