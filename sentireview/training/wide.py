"""Training the LSTM's wide part (hashed n-grams) and weighting it against the LSTM.

The wide part is a linear model over binary n-gram features, and a linear model has a best
fit that an optimiser can find exactly: logistic regression with an L2 penalty, on features
scaled by NBSVM's log-count ratio (Wang & Manning 2012), solved full-batch with L-BFGS on a
sparse matrix (about a minute on IMDb's 22,500 training reviews on 2 cores). Fitted before
the LSTM and then frozen. Trained jointly by SGD instead, it fits the training reviews
within an epoch and the LSTM beside it stops learning (measured: docs/accuracy.md).

After the LSTM is trained, :func:`fit_mix` weighs the two logits (and a bias) by logistic
regression on held-out reviews: on the training reviews the wide part is nearly always right,
so weights fitted there would trust it far too much.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import torch
from torch import nn

from sentireview.models.wide import WideLSTMClassifier, ngram_hashes
from sentireview.vocab import pad_ids

log = logging.getLogger(__name__)


@torch.no_grad()
def ngram_matrix(
    model: WideLSTMClassifier, ids: Sequence[Sequence[int]], batch_size: int = 256
) -> torch.Tensor:
    """Binary (reviews, buckets) sparse CSR matrix of the reviews' hashed n-grams."""
    cfg = model.config
    rows, cols = [], []
    for start in range(0, len(ids), batch_size):
        padded, lengths = _padded(ids[start : start + batch_size])
        hashes = ngram_hashes(padded, lengths, cfg.ngram_orders, cfg.ngram_buckets)
        r, c = (hashes > 0).nonzero(as_tuple=True)
        rows.append(r + start)
        cols.append(hashes[r, c])
    index = torch.stack([torch.cat(rows), torch.cat(cols)])
    values = torch.ones(index.shape[1])
    shape = (len(ids), cfg.ngram_buckets)
    coo = torch.sparse_coo_tensor(index, values, shape, check_invariants=True)
    return _csr(coo)


def _csr(coo: torch.Tensor) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta")
        return coo.coalesce().to_sparse_csr()


def nb_log_ratio(x: torch.Tensor, labels: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """NBSVM's r = log((p / |p|_1) / (q / |q|_1)): p and q the smoothed counts of positive and
    negative reviews containing each n-gram; (buckets,)."""
    positive = torch.sparse.mm(labels.view(1, -1).to_sparse(), x.to_sparse_coo()).to_dense()
    total = torch.sparse.sum(x.to_sparse_coo(), dim=0).to_dense()
    p = positive.view(-1) + alpha
    q = (total - positive.view(-1)) + alpha
    return (p / p.sum()).log() - (q / q.sum()).log()


def _solve(
    x: torch.Tensor, y: torch.Tensor, c: float, max_iter: int
) -> tuple[torch.Tensor, float, int]:
    """NB-scaled L2 logistic regression on the binary matrix ``x``: minimise
    ``c * sum(BCE) + |v|^2 / 2`` over v, with logit = X (r * v) + b; returns (w = r * v, b,
    iterations)."""
    r = nb_log_ratio(x, y)
    v = torch.zeros(x.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [v, b],
        max_iter=max_iter,
        history_size=20,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-6,
        tolerance_change=1e-9,
    )

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        z = torch.mv(x, v * r) + b
        loss = c * nn.functional.binary_cross_entropy_with_logits(z, y, reduction="sum")
        loss = loss + 0.5 * (v * v).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    w = (v * r).detach()
    w[0] = 0.0  # the padding bucket
    n_iter = int(optimizer.state[optimizer._params[0]].get("n_iter", 0))
    return w, float(b.detach()), n_iter


def fit_wide(
    model: WideLSTMClassifier,
    ids: Sequence[Sequence[int]],
    labels: Sequence[int],
    c: float = 4.0,
    max_iter: int = 300,
) -> dict[str, float]:
    """Fit the wide part's weights on these reviews (and leave them frozen); returns a
    summary (iterations, training accuracy, the fit's bias)."""
    y = torch.tensor(labels, dtype=torch.float32)
    x = ngram_matrix(model, ids)
    w, bias, n_iter = _solve(x, y, c, max_iter)
    with torch.no_grad():
        model.wide.weight.copy_(w.view(-1, 1).to(model.wide.weight))
        model.wide.weight.requires_grad_(False)
        accuracy = float(((torch.mv(x, w) + bias > 0).float() == y).float().mean())
    log.info("wide part: %d iterations, training accuracy %.4f", n_iter, accuracy)
    return {"iterations": n_iter, "train_accuracy": accuracy, "bias": bias}


@torch.no_grad()
def wide_logits(model: WideLSTMClassifier, ids: Sequence[Sequence[int]]) -> torch.Tensor:
    """The (fitted) wide part's logit of each review, (n,)."""
    out = []
    for start in range(0, len(ids), 256):
        padded, lengths = _padded(ids[start : start + 256])
        out.append(model.wide_logits(padded, lengths).float())
    return torch.cat(out) if out else torch.empty(0)


@torch.no_grad()
def fit_mix(
    model: WideLSTMClassifier, ids: Sequence[Sequence[int]], labels: Sequence[int]
) -> list[float]:
    """Weights of the deep and wide logits and a bias, by logistic regression on held-out
    reviews; sets ``model.mix`` and returns it."""
    was_training = model.training
    model.eval()
    device = model.mix.device
    parts = []
    for start in range(0, len(ids), 128):
        padded, lengths = _padded(ids[start : start + 128])
        parts.append(model(padded.to(device), lengths.to(device), parts=True).float().cpu())
    x, y = torch.cat(parts), torch.tensor(labels, dtype=torch.float32)
    w = torch.tensor([1.0, 1.0, 0.0], requires_grad=True)
    optimizer = torch.optim.LBFGS([w], max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        with torch.enable_grad():
            loss = nn.functional.binary_cross_entropy_with_logits(x @ w[:2] + w[2], y)
            loss.backward()
        return loss

    optimizer.step(closure)
    model.mix.copy_(w.detach().to(device))
    model.train(was_training)
    return [round(float(v), 6) for v in w.detach()]


def _padded(ids: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    padded, lengths = pad_ids(ids)  # an empty review becomes one <unk>
    return torch.from_numpy(padded), torch.from_numpy(lengths)
