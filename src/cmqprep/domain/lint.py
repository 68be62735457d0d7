"""Item-writing quality checks over a whole pack (warnings for authors; gates for the bundled bank)."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher

from cmqprep.domain.blueprint import LEVELS, Blueprint
from cmqprep.domain.items import LETTERS, Item, Question

_ALL_NONE = re.compile(r"\b(all|none|both|neither) of (the )?(above|these)\b", re.I)
_SENTENCE_END = re.compile(r"[.!?](?:[\"')\]]*)(?:\s|$)")


@dataclass(frozen=True)
class Finding:
    item: str | None
    message: str


def normalized(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def sentences(text: str) -> int:
    return len(_SENTENCE_END.findall(text.strip()))


def key_is_longest(q: Question) -> bool:
    """The key is (one of) the longest options: a cue test-wise candidates exploit."""
    lengths = [len(o) for o in q.options]
    return lengths[q.key] == max(lengths)


def _shingles(text: str) -> set[str]:
    words = text.split()
    return {" ".join(words[i:i + 2]) for i in range(max(1, len(words) - 1))}


def near_duplicate_stems(questions: list[Question], threshold: float = 0.85) -> list[tuple[str, str]]:
    """Pairs of questions whose normalized stems are at least `threshold` similar.

    Word-pair overlap picks candidates cheaply; a character-level ratio confirms them."""
    stems = [(q.id, normalized(q.stem)) for q in questions]
    shingles = [_shingles(s) for _, s in stems]
    pairs = []
    for i, (a_id, a) in enumerate(stems):
        for j in range(i + 1, len(stems)):
            sa, sb = shingles[i], shingles[j]
            if len(sa & sb) < 0.5 * min(len(sa), len(sb)):
                continue
            b_id, b = stems[j]
            if SequenceMatcher(None, a, b, autojunk=False).ratio() >= threshold:
                pairs.append((a_id, b_id))
    return pairs


@dataclass
class BankProfile:
    """Figures the quality gates look at."""

    questions: int
    terms: int
    key_share: dict[str, float]
    key_longest_share: float
    all_none: list[str]
    short_explanations: list[str]
    per_topic: Counter[str]
    per_area_level: dict[str, Counter[str]]
    apply_or_above_share: dict[str, float]


def profile_bank(items: list[Item], blueprint: Blueprint) -> BankProfile:
    qs = [i for i in items if isinstance(i, Question)]
    n = len(qs) or 1
    keys = Counter(LETTERS[q.key] for q in qs)
    topic_area = blueprint.topic_codes()
    per_area_level: dict[str, Counter[str]] = {a.code: Counter() for a in blueprint.areas}
    for q in qs:
        per_area_level[topic_area[q.topic]][q.level] += 1
    high = set(LEVELS[2:])
    return BankProfile(
        questions=len(qs), terms=len(items) - len(qs),
        key_share={k: keys[k] / n for k in LETTERS},
        key_longest_share=sum(key_is_longest(q) for q in qs) / n,
        all_none=[q.id for q in qs if any(_ALL_NONE.search(o) for o in q.options)],
        short_explanations=[q.id for q in qs if sentences(q.explanation) < 2],
        per_topic=Counter(q.topic for q in qs),
        per_area_level=per_area_level,
        apply_or_above_share={a: (sum(c[lv] for lv in high) / (sum(c.values()) or 1))
                              for a, c in per_area_level.items()},
    )


# ---- item-writing lint for authors (`cmqprep pack validate`) --------------------------------
# Each rule is a warning: the item can be studied, but an exam-wise candidate could answer it
# without the knowledge it means to test, or it tests reading rather than the concept.

RULES = ("key-longest", "all-none", "negative-stem", "stem-clue", "near-duplicate",
         "short-explanation", "empty-topic")
KEY_LONGEST_MARGIN = 0.10  # share above chance before the key-length cue counts as marked
KEY_LONGEST_P = 0.05  # ... and the one-sided binomial p-value it must fall below
MIN_EXPLANATION_WORDS = 15

_NEGATIVE = re.compile(r"(?<![A-Za-z*_])([*_]?)(not|except|least)\1(?![A-Za-z-])", re.I)
_HARMLESS_NEGATIVE = re.compile(r"\b(at least|or not|not only)\b", re.I)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])[\"')\]]*\s+")
_STOP = frozenset("""
about above after again against also among another answer any apply approach because been
before being best between both cannot case could does doing done during each either every
example first following from further have having here into just least less like likely made
main make many more most much must need needs next only other over part same should shown
since some such than that their them then there these they thing this those three through
under used uses using very were what when where whether which while with within without
would your work working company organization manager managers team describe describes""".split())


@dataclass(frozen=True)
class LintFinding(Finding):
    """A lint warning: `rule` is one of RULES; `where` names a blueprint code for pack-level
    findings that belong to an area or topic (so the caller can point at pack.toml)."""

    rule: str = ""
    where: str | None = None


def binomial_tail(n: int, k: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed in log space so large n stays accurate."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    lp, lq = math.log(p), math.log1p(-p)
    base = math.lgamma(n + 1)
    return min(1.0, sum(math.exp(base - math.lgamma(i + 1) - math.lgamma(n - i + 1)
                                 + i * lp + (n - i) * lq) for i in range(k, n + 1)))


def key_longest_credit(q: Question) -> float:
    """1 when the key is the single longest option, 1/k when it ties with k-1 others, else 0.

    Ties share the credit so that a pack of equal-length options scores exactly at chance."""
    lengths = [len(o.strip()) for o in q.options]
    top = max(lengths)
    if lengths[q.key] != top:
        return 0.0
    return 1.0 / lengths.count(top)


def key_longest_cue(questions: list[Question]) -> tuple[float, float, float] | None:
    """(observed share, chance share, p-value) when the key is the longest option markedly
    more often than chance across the pack; None otherwise."""
    n = len(questions)
    if n == 0:
        return None
    credit = sum(key_longest_credit(q) for q in questions)
    chance = sum(1 / len(q.options) for q in questions) / n
    share = credit / n
    p_value = binomial_tail(n, math.floor(credit + 1e-9), chance)
    if share >= chance + KEY_LONGEST_MARGIN and p_value < KEY_LONGEST_P:
        return share, chance, p_value
    return None


def question_sentence(stem: str) -> str:
    """The sentence that asks: the last one ending in '?', else the last sentence."""
    parts = [p.strip() for p in _SENTENCE_SPLIT.split(stem.strip()) if p.strip()]
    if not parts:
        return ""
    asking = [p for p in parts if p.rstrip("\"')]").endswith("?")]
    return (asking or parts)[-1]


def unemphasized_negative(stem: str) -> str | None:
    """The negative word (NOT, EXCEPT, LEAST) of the asking sentence when it is written in
    lower or mixed case and not between *asterisks* or _underscores_; None otherwise."""
    text = _HARMLESS_NEGATIVE.sub(" ", question_sentence(stem))
    for m in _NEGATIVE.finditer(text):
        word = m.group(2)
        if m.group(1) or word.isupper():
            continue
        return word
    return None


def _root(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def distinctive_words(text: str) -> set[str]:
    """Content words of four or more letters, roughly stemmed, without common words."""
    return {_root(w) for w in normalized(text).split()
            if len(w) >= 4 and not w.isdigit() and w not in _STOP}


def stem_clue(q: Question) -> set[str]:
    """Stem words only the key repeats (a 'clang' clue), as the stem spells them; empty when
    there is none."""
    stem = distinctive_words(q.stem)
    shared = [distinctive_words(o) & stem for o in q.options]
    if not shared[q.key] or any(s for i, s in enumerate(shared) if i != q.key):
        return set()
    return {w for w in normalized(q.stem).split() if _root(w) in shared[q.key]}


def explanation_too_short(q: Question) -> bool:
    return sentences(q.explanation) < 2 or len(q.explanation.split()) < MIN_EXPLANATION_WORDS


def _quote(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "\u2026")


def lint_items(items: list[Item], blueprint: Blueprint) -> list[LintFinding]:
    """Every item-writing warning for a pack, pack-wide findings first."""
    qs = [i for i in items if isinstance(i, Question)]
    out: list[LintFinding] = []
    cue = key_longest_cue(qs)
    if cue is not None:
        share, chance, p_value = cue
        out.append(LintFinding(None, (
            f"the key is the longest option in {share:.0%} of {len(qs)} questions (chance is "
            f"{chance:.0%}, p = {p_value:.2g}): candidates learn to pick the longest option; "
            f"lengthen distractors or trim keys"), "key-longest"))
    used = Counter(i.topic for i in items)
    for area in blueprint.areas:
        empty = [t.code for t in area.topics if not used[t.code]]
        if empty:
            what = ("none of its topics has items" if len(empty) == len(area.topics)
                    else f"{len(empty)} of {len(area.topics)} topics have no items: "
                         f"{', '.join(empty)}")
            out.append(LintFinding(None, f"area {area.code}: {what}", "empty-topic", area.code))
    dupes: dict[str, list[str]] = {}
    for a, b in near_duplicate_stems(qs):
        dupes.setdefault(b, []).append(a)
    for q in qs:
        for o in q.options:
            if _ALL_NONE.search(o):
                out.append(LintFinding(q.id, (
                    f"option {_quote(o)} is an all/none-of-the-above option: it rewards partial "
                    f"knowledge and breaks when options are shuffled"), "all-none"))
        word = unemphasized_negative(q.stem)
        if word:
            out.append(LintFinding(q.id, (
                f"the stem asks a negative question: write {word!r} as {word.upper()} or "
                f"*{word}* so candidates do not miss it"), "negative-stem"))
        clue = stem_clue(q)
        if clue:
            out.append(LintFinding(q.id, (
                f"only the key repeats the stem's word(s) {', '.join(sorted(clue))}: a clue to "
                f"the answer; reword the key or let a distractor echo the stem too"), "stem-clue"))
        for other in dupes.get(q.id, []):
            out.append(LintFinding(q.id, f"stem nearly duplicates item {other}'s",
                                   "near-duplicate"))
        if explanation_too_short(q):
            out.append(LintFinding(q.id, (
                f"explanation is short (fewer than two sentences or {MIN_EXPLANATION_WORDS} "
                f"words): say why the key is right and why the best distractor is wrong"),
                "short-explanation"))
    return out
