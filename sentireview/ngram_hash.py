"""The constants of the wide part's n-gram hash, without torch: the model hashes with them
inside its graph (:func:`sentireview.models.wide.ngram_hashes`) and the explainer repeats the
hash on numpy (:func:`sentireview.explain.ngram_occurrences`), so both read them from here."""

#: Multipliers of the n-gram hash (primes); products stay far below 2**63.
HASH_PRIMES = (1_000_003, 998_244_353)
#: Added per order, so that "good" and the pair ("good", <pad>) differ.
ORDER_OFFSET = 7919
