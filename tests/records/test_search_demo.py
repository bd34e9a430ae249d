"""The issue's "done when" on the demo: the coordinator finds the Balkan Gate warning about a container
by its number; an officer of Albania does not find a message of the Italian room; no word of the
demo is readable in the index; a demo database indexed before search existed is indexed again."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from cencomm.models import SearchDocument, SearchToken
from hub.demo import demo_setup
from operations.models import Membership
from records.search import search

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def demo(settings: Any, tmp_path: Any) -> Any:
    settings.VAR_DIR = tmp_path
    operation, _ = demo_setup()
    return operation


def member(operation: Any, username: str) -> Membership:
    return Membership.objects.select_related("operation").get(operation=operation, user__username=username)


def test_the_coordinator_finds_the_container_warning_by_its_number(demo):
    coordinator = member(demo, "coordinator")
    for q in ("TGHU4829131", "TGHU 482913-1", "tghu 4829131"):
        page = search(coordinator, q)
        assert page.count == 1, q
        assert page.answers[0].kind == "warning"
        assert "<mark>TGHU 482913-1</mark>" in page.answers[0].snippet


def test_an_officer_of_albania_does_not_find_a_message_of_the_italian_room(demo):
    assert search(member(demo, "coordinator"), "Adriatica").count == 1
    assert search(member(demo, "officer-bari"), "Adriatica").count == 1
    page = search(member(demo, "officer-durres"), "Adriatica")
    assert (page.count, page.answers) == (0, [])
    assert search(member(demo, "ncp-al"), "Adriatica Import").count == 0


def test_results_are_found_by_gtin_and_their_reference_only_by_their_administration(demo):
    from results.models import GoodsLine, ResultVersion

    line = (
        GoodsLine.objects.filter(version__is_current=True)
        .exclude(gtin="")
        .select_related("version__result")
        .first()
    )
    assert line is not None
    page = search(member(demo, "analyst"), line.gtin, flt_kind("result"))
    assert page.count >= 1 and all(a.kind == "result" for a in page.answers)
    # A reference (container number) is sealed: found by the result's own administration only.
    from results.sealing import sealed_fields

    version = next(
        v
        for v in ResultVersion.objects.filter(is_current=True).select_related("result")
        if sealed_fields(v)["reference"]
    )
    reference = sealed_fields(version)["reference"]
    poster = Membership.objects.select_related("operation").get(
        operation=demo, user=version.result.reported_by
    )
    assert search(poster, reference).count == 1
    other = (
        Membership.objects.select_related("operation")
        .filter(operation=demo, administration__isnull=False)
        .exclude(administration_id=poster.administration_id)
        .first()
    )
    assert other is not None and search(other, reference).count == 0
    assert search(member(demo, "analyst"), reference).count == 0


def flt_kind(kind: str) -> Any:
    from records.search import SearchFilter

    return SearchFilter(kind=kind)


def test_no_word_of_the_demo_is_readable_in_the_index(demo):
    assert SearchToken.objects.count() > 500
    dump = []
    with connection.cursor() as cursor:
        for model in (SearchDocument, SearchToken):
            cursor.execute(f'SELECT * FROM "{model._meta.db_table}"')  # noqa: S608 - our own tables
            dump += [str(value) for row in cursor.fetchall() for value in row]
    text = " ".join(dump).casefold()
    for word in ("tghu", "482913", "ningbo", "adriatica", "sildenafil", "kitchenware", "durres", "mscu"):
        assert word not in text


def test_reindex_search_indexes_a_demo_stored_before_the_index(demo):
    coordinator = member(demo, "coordinator")
    counts = (SearchDocument.objects.count(), SearchToken.objects.count())
    SearchToken.objects.all().delete()
    SearchDocument.objects.all().delete()
    assert search(coordinator, "TGHU4829131").count == 0
    out = StringIO()
    call_command("reindex_search", stdout=out)
    assert "BALKAN-GATE" in out.getvalue() or demo.code in out.getvalue()
    assert (SearchDocument.objects.count(), SearchToken.objects.count()) == counts
    assert search(coordinator, "TGHU4829131").count == 1
