"""`cmqprep group ...`: keep study-group members' progress summaries and compare them."""

from __future__ import annotations

import argparse
import json
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from cmqprep.commands.common import EXIT_OK, UserError, context
from cmqprep.commands.progress import shown

if TYPE_CHECKING:
    from cmqprep.services.group import GroupView


def add_parser(sub: argparse._SubParsersAction) -> None:
    grp = sub.add_parser("group", help="compare your study group's progress exports",
                         description="Study-group members share exports (cmqprep progress export "
                                     "--summary-only); only their summaries are kept here.")
    gsub = grp.add_subparsers(dest="group_command", metavar="ACTION", required=True)
    a = gsub.add_parser("add", help="add or update members from their export files")
    a.add_argument("files", nargs="+", metavar="FILE")
    s = gsub.add_parser("show", help="the member-by-area table and the group's weakest areas")
    s.add_argument("--json", action="store_true", help="print JSON for scripts")
    r = gsub.add_parser("remove", help="remove a member (by exact name or member id prefix)")
    r.add_argument("member", metavar="MEMBER")
    a.set_defaults(handler=cmd_add)
    s.set_defaults(handler=cmd_show)
    r.set_defaults(handler=cmd_remove)


def cmd_add(args: argparse.Namespace) -> int:
    from cmqprep.domain.progress import ProgressError
    from cmqprep.services.group import add_members

    ctx = context(args)
    try:
        added = add_members(ctx.engine, [Path(f) for f in args.files], ctx.clock())
    except ProgressError as exc:
        raise UserError(str(exc)) from None
    verbs = {"added": "added", "replaced": "updated (newer export)",
             "unchanged": "unchanged (same export already in the group)"}
    for a in added:
        print(f"{a.source}: {shown(a.name)!r} ({a.member_id[:8]}) {verbs[a.outcome]}")
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    from cmqprep.domain.progress import ProgressError
    from cmqprep.services.group import remove_member

    ctx = context(args)
    try:
        member_id, name = remove_member(ctx.engine, args.member)
    except ProgressError as exc:
        raise UserError(shown(str(exc))) from None
    print(f"Removed {shown(name)!r} ({member_id[:8]}) from the group")
    return EXIT_OK


def _day(ms: int | None, tz: tzinfo) -> str:
    from cmqprep.domain.scheduling import from_ms

    return "-" if ms is None else from_ms(ms).astimezone(tz).strftime("%Y-%m-%d")


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{round(100 * x)}"


def render(view: GroupView, tz: tzinfo) -> list[str]:
    """The group as text: one line per member, then readiness/mastery per member and area."""
    if not view.members:
        return ["No group members yet. Add exports with 'cmqprep group add FILE...' "
                "(members make them with 'cmqprep progress export --summary-only -o FILE')."]
    out = [f"Study group: {len(view.members)} member(s)", "",
           f"{'Member':<22}{'Last active':<13}{'Streak':>7}{'Reviews':>9}  Latest mock exam"]
    for m in view.members:
        exam = "-" if m.latest_exam is None else (
            f"{m.latest_exam.percent:.0f}% ({m.latest_exam.correct}/{m.latest_exam.scored}, "
            f"{_day(m.latest_exam.submitted_ms, tz)})")
        out.append(f"{shown(m.name)[:21]:<22}{_day(m.last_active_ms, tz):<13}"
                   f"{m.streak_days:>6}d{m.reviews:>9}  {exam}")
    codes = [a.code for a in view.areas]
    out += ["", "Readiness % / mastery % per area (streaks and figures as of each export)",
            f"{'Member':<22}" + "".join(f"{shown(c)[:8]:>9}" for c in codes)]
    for m in view.members:
        cells = []
        for c in codes:
            a = m.areas.get(c)
            cells.append("" if a is None else f"{_pct(a.readiness)}/{_pct(a.mastery)}")
        out.append(f"{shown(m.name)[:21]:<22}" + "".join(f"{x:>9}" for x in cells))
    out.append(f"{'Group mean':<22}" + "".join(
        f"{_pct(a.mean_readiness) + '/' + _pct(a.mean_mastery):>9}" for a in view.areas))
    titles = {a.code: a.title for a in view.areas}
    weak = "; ".join(f"{shown(c)} {shown(titles[c])}" for c in view.weakest) or "-"
    out += ["", f"Weakest areas (most exam points the group stands to lose): {weak}"]
    return out


def cmd_show(args: argparse.Namespace) -> int:
    from cmqprep.services.group import group_view

    ctx = context(args)
    view = group_view(ctx.engine)
    if args.json:
        # ASCII escapes: member names never reach the terminal as raw control characters.
        print(json.dumps(view.to_json(), indent=2))
        return EXIT_OK
    print("\n".join(render(view, ctx.settings.tz())))
    return EXIT_OK
