"""Training: batching (length buckets, shards), the loop (one visible loop, shared by both
models), checkpoints (atomic, resumable), distributed set-up, and one module per model
(``lstm``, ``transformer``) that turns a prepared dataset into a run folder."""
