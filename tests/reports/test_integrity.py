"""The report's chain check agrees with the results app's, and finds tampering."""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import pytest

from cencomm.chain import canonical_json, link_hash_bytes
from reports import record
from results import chain
from results.chain import chain_links
from results.models import GoodsLine, ResultVersion
from tests.reports.conftest import generate, post

pytestmark = pytest.mark.django_db


def test_fast_canonical_payload_equals_the_results_apps_payload(seeded):
    post(
        seeded,
        seeded.officer_it,
        seeded.bari,
        "odd",
        lines=[("other", 3, 'Çokollatë\t"quoted"\n\u2028 \x01\x7f \\ end')],
        concealment="lines",
        estimated_value=Decimal("12.5"),
        currency="EUR",
    )
    links = list(chain.python_links(seeded.op.pk))
    theirs = [canonical_json(payload) for *_, payload in chain_links(seeded.op.pk)]
    assert [body for *_, body in links] == theirs
    assert [link_hash_bytes(prev, seq, body) for seq, prev, _hash, body in links] == [h for _s, _p, h, _b in links]


def test_a_payload_the_fast_path_misreads_still_gets_the_authoritative_verdict(seeded, monkeypatch):
    monkeypatch.setattr(chain, "canonical_json", lambda payload: b"drifted")
    assert record.verify_chain(seeded.op)["ok"] is True


def test_tampered_goods_line_is_reported_by_the_report(seeded):
    line = GoodsLine.objects.filter(version__result__operation=seeded.op, description="dolls").get()
    GoodsLine.objects.filter(pk=line.pk).update(quantity=99)
    data = json.loads(generate(seeded, seeded.coordinator, "public", "json"))
    verify = data["integrity"]["verify"]
    assert verify["ok"] is False and verify["first_broken"] == line.version.chain_seq


def test_current_flag_moved_to_an_old_version_is_reported(seeded):
    version = ResultVersion.objects.filter(result__operation=seeded.op).first()
    ResultVersion.objects.filter(pk=version.pk).update(is_current=False)
    assert record.verify_chain(seeded.op)["stale_results"] == 1
    assert record.verify_chain(seeded.op)["ok"] is False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_chain_check_runs_beside_the_aggregates_on_the_same_snapshot(tworld, monkeypatch):
    from reports import builder

    post(tworld, tworld.officer_al, tworld.durres, "pg-1", lines=[("medicines", 10, "a"), ("other", 2, "b")])
    post(tworld, tworld.officer_it, tworld.bari, "pg-2", lines=[("games-toys", 4, "dolls")])
    threads = []
    monkeypatch.setattr(
        builder.ChainCheck, "start", lambda self: (threads.append(self), threading.Thread.start(self))
    )
    data = json.loads(generate(tworld, tworld.coordinator, "public", "json"))
    assert (
        len(threads) == 1
        and data["integrity"]["verify"]["ok"] is True
        and data["integrity"]["chain_seq"] == 2
    )
    line = GoodsLine.objects.get(version__result__operation=tworld.op, description="dolls")
    GoodsLine.objects.filter(pk=line.pk).update(quantity=7)
    data = json.loads(generate(tworld, tworld.coordinator, "public", "json"))
    assert data["integrity"]["verify"] == {
        "checked": True,
        "ok": False,
        "first_broken": 2,
        "stale_results": 0,
    }
    assert len(threads) == 2
