"""The training loop shared by the LSTM and the transformer: one stage = one call of
:func:`train_stage`.

What a stage does, in order: (re)build the epoch's global batches from the seed, take this
rank's shard of each, accumulate gradients over ``grad_accum`` batches, step the optimizer
(and the per-step scheduler), validate ``evals_per_epoch`` times per epoch (twice, as in the
tutorial), keep the weights with the lowest validation loss, append a row to history.csv /
history.json, write a checkpoint after each validation, stop early after ``early_stopping``
validations without improvement. At the end the model holds the best weights.

Loss scaling: each micro-batch's *summed* loss is divided by the number of units in the
whole optimizer step (all ranks, all accumulated batches) and multiplied by the world size
(DDP averages gradients over ranks). So one optimizer step's gradient is the mean over its
global batch whatever the number of processes or accumulation steps. A unit is a review, or
what the split's ``units`` method counts (say, predicted words).

Every classifier trains through this loop.

Ctrl-C (SIGINT) sets a flag; the loop stops at the next optimizer-step boundary, writes the
checkpoint and raises KeyboardInterrupt. ``--resume`` continues from there.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import math
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn
from tqdm.auto import tqdm

from sentireview.errors import SentiReviewError
from sentireview.files import atomic_path, write_json
from sentireview.training import checkpoint as ckpt
from sentireview.training.batching import bucket_batches, eval_batches, shard
from sentireview.training.distributed import DistInfo, all_sum, any_rank, barrier
from sentireview.weights import load_tensors, save_tensors

log = logging.getLogger(__name__)


class Split(Protocol):
    """An encoded split: ``lengths`` for bucketing and ``collate`` to a batch on a device."""

    lengths: Sequence[int]

    def __len__(self) -> int: ...

    def collate(self, indices: Sequence[int], device: torch.device) -> dict[str, torch.Tensor]:
        """A batch dict with at least ``labels``; the rest are the model's inputs."""
        ...


def units(split: Split, indices: Sequence[int]) -> int:
    """What the loss of these reviews is averaged over: the split's ``units(indices)`` when it
    has that method, else the number of reviews."""
    count = getattr(split, "units", None)
    return int(count(indices)) if count is not None else len(indices)


#: model, batch -> (summed loss over the batch's units, logits or None: no accuracy)
LossFn = Callable[[nn.Module, dict[str, torch.Tensor]], tuple[torch.Tensor, torch.Tensor]]


@dataclass
class StageConfig:
    """How one stage trains (the model-specific modules fill it from their recipes)."""

    name: str = "train"
    epochs: int = 5
    batch_size: int = 64  # per process; the global batch is batch_size * world
    eval_batch_size: int = 128
    grad_accum: int = 1
    evals_per_epoch: int = 2
    early_stopping: int | None = None  # validations without a new best before stopping
    max_grad_norm: float | None = None
    seed: int = 17
    amp: str | None = None  # "bf16" | "fp16" | None (see resolve_amp)
    progress: bool = True
    checkpoint_every: int | None = None  # also save the resume state every N optimizer steps


@dataclass
class StageResult:
    best_val_loss: float
    history: list[dict[str, Any]] = field(default_factory=list)
    stopped_early: bool = False


def predictions(logits: torch.Tensor) -> torch.Tensor:
    """Class ids: one logit per review (LSTM, > 0 = positive) or one per class."""
    return (logits > 0).long() if logits.ndim == 1 else logits.argmax(-1)


