"""The labelled corpus: its shape and the extractor's precision, recall and due times on it."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from keepword_commitments.extraction.scoring import Score, score
from keepword_events import CommitmentKind

NEW_YORK = "America/New_York"
NY = ZoneInfo(NEW_YORK)
TUESDAY_10AM = datetime(2026, 3, 10, 10, 0, tzinfo=NY)  # after the March DST switch
CORPUS = Path(__file__).with_name("promise_corpus.jsonl")


# --- the labelled corpus ---------------------------------------------------------------------


def score_corpus(split: str) -> Score:
    rows = [json.loads(line) for line in CORPUS.read_text().splitlines()]
    in_split = [row for row in rows if row["split"] == split]
    return score(in_split, sent_at=TUESDAY_10AM, timezone=NEW_YORK)


def test_corpus_shape() -> None:
    rows = [json.loads(line) for line in CORPUS.read_text().splitlines()]
    kinds = {row["kind"] for row in rows}
    assert len(rows) >= 100
    assert sum(row["kind"] is not None for row in rows) >= 45
    assert sum(row["kind"] is None for row in rows) >= 45
    assert kinds == {None, *(kind.value for kind in CommitmentKind)}
    assert 0.15 <= sum(row["split"] == "holdout" for row in rows) / len(rows) <= 0.35
    assert all(row["source"] for row in rows)


def test_the_support_writing_rows_name_their_source_and_a_third_is_held_out() -> None:
    rows = [json.loads(line) for line in CORPUS.read_text().splitlines()]
    support = [row for row in rows if "(first corpus)" not in row["source"]]
    assert len(support) >= 100
    assert sum("https://" in row["source"] or "http://" in row["source"] for row in support) >= 100
    held_out = [row for row in support if row["split"] == "holdout"]
    assert 0.25 <= len(held_out) / len(support) <= 0.40
    # decided before any tuning, by a hash of the text
    assert all(
        (row["split"] == "holdout")
        == (int(hashlib.sha256(row["text"].encode()).hexdigest(), 16) % 3 == 0)
        for row in support
    )


@pytest.mark.parametrize(
    ("split", "precision_floor", "recall_floor"),
    [("tuned", 0.95, 0.95), ("holdout", 0.95, 0.80)],
)
def test_corpus_precision_and_recall(
    split: str, precision_floor: float, recall_floor: float
) -> None:
    score = score_corpus(split)
    print(
        f"\n{split}: precision {score.precision:.3f} ({score.correct}/{score.found}), "
        f"recall {score.recall:.3f} ({score.correct}/{score.expected}), "
        f"due times {score.due_right}/{score.due_checked}"
    )
    assert score.precision >= precision_floor
    assert score.recall >= recall_floor
    assert score.due_right >= 0.95 * score.due_checked


def test_a_second_promise_named_in_also_is_expected_not_a_wrong_find() -> None:
    row = {
        "text": "We'll refund the postage and ship a new one by Friday.",
        "kind": "delivery",
        "also": ["refund"],
    }
    s = score([row], sent_at=TUESDAY_10AM, timezone=NEW_YORK)
    assert (s.correct, s.found, s.expected) == (2, 2, 2)
    alone = score([{**row, "also": []}], sent_at=TUESDAY_10AM, timezone=NEW_YORK)
    assert (alone.correct, alone.found, alone.expected) == (1, 2, 1)
