"""`cmqprep pack stats`: per-item answers, share correct, option picks and flags."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from cmqprep.db.engine import write_session
from cmqprep.db.models import ReviewRow
from cmqprep.packs.native import load_pack
from cmqprep.services.item_analysis import ItemStats, flags_for, pack_stats
from cmqprep.services.packs import install_pack
from cmqprep.services.profiles import create_profile
from tests.conftest import SMALL_MANIFEST, question, term, write_pack


def seed(ctx, tmp_path: Path) -> None:
    """Pack 'class' (keys A, B, C, D) and reviews from two learners, all sources."""
    items = "\n".join([question("k1"), question("k2", key="B"), question("k3", key="C"),
                       question("k4", key="D"), term("kt")])
    pack = load_pack(write_pack(tmp_path / "class", items,
                                SMALL_MANIFEST.replace('id = "mini"', 'id = "class"')))
    install_pack(ctx.engine, pack, 1000)
    sam = create_profile(ctx.engine, "sam", 1)
    picks = {  # item -> options chosen, in pack order (0 = A)
        "k1": [0, 0, 0, 1, 3],  # key A: 3/5 right
        "k2": [0, 0, 0, 0, 1, 1],  # key B: 2/6, A beats the key
        "k3": [0, 0, 1, 1, 1],  # key C: 0/5, nobody right
        "k4": [0, 1, 2, 0],  # key D: 0/4, too few answers to flag
    }
    with write_session(ctx.engine) as s:
        for key, chosen in picks.items():
            for n, c in enumerate(chosen):
                s.add(ReviewRow(id=uuid.uuid4().hex, profile_id=(ctx.profile_id, sam)[n % 2],
                                pack_key="class", item_key=key, reviewed_ms=2000 + n, rating=3,
                                source=("study", "quiz", "exam")[n % 3], chosen=c,
                                correct=None))
        # not counted: a term card (no option), a question answered with no choice recorded,
        # another pack's review of the same item key, and a choice outside the options
        for extra in (dict(item_key="kt", chosen=None), dict(item_key="k1", chosen=None),
                      dict(item_key="k1", chosen=5),
                      dict(item_key="k1", chosen=0, pack_key="mini")):
            s.add(ReviewRow(**({"id": uuid.uuid4().hex, "profile_id": ctx.profile_id,
                                "pack_key": "class", "reviewed_ms": 3000, "rating": 3,
                                "source": "study"} | extra)))


def test_pack_stats_counts_picks_and_flags(ctx, tmp_path: Path) -> None:
    seed(ctx, tmp_path)
    stats = pack_stats(ctx.engine, "class")
    got = {i.id: i for i in stats.items}
    assert set(got) == {"k1", "k2", "k3", "k4"}  # questions only
    assert got["k1"].picks == [3, 1, 0, 1] and got["k1"].p_correct == 0.6 and got["k1"].flags == []
    assert got["k2"].picks == [4, 2, 0, 0] and got["k2"].flags == ["distractor-beats-key"]
    assert got["k3"].picks == [2, 3, 0, 0] and got["k3"].correct == 0
    assert got["k3"].flags == ["nobody-right", "distractor-beats-key"]
    assert got["k4"].attempts == 4 and got["k4"].flags == []
    # flagged first (hardest first), then the rest by share correct
    assert [i.id for i in stats.items] == ["k3", "k2", "k4", "k1"]


def test_reviews_before_a_key_change_are_left_out(ctx, tmp_path: Path) -> None:
    seed(ctx, tmp_path)
    items = "\n".join([question("k1", key="B"), question("k2", key="B"),
                       question("k3", key="C"), question("k4", key="D"), term("kt")])
    v2 = load_pack(write_pack(tmp_path / "class2", items, SMALL_MANIFEST.replace(
        'id = "mini"', 'id = "class"').replace('"1.0.0"', '"1.1.0"')))
    install_pack(ctx.engine, v2, 10_000)
    got = {i.id: i for i in pack_stats(ctx.engine, "class").items}
    assert got["k1"].attempts == 0 and got["k1"].p_correct is None
    assert got["k2"].attempts == 6


def test_flags_need_enough_answers() -> None:
    assert flags_for(ItemStats("x", "I.A", 0, [0, 5, 0, 0])) == ["nobody-right",
                                                                  "distractor-beats-key"]
    assert flags_for(ItemStats("x", "I.A", 0, [2, 2, 1, 0])) == []  # a tie does not beat the key
    assert flags_for(ItemStats("x", "I.A", 0, [0, 4, 0, 0])) == []


def test_cli_stats_text_and_json(ctx, cli, tmp_path: Path, capsys) -> None:
    seed(ctx, tmp_path)
    capsys.readouterr()
    assert cli("pack", "stats", "class") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("class 1.0.0: 4 questions, 20 answers in this database, 2 flagged")
    assert lines[2].split() == ["k3", "I.A", "5", "0%", "2", "3", "*0", "0", "nobody-right,",
                                "distractor-beats-key"]
    assert lines[5].split() == ["k1", "I.A", "5", "60%", "*3", "1", "0", "1"]
    assert cli("pack", "stats", "class", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["pack"] == "class" and data["answers"] == 20 and data["flagged"] == 2
    k2 = next(i for i in data["items"] if i["id"] == "k2")
    assert k2["key"] == "B" and k2["attempts"] == 6 and k2["correct"] == 2
    assert k2["p_correct"] == round(2 / 6, 4)
    assert [o["picked"] for o in k2["options"]] == [4, 2, 0, 0]
    assert [o["key"] for o in k2["options"]] == [False, True, False, False]
    assert cli("pack", "stats", "nope") == 1
