"""Coverage of a pack against its blueprint: counts per area and topic, and area x cognitive level."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from cmqprep.domain.blueprint import LEVELS, Blueprint


@dataclass(frozen=True)
class ItemFacts:
    area: str
    topic: str
    kind: str  # "question" | "term"
    level: str


def coverage_lines(blueprint: Blueprint, items: list[ItemFacts]) -> list[str]:
    """A readable report: per area and topic (questions, terms), then area x level for questions."""
    q_topic = Counter(i.topic for i in items if i.kind == "question")
    t_topic = Counter(i.topic for i in items if i.kind == "term")
    by_level = Counter((i.area, i.level) for i in items if i.kind == "question")
    out = [f"{'Area/topic':<10} {'Title':<52} {'Quest.':>6} {'Terms':>6}"]
    for area in blueprint.areas:
        qa = sum(q_topic[t.code] for t in area.topics)
        ta = sum(t_topic[t.code] for t in area.topics)
        out.append(f"{area.code:<10} {area.title[:52]:<52} {qa:>6} {ta:>6}")
        for t in area.topics:
            out.append(f"  {t.code:<8} {t.title[:50]:<52} {q_topic[t.code]:>6} {t_topic[t.code]:>6}")
    out.append("")
    short = [lv[:5].capitalize() for lv in LEVELS]
    out.append(f"{'Area':<6}" + "".join(f"{s:>8}" for s in short) + f"{'Total':>8}{'Apply+':>8}")
    for area in blueprint.areas:
        row = [by_level[(area.code, lv)] for lv in LEVELS]
        total = sum(row) or 1
        high = sum(row[2:]) / total
        out.append(f"{area.code:<6}" + "".join(f"{n:>8}" for n in row) + f"{sum(row):>8}{high:>8.0%}")
    totals = [sum(by_level[(a.code, lv)] for a in blueprint.areas) for lv in LEVELS]
    out.append(f"{'All':<6}" + "".join(f"{n:>8}" for n in totals) + f"{sum(totals):>8}"
               f"{sum(totals[2:]) / (sum(totals) or 1):>8.0%}")
    return out
