"""scripts/build_frontend.sh (set-up and Heroku's heroku-postbuild): builds, and is cheap to rerun.

The script runs on a copy of the front end in a temporary folder, so the checkout's own
node_modules and dist are left alone. The first run needs the npm registry or npm's cache.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build_frontend.sh"
APP = ROOT / "webapp" / "react"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed"),
]


def run_script(root: Path, *args: str) -> str:
    result = subprocess.run(
        ["bash", str(root / "scripts" / "build_frontend.sh"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "npm_config_prefer_offline": "true"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A minimal copy of the repository layout the script expects."""
    (tmp_path / "scripts").mkdir()
    shutil.copy2(SCRIPT, tmp_path / "scripts" / SCRIPT.name)
    shutil.copytree(
        APP, tmp_path / "webapp" / "react", ignore=shutil.ignore_patterns("node_modules", "dist")
    )
    return tmp_path


def test_build_twice_skips_npm_ci_the_second_time(checkout: Path) -> None:
    app = checkout / "webapp" / "react"

    first = run_script(checkout)
    assert "installing npm packages (npm ci)" in first
    index = app / "dist" / "index.html"
    assert index.is_file()
    assert '<div id="root">' in index.read_text()
    assert list((app / "dist" / "assets").glob("index-*.js"))

    second = run_script(checkout)
    assert "skipping npm ci" in second
    assert "installing npm packages" not in second
    assert index.is_file()

    # A changed lock file means a fresh install.
    lock = app / "package-lock.json"
    lock.write_text(json.dumps(json.loads(lock.read_text()), indent=1) + "\n")
    third = run_script(checkout)
    assert "installing npm packages (npm ci)" in third

    # Heroku's build prunes the build tools once dist/ is there.
    run_script(checkout, "--prune")
    assert index.is_file() and not (app / "node_modules").exists()


def test_root_package_json_runs_the_same_build_on_heroku() -> None:
    root_pkg = json.loads((ROOT / "package.json").read_text())
    assert root_pkg["scripts"] == {"heroku-postbuild": "bash scripts/build_frontend.sh --prune"}
    assert root_pkg["engines"]["node"].startswith("20")
    assert (ROOT / "package-lock.json").is_file()


def test_front_end_has_the_four_scripts() -> None:
    pkg = json.loads((APP / "package.json").read_text())
    assert set(pkg["scripts"]) == {"dev", "build", "test", "preview"}
    assert (APP / "package-lock.json").is_file()
