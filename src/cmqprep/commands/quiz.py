"""`cmqprep quiz ...` and `cmqprep exam ...`: timed quizzes, full mock exams and their history."""

from __future__ import annotations

import argparse
import json

from cmqprep.commands.common import EXIT_OK, UserError, context


def add_parser(sub: argparse._SubParsersAction) -> None:
    quiz = sub.add_parser(
        "quiz", help="a timed quiz drawn across BoK areas (or: quiz history)",
        description="Start a quiz in the app. Questions are drawn across the chosen areas in "
                    "proportion to the exam blueprint, preferring ones you have seen least or "
                    "missed most.")
    quiz.add_argument("--questions", "-n", type=_positive, default=20, metavar="N",
                      help="how many questions (default 20)")
    quiz.add_argument("--area", action="append", metavar="CODE", dest="areas",
                      help="only this BoK area, e.g. III (repeat for several)")
    quiz.add_argument("--minutes", type=_minutes, metavar="M",
                      help="time limit (default: the exam's pace, about 1.43 min a question; "
                           "0 for untimed)")
    quiz.add_argument("--mode", choices=("study", "exam"), default="study",
                      help="study: right/wrong and the explanation after each answer (default); "
                           "exam: all feedback at the end")
    quiz.add_argument("--resume", action="store_true", help="continue the unfinished quiz")
    qsub = quiz.add_subparsers(dest="quiz_command", metavar="ACTION")
    hist = qsub.add_parser("history", help="list past quizzes and mock exams")
    hist.add_argument("--json", action="store_true", help="print JSON for scripts")
    quiz.set_defaults(handler=cmd_quiz)

    exam = sub.add_parser(
        "exam", help="a full mock exam to the blueprint (165 scored + 15 unscored, 258 min)",
        description="Start a full-length mock exam in the app: the blueprint's count per area, "
                    "options shuffled, all feedback at the end.")
    exam.add_argument("--resume", action="store_true", help="continue the unfinished exam")
    exam.add_argument("--questions", "-n", type=_positive, metavar="N",
                      help="a shorter exam of N questions in the blueprint's proportions")
    exam.add_argument("--pause-clock", action="store_true",
                      help="stop the clock while you are away (practice); by default it keeps "
                           "running, as in a test centre (setting: pause_exam_clock)")
    exam.set_defaults(handler=cmd_exam)


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= n <= 1000:
        raise argparse.ArgumentTypeError("must be between 1 and 1000")
    return n


def _minutes(text: str) -> float:
    try:
        m = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of minutes: {text!r}") from None
    if not 0 <= m <= 24 * 60:
        raise argparse.ArgumentTypeError("must be between 0 and 1440")
    return m


def cmd_quiz(args: argparse.Namespace) -> int:
    if args.quiz_command == "history":
        return cmd_history(args)
    from cmqprep.services.exam import QuizSpec

    spec = QuizSpec(kind="quiz", mode=args.mode, questions=args.questions,
                    areas=tuple(dict.fromkeys(a.upper() for a in args.areas or ())),
                    minutes=args.minutes)
    return _run(args, spec, "quiz")


def cmd_exam(args: argparse.Namespace) -> int:
    from cmqprep.services.exam import QuizSpec

    ctx = context(args)
    pause = args.pause_clock or ctx.settings.pause_exam_clock
    spec = QuizSpec(kind="exam", mode="exam", questions=args.questions, clock_runs=not pause)
    return _run(args, spec, "exam", ctx)


def _run(args: argparse.Namespace, spec, kind: str, ctx=None) -> int:  # type: ignore[no-untyped-def]
    from cmqprep.domain.exam import DrawError
    from cmqprep.domain.scheduling import to_ms
    from cmqprep.services import exam

    ctx = ctx or context(args)
    if args.resume:
        attempt_id = exam.in_progress(ctx.engine, ctx.profile_id, kind)
        if attempt_id is None:
            raise UserError(f"there is no unfinished {kind} to resume; start one with "
                            f"'cmqprep {kind}'")
    else:
        try:
            attempt_id = exam.start_attempt(ctx.engine, ctx.profile_id, spec, to_ms(ctx.clock()),
                                            ctx.rng)
        except DrawError as exc:
            raise UserError(str(exc)) from None
    from cmqprep.ui.app import make_app

    make_app(ctx, start=("attempt", attempt_id)).run()
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from cmqprep.domain.exam import format_clock
    from cmqprep.services.exam import attempt_history

    ctx = context(args)
    results = attempt_history(ctx.engine, ctx.profile_id)
    if args.json:
        print(json.dumps([r.to_json() for r in results], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not results:
        print("No quizzes or mock exams yet. Start one with 'cmqprep quiz' or 'cmqprep exam'.")
        return EXIT_OK
    tz = ctx.settings.tz()
    print(f"{'When':<17} {'Kind':<5} {'Score':>9} {'%':>6} {'Time':>8}  Areas (correct/total)")
    for r in results:
        when = datetime.fromtimestamp(r.started_ms / 1000, timezone.utc).astimezone(tz)
        areas = " ".join(f"{k} {c}/{t}" for k, (c, t) in r.per_area.items())
        print(f"{when:%Y-%m-%d %H:%M} {r.kind:<5} {r.correct:>4}/{r.scored:<4} "
              f"{r.percent:>5.1f}% {format_clock(r.used_ms):>8}  {areas}")
    return EXIT_OK
