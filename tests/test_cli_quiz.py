"""`cmqprep quiz` / `cmqprep exam` from the command line: errors, resume, history."""

from __future__ import annotations

import json
import random

from cmqprep.cli import main
from cmqprep.config import system_clock
from cmqprep.db.engine import default_url
from cmqprep.domain.scheduling import to_ms
from cmqprep.paths import data_dir
from cmqprep.services import exam
from cmqprep.services.context import open_context


def test_unknown_area_and_nothing_to_resume_are_clear_errors(capsys) -> None:
    assert main(["quiz", "--area", "IX"]) == 1
    assert "unknown area IX; areas are I, II, III, IV, V, VI, VII" in capsys.readouterr().err
    assert main(["exam", "--resume"]) == 1
    assert "no unfinished exam to resume" in capsys.readouterr().err


def test_bad_numbers_are_usage_errors(capsys) -> None:
    import pytest

    with pytest.raises(SystemExit) as info:
        main(["quiz", "--questions", "0"])
    assert info.value.code == 2


def test_history_lists_submitted_attempts_as_json_and_text(capsys) -> None:
    main(["quiz", "history"])
    assert "No quizzes or mock exams yet" in capsys.readouterr().out
    d = data_dir(None)
    ctx = open_context(d, default_url(d), "default", system_clock, random.Random(1))
    now = to_ms(system_clock())
    aid = exam.start_attempt(ctx.engine, ctx.profile_id,
                             exam.QuizSpec(questions=4, areas=("VI",), mode="exam"), now,
                             random.Random(2))
    view = exam.load_attempt(ctx.engine, aid)
    for q in view.questions[:3]:
        exam.answer(ctx.engine, aid, q.position, q.key, now, 1000, ctx.profile_id, ctx.settings)
    exam.submit(ctx.engine, aid, now + 60_000, ctx.settings)
    ctx.engine.dispose()
    assert main(["quiz", "history", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1
    assert (rows[0]["kind"], rows[0]["correct"], rows[0]["scored"]) == ("quiz", 3, 4)
    assert rows[0]["areas"] == {"VI": {"correct": 3, "total": 4}} and rows[0]["percent"] == 75.0
    assert main(["quiz", "history"]) == 0
    assert "3/4" in capsys.readouterr().out


def test_full_mock_exam_on_the_bundled_bank_matches_the_cmqoe_blueprint() -> None:
    from collections import Counter

    d = data_dir(None)
    ctx = open_context(d, default_url(d), "default", system_clock, random.Random(1))
    now = to_ms(system_clock())
    spec = exam.QuizSpec(kind="exam", mode="exam", questions=None)
    first = exam.load_attempt(ctx.engine, exam.start_attempt(ctx.engine, ctx.profile_id, spec,
                                                             now, random.Random(3)))
    second = exam.load_attempt(ctx.engine, exam.start_attempt(ctx.engine, ctx.profile_id, spec,
                                                              now + 1, random.Random(4)))
    ctx.engine.dispose()
    scored = Counter(q.area for q in first.questions if q.scored)
    assert scored == {"I": 28, "II": 25, "III": 32, "IV": 28, "V": 25, "VI": 15, "VII": 12}
    assert len(first.questions) == 180 and first.timing.limit_ms == 258 * 60_000
    assert len({q.item_id for q in first.questions}) == 180
    # the bank holds 740 questions: a second exam shares none with the first
    assert not {q.item_id for q in first.questions} & {q.item_id for q in second.questions}
    # options are shuffled per attempt: not every question shows its key in the pack's position
    assert any(q.order != (0, 1, 2, 3) for q in first.questions)
