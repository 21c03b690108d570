"""Shared test settings: keep torch and BLAS to one thread so tests stay quick on 2 cores."""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("SENTIREVIEW_THREADS", "1")  # ONNX Runtime (the CLI would take every CPU)
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

# Hypothesis: no per-example deadline (its 200 ms default fails at random on a shared 2-core
# machine; the worst-case timings are the benchmarks' job) and the example database off, so
# a run depends only on the seed Hypothesis prints on failure (--hypothesis-seed replays it).
from hypothesis import settings  # noqa: E402

settings.register_profile("sentireview", deadline=None, database=None, print_blob=True)
settings.load_profile("sentireview")
