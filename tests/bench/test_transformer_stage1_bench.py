"""bench/transformer_stage1.py on invented reviews and the tiny offline encoder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.fake_reviews import make_tiny_encoder, write_dataset

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_stage1_bench_prints_both_ways_and_the_ratios(tmp_path):
    data = write_dataset(tmp_path / "prepared", n_train=64, n_valid=16)
    encoder = make_tiny_encoder(tmp_path / "encoder")
    argv = [sys.executable, str(ROOT / "bench" / "transformer_stage1.py"), "--data", str(data),
            "--encoder", str(encoder), "--train", "48", "--valid", "16"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stderr + out.stdout
    for line in ("  plain :", "  cached:", "speed-up:", "encoding pass: plain padded fp32"):
        assert line in text, text[-2000:]
    # the same reviews and head updates both ways: the same best validation loss
    losses = [float(line.rsplit("loss ", 1)[1]) for line in text.splitlines()
              if line.startswith(("  plain :", "  cached:"))]
    assert len(losses) == 2 and losses[0] == pytest.approx(losses[1], abs=1e-3)
    pooled = subprocess.run([*argv, "--pooling", "first,mean"], capture_output=True, text=True,
                            timeout=600, cwd=ROOT)
    assert pooled.returncode == 0, pooled.stderr[-2000:]
    assert "pooling first " in pooled.stderr and "pooling mean  " in pooled.stderr