def n_correct(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Reviews whose predicted class is the label's; a soft label (a teacher's P(positive),
    in distillation) counts as its rounded class."""
    if labels.is_floating_point():
        labels = (labels > 0.5).long()
    return (predictions(logits) == labels).sum()


AMP_CHOICES = ("auto", "bf16", "fp16", "none")


def autocast(device: torch.device, amp: str | None) -> contextlib.AbstractContextManager:
    """Mixed-precision autocast: bf16/fp16 on CUDA, bf16 on CPU; a no-op for ``None``."""
    if not amp:
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if amp == "bf16" else torch.float16
    return torch.autocast(device.type, dtype=dtype)


def default_amp(device: torch.device) -> str | None:
    """bf16 where the GPU supports it, else fp16; None on CPU."""
    if device.type != "cuda":
        return None
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def resolve_amp(device: torch.device, choice: str) -> str | None:
    """The autocast dtype a ``--amp`` choice means on ``device``.

    ``auto``: :func:`default_amp` (float32 on CPU: the tutorial's numbers). ``bf16`` on CPU is
    opt-in: the LSTM's matrix products run in bfloat16 with float32 weights, optimizer and
    loss, like mixed precision on a GPU; it pays where the CPU has bfloat16 instructions
    (AVX-512 BF16, AMX), and is refused where it would only be emulated."""
    if choice not in AMP_CHOICES:
        raise SentiReviewError(f"unknown --amp {choice!r}; expected one of {AMP_CHOICES}")
    if choice == "auto":
        return default_amp(device)
    if choice == "none":
        return None
    if device.type == "cpu":
        if choice == "fp16":
            raise SentiReviewError("--amp fp16 is for CUDA; on a CPU use --amp bf16")
        if not torch.backends.mkldnn.is_available() or not _cpu_has_bf16():
            raise SentiReviewError("--amp bf16: this CPU has no bfloat16 instructions")
    return choice


def _cpu_has_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


@torch.no_grad()
def evaluate_loss(
    model: nn.Module,
    split: Split,
    loss_fn: LossFn,
    info: DistInfo,
    batch_size: int = 128,
    amp: str | None = None,
) -> tuple[float, float | None]:
    """(mean loss per unit, accuracy) over a split (accuracy None when the loss function
    gives no logits); each rank takes a shard, the sums are reduced."""
    was_training = model.training
    model.eval()
    total = correct = count = reviews = 0.0
    for batch_ids in eval_batches(split.lengths, batch_size):
        part = shard(batch_ids, info.rank, info.world)
        if not part:
            continue
        batch = split.collate(part, info.device)
        with autocast(info.device, amp):
            loss, logits = loss_fn(model, batch)
        total += float(loss)
        if logits is not None:
            correct += float(n_correct(logits, batch["labels"]))
            reviews += len(part)
        count += units(split, part)
    model.train(was_training)
    total, correct, count, reviews = all_sum([total, correct, count, reviews], info)
    if count == 0:
        return math.nan, math.nan
    return total / count, (correct / reviews if reviews else None)


class _StopFlag:
    """SIGINT sets a flag instead of raising mid-step; a second Ctrl-C raises at once."""

    def __init__(self) -> None:
        self.requested = False

    def _handler(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        log.warning("interrupt: stopping after the current step and saving a checkpoint")

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        try:
            previous = signal.signal(signal.SIGINT, self._handler)
        except ValueError:  # not the main thread: leave signals alone
            yield
            return
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


class History:
    """Rows of metrics, rewritten to history.csv and history.json after each validation."""

    def __init__(
        self,
        run_dir: Path | None,
        rows: list[dict[str, Any]] | None = None,
        hooks: Sequence[Callable[[dict[str, Any]], None]] = (),
    ) -> None:
        self.run_dir = run_dir
        self.rows = list(rows or [])
        self.hooks = list(hooks)  # also told of each new row (training.tracking)

    def append(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.save()
        for hook in self.hooks:
            hook(row)

    def save(self) -> None:
        """Write the rows to history.json and history.csv (atomically; not without a folder)."""
        if self.run_dir is None:
            return
        write_json(self.run_dir / "history.json", self.rows)
        keys: list[str] = []
        for r in self.rows:
            keys.extend(k for k in r if k not in keys)
        with (
            atomic_path(self.run_dir / "history.csv") as tmp,
            tmp.open("w", newline="", encoding="utf-8") as f,
        ):
            writer = csv.DictWriter(f, fieldnames=keys)
            writer.writeheader()
            writer.writerows(self.rows)


def previous_rows(run_dir: Path) -> list[dict[str, Any]]:
    """The history a run folder holds (to continue it on resume); [] when there is none."""
    try:
        return json.loads((Path(run_dir) / "history.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return []


def stage_finished(checkpoint_dir: Path, name: str) -> bool:
    """Whether the stage's resume state in ``checkpoint_dir`` says it has finished."""
    saved = ckpt.load_checkpoint(checkpoint_dir / f"{name}.pt")
    return bool(saved and saved.get("done"))


def train_stage(
    model: nn.Module,
    train: Split,
    valid: Split,
    loss_fn: LossFn,
    optimizer: torch.optim.Optimizer,
    config: StageConfig,
    info: DistInfo,
    checkpoint_dir: Path | None,
    history: History,
    scheduler: Any = None,
    resume: bool = False,
    on_step: Callable[[int], None] | None = None,
) -> StageResult:
    """Train ``model`` (possibly DDP-wrapped) for one stage; see the module docstring.

    ``checkpoint_dir``: where ``{name}.pt`` (resume state) and ``{name}-best.safetensors``
    go (None: no files, e.g. in tests). ``on_step(optimizer_steps)`` is called after each
    optimizer step; returning True requests a stop as Ctrl-C does (tests use it)."""
    core = model.module if hasattr(model, "module") else model
    device, world = info.device, info.world
    state_path = checkpoint_dir / f"{config.name}.pt" if checkpoint_dir else None
    best_path = checkpoint_dir / f"{config.name}-best.safetensors" if checkpoint_dir else None
    scaler = torch.amp.GradScaler("cuda", enabled=device.type == "cuda" and config.amp == "fp16")
    # Rank-specific dropout masks; the sampler uses its own seeded generator.
    torch.manual_seed(config.seed * 1000 + info.rank)

    epoch, position, steps, best, bad_evals = 0, 0, 0, math.inf, 0
    resumed_sums: list[float] | None = None
    # training seconds before this invocation: the stage's whole, and the running interval's
    done_s = interval_s = 0.0
    saved = ckpt.load_checkpoint(state_path) if (resume and state_path) else None
    if saved is not None:
        if saved.get("done"):
            log.info("stage %s already finished; loading its best weights", config.name)
            core.load_state_dict(load_tensors(best_path), strict=True)
            return StageResult(saved["best"], history.rows)
        core.load_state_dict(saved["model"], strict=True)
        optimizer.load_state_dict(saved["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(saved["scheduler"])
        scaler.load_state_dict(saved["scaler"])
        epoch, position, steps = saved["epoch"], saved["position"], saved["steps"]
        # Rows written after this checkpoint (a hard kill between the two writes) come again.
        history.rows = [
            r for r in history.rows if r.get("stage") != config.name or r.get("step", 0) <= steps
        ]
        best, bad_evals = saved["best"], saved["bad_evals"]
        done_s, interval_s = saved.get("elapsed_s", 0.0), saved.get("interval_s", 0.0)
        rngs = saved["rng"]
        if len(rngs) == world:
            ckpt.set_rng_state(rngs[info.rank], device)
            # the running sums of the interval since the last validation (same history as
            # an uninterrupted run); checkpoints written before they were kept have none
            resumed_sums = saved.get("running", [None] * world)[info.rank]
        else:
            log.warning("checkpoint has %d RNG states for %d ranks: reseeding", len(rngs), world)
            torch.manual_seed(config.seed * 1000 + info.rank + steps)
        log.info("resuming stage %s at epoch %d, batch %d", config.name, epoch + 1, position)

    def save_state(done: bool = False, sums: Sequence[float] = (0.0, 0.0, 0.0, 0.0)) -> None:
        """Write the resume state; ``sums``: this rank's running (loss, correct, reviews,
        units) since the last validation."""
        mine = (ckpt.rng_state(device), [float(x) for x in sums])
        gathered = [mine]
        if info.enabled:
            gathered = [None] * world
            torch.distributed.all_gather_object(gathered, mine)
            gathered = [({k: v.cpu() for k, v in g.items()}, r) for g, r in gathered]
        if state_path is None or not info.is_main:
            barrier(info)
            return
        ckpt.atomic_torch_save(
            {
                "stage": config.name,
                "epoch": epoch,
                "position": position,
                "steps": steps,
                # training time so far (the history's elapsed_s and reviews_per_s go on from it)
                "elapsed_s": time.perf_counter() - start_time,
                "interval_s": time.perf_counter() - t_last,
                "best": best,
                "bad_evals": bad_evals,
                "done": done,
                "rng": [g for g, _ in gathered],
                "running": [r for _, r in gathered],
                "model": core.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else {},
                "scaler": scaler.state_dict(),
            },
            state_path,
        )
        barrier(info)

    stop = _StopFlag()
    stopped_early = False
    model.train()
    accum = config.grad_accum
    start_time = time.perf_counter() - done_s  # elapsed_s: the stage's, over its invocations
    t_last = time.perf_counter() - interval_s
    with stop.installed():
        while epoch < config.epochs and not stopped_early:
            batches = bucket_batches(
                train.lengths, config.batch_size * world, config.seed, epoch, min_size=world
            )
            # Optimizer steps in this epoch: groups of `accum` global batches.
            groups = [batches[i : i + accum] for i in range(0, len(batches), accum)]
            n_steps = len(groups)
            eval_at = {
                max(1, round(n_steps * (j + 1) / config.evals_per_epoch))
                for j in range(config.evals_per_epoch)
            }
            bar = tqdm(
                total=n_steps,
                initial=position,
                desc=f"{config.name} {epoch + 1}/{config.epochs}",
                disable=not (config.progress and info.is_main),
                leave=False,
            )
            run_loss = run_correct = run_count = run_units = 0.0
            if resumed_sums is not None:
                run_loss, run_correct, run_count, run_units = resumed_sums
                resumed_sums = None
            else:
                t_last = time.perf_counter()
            while position < n_steps:
                group = groups[position]
                group_size = sum(units(train, b) for b in group)
                for k, global_batch in enumerate(group):
                    part = shard(global_batch, info.rank, world)
                    batch = train.collate(part, device)
                    last = k == len(group) - 1
                    sync = (
                        contextlib.nullcontext() if (last or not info.enabled) else model.no_sync()
                    )
                    with sync:
                        with autocast(device, config.amp):
                            loss_sum, logits = loss_fn(model, batch)
                        scaler.scale(loss_sum * (world / group_size)).backward()
                    # Device-side running sums: no GPU sync per step.
                    run_loss = run_loss + loss_sum.detach().float()
                    if logits is not None:  # a loss per unit (not per review) may give none
                        run_correct = run_correct + n_correct(logits.detach(), batch["labels"])
                    run_count += len(part)
                    run_units += units(train, part)
                if config.max_grad_norm:
                    scaler.unscale_(optimizer)
                    torch.nn.utils.clip_grad_norm_(core.parameters(), config.max_grad_norm)
                scaler.step(optimizer)
                scaler.update()
                optimizer.zero_grad(set_to_none=True)
                if scheduler is not None:
                    scheduler.step()
                position += 1
                steps += 1
                bar.update(1)
                if position % 10 == 0 or position == n_steps:
                    bar.set_postfix(loss=f"{float(run_loss) / max(run_units, 1):.4f}")
                if on_step is not None and on_step(steps):
                    stop.requested = True
                if position in eval_at:
                    tr_loss, tr_correct, tr_count, tr_units = all_sum(
                        [float(run_loss), float(run_correct), run_count, run_units], info
                    )
                    elapsed = time.perf_counter() - t_last
                    val_loss, val_acc = evaluate_loss(
                        model, valid, loss_fn, info, config.eval_batch_size, config.amp
                    )
                    improved = val_loss < best
                    if improved:
                        best, bad_evals = val_loss, 0
                        if best_path is not None and info.is_main:
                            save_tensors(core.state_dict(), best_path)
                    else:
                        bad_evals += 1
                    row = {
                        "stage": config.name,
                        "epoch": round(epoch + position / n_steps, 4),
                        "step": steps,
                        "train_loss": tr_loss / max(tr_units, 1),
                        "train_acc": tr_correct / max(tr_count, 1) if logits is not None else None,
                        "val_loss": val_loss,
                        "val_acc": val_acc,
                        "lr": optimizer.param_groups[0]["lr"],
                        "reviews_per_s": tr_count / max(elapsed, 1e-9),
                        "elapsed_s": round(time.perf_counter() - start_time, 3),
                        "best": improved,
                    }
                    if info.is_main:
                        history.append(row)
                        log.info(
                            "%s epoch %.2f: train loss %.4f acc %.3f | val loss %.4f acc %.3f%s",
                            config.name,
                            row["epoch"],
                            row["train_loss"],
                            row["train_acc"] if row["train_acc"] is not None else math.nan,
                            val_loss,
                            val_acc if val_acc is not None else math.nan,
                            " *" if improved else "",
                        )
                    run_loss = run_correct = run_count = run_units = 0.0
                    t_last = time.perf_counter()
                    if position == n_steps:
                        epoch, position = epoch + 1, 0
                    save_state()
                    if config.early_stopping and bad_evals >= config.early_stopping:
                        log.info("early stopping: %d validations without improvement", bad_evals)
                        stopped_early = True
                        break
                    if position == 0:
                        break
                elif config.checkpoint_every and steps % config.checkpoint_every == 0:
                    save_state(sums=(float(run_loss), float(run_correct), run_count, run_units))
                if any_rank(stop.requested, info):
                    # Checked only between optimizer steps: the saved state is a clean one.
                    save_state(sums=(float(run_loss), float(run_correct), run_count, run_units))
                    bar.close()
                    raise KeyboardInterrupt
            bar.close()
            if position >= n_steps:  # an epoch with no validation point left (defensive)
                epoch, position = epoch + 1, 0
    save_state(done=True)
    if best_path is not None:
        barrier(info)
        core.load_state_dict(load_tensors(best_path), strict=True)
    return StageResult(best, history.rows, stopped_early)
