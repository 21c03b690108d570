"""Training: batching (length buckets, shards), the loop (one visible loop for every model),
checkpoints (atomic, resumable), distributed set-up, and one module per model (``lstm``,
``transformer``; ``wide`` and ``word_vectors`` for the LSTM's parts and start) that turns a
prepared dataset into a run folder. Nothing here runs a trained model: scoring with a teacher is
:mod:`sentireview.teacher`'s job, before training starts."""
