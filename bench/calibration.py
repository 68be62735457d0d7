"""Predicted-recall calibration of the scheduler on a real review history (log loss and bins).

Usage: python bench/calibration.py [CSV]   (default: /work/shared/data/fsrs-real-review-log.csv)

Each card of the file becomes a synthetic item; each review after the first is predicted from
that item's earlier reviews only (FSRS-6 default parameters, fractional elapsed days). Reviews
less than one day after the previous one (learning steps, same-session repeats) are left out,
as FSRS's own evaluations do. The baseline predicts the overall recall share for every review.
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from cmqprep.domain.readiness import (
    CALIBRATION_MIN_DAYS,
    Prediction,
    calibration_by_interval,
    calibration_by_prediction,
    log_loss,
    predictions,
)
from cmqprep.domain.scheduling import to_ms

DEFAULT = Path("/work/shared/data/fsrs-real-review-log.csv")


def load(path: Path) -> dict[str, list[tuple[int, int]]]:
    per_card: dict[str, list[tuple[int, int]]] = defaultdict(list)
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            at = to_ms(datetime.fromisoformat(row["review_time"]))
            per_card[row["card_id"]].append((at, int(row["review_rating"])))
    for reviews in per_card.values():
        reviews.sort()
    return per_card


def evaluate(per_card: dict[str, list[tuple[int, int]]], min_days: float = CALIBRATION_MIN_DAYS) -> list[Prediction]:
    out: list[Prediction] = []
    for reviews in per_card.values():
        out.extend(p for p in predictions(reviews) if p.elapsed_days >= min_days)
    return out


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT
    per_card = load(path)
    preds = evaluate(per_card)
    base = sum(p.recalled for p in preds) / len(preds)
    print(f"{path.name}: {sum(map(len, per_card.values()))} reviews of {len(per_card)} cards; "
          f"{len(preds)} predicted (>= 1 day after the previous review)")
    print(f"log loss FSRS-6 (default parameters): {log_loss((p.predicted, p.recalled) for p in preds):.4f}")
    print(f"log loss constant {base:.4f}:          {log_loss((base, p.recalled) for p in preds):.4f}")
    mean_pred = sum(p.predicted for p in preds) / len(preds)
    print(f"mean predicted {mean_pred:.4f}, actual recall share {base:.4f}")
    for title, bins in (("by predicted recall", calibration_by_prediction(preds)),
                        ("by interval since the previous review", calibration_by_interval(preds))):
        print(f"\nCalibration {title}:")
        print(f"  {'bin':<12}{'reviews':>8}{'predicted':>11}{'recalled':>10}")
        for b in bins:
            print(f"  {b.label:<12}{b.n:>8}{b.predicted:>11.3f}{b.actual:>10.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
