"""The report's chain check agrees with the results app's, and finds tampering."""

from __future__ import annotations

import json

import pytest

from results.models import GoodsLine, ResultVersion
from results.reports import record
from results.selectors import chain_links
from tests.reports.conftest import generate

pytestmark = pytest.mark.django_db


def test_batched_payload_equals_the_results_apps_payload(seeded):
    versions = list(record.version_rows(seeded.op.pk))
    lines = record._lines_by_version([v["pk"] for v in versions])
    ours = [record.payload(v, lines.get(v["pk"], [])) for v in versions]
    theirs = [payload for *_, payload in chain_links(seeded.op.pk)]
    assert ours == theirs


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
