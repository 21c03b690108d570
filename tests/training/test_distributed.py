"""Two CPU processes (gloo, a file store) against one process over the same global batches."""

import json
import os

import pytest
import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file

from sentireview.training.lstm import train_lstm
from tests.helpers.configs import lstm_config


def _settings(dataset, out, batch_size):
    return lstm_config(
        data=dataset,
        out=out,
        epochs=2,
        batch_size=batch_size,
        min_freq=1,
        embed_dim=16,
        hidden=8,
        dropout=0.0,
        lr=1e-2,
        progress=False,
        threads=1,
    )


def _worker(rank, world, store, dataset, out):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    # A file store, not a TCP port: no port to choose, none another process can take first.
    # setup() then finds the group already joined.
    torch.distributed.init_process_group(
        "gloo", init_method=f"file://{store}", rank=rank, world_size=world
    )
    import sentireview.training.lstm as lstm_mod
    from sentireview.weights import save_weights

    seen = []
    original_collate = lstm_mod.IdSplit.collate
    original_stage = lstm_mod.train_stage

    def collate(self, indices, device):
        if self is train_split[0]:
            seen.append(list(indices))
        return original_collate(self, indices, device)

    train_split = []

    def stage(model, train, *args, **kwargs):
        train_split.append(train)
        result = original_stage(model, train, *args, **kwargs)
        core = model.module if hasattr(model, "module") else model
        save_weights(out / f"rank{rank}", core)
        return result

    lstm_mod.IdSplit.collate = collate
    lstm_mod.train_stage = stage
    lstm_mod.train_lstm(_settings(dataset, out, batch_size=4))
    (out / f"seen{rank}.json").write_text(json.dumps(seen))


@pytest.mark.slow
def test_two_processes_match_one(dataset, tmp_path):
    out = tmp_path / "ddp"
    args = (2, tmp_path / "store", dataset, out)
    mp.start_processes(_worker, args=args, nprocs=2, start_method="spawn", join=True)
    seen = [json.loads((out / f"seen{r}.json").read_text()) for r in (0, 1)]
    flat = [set(i for b in s for i in b) for s in seen]
    assert len(seen[0]) == len(seen[1]) > 0
    for b0, b1 in zip(seen[0], seen[1], strict=True):
        assert not set(b0) & set(b1)  # each global batch split between the ranks
    assert flat[0] | flat[1] == set(range(96))

    w0, w1 = (
        load_file(out / "rank0" / "model.safetensors"),
        load_file(out / "rank1" / "model.safetensors"),
    )
    for k in w0:
        assert torch.equal(w0[k], w1[k]), k

    single = tmp_path / "single"
    train_lstm(_settings(dataset, single, batch_size=8))  # the same global batches of 8
    ref = load_file(single / "model.safetensors")
    ddp = load_file(out / "model.safetensors")
    assert torch.equal(ddp["fc.weight"], w0["fc.weight"])
    for k in ref:
        torch.testing.assert_close(ddp[k], ref[k], rtol=1e-4, atol=1e-5)
    hist_single = json.loads((single / "history.json").read_text())
    hist_ddp = json.loads((out / "history.json").read_text())
    assert [round(r["val_loss"], 4) for r in hist_single] == [
        round(r["val_loss"], 4) for r in hist_ddp
    ]
