"""The exam blueprint: Body of Knowledge areas, topics and the exam specification, read from pack data."""

from __future__ import annotations

from dataclasses import dataclass, field

LEVELS: tuple[str, ...] = ("remember", "understand", "apply", "analyze", "evaluate", "create")
"""Bloom's revised taxonomy, lowest to highest, as the ASQ BoK uses it."""


def level_rank(level: str) -> int:
    """Position of a cognitive level in LEVELS (0 = remember)."""
    return LEVELS.index(level)


@dataclass(frozen=True)
class Topic:
    code: str
    title: str
    level: str  # the highest cognitive level the BoK tests this topic at


@dataclass(frozen=True)
class Area:
    code: str
    title: str
    scored: int
    topics: tuple[Topic, ...] = ()


@dataclass(frozen=True)
class Blueprint:
    name: str
    scored: int
    unscored: int
    minutes: int
    areas: tuple[Area, ...] = field(default_factory=tuple)

    @property
    def total_items(self) -> int:
        return self.scored + self.unscored

    def topic_codes(self) -> dict[str, str]:
        """Map each topic code to its area code."""
        return {t.code: a.code for a in self.areas for t in a.topics}

    def area(self, code: str) -> Area:
        for a in self.areas:
            if a.code == code:
                return a
        raise KeyError(code)

    def weights(self) -> dict[str, float]:
        """Share of the scored exam per area (sums to 1)."""
        total = sum(a.scored for a in self.areas) or 1
        return {a.code: a.scored / total for a in self.areas}
