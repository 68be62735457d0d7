"""`cmqprep stats`: progress per BoK area, readiness, history, forecast and calibration."""

from __future__ import annotations

import argparse
import json
import re

from cmqprep.commands.common import EXIT_OK, context

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
BLOCKS = " ▁▂▃▄▅▆▇█"
NOT_ASQ = ("an estimate of the share of questions you would answer correctly, not an ASQ "
           "scaled score")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stats", help="show progress, readiness and study history per BoK area",
                       description="Progress per BoK area, readiness, reviews per day, the "
                                   "forecast of due reviews and how well recall is predicted.")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.add_argument("--fresh", action="store_true",
                   help="compute the history and calibration from the whole review log "
                        "instead of the statistics cache (slow on a long history; the two "
                        "must agree)")
    p.set_defaults(handler=cmd_stats)


def plain(text: str) -> str:
    """Foreign text (pack titles) without control characters that could drive the terminal."""
    return _CONTROL.sub("?", text)


def bars(values: list[int]) -> str:
    """A one-line chart: one block character per value, scaled to the largest."""
    top = max(values, default=0)
    if top <= 0:
        return BLOCKS[0] * len(values)
    return "".join(BLOCKS[0] if v <= 0 else BLOCKS[max(1, round(v / top * 8))] for v in values)


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def duration(ms: int) -> str:
    minutes = ms // 60_000
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def cmd_stats(args: argparse.Namespace) -> int:
    from cmqprep.services.stats_report import stats_report

    ctx = context(args)
    r = stats_report(ctx.engine, ctx.profile_id, ctx.profile_name, ctx.settings, ctx.clock(),
                     fresh=args.fresh)
    if args.json:
        print(json.dumps(r.to_json(), indent=2, ensure_ascii=False))
        return EXIT_OK
    for line in report_lines(r, ctx.settings.tz()):
        print(line)
    return EXIT_OK


def report_lines(r, tz=None) -> list[str]:  # type: ignore[no-untyped-def]
    c = r.counts
    o = r.overall
    out = [f"Profile {plain(c.profile)}: {c.due_now} due today, {c.new_available} new "
           f"available today; reviews: {c.reviews_today} today, {c.reviews_total} in all",
           f"Readiness: {pct(o.readiness)} expected correct (80% range {pct(o.low)}-"
           f"{pct(o.high)}); {NOT_ASQ}.", ""]
    out.append(f"{'Area':<5}{'Title':<34}{'Items':>6}{'Seen':>6}{'Mast.':>6}{'Due':>5}{'New':>5}"
               f"{'Recall':>7}{'Quiz':>6}  Ready (80% range)")
    due_new = {a.code: (a.due, a.new) for a in c.areas}
    for a in r.areas:
        due, new = due_new.get(a.code, (0, 0))
        out.append(f"{plain(a.code)[:4]:<5}{plain(a.title)[:33]:<34}{a.items:>6}{a.seen:>6}"
                   f"{a.mastered:>6}{due:>5}{new:>5}{pct(a.recall_now):>7}"
                   f"{pct(a.quiz_accuracy):>6}  {pct(a.readiness):>4} "
                   f"({pct(a.readiness_low)}-{pct(a.readiness_high)})")
    if o.weakest:
        out.append(f"Study next (most expected points lost): {', '.join(map(plain, o.weakest))}")
    if r.plan and r.exam:
        out.append(r.plan.describe(r.exam))
    counts = [d.reviews for d in r.days]
    out += ["", f"Reviews per day, last {len(counts)} days (max {max(counts, default=0)}):",
            f"  |{bars(counts)}|",
            f"Streak: {r.streak_days} days   Time studied: {duration(r.studied_ms_total)} "
            f"(last 7 days {duration(r.studied_ms_week)})",
            f"Due in the next {len(r.forecast)} days (max {max(r.forecast, default=0)}):",
            f"  |{bars(r.forecast)}|",
            "  next 7 days: " + " ".join(str(n) for n in r.forecast[:7])]
    out += ["", f"Calibration: recalled vs predicted, target retention {pct(r.target_retention)}"
                f" ({r.calibration_reviews} reviews at least a day apart)"]
    if r.calibration:
        out.append(f"  {'Interval':<12}{'Reviews':>8}{'Predicted':>11}{'Recalled':>10}")
        for b in r.calibration:
            out.append(f"  {b.label:<12}{b.n:>8}{pct(b.predicted):>11}{pct(b.actual):>10}")
        if r.log_loss is not None:
            out.append(f"  log loss {r.log_loss:.3f} (a constant guess: "
                       f"{r.baseline_log_loss:.3f}; lower is better)")
    else:
        out.append("  not enough reviews yet")
    out += ["", "Quiz and mock-exam scores:"]
    if not r.attempts:
        out.append("  none yet")
    for a in r.attempts[-10:]:
        from cmqprep.domain.scheduling import from_ms

        when = from_ms(a.submitted_ms).astimezone(tz)
        areas = " ".join(f"{plain(k)} {c}/{t}" for k, (c, t) in a.per_area.items())
        out.append(f"  {when:%Y-%m-%d} {a.kind:<5}{a.correct:>4}/{a.scored:<4}"
                   f"{a.percent:>4.0f}%  {areas}")
    return out
