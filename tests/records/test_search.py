"""Search: found by the members who may open it, by no one else, with no word readable at rest."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from cencomm.crypto import key_cache
from cencomm.models import DataKey, SearchDocument, SearchToken
from cencomm.search import search_key, search_scope
from messaging import services as messaging_services
from messaging.models import Room
from records.search import SearchFilter, parse_search, search
from records.services import search_index_rebuild
from tests.world import membership, send_message, verified_client

pytestmark = pytest.mark.django_db

WARNING = "WARNING: container MSKU 123456-5 from Ningbo, consignee Adriatica Import, tablets in kitchenware"


def room_of(world, kind, administration=None):
    return Room.objects.get(operation=world.op, kind=kind, administration=administration)


def found(world, user, q, **filters):
    page = search(membership(world, user), q, SearchFilter(**filters))
    return page


def texts(page):
    return [str(a.snippet) for a in page.answers]


def test_a_coordinator_finds_a_warning_by_its_container_number_however_typed(world):
    send_message(world, world.coordinator, WARNING, kind="warning")
    send_message(world, world.coordinator, "Unrelated briefing about the window")
    for q in ("MSKU1234565", "msku 1234565", "MSKU-123456-5", "1234565", "ningbo KITCHENWARE"):
        page = found(world, world.coordinator, q)
        assert page.count == 1, q
        answer = page.answers[0]
        assert answer.kind == "warning"
        room = room_of(world, Room.Kind.OPERATION)
        assert answer.link == f"/operations/TEST-OP/rooms/{room.pk}/#msg-{room.pk}-1"
    snippet = str(found(world, world.coordinator, "MSKU1234565").answers[0].snippet)
    assert "<mark>MSKU 123456-5</mark>" in snippet


def test_every_word_must_match_and_accents_and_case_do_not_matter(world):
    send_message(world, world.officer_al, "Durrës: two scanner lanes open")
    send_message(world, world.officer_it, "Bari: one lane open")
    assert found(world, world.coordinator, "DURRES lanes").count == 1
    assert found(world, world.coordinator, "lane").count == 1  # words, not stems
    assert found(world, world.coordinator, "open").count == 2
    assert found(world, world.coordinator, "open bari durres").count == 0


def test_words_only_another_administrations_room_holds_find_nothing_and_count_nothing(world):
    italy = room_of(world, Room.Kind.ADMINISTRATION, world.it)
    send_message(world, world.officer_it, "Bari only: consignee Zanzibarco seen twice", room=italy)
    assert found(world, world.coordinator, "zanzibarco").count == 1  # coordinators are in every room
    assert found(world, world.officer_it, "zanzibarco").count == 1
    for user in (world.officer_al, world.ncp_al, world.analyst, world.observer):
        page = found(world, user, "zanzibarco")
        assert (page.count, page.answers, page.more, page.pages) == (0, [], False, 1)
    # Nor can the room be asked for by id: refused as a room that does not exist.
    with pytest.raises(Exception) as refused:
        parse_search(membership(world, world.officer_al), {"q": "zanzibarco", "room": italy.pk})
    assert "room" in refused.value.message_dict


def test_the_index_holds_no_word_of_what_it_indexes(world):
    send_message(world, world.coordinator, WARNING, kind="warning")
    send_message(world, world.officer_al, "Durrës: Йошкар-Ола الجمارك sildenafil")
    assert SearchToken.objects.count() > 20
    dump = []
    with connection.cursor() as cursor:
        for model in (SearchDocument, SearchToken):
            cursor.execute(f'SELECT * FROM "{model._meta.db_table}"')  # noqa: S608 - our own tables
            dump += [str(value) for row in cursor.fetchall() for value in row]
    text = " ".join(dump).casefold()
    for word in (
        "msku",
        "1234565",
        "ningbo",
        "adriatica",
        "kitchenware",
        "durres",
        "sildenafil",
        "иошкар",
        "الجمارك",
    ):
        assert word not in text


def test_the_same_word_hashes_differently_in_another_operation(world):
    assert search_key(world.op.pk) != search_key(world.other.pk)
    assert DataKey.objects.filter(scope=search_scope(world.op.pk), active=True).count() == 1


def test_an_edit_replaces_the_words_and_a_withdrawal_removes_them(world):
    message = send_message(world, world.officer_al, "first words about pangolins")
    author = membership(world, world.officer_al)
    messaging_services.message_edit(membership=author, message=message, text="second words about ocelots")
    assert found(world, world.coordinator, "pangolins").count == 0
    assert found(world, world.coordinator, "ocelots").count == 1
    messaging_services.message_withdraw(membership=author, message=message)
    assert found(world, world.coordinator, "ocelots").count == 0
    assert not SearchDocument.objects.filter(message_id=message.pk).exists()


def test_a_write_rolled_back_leaves_the_index_as_it_was(world):
    message = send_message(world, world.officer_al, "first words about pangolins")
    before = sorted(SearchToken.objects.values_list("token", flat=True))
    author = membership(world, world.officer_al)
    with pytest.raises(RuntimeError), transaction.atomic():
        messaging_services.message_edit(membership=author, message=message, text="other words entirely")
        assert found(world, world.coordinator, "entirely").count == 1  # inside: indexed
        raise RuntimeError("the request failed after the edit")
    assert sorted(SearchToken.objects.values_list("token", flat=True)) == before
    assert found(world, world.coordinator, "pangolins").count == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        messaging_services.message_withdraw(membership=author, message=message)
        raise RuntimeError("the request failed after the withdrawal")
    assert found(world, world.coordinator, "pangolins").count == 1


def test_filters_narrow_by_room_kind_author_entry_point_and_day(world):
    send_message(world, world.coordinator, "pangolin warning text", kind="warning")
    send_message(world, world.officer_al, "pangolin chat from Durrës")
    italy = room_of(world, Room.Kind.ADMINISTRATION, world.it)
    send_message(world, world.officer_it, "pangolin in the Italian room", room=italy)
    coordinator = world.coordinator
    assert found(world, coordinator, "pangolin").count == 3
    assert found(world, coordinator, "pangolin", kind="warning").count == 1
    assert found(world, coordinator, "pangolin", kind="message").count == 2
    assert found(world, coordinator, "pangolin", author=world.officer_al.pk).count == 1
    assert found(world, coordinator, "pangolin", entry_point=world.durres.pk).count == 1
    assert found(world, coordinator, "pangolin", room=italy.pk).count == 1
    import datetime as dt

    today = dt.datetime.now(dt.UTC).date()
    assert found(world, coordinator, "pangolin", date_from=today, date_to=today).count == 3
    assert found(world, coordinator, "pangolin", date_to=today - dt.timedelta(days=1)).count == 0


def test_newest_first_among_equals_and_whole_identifiers_first(world):
    send_message(world, world.coordinator, "MSKU, then later 1234565: apart")  # both pieces, not whole
    send_message(world, world.coordinator, "older: MSKU1234565 whole")
    send_message(world, world.coordinator, "newer: MSKU1234565 whole")
    page = found(world, world.coordinator, "MSKU 1234565")
    assert [a.snippet.split(":")[0] for a in page.answers[:2]] == ["newer", "older"]
    assert page.count == 3 and page.answers[0].score == page.answers[1].score > page.answers[2].score
    assert page.answers[2].snippet.startswith("<mark>MSKU</mark>, then later <mark>1234565</mark>")


def test_a_rebuild_and_a_key_rotation_re_key_the_index_and_find_the_same(world):
    send_message(world, world.coordinator, WARNING, kind="warning")
    before = set(SearchToken.objects.values_list("token", flat=True))
    old_key = search_key(world.op.pk)
    rebuilt = search_index_rebuild(operation=world.op, actor=None)
    assert set(SearchToken.objects.values_list("token", flat=True)) == before
    assert rebuilt.documents == 1 and rebuilt.key_version is None
    out = StringIO()
    call_command("rotate_room_key", "--operation", "TEST-OP", stdout=out)  # says what comes next
    assert "rotate_search_key TEST-OP" in out.getvalue()
    assert set(SearchToken.objects.values_list("token", flat=True)) == before  # the rooms' keys only
    out = StringIO()
    call_command("rotate_search_key", "TEST-OP", stdout=out)
    assert "search key version 2" in out.getvalue()
    key_cache.clear()
    assert search_key(world.op.pk) != old_key
    after = set(SearchToken.objects.values_list("token", flat=True))
    assert len(after) == len(before) and not after & before
    # The old key is gone: nothing sealed depends on it, and old hashes now link to nothing.
    assert list(
        DataKey.objects.filter(scope=search_scope(world.op.pk)).values_list("version", flat=True)
    ) == [2]
    assert found(world, world.coordinator, "MSKU1234565").count == 1


def test_reindex_command_rebuilds_an_index_lost_or_never_made(world):
    send_message(world, world.coordinator, WARNING, kind="warning")
    SearchToken.objects.all().delete()
    SearchDocument.objects.all().delete()
    assert found(world, world.coordinator, "ningbo").count == 0
    out = StringIO()
    call_command("reindex_search", "TEST-OP", stdout=out)
    assert "TEST-OP: 1 documents" in out.getvalue()
    assert found(world, world.coordinator, "ningbo").count == 1


# --- the API and the page -------------------------------------------------------------------------


def test_api_answers_members_with_ranked_snippets(world):
    send_message(world, world.coordinator, WARNING, kind="warning")
    response = verified_client(world.coordinator).get(
        "/api/v1/operations/TEST-OP/search", {"q": "msku1234565"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1 and body["terms"] == ["msku1234565"]
    assert body["answers"][0]["kind"] == "warning"
    assert "<mark>MSKU 123456-5</mark>" in body["answers"][0]["snippet"]


@pytest.mark.parametrize("user", ["outsider", "officer_other"])
def test_api_is_404_for_outsiders_and_other_operations(world, user):
    send_message(world, world.coordinator, WARNING, kind="warning")
    response = verified_client(getattr(world, user)).get("/api/v1/operations/TEST-OP/search", {"q": "ningbo"})
    assert response.status_code == 404
    assert "ningbo" not in response.content.decode().casefold()


def test_api_refuses_bad_filters_by_field(world):
    client = verified_client(world.coordinator)
    response = client.get(
        "/api/v1/operations/TEST-OP/search",
        {"q": "x", "kind": "poem", "date_from": "2026-02-30", "room": 999999, "author": world.outsider.pk},
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {"kind", "date_from", "room", "author"} <= set(errors)
    response = client.get("/api/v1/operations/TEST-OP/search", {"q": "x" * 201})
    assert response.status_code == 422 and "q" in response.json()["errors"]


def test_page_finds_and_marks_and_escapes(world):
    send_message(world, world.coordinator, "<script>alert(1)</script> pangolin & co", kind="warning")
    client = verified_client(world.coordinator)
    response = client.get("/operations/TEST-OP/search/", {"q": "Pangolin"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<mark>pangolin</mark>" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert 'id="operation-search-link"' in html
    assert "Answers: 1" in html
    response = client.get("/operations/TEST-OP/search/", {"q": "x", "kind": "poem"})
    assert response.status_code == 422 and 'href="#search-kind"' in response.content.decode()


def test_every_operation_page_links_to_its_search(world):
    client = verified_client(world.officer_al)
    for path in ("/operations/TEST-OP/", "/operations/TEST-OP/rooms/", "/operations/TEST-OP/results/"):
        assert 'href="/operations/TEST-OP/search/"' in client.get(path).content.decode(), path


def test_page_is_404_for_outsiders(world):
    assert verified_client(world.outsider).get("/operations/TEST-OP/search/", {"q": "x"}).status_code == 404


def test_answers_come_twenty_a_page_up_to_a_cap(world):
    for n in range(25):
        send_message(world, world.coordinator, f"pangolin sighting number {n}")
    first = found(world, world.coordinator, "pangolin")
    assert (first.count, first.pages, len(first.answers)) == (25, 2, 20)
    second = search(membership(world, world.coordinator), "pangolin", SearchFilter(), page=2)
    assert len(second.answers) == 5
    assert {a.message for a in first.answers}.isdisjoint({a.message for a in second.answers})
    assert first.answers[0].snippet.endswith("number 24")  # newest first
    with pytest.raises(Exception) as refused:
        parse_search(membership(world, world.coordinator), {"q": "pangolin", "page": 26})
    assert "page" in refused.value.message_dict


def test_api_answers_a_programs_bearer_token_as_it_answers_the_page(world):
    from operations.services import api_token_create
    from tests.world import bearer

    send_message(world, world.coordinator, WARNING, kind="warning")
    _, token = api_token_create(user=world.officer_al, operation=world.op, name="t", days=1)
    client = verified_client(world.outsider)  # the token, not the session, says who asks
    client.logout()
    response = client.get("/api/v1/operations/TEST-OP/search", {"q": "ningbo"}, **bearer(token))
    assert response.status_code == 200 and response.json()["count"] == 1
