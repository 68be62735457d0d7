"""Item-writing quality checks over a whole pack (warnings for authors; gates for the bundled bank)."""

from __future__ import annotations

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
