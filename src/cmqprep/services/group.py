"""The study group: members' progress summaries, stored apart from the learner's own data.

Only the group_members table is ever written here; the learner's reviews and schedule are
never read or changed by group commands.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, select

from cmqprep.db.engine import read_session, write_session
from cmqprep.db.models import GroupMemberRow
from cmqprep.domain.progress import ProgressError, iso_ms
from cmqprep.domain.readiness import points_lost, weakest
from cmqprep.domain.scheduling import to_ms
from cmqprep.services.progress import read_export

N_WEAKEST = 3


@dataclass(frozen=True)
class Added:
    source: str
    member_id: str
    name: str
    outcome: str  # "added" | "replaced" | "unchanged"


def add_members(engine: Engine, paths: Sequence[Path], now: datetime) -> list[Added]:
    """Store each file's summary as its member's entry, all files or none.

    A newer export of a member replaces the stored one; the same export again changes nothing;
    an older one is refused (and with it the whole batch)."""
    docs = [read_export(p, now) for p in paths]  # every file is valid before anything is stored
    out: list[Added] = []
    with write_session(engine) as s:
        for path, doc in zip(paths, docs):
            row = s.get(GroupMemberRow, doc.member_id)
            outcome = "added"
            if row is not None:
                if doc.exported_ms < row.exported_ms:
                    raise ProgressError(
                        f"{path}: this export of {doc.name!r} (exported {iso_ms(doc.exported_ms)})"
                        f" is older than the one in the group (exported "
                        f"{iso_ms(row.exported_ms)}); nothing was changed")
                if doc.exported_ms == row.exported_ms:
                    out.append(Added(str(path), doc.member_id, doc.name, "unchanged"))
                    continue
                outcome = "replaced"
            else:
                row = GroupMemberRow(member_id=doc.member_id)
                s.add(row)
            row.name, row.exported_ms, row.added_ms = doc.name, doc.exported_ms, to_ms(now)
            row.summary = json.dumps(doc.summary, ensure_ascii=False)
            out.append(Added(str(path), doc.member_id, doc.name, outcome))
    return out


def remove_member(engine: Engine, query: str) -> tuple[str, str]:
    """Remove the member whose exact name is `query` or whose id starts with it."""
    with write_session(engine) as s:
        rows = list(s.scalars(select(GroupMemberRow).order_by(GroupMemberRow.name)))
        hits = [r for r in rows if r.name == query or r.member_id.startswith(query.lower())]
        if not query or not hits:
            raise ProgressError(f"no group member named {query!r} or with an id starting with "
                                f"it; see 'cmqprep group show'")
        if len(hits) > 1:
            names = ", ".join(f"{r.name!r} ({r.member_id[:8]})" for r in hits)
            raise ProgressError(f"{query!r} matches {len(hits)} members: {names}; give more of "
                                f"the member id")
        s.execute(delete(GroupMemberRow).where(GroupMemberRow.member_id == hits[0].member_id))
        return hits[0].member_id, hits[0].name


# ---- the comparison -------------------------------------------------------------------------

@dataclass(frozen=True)
class MemberArea:
    mastery: float | None  # mastered items / items; None for an area without items
    readiness: float
    seen: int
    items: int


@dataclass(frozen=True)
class ExamScore:
    percent: float
    correct: int
    scored: int
    submitted_ms: int


@dataclass
class MemberView:
    member_id: str
    name: str
    exported_ms: int
    last_active_ms: int | None
    streak_days: int  # as of the export
    reviews: int
    latest_exam: ExamScore | None
    areas: dict[str, MemberArea] = field(default_factory=dict)


@dataclass(frozen=True)
class AreaView:
    code: str
    title: str
    weight: float
    members: int  # members whose export has this area
    mean_mastery: float | None
    mean_readiness: float | None
    points_lost: float | None  # weight x (1 - mean readiness): the group's expected loss


@dataclass
class GroupView:
    members: list[MemberView]
    areas: list[AreaView]
    weakest: list[str]

    def to_json(self) -> dict[str, Any]:
        def r4(x: float | None) -> float | None:
            return None if x is None else round(x, 4)

        return {
            "members": [{
                "member_id": m.member_id, "name": m.name, "exported_at": iso_ms(m.exported_ms),
                "last_active": iso_ms(m.last_active_ms) if m.last_active_ms is not None else None,
                "streak_days": m.streak_days, "reviews": m.reviews,
                "latest_exam": None if m.latest_exam is None else {
                    "percent": round(m.latest_exam.percent, 1), "correct": m.latest_exam.correct,
                    "scored": m.latest_exam.scored,
                    "submitted_at": iso_ms(m.latest_exam.submitted_ms)},
                "areas": {code: {"mastery": r4(a.mastery), "readiness": r4(a.readiness),
                                 "seen": a.seen, "items": a.items}
                          for code, a in m.areas.items()},
            } for m in self.members],
            "areas": [{"code": a.code, "title": a.title, "weight": r4(a.weight),
                       "members": a.members, "mean_mastery": r4(a.mean_mastery),
                       "mean_readiness": r4(a.mean_readiness), "points_lost": r4(a.points_lost)}
                      for a in self.areas],
            "weakest": self.weakest,
        }


def _member(member_id: str, name: str, exported_ms: int, summary: dict[str, Any]) -> MemberView:
    exams = [a for a in summary.get("attempts", []) if a["kind"] == "exam"]
    latest = max(exams, key=lambda a: (a["submitted_ms"], a["id"]), default=None)
    activity = summary.get("activity", {})
    m = MemberView(member_id, name, exported_ms, activity.get("last_review_ms"),
                   activity.get("streak_days", 0), activity.get("reviews", 0),
                   None if latest is None else ExamScore(
                       100.0 * latest["correct"] / latest["scored"] if latest["scored"] else 0.0,
                       latest["correct"], latest["scored"], latest["submitted_ms"]))
    for a in summary.get("areas", []):
        m.areas[a["code"]] = MemberArea(a["mastered"] / a["items"] if a["items"] else None,
                                        a["readiness"], a["seen"], a["items"])
    return m


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def compare(members: list[tuple[str, str, int, dict[str, Any]]]) -> GroupView:
    """The member-by-area comparison from (member_id, name, exported_ms, summary) entries.

    The group's weakest areas are those where the group, on average, stands to lose the most
    exam points: blueprint weight x (1 - mean readiness), the rule a learner's own readiness
    view uses, applied to the group means."""
    views = sorted((_member(*m) for m in members), key=lambda v: (v.name.casefold(), v.member_id))
    titles: dict[str, tuple[str, float]] = {}
    for summary in (m[3] for m in sorted(members, key=lambda m: m[0])):
        for a in summary.get("areas", []):
            title, weight = titles.get(a["code"], (a["title"], 0.0))
            titles[a["code"]] = (title, max(weight, a["weight"]))
    areas = []
    for code in _area_order(members):
        title, weight = titles[code]
        mine = [v.areas[code] for v in views if code in v.areas]
        readiness = _mean([a.readiness for a in mine])
        areas.append(AreaView(code, title, weight, len(mine),
                              _mean([a.mastery for a in mine if a.mastery is not None]),
                              readiness,
                              None if readiness is None else points_lost(weight, readiness)))
    weak = weakest([(a.code, a.weight, a.mean_readiness) for a in areas
                    if a.mean_readiness is not None], N_WEAKEST)
    return GroupView(views, areas, weak)


def _area_order(members: list[tuple[str, str, int, dict[str, Any]]]) -> list[str]:
    """Blueprint order: areas as the member with the most areas lists them, then any others."""
    lists = sorted(([a["code"] for a in m[3].get("areas", [])]
                    for m in sorted(members, key=lambda m: m[0])), key=lambda codes: -len(codes))
    order: list[str] = []
    for codes in lists:
        order.extend(c for c in codes if c not in order)
    return order


def group_view(engine: Engine) -> GroupView:
    with read_session(engine) as s:
        rows = [(r.member_id, r.name, r.exported_ms, json.loads(r.summary))
                for r in s.scalars(select(GroupMemberRow))]
    return compare(rows)
