"""The report's chain check on PostgreSQL: the database writes each canonical payload, two halves at once.

The database's payload must be byte for byte what ``canonical_json(version_payload(...))`` gives, or
every report would fall back to the slow authoritative check; and the two halves, checked by two
connections on one snapshot, must find a broken link wherever it is, at the seam included.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction

from cencomm.chain import canonical_json, link_hash_bytes
from reports import record
from results import chain as results_chain
from results.chain import version_payload
from results.models import GoodsLine, ResultVersion
from tests.reports.conftest import post

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def pg_bodies(op: Any) -> dict[int, bytes]:
    return {seq: body for seq, _prev, _hash, body in results_chain.pg_links(op.pk, -(2**63), 2**63 - 1)}


def python_bodies(op: Any) -> dict[int, bytes]:
    versions = ResultVersion.objects.filter(result__operation=op).select_related("result")
    return {v.chain_seq: canonical_json(version_payload(v)) for v in versions}


def test_postgresql_writes_the_canonical_payload_python_would(tworld):
    odd = 'Çokollatë\t"quoted"\n\u2028 \x01\x7f \\ end 😀'
    post(tworld, tworld.officer_al, tworld.durres, "a", lines=[("medicines", 10, odd), ("other", 2, "")])
    post(
        tworld,
        tworld.officer_it,
        tworld.bari,
        "b",
        lines=[("games-toys", 4, "dolls")],
        brand="Brand & Co",
        notes="seen at the gate",
        reference="MSKU 123",
        estimated_value=Decimal("12.5"),
        currency="EUR",
        transit=("RS", "TR"),
        departure="TR",
        concealment=odd,
    )
    post(
        tworld,
        tworld.officer_al,
        tworld.durres,
        "c",
        lines=[("medicines", 1, "x")],
        estimated_value=Decimal("0"),
        currency="ALL",
    )
    versions = list(ResultVersion.objects.filter(result__operation=tworld.op).order_by("chain_seq"))
    # Times with and without microseconds, a linked warning, a large value: what the stored rows may hold.
    ResultVersion.objects.filter(pk=versions[0].pk).update(
        inspected_at=dt.datetime(2026, 5, 4, 3, 2, 1, tzinfo=dt.UTC),
        created_at=dt.datetime(2026, 5, 4, 3, 2, 1, 7, tzinfo=dt.UTC),
        answers_warning=uuid.uuid4(),
    )
    ResultVersion.objects.filter(pk=versions[2].pk).update(
        estimated_value=Decimal("999999999999.99"), reason="line\r\nbreak"
    )
    assert pg_bodies(tworld.op) == python_bodies(tworld.op)
    assert len(pg_bodies(tworld.op)) == 3


def test_a_stored_transit_that_is_not_a_list_of_countries_is_a_mismatch_not_a_crash(tworld):
    post(tworld, tworld.officer_al, tworld.durres, "a", lines=[("medicines", 10, "a")])
    ResultVersion.objects.filter(result__operation=tworld.op).update(transit_countries={"RS": 1})
    [(seq, _prev, _hash, body)] = list(results_chain.pg_links(tworld.op.pk, -(2**63), 2**63 - 1))
    assert b'"transit":"not a list of countries"' in body
    assert record.verify_chain(tworld.op) == {
        "checked": True,
        "ok": False,
        "first_broken": seq,
        "stale_results": 0,
    }


@pytest.fixture
def chain(tworld, monkeypatch) -> Any:
    """Twelve results; the check splits at 6 (the two halves: 1-6 and 7-12) and counts its helpers."""
    for n in range(12):
        post(tworld, tworld.officer_al, tworld.durres, f"r{n}", lines=[("medicines", 10 + n, f"box {n}")])
    monkeypatch.setattr(results_chain, "PARALLEL_FROM", 2)
    helpers: list[str] = []
    real = results_chain.on_snapshot
    monkeypatch.setattr(results_chain, "on_snapshot", lambda sid, work: (helpers.append(sid), real(sid, work))[1])
    tworld.helpers = helpers
    return tworld


def fast(w: Any) -> int | None:
    """The fast check alone (no authoritative second opinion), on a snapshot, in two halves."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot_id = cursor.fetchone()[0]
        return results_chain.fast_first_broken(w.op.pk, snapshot_id)


def version(w: Any, seq: int) -> ResultVersion:
    return ResultVersion.objects.get(result__operation=w.op, chain_seq=seq)


def test_an_intact_chain_passes_in_two_halves(chain):
    assert fast(chain) is None
    assert record.verify_chain(chain.op)["ok"] is True
    assert len(chain.helpers) == 2  # one second half per check


@pytest.mark.parametrize("seq", [1, 3, 6, 7, 12])
def test_a_changed_goods_line_is_found_in_either_half(chain, seq):
    GoodsLine.objects.filter(version=version(chain, seq)).update(quantity=1)
    assert fast(chain) == seq
    assert record.verify_chain(chain.op)["first_broken"] == seq


@pytest.mark.parametrize("start", [7, 9])
def test_history_rewritten_from_a_link_on_with_consistent_hashes_is_found(chain, start):
    """From ``start`` on every link is rehashed over a forged predecessor, the head updated too:
    each half is consistent on its own; only the seam (or the link before) can give it away."""
    from cencomm.models import ChainHead
    from results.chain import results_chain_name

    bodies = python_bodies(chain.op)
    prev = "f" * 64
    for seq in range(start, 13):
        new_hash = link_hash_bytes(prev, seq, bodies[seq])
        ResultVersion.objects.filter(pk=version(chain, seq).pk).update(prev_hash=prev, hash=new_hash)
        prev = new_hash
    ChainHead.objects.filter(name=results_chain_name(chain.op.pk)).update(head_hash=prev)
    assert fast(chain) == start
    assert record.verify_chain(chain.op)["first_broken"] == start


def test_a_missing_link_at_the_seam_is_found(chain):
    gone = version(chain, 7)
    GoodsLine.objects.filter(version=gone).delete()
    gone.delete()
    assert fast(chain) == 7
    assert record.verify_chain(chain.op)["first_broken"] == 7


def test_a_missing_tail_is_found_by_the_head(chain):
    gone = version(chain, 12)
    GoodsLine.objects.filter(version=gone).delete()
    gone.delete()
    assert fast(chain) == 12


def test_an_extra_link_after_the_head_is_found(chain):
    extra = version(chain, 12)
    ResultVersion.objects.filter(pk=extra.pk).update(chain_seq=13)
    assert fast(chain) == 12


@pytest.mark.parametrize("seq", [2**62 + 1, 2**63 - 1])
@pytest.mark.parametrize("halves", [False, True])
def test_a_forged_link_far_beyond_the_head_is_found(chain, monkeypatch, seq, halves):
    """A 13th version renumbered to the top of bigint's range, the head put back on the 12th:
    links 1-12 and the head agree; only reading every stored row finds the extra one."""
    from cencomm.models import ChainHead
    from results.chain import results_chain_name

    if not halves:
        monkeypatch.setattr(results_chain, "PARALLEL_FROM", 10**6)
    post(chain, chain.officer_al, chain.durres, "forged", lines=[("medicines", 999, "forged")])
    ResultVersion.objects.filter(pk=version(chain, 13).pk).update(chain_seq=seq)
    ChainHead.objects.filter(name=results_chain_name(chain.op.pk)).update(
        seq=12, head_hash=version(chain, 12).hash
    )
    assert fast(chain) == 13
    assert record.verify_chain(chain.op)["ok"] is False
