"""The search of a shredded operation: its page is the shredded page (410), its API answers 410, an
outsider still gets 404, and no search key is made for it by reading."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from cencomm.models import DataKey
from cencomm.search import search_scope
from tests.world import membership, verified_client


def shred() -> None:
    call_command("apply_retention", stdout=StringIO(), stderr=StringIO())


def keys(op) -> int:
    return DataKey.objects.filter(scope=search_scope(op.pk)).count()


def test_the_search_page_of_a_shredded_operation_is_the_shredded_page_and_makes_no_key(filled):
    shred()
    assert keys(filled.op) == 0
    page = verified_client(filled.officer_it).get("/operations/TEST-OP/search/", {"q": "MSKU1234565"})
    assert page.status_code == 410
    assert "shredded on" in page.content.decode()
    assert keys(filled.op) == 0
    assert verified_client(filled.outsider).get("/operations/TEST-OP/search/", {"q": "x"}).status_code == 404


def test_the_search_api_of_a_shredded_operation_is_410_and_makes_no_key(filled):
    shred()
    response = verified_client(filled.coordinator).get(
        "/api/v1/operations/TEST-OP/search", {"q": "MSKU1234565"}
    )
    assert response.status_code == 410
    assert response.json()["shredded_at"]
    assert keys(filled.op) == 0
    outsider = verified_client(filled.outsider).get("/api/v1/operations/TEST-OP/search", {"q": "x"})
    assert outsider.status_code == 404
    assert keys(filled.op) == 0


def test_searching_never_makes_a_key(filled):
    # The service itself, whatever route calls it: a shredded operation's search finds nothing.
    from records.search import search

    shred()
    found = search(membership(filled, filled.coordinator), "MSKU1234565")
    assert found.count == 0 and found.answers == []
    assert keys(filled.op) == 0


def test_a_rebuild_or_rotation_of_an_operation_shredded_meanwhile_is_refused_and_makes_no_key(filled):
    # The commands skip shredded operations, but one shredded between their lookup and the rebuild's
    # lock is found shredded under the lock.
    import pytest

    from cencomm.errors import Refused
    from operations.models import Operation
    from records.services import search_index_rebuild

    stale = Operation.objects.get(pk=filled.op.pk)  # what a command read before the shredding
    shred()
    for rotate in (True, False):
        with pytest.raises(Refused):
            search_index_rebuild(operation=stale, actor=None, rotate_key=rotate)
    assert keys(filled.op) == 0


def test_a_shredded_operations_results_are_not_voided_restored_or_validated(filled):
    # The operation is closed (review states still let coordinators and NCPs void and validate), but
    # its records are shredded: nothing may be written to it again, nor a search key made for it.
    from cencomm.models import SearchDocument
    from results.models import Result, ResultVersion

    shred()
    versions = ResultVersion.objects.filter(result__operation=filled.op).count()
    coordinator = verified_client(filled.coordinator)
    base = f"/api/v1/operations/TEST-OP/results/{filled.result.uuid}"
    assert (
        coordinator.post(f"{base}/void", {"reason": "dup"}, content_type="application/json").status_code
        == 409
    )
    ncp = next(m for m in filled.op.memberships.all() if m.role == "ncp" and m.administration_id)
    result = Result.objects.get(operation=filled.op, administration_id=ncp.administration_id)
    answer = verified_client(ncp.user).post(
        f"/api/v1/operations/TEST-OP/results/{result.uuid}/validation",
        {"decision": "returned", "comment": "Rossi Srl again"},
        content_type="application/json",
    )
    assert answer.status_code == 409
    assert ResultVersion.objects.filter(result__operation=filled.op).count() == versions
    assert not Result.objects.filter(operation=filled.op).exclude(validation_comment="").exists()
    assert not SearchDocument.objects.filter(operation=filled.op).exists()
    assert keys(filled.op) == 0
