"""The tutorial's starter model: Embedding -> bidirectional LSTM -> Dropout -> Linear -> logit.

The sigmoid is applied outside (``BCEWithLogitsLoss`` in training, the predictor at serving
time), which is numerically safer than the tutorial's ``sigmoid`` + ``BCELoss``.

Every token of every review is read: the review's representation is the final hidden state
of the forward direction (after its last real token) concatenated with the final state of the
backward direction (after its first token), whatever the padding. Two equivalent paths:

* packed (``model.packed = True``): ``pack_padded_sequence`` so the LSTM stops at each length.
* unpacked (``model.packed = False``, and automatically under ONNX export, where packed
  sequences do not export): each direction runs over a plain (B, T, E) tensor, the backward
  one over the reviews reversed within their lengths; the states are gathered at position
  ``length - 1``. The LSTM is causal, so padding after a review's end never reaches them.
  Same numbers as the packed path up to float rounding (tested), and on CPU several times
  faster (packed sequences miss the fused kernel): the default.

Training can instead run the unpacked path through :class:`_Recurrence`
(``model.recurrence = "fused"``): the same LSTM equations and the same parameters
(``nn.LSTM``'s, so state dicts are unchanged), organised as cuDNN does: the input projections
of every step and both directions as one batched product, one loop over time for both
directions at once, and a hand-written backward whose weight gradient is again one product.
On an idle 2-core CPU oneDNN's RNN kernels (what ``torch.lstm`` runs) are about 1.7x faster,
so ``"auto"`` (the default) keeps ``torch.lstm``; when other processes share the cores,
oneDNN's multi-threaded steps stall and the fused path (single-threaded per-step loop) was
3.4x faster (figures in docs/training.md).

Two options, off by default (the tutorial's model), used by the shipped model:

* ``pooling="last_max"``: the final states concatenated with the element-wise maximum of
  both directions' outputs over the review's real tokens (what a long review says anywhere,
  not only what survives to its ends).
* ``ngram_buckets > 0``: a "wide" linear part (as in wide-and-deep models): every distinct
  word n-gram of 1 to ``ngram_orders`` words is hashed, from the word ids inside the model,
  into one of ``ngram_buckets`` weights; their sum is the wide logit, and the output is a
  weighted sum of the LSTM's logit and the wide one (``mix``). The hashing is integer
  arithmetic on the ids, so the inputs (and the ONNX graph's inputs) stay the same. How the
  parts are trained: :mod:`sentireview.training.wide`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence


@dataclass
class LSTMConfig:
    """Shape of the LSTM classifier (defaults: the tutorial's)."""

    vocab_size: int
    embed_dim: int = 500
    hidden: int = 128
    dropout: float = 0.3
    bidirectional: bool = True
    pad_id: int = 0
    pooling: str = "last"  # last: the tutorial's final states | last_max: + max over time
    ngram_buckets: int = 0  # > 0: the wide part, this many hashed n-gram weights (0: none)
    ngram_orders: int = 3  # n-grams of 1 to this many words
    members: int = 1  # > 1: an ensemble of this many LSTMs sharing the wide part (LSTMEnsemble)

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {self.pooling!r}; expected one of {POOLINGS}")
        if self.ngram_buckets < 0 or self.ngram_buckets == 1 or self.ngram_orders < 1:
            raise ValueError("ngram_buckets must be 0 or at least 2, ngram_orders at least 1")
        if self.members < 1:
            raise ValueError("members must be at least 1")


POOLINGS = ("last", "last_max")
# Multipliers of the n-gram hash (primes); products stay far below 2**63 (see ngram_hashes).
_HASH_PRIMES = (1_000_003, 998_244_353)


def _exporting() -> bool:
    return bool(torch.onnx.is_in_onnx_export() or torch.compiler.is_exporting())


class LSTMClassifier(nn.Module):
    """``forward(ids (B, T) int64, lengths (B,) int64) -> logits (B,)``; P(positive) = sigmoid."""

    def __init__(self, config: LSTMConfig) -> None:
        super().__init__()
        if config.members != 1:
            raise ValueError(
                "an LSTMClassifier has one member; use models.ensemble.build_lstm for an ensemble"
            )
        self.config = config
        self.packed = False  # True: pack_padded_sequence (same results, slower on CPU)
        self.recurrence = "auto"  # auto = torch: torch.lstm | fused: _Recurrence when training
        self.embedding = nn.Embedding(
            config.vocab_size, config.embed_dim, padding_idx=config.pad_id
        )
        self.lstm = nn.LSTM(
            config.embed_dim,
            config.hidden,
            num_layers=1,
            batch_first=True,
            bidirectional=config.bidirectional,
        )
        self.dropout = nn.Dropout(config.dropout)
        directions = 2 if config.bidirectional else 1
        pools = 2 if config.pooling == "last_max" else 1
        self.fc = nn.Linear(pools * directions * config.hidden, 1)
        self.wide = None
        if config.ngram_buckets:
            self.wide = nn.Embedding(config.ngram_buckets, 1, padding_idx=0)
            nn.init.zeros_(self.wide.weight)
            # How the two parts' logits are weighted: [deep, wide] and a bias. Not trained by
            # the optimizer: fitted on held-out reviews after training (see training.wide).
            self.mix = nn.Parameter(torch.tensor([1.0, 1.0, 0.0]), requires_grad=False)

    def forward(
        self, ids: torch.Tensor, lengths: torch.Tensor, parts: bool = False
    ) -> torch.Tensor:
        """Logits (B,); ``parts=True``: the two parts' logits (B, 2), [deep, wide] (the wide
        one zero without a wide part). With a wide part the logit is
        ``mix[0] * deep + mix[1] * wide + mix[2]``."""
        # An empty review still has one step (the collate functions give it <unk>).
        lengths = lengths.clamp(min=1)
        if self.config.pooling != "last":
            features = self._final_and_max(self.embedding(ids), lengths)
        elif not self.packed and self._use_fused(ids):
            features = self._final_states_fused(ids, lengths)
        elif self.packed and not _exporting():
            features = self._final_states_packed(self.embedding(ids), lengths)
        else:
            features = self._final_states_masked(self.embedding(ids), lengths)
        logits = self.fc(self.dropout(features)).squeeze(-1)  # (B,)
        wide = self.wide_logits(ids, lengths) if self.wide is not None else None
        if parts:
            return torch.stack([logits, torch.zeros_like(logits) if wide is None else wide], -1)
        if wide is None:
            return logits
        return self.mix[0] * logits + self.mix[1] * wide + self.mix[2]

    def wide_logits(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The wide part: the summed weights of every n-gram of the review, (B,)."""
        assert self.wide is not None
        return hashed_ngram_logits(self.wide, ids, lengths, self.config)

    def _final_and_max(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Final states as in the masked path plus, per direction, the maximum of the outputs
        over the review's real tokens: (B, 2 * directions * H)."""
        B, T, _ = x.shape
        H = self.config.hidden
        last = (lengths - 1).view(B, 1, 1).expand(B, 1, H)
        padding = torch.arange(T, device=x.device).view(1, T, 1) >= lengths.view(B, 1, 1)
        outputs = self.direction_outputs(x, lengths)
        finals = [out.gather(1, last).squeeze(1) for out in outputs]
        maxima = [out.masked_fill(padding, float("-inf")).amax(dim=1) for out in outputs]
        return torch.cat(finals + maxima, dim=-1)

    def direction_outputs(self, x: torch.Tensor, lengths: torch.Tensor) -> list[torch.Tensor]:
        """Each direction's outputs over the embedded reviews ``x`` (B, T, E), (B, T, H) each:
        the forward one at position t has read tokens 0..t; the backward one ran over each
        review reversed within its length, so at position t it has read the last t + 1
        tokens (right to left). Positions past a review's length hold no meaning."""
        h0 = x.new_zeros(1, x.shape[0], self.config.hidden)
        outputs = [self._direction(x, h0, "")]
        if self.config.bidirectional:
            outputs.append(self._direction(reverse_within(x, lengths), h0, "_reverse"))
        return outputs

    def _final_states_packed(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (h, _) = self.lstm(packed)  # h: (directions, B, H), in the caller's batch order
        return torch.cat(list(h), dim=-1)  # (B, directions * H)

    def _final_states_masked(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        H = self.config.hidden
        last = (lengths - 1).view(B, 1, 1).expand(B, 1, H)  # last real token, right-padded
        h0 = x.new_zeros(1, B, H)
        fwd = self._direction(x, h0, "")  # (B, T, H); the LSTM is causal: padding after a
        feats = [fwd.gather(1, last).squeeze(1)]  # review's last token never reaches it
        if self.config.bidirectional:
            x_rev = reverse_within(x, lengths)  # (B, T, E)
            bwd = self._direction(x_rev, h0, "_reverse")  # the backward weights, run forward
            feats.append(bwd.gather(1, last).squeeze(1))
        return torch.cat(feats, dim=-1)  # (B, directions * H)

    def _direction(self, x: torch.Tensor, h0: torch.Tensor, suffix: str) -> torch.Tensor:
        """One direction of ``self.lstm`` run left to right over ``x`` (the same fused
        kernel nn.LSTM uses for unpacked input: far faster on CPU than packed sequences)."""
        lstm = self.lstm
        weights = [
            getattr(lstm, f"{n}_l0{suffix}")
            for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        ]
        out, _, _ = torch.lstm(x, (h0, h0), weights, True, 1, 0.0, self.training, False, True)
        return out  # (B, T, H)

    def _use_fused(self, x: torch.Tensor) -> bool:
        if self.recurrence != "fused" or _exporting() or not torch.is_grad_enabled():
            return False
        return x.device.type == "cpu"

    def _final_states_fused(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The masked path's numbers through :class:`_Recurrence` (see the module docstring).

        Time-major throughout: the ids (not the 500-wide vectors) are reversed and transposed,
        so the embedding lookup writes (D, T, B, E) directly and the input projections of both
        directions are one batched product."""
        B, T = ids.shape
        lstm = self.lstm
        suffixes = [""] + (["_reverse"] if self.config.bidirectional else [])
        seqs = [ids] + ([reverse_within(ids, lengths)] if self.config.bidirectional else [])
        x = self.embedding(torch.stack(seqs).transpose(1, 2))  # (D, T, B, E)
        D, E = len(seqs), x.shape[-1]
        w_ih = torch.stack([getattr(lstm, f"weight_ih_l0{sfx}") for sfx in suffixes])
        w_hh = torch.stack([getattr(lstm, f"weight_hh_l0{sfx}") for sfx in suffixes])
        bias = torch.stack(
            [
                getattr(lstm, f"bias_ih_l0{sfx}") + getattr(lstm, f"bias_hh_l0{sfx}")
                for sfx in suffixes
            ]
        )
        gx = torch.baddbmm(bias.unsqueeze(1), x.view(D, T * B, E), w_ih.transpose(1, 2))
        h = _Recurrence.apply(gx.view(D, T, B, -1), w_hh, (lengths - 1).to(ids.device))
        return torch.cat(list(h), dim=-1)  # (B, D * H)


def hashed_ngram_logits(
    wide: nn.Embedding, ids: torch.Tensor, lengths: torch.Tensor, config: LSTMConfig
) -> torch.Tensor:
    """The summed ``wide`` weights of every distinct n-gram of each review, (B,)."""
    hashes = ngram_hashes(ids, lengths, config.ngram_orders, config.ngram_buckets)
    return wide(hashes).squeeze(-1).sum(dim=1)


def ngram_hashes(
    ids: torch.Tensor, lengths: torch.Tensor, orders: int, buckets: int
) -> torch.Tensor:
    """Bucket ids in ``[1, buckets)`` of the distinct word n-grams of 1 to ``orders`` words of
    each review, sorted, (B, N); repeats, and n-grams that run past a review's length, get
    bucket 0 (the wide part's zero padding row).
    The hash of an n-gram is a polynomial in its word ids, reduced modulo ``buckets - 1``
    after every step, so intermediate values stay below 2**55 (exact in int64, also in ONNX
    Runtime); each order adds its own offset so that "good" and the pair ("good", <pad>) differ.
    """
    B, T = ids.shape
    modulus = buckets - 1
    positions = torch.arange(T, device=ids.device).view(1, T)
    pieces = []
    h = ids
    for n in range(1, orders + 1):
        if n > 1:
            if T - n + 1 <= 0:
                break
            h = (h[:, :-1] * _HASH_PRIMES[(n - 2) % 2] + ids[:, n - 1 :]) % modulus
        width = T - n + 1
        bucket = (h + n * 7919) % modulus + 1
        valid = positions[:, :width] + n <= lengths.view(B, 1)
        pieces.append(torch.where(valid, bucket, torch.zeros_like(bucket)))
    hashes = torch.cat(pieces, dim=1)
    # Each distinct n-gram counts once per review (binary features, as in NBSVM): after
    # sorting, a bucket equal to its left neighbour becomes 0.
    hashes = hashes.sort(dim=1).values
    first = torch.zeros_like(hashes[:, :1], dtype=torch.bool)
    repeat = torch.cat([first, hashes[:, 1:] == hashes[:, :-1]], dim=1)
    return hashes.masked_fill(repeat, 0)


def reverse_within(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each review reversed within its length along dim 1 of ``x`` ((B, T) ids or (B, T, E)):
    x_rev[t] = x[length - 1 - t]; positions past the length hold copies of the first token,
    never read (the LSTM is causal)."""
    B, T = x.shape[:2]
    positions = torch.arange(T, device=x.device).view(1, T)
    source = ((lengths.to(x.device) - 1).view(B, 1) - positions).clamp(min=0)  # (B, T)
    if x.ndim == 3:
        source = source.unsqueeze(-1).expand_as(x)
    return x.gather(1, source)


class _Recurrence(torch.autograd.Function):
    """The LSTM recurrence over precomputed input gates, every direction at once.

    ``forward(gx (D, T, B, 4H), w_hh (D, 4H, H), last (B,)) -> h (D, B, H)``: gates_t =
    gx[:, t] + h_{t-1} w_hh^T in nn.LSTM's order (i, f, g, o); c_t = f c_{t-1} + i g;
    h_t = o tanh(c_t); h_0 = c_0 = 0; returns each review's h at step ``last``. The backward
    runs the recurrence in reverse (one (D, B, 4H) x (D, 4H, H) product per step) and gets
    w_hh's gradient as one product over all steps."""

    @staticmethod
    def forward(ctx, gx: torch.Tensor, w_hh: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        D, T, B, G4 = gx.shape
        H = G4 // 4
        acts = gx.new_empty(T, D, B, G4)  # activated gates
        hs = gx.new_zeros(T + 1, D, B, H)  # hs[t + 1] = h_t
        cs = gx.new_zeros(T + 1, D, B, H)
        tcs = gx.new_empty(T, D, B, H)  # tanh(c_t)
        with _loop_threads():
            _forward_loop(gx, w_hh.transpose(1, 2), acts, hs, cs, tcs)
        ctx.save_for_backward(w_hh, last, acts, hs, cs, tcs)
        rows = torch.arange(B, device=gx.device)
        return hs[last + 1, :, rows].transpose(0, 1).contiguous()  # (D, B, H)

    @staticmethod
    def backward(ctx, dout: torch.Tensor):
        w_hh, last, acts, hs, cs, tcs = ctx.saved_tensors
        T, D, B, G4 = acts.shape
        H = G4 // 4
        # Local derivatives of the activations, all steps at once: a (1 - a) for the sigmoid
        # gates, 1 - g^2 for the tanh one; and o (1 - tanh(c)^2) for the cell.
        deriv = acts * (1 - acts)
        g_all = acts[..., 2 * H : 3 * H]
        deriv[..., 2 * H : 3 * H] = 1 - g_all * g_all
        o_dtanh = acts[..., 3 * H :] * (1 - tcs * tcs)
        inject = dout.new_zeros(T, D, B, H)  # dL/dh_t from the output, at each review's last
        rows = torch.arange(B, device=dout.device)
        inject[last, :, rows] = dout.transpose(0, 1)
        dgx = acts.new_empty(D, T, B, G4)  # gx's layout
        with _loop_threads():
            _backward_loop(dgx, inject, acts, cs, tcs, deriv, o_dtanh, w_hh)
        dw_hh = torch.einsum("dtbg,tdbh->dgh", dgx, hs[:-1])
        return dgx, dw_hh, None


#: Threads for the per-step loops (None: leave torch's setting). Their operations are small
#: (2 x 64 x 512 values): a second thread mostly adds synchronisation, and when another process
#: holds a core, each step waits for a descheduled thread (see docs/training.md).
LOOP_THREADS: int | None = 1


@contextlib.contextmanager
def _loop_threads() -> Iterator[None]:
    before = torch.get_num_threads()
    if LOOP_THREADS is None or LOOP_THREADS == before:
        yield
        return
    torch.set_num_threads(LOOP_THREADS)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _forward_loop(gx, w_t, acts, hs, cs, tcs) -> None:
    H = hs.shape[-1]
    for t in range(gx.shape[1]):
        gates = torch.baddbmm(gx[:, t], hs[t], w_t)
        a = acts[t]
        torch.sigmoid(gates, out=a)
        torch.tanh(gates[..., 2 * H : 3 * H], out=a[..., 2 * H : 3 * H])
        i, f, g, o = a.chunk(4, -1)
        torch.addcmul(f * cs[t], i, g, out=cs[t + 1])
        torch.tanh(cs[t + 1], out=tcs[t])
        torch.mul(o, tcs[t], out=hs[t + 1])


def _backward_loop(dgx, inject, acts, cs, tcs, deriv, o_dtanh, w_hh) -> None:
    T, D, B, _ = acts.shape
    dh = inject.new_zeros(D, B, inject.shape[-1])
    dc = torch.zeros_like(dh)
    for t in range(T - 1, -1, -1):
        dh = dh + inject[t]
        i, f, g, _ = acts[t].chunk(4, -1)
        d = dgx[:, t]
        di, df, dg, do = d.chunk(4, -1)
        torch.mul(dh, tcs[t], out=do)
        dc = torch.addcmul(dc, dh, o_dtanh[t])
        torch.mul(dc, g, out=di)
        torch.mul(dc, cs[t], out=df)
        torch.mul(dc, i, out=dg)
        d.mul_(deriv[t])
        dc = dc * f
        dh = torch.bmm(d, w_hh)  # (D, B, H)
