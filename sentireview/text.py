"""Text cleaning recipes: what word-level models (the LSTM) read.

Two recipes, chosen by name and recorded in every prepared dataset and model artifact, so that
training and serving apply the same function:

- ``"tutorial"``: the tutorial's cleaner, reproduced exactly (11 regex substitutions, NLTK
  stopwords removed case-sensitively, lowercase, ``TweetTokenizer``). Its known flaws (HTML
  ``<br />`` kept as ``< br / >``, negations thrown away) are kept on purpose: this recipe is
  the baseline the project compares against.
- ``"recommended"``: the same pipeline with those flaws fixed (see :func:`clean_recommended`).
- ``"words"``: every word kept (no stopword list), contractions written the same way whether
  or not the text was pre-tokenized (see :func:`clean_words`): what the shipped model reads.

:func:`plain_text` is a third, much lighter normalisation for transformer tokenizers, which
need the original words, case and punctuation.

Pure Python plus NLTK's tokenizer: no torch, no pandas (the web process imports this module).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from importlib import resources

from nltk import redos
from nltk.tokenize.casual import (  # the tokenizer's own parts, see tweet_tokenize
    EMOTICON_RE,
    HANG_RE,
    TweetTokenizer,
    _replace_html_entities,
)

__all__ = [
    "RECIPES",
    "TUTORIAL_SUBSTITUTIONS",
    "NEGATIONS",
    "clean",
    "clean_many",
    "clean_recommended",
    "clean_tutorial",
    "clean_words",
    "get_cleaner",
    "plain_text",
    "stopword_list",
    "stopwords",
    "tutorial_substitutions",
    "tweet_tokenize",
]

RECIPES: tuple[str, ...] = ("tutorial", "recommended", "words")

# The tutorial's emoticon building blocks, spliced into rows 4-7 below.
_EYES = r"[8:=;]"
_NOSE = r"['`\-]?"

# The tutorial's chain, in order: (pattern, replacement). Each is applied with
# re.MULTILINE | re.DOTALL, exactly as the tutorial's re_sub helper does.
TUTORIAL_SUBSTITUTIONS: tuple[tuple[str, str], ...] = (
    (r"https?:\/\/\S+\b|www\.(\w+\.)+\S*", "<url>"),
    (r"/", " / "),
    (r"@\w+", "<user>"),
    (rf"{_EYES}{_NOSE}[)dD]+|[)dD]+{_NOSE}{_EYES}", "<smile>"),
    (rf"{_EYES}{_NOSE}p+", "<lolface>"),
    (rf"{_EYES}{_NOSE}\(+|\)+{_NOSE}{_EYES}", "<sadface>"),
    (rf"{_EYES}{_NOSE}[\/|l*]", "<neutralface>"),
    (r"<3", "<heart>"),
    (r"[-+]?[.\d]*[\d]+[:,.\d]*", "<number>"),
    (r"([!?.]){2,}", r"\1 <repeat>"),
    (r"\b(\S*?)(.)\2{2,}\b", r"\1\2 <elong>"),
)
_FLAGS = re.MULTILINE | re.DOTALL
# Compiled once: the tutorial passed pattern strings to re.sub on every call, which costs a
# cache lookup per step per review; the result is the same.
_COMPILED = tuple((re.compile(p, _FLAGS), r) for p, r in TUTORIAL_SUBSTITUTIONS)
# Step 9 (<number>) backtracks quadratically on a long run of dots with no digit after it
# (every start position scans the whole run: 20,000 dots took ~2 s). No match can start inside
# such a run, so a first alternative swallows it whole (possessively) and puts it back
# unchanged; everything else goes to the tutorial's pattern as before. Same output, linear.
_NUMBER = re.compile(r"(?=(\.+))\1(?![.\d])|" + TUTORIAL_SUBSTITUTIONS[8][0], _FLAGS)


def _number_repl(match: re.Match[str]) -> str:
    dots = match.group(1)
    return dots if dots is not None else "<number>"


_COMPILED = (*_COMPILED[:8], (_NUMBER, _number_repl), *_COMPILED[9:])
# Cheap tests that a step's pattern needs to pass before it can match at all, so the step is
# skipped (same result) on the many reviews where it cannot: a URL needs "http" or "www.", a
# user "@", a heart "<3", an elongated word a character three times in a row. Step 11's
# lazy scan is the most expensive of the chain and matches in about one review in fifteen.
_TRIPLE = re.compile(r"(.)\1\1", re.DOTALL)
_GUARDS: dict[int, Callable[[str], bool]] = {
    0: lambda t: "http" in t or "www." in t,
    2: lambda t: "@" in t,
    7: lambda t: "<3" in t,
    10: lambda t: _TRIPLE.search(t) is not None,
}
_STEPS = tuple((p, r, _GUARDS.get(i)) for i, (p, r) in enumerate(_COMPILED))

# Step 11 (<elong>), ``\b(\S*?)(.)\2{2,}\b``, is quadratic in a long run of non-space
# characters with many word boundaries (``"a-" * 10_000 + " aaa"``: ~4 s): every boundary
# scans the rest of the run. Reviews whose longest such run is short keep the regex (it is
# fast there); others go through _elongations, the same function in linear time.
_LONG_RUN = re.compile(r"\S{200}")
_WORD = re.compile(r"\w")


def _elongations(text: str) -> str:
    r"""``re.sub(r"\b(\S*?)(.)\2{2,}\b", r"\1\2 <elong>", text)`` (DOTALL) in linear time.

    At a word boundary ``p`` the regex takes the smallest ``q >= p`` with ``text[p:q]`` all
    non-space such that the run of ``c = text[q]`` starting at ``q`` is at least 3 long and
    ends on a word boundary (inside a run of one character there is none, so the greedy
    ``\2{2,}`` can only end at the run's end); the match is ``text[p:end of that run]``.
    Precomputed right to left: run ends, the next such ``q``, the end of the non-space run.
    """
    n = len(text)
    if n < 3:
        return text
    word = [_WORD.match(ch) is not None for ch in text]

    def boundary(i: int) -> bool:  # \b at position i
        return (i > 0 and word[i - 1]) != (i < n and word[i])

    run_end = [0] * n  # end (exclusive) of the run of text[i] starting at i
    good = [n] * (n + 1)  # smallest q >= i whose run is >= 3 long and ends on a boundary
    space_at = [n] * (n + 1)  # first whitespace position >= i
    for i in range(n - 1, -1, -1):
        run_end[i] = run_end[i + 1] if i + 1 < n and text[i + 1] == text[i] else i + 1
        ok = run_end[i] - i >= 3 and boundary(run_end[i])
        good[i] = i if ok else good[i + 1]
        space_at[i] = i if text[i].isspace() else space_at[i + 1]
    out: list[str] = []
    last = p = 0
    while p < n:
        q = good[p]
        # q may be the first whitespace after the non-space run: (.) matches it
        if q < n and q <= space_at[p] and boundary(p):
            out.append(text[last : q + 1])  # \1\2
            out.append(" <elong>")
            last = p = run_end[q]
        else:
            p += 1
    out.append(text[last:])
    return "".join(out)


def _elong_step(text: str) -> str:
    if _LONG_RUN.search(text) is None:
        return _COMPILED[10][0].sub(_COMPILED[10][1], text)
    return _elongations(text)


# Negation words of the NLTK list that the recommended recipe keeps: "not good" and "good"
# must not become the same text. The bare stems ("didn", "isn", ...) are what is left of a
# negation written with a space or an odd apostrophe ("didn t"), so they go with them.
NEGATIONS: frozenset[str] = frozenset(
    """no nor not ain aren aren't couldn couldn't didn didn't doesn doesn't don don't hadn
    hadn't hasn hasn't haven haven't isn isn't mightn mightn't mustn mustn't needn needn't
    shan shan't shouldn shouldn't wasn wasn't weren weren't won won't wouldn wouldn't""".split()
)

# An HTML line break as IMDb writes it (<br />), plus the usual variants.
_HTML_BREAK = re.compile(r"<\s*br\s*/?\s*>", re.IGNORECASE)
# Typographic apostrophes, so that "don’t" is recognised as "don't".
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


@lru_cache(maxsize=1)
def stopword_list() -> tuple[str, ...]:
    """The pinned NLTK English stopword list (179 words, 2023 release), in corpus order."""
    text = resources.files("sentireview.resources").joinpath("stopwords_en.txt")
    words = text.read_text(encoding="utf-8").splitlines()
    return tuple(w.strip() for w in words if w.strip() and not w.startswith("#"))


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """The pinned stopword list as a set (membership tests are O(1), unlike the list)."""
    return frozenset(stopword_list())


@lru_cache(maxsize=1)
def _fast_patterns() -> tuple[redos.TimedPattern, redos.TimedPattern, redos.TimedPattern]:
    # NLTK's own compiled patterns (same engine, same pattern objects) with the per-match
    # wall-clock guard switched off: the guard alone costs about a third of the tokenizing.
    words = TweetTokenizer(match_phone_numbers=True).PHONE_WORD_RE
    return (
        redos.compile(r"(.)\1{2,}", timeout=None),  # reduce_lengthening's pattern
        redos.compile(HANG_RE, timeout=None),
        redos.compile(words, timeout=None),
    )


# The tokenizer's work is bounded, whatever the text. Several alternatives of NLTK's word
# pattern (URLs, e-mail addresses, HTML tags) scan ahead to the end of the run of non-space
# characters from every position where they might start, so a long run that splits into many
# short tokens ("<b<b<b...", ".a.a.a...") costs time quadratic in its length (20,000
# characters took seconds), and even short runs cost a few microseconds per token. So:
#  - NLTK's pattern never reads more than _MAX_RUN characters of a run at once: longer runs
#    are read in pieces of _MAX_RUN (no token is longer);
#  - runs longer than _COSTLY_RUN characters (the ones that cost most per token) are read by it
#    for at most _COSTLY_BUDGET characters per text, and at most _TOKEN_BUDGET tokens per
#    text come from it; the rest of the text is split by _PLAIN_TOKENS (words and single
#    symbols), which is linear and cheap.
# Under the `words` recipe (the served model's) IMDb's 100,000 reviews stay within all three
# (measured after the steps before the word pattern: longest run 91 characters, at most 473
# characters in runs over 32, at most 2,831 tokens per review), so they are tokenized exactly
# as NLTK does (checked: 0 of 100,000 cleaned differently). Under the `tutorial` recipe one
# unlabelled review (unsup/34428_0: emoticons without spaces, which the recipe turns into one
# long run of "<smile>") passes the long-run budget and is cleaned differently after it
# ("< s mile >" for one of its tags); the other 99,999 are unchanged. No time limit is needed
# (NLTK's own per-match guard raises TimeoutError).
_MAX_RUN = 100
_COSTLY_RUN = 32
_COSTLY_BUDGET = 1_000
_TOKEN_BUDGET = 4_000
_RUN_OVER_MAX = re.compile(rf"\S{{{_MAX_RUN + 1},}}")
_RUN_OVER_COSTLY = re.compile(rf"\S{{{_COSTLY_RUN + 1},}}")
_PLAIN_TOKENS = re.compile(r"\w+|\S")


def _exact_end(text: str) -> int:
    """Where the long-run budget ends: the start of the first run over ``_COSTLY_RUN``
    characters that does not fit in ``_COSTLY_BUDGET`` (else the end of ``text``)."""
    left = _COSTLY_BUDGET
    for run in _RUN_OVER_COSTLY.finditer(text):
        left -= run.end() - run.start()
        if left < 0:
            return run.start()
    return len(text)


def _spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``(start, end)`` pieces covering ``text[start:end]`` in order, cut only inside runs
    over ``_MAX_RUN`` characters, every ``_MAX_RUN`` characters."""
    spans: list[tuple[int, int]] = []
    for run in _RUN_OVER_MAX.finditer(text, start, end):
        for cut in range(run.start() + _MAX_RUN, run.end(), _MAX_RUN):
            spans.append((start, cut))
            start = cut
    spans.append((start, end))
    return spans


def _find_words(words: redos.TimedPattern, text: str) -> list[str]:
    """``words.findall(text)`` within the budgets above; ``_PLAIN_TOKENS`` beyond them."""
    if len(text) <= _TOKEN_BUDGET and _RUN_OVER_COSTLY.search(text) is None:
        return words.findall(text)  # most reviews: nothing to bound
    end = _exact_end(text)
    found: list[str] = []
    for start, stop in _spans(text, 0, end):
        left = _TOKEN_BUDGET - len(found)
        if stop - start <= left:  # at most one token per character: fits the budget
            found.extend(words.findall(text, start, stop))
            continue
        for match in words.finditer(text, start, stop):
            found.append(match.group())
            if len(found) == _TOKEN_BUDGET:
                end = match.end()
                break
        else:
            continue
        break
    found.extend(_PLAIN_TOKENS.findall(text, end))
    return found


def tweet_tokenize(text: str) -> list[str]:
    """``TweetTokenizer(reduce_len=True, preserve_case=False, strip_handles=False)
    .tokenize(text)``, about twice as fast and in time linear in the length of ``text``.

    The same steps with NLTK's own patterns (HTML entities, lengthening, "hang" sequences,
    the phone-aware word pattern), with three changes. NLTK's per-match timeout is off (it
    costs about a third of the tokenizing and raises ``TimeoutError`` on hostile input);
    instead the work is bounded (see ``_MAX_RUN``): runs over 100 characters are read in
    pieces of 100, and past 4,000 tokens or 1,000 characters in runs over 32, the rest of the
    text is split into words and single symbols (IMDb: see the note at ``_MAX_RUN``). NLTK's
    emoticon test on every token, to decide whether to lowercase it, is skipped where
    lowercasing leaves the token unchanged; the cleaners lowercase before tokenizing, so only
    tokens that HTML entities such as ``&Eacute;`` bring capitals back into go through it.
    The tests and ``bench/prepare.py`` check the equality with NLTK on invented, generated and
    all 50,000 IMDb reviews; ``bench/worst_case_inputs.py`` times hostile inputs.
    """
    lengthening, hang, words = _fast_patterns()
    text = lengthening.sub(r"\1\1\1", _replace_html_entities(text))
    return [
        w if w == (low := w.lower()) or EMOTICON_RE.search(w) else low
        for w in _find_words(words, hang.sub(r"\1\1\1", text))
    ]


def tutorial_substitutions(text: str) -> str:
    """Apply the tutorial's 11 regex substitutions, in order (URLs, slashes, users, emoticons,
    hearts, numbers, repeated punctuation, elongated words).

    Runs of non-space characters over ``_MAX_RUN`` characters are substituted in pieces of
    ``_MAX_RUN`` (the emoticon steps are quadratic in such a run: 20,000 ")" took seconds);
    no IMDb review is substituted differently (checked), and below it the result is the
    tutorial's exactly."""
    if _RUN_OVER_MAX.search(text) is None:
        return _substitute(text)
    return "".join([_substitute(text[start:end]) for start, end in _spans(text, 0, len(text))])


def _substitute(text: str) -> str:
    for pattern, repl, guard in _STEPS[:10]:
        if guard is None or guard(text):
            text = pattern.sub(repl, text)
    if _GUARDS[10](text):
        text = _elong_step(text)
    return text


def clean_tutorial(text: str) -> str:
    """The tutorial's cleaner, exactly.

    The 11 substitutions; then words (split on whitespace) found in the NLTK stopword list are
    dropped, case-sensitively and before lowercasing, so "The" survives as "the"; then the
    text is lowercased, tokenized with ``TweetTokenizer(reduce_len=True, preserve_case=False,
    strip_handles=False)`` and the tokens are joined with single spaces.
    """
    text = tutorial_substitutions(text)
    stop = stopwords()
    text = " ".join([w for w in text.split() if w not in stop])
    return " ".join(tweet_tokenize(text.lower()))


def clean_recommended(text: str) -> str:
    """The tutorial's cleaner with its two measurable flaws fixed.

    - HTML line breaks are replaced by spaces first (:func:`plain_text`): in IMDb nearly every
      long review contains ``<br /><br />``, which the tutorial turns into the tokens
      ``< br / >`` -- pure noise that also pads the 500-token window of the LSTM.
    - Negations are kept: the NLTK list contains "not", "no", "nor" and every "n't" form, so
      the tutorial maps "not good" and "good" to the same text, which hurts sentiment most.
    - Stopwords are removed from the tokenizer's output, after lowercasing, so "The", "the"
      and "the," are all treated alike (the tutorial only removed exact whitespace-split
      lowercase matches).
    - Typographic apostrophes are made plain so "don’t" is recognised like "don't".

    Everything else (the 11 substitutions, the tokenizer and its settings) is the tutorial's,
    so the two recipes differ only where the difference is deliberate.
    """
    text = plain_text(text).translate(_APOSTROPHES)
    text = tutorial_substitutions(text)
    drop = stopwords() - NEGATIONS
    return " ".join([t for t in tweet_tokenize(text.lower()) if t not in drop])


# Pre-tokenized contractions ("does n't", "it 's", Penn Treebank style, as in critic-snippet
# datasets), rejoined so that they read like the written forms ("doesn't", "it's").
_SPACED_NT = re.compile(r"(\w) n't\b", re.IGNORECASE)
_SPACED_CLITIC = re.compile(r"(\w) '(s|re|ve|ll|d|m)\b", re.IGNORECASE)


def clean_words(text: str) -> str:
    """All the words, for models that learn from word order and short phrases.

    No stopword list ("this is not the worst" keeps every word, which phrase features such
    as "is not" and "not the worst" need) and none of the tutorial's substitutions (a rating
    such as "10/10" or "3/10" stays as written). Pre-tokenized contractions are rejoined
    first, so "does n't" and "doesn't" give the same token; then lowercase and the tutorial's
    ``TweetTokenizer``; punctuation tokens are dropped except "!", "?" and emoticons.
    """
    text = plain_text(text).translate(_APOSTROPHES)
    text = _SPACED_CLITIC.sub(r"\1'\2", _SPACED_NT.sub(r"\1n't", text))
    return " ".join([t for t in tweet_tokenize(text.lower()) if _is_word(t)])


# Memoised: a text made of thousands of one-character tokens ("a.a.a.") would otherwise run
# the emoticon pattern on each; the same few tokens come back again and again.
@lru_cache(maxsize=1 << 16)
def _is_word(token: str) -> bool:
    return token in ("!", "?") or _ALNUM(token) is not None or _EMOTICON(token) is not None


_ALNUM = re.compile(r"[^\W_]").search  # str.isalnum, one character at a time
_EMOTICON = re.compile(EMOTICON_RE.pattern + "$", re.VERBOSE | re.IGNORECASE).match


def plain_text(raw: str) -> str:
    """The review for transformer tokenizers: HTML line breaks become spaces and runs of
    whitespace become one space; case, punctuation and every word are kept."""
    return " ".join(_HTML_BREAK.sub(" ", raw).split())


_CLEANERS: dict[str, Callable[[str], str]] = {
    "tutorial": clean_tutorial,
    "recommended": clean_recommended,
    "words": clean_words,
}


def get_cleaner(recipe: str) -> Callable[[str], str]:
    """The cleaning function for a recipe name (one of :data:`RECIPES`)."""
    try:
        return _CLEANERS[recipe]
    except KeyError:
        raise ValueError(f"unknown recipe {recipe!r}; expected one of {RECIPES}") from None


def clean(text: str, recipe: str = "tutorial") -> str:
    """Clean one text with the named recipe."""
    return get_cleaner(recipe)(text)


def clean_many(texts: Iterable[str], recipe: str = "tutorial") -> list[str]:
    """Clean a batch of texts in this process (the unit of work of parallel cleaning)."""
    cleaner = get_cleaner(recipe)
    return [cleaner(t) for t in texts]
