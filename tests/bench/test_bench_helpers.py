"""The benchmarks' own arithmetic: the exactly-once check, the page's reconnect pause, the figures."""

from __future__ import annotations

import random

from bench._harness import percentile, ratio
from bench._rooms import Member, page_delay


def member(first: int, seqs: list[int]) -> Member:
    m = Member("ws://127.0.0.1:1/", {}, room=1, first=first)
    m.seqs = list(seqs)
    m.top = max(seqs, default=0)
    return m


def test_every_seq_once_is_neither_missing_nor_twice() -> None:
    assert member(3, [4, 5, 6, 7]).exactly_once(7) == (0, 0)
    assert member(3, [4, 5, 6, 7]).held == 7
    assert member(3, []).held == 3


def test_a_gap_is_missing_and_a_repeat_or_a_stranger_is_twice() -> None:
    assert member(0, [1, 3]).exactly_once(3) == (1, 0)
    assert member(0, [1, 2, 2, 3]).exactly_once(3) == (0, 1)
    assert member(5, [5, 6]).exactly_once(6) == (0, 1)  # seq 5 was held before the cursor
    assert member(0, [1, 2]).exactly_once(4) == (2, 0)


def test_the_page_delay_is_full_jitter_capped_and_honours_retry_after() -> None:
    random.seed(7)
    first = [page_delay(0) for _ in range(500)]
    assert 0 <= min(first) < 0.05 and 0.45 < max(first) <= 0.5
    assert all(0 <= page_delay(20) <= 30.0 for _ in range(100))
    shed = [page_delay(0, retry_after=4) for _ in range(500)]
    assert 4.0 <= min(shed) and max(shed) <= 8.0


def test_percentile_and_ratio() -> None:
    assert percentile([3, 1, 2], 50) == 2
    assert percentile([], 50) != percentile([], 50)  # nan
    assert ratio(1.0, 4.0) == "0.25×"
    assert ratio(1.0, 0.0) == "n/a"
