"""Run a tutorial notebook headless with parameters injected (papermill-style)."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def parameter_cell_index(nb: nbformat.NotebookNode) -> int:
    return next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))


def run_notebook(name: str, workdir: Path, **parameters) -> nbformat.NotebookNode:
    """Execute ``notebooks/<name>`` in ``workdir`` with ``parameters`` injected in a cell right
    after the tagged one (as papermill does); the executed copy is kept in ``workdir``.

    The injected cell also checks that the kernel runs this interpreter (the venv's python)."""
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    lines = [f"{key} = {value!r}" for key, value in parameters.items()]
    lines += ["import sys", f"assert sys.prefix == {sys.prefix!r}, sys.prefix"]
    injected = nbformat.v4.new_code_cell("\n".join(lines))
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(parameter_cell_index(nb) + 1, injected)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=600,
        resources={"metadata": {"path": str(workdir)}},
    )
    try:
        client.execute()
    finally:
        nbformat.write(nb, workdir / name)
    return nb
