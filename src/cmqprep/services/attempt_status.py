"""The newest unfinished quiz or exam, in one light query (the home screen asks on every paint)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from cmqprep.db.engine import read_session
from cmqprep.db.models import AttemptQuestionRow, AttemptRow


@dataclass(frozen=True)
class Unfinished:
    id: str
    kind: str
    title: str
    answered: int
    total: int


def unfinished(engine: Engine, profile_id: int, kind: str | None = None) -> Unfinished | None:
    with read_session(engine) as s:
        q = select(AttemptRow.id, AttemptRow.kind, AttemptRow.title).where(
            AttemptRow.profile_id == profile_id, AttemptRow.submitted_ms.is_(None))
        if kind:
            q = q.where(AttemptRow.kind == kind)
        row = s.execute(q.order_by(AttemptRow.started_ms.desc()).limit(1)).first()
        if row is None:
            return None
        answered, total = s.execute(
            select(func.count(AttemptQuestionRow.chosen), func.count())
            .where(AttemptQuestionRow.attempt_id == row.id)).one()
        return Unfinished(row.id, row.kind, row.title, answered, total)
