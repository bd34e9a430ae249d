"""Retention: ``manage.py apply_retention`` shreds what is due and nothing else, and what it keeps
still verifies and is still served."""

from __future__ import annotations

import datetime as dt
import hashlib
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cencomm.audit import audit_verify
from cencomm.crypto import DecryptionError, key_cache, open_sealed
from cencomm.models import AuditEvent, DataKey, SearchDocument
from cencomm.search import search_scope
from messaging import sealing as messaging_sealing
from messaging.models import Attachment, Message, MessageVersion, Room
from operations.models import LegalHold, Operation
from operations.services import legal_hold_set
from reports.models import Report
from results import sealing as results_sealing
from results.models import GoodsLine, ResultPhoto, ResultVersion
from tests.records.conftest import close
from tests.world import membership, verified_client


def run(*args: str) -> str:
    out = StringIO()
    call_command("apply_retention", *args, stdout=out, stderr=out)
    return out.getvalue()


def sealed_state(op: Operation) -> dict[str, Any]:
    return {
        "messages": Message.objects.filter(room__operation=op).count(),
        "versions": MessageVersion.objects.filter(message__room__operation=op).count(),
        "attachments": Attachment.objects.filter(room__operation=op).count(),
        "photos": ResultPhoto.objects.filter(result__operation=op).count(),
        "notes": ResultVersion.objects.filter(result__operation=op, notes_sealed__isnull=False).count(),
        "brands": GoodsLine.objects.filter(version__result__operation=op, brand_sealed__isnull=False).count(),
        "reports": Report.objects.filter(operation=op).count(),
        "keys": DataKey.objects.filter(scope__in=_scopes(op)).count(),
        "search": SearchDocument.objects.filter(operation=op).count(),
        "shredded_at": Operation.objects.get(pk=op.pk).shredded_at,
    }


def _scopes(op: Operation) -> list[str]:
    rooms = Room.objects.filter(operation=op).values_list("pk", flat=True)
    return [f"room:{r}" for r in rooms] + [f"operation:{op.pk}", search_scope(op.pk)]


def test_a_shredded_operations_messages_and_results_cannot_be_opened_with_the_master_key(filled):
    # What a backup taken before the shredding holds, and the master key: kept aside here.
    message = Message.objects.get(pk=filled.message.pk)
    version = ResultVersion.objects.select_related("result").get(result=filled.result, is_current=True)
    photo = ResultPhoto.objects.select_related("result").get(pk=filled.photo.pk)
    line = version.lines.get()
    before = {
        "message": bytes(message.body),
        "notes": bytes(version.notes_sealed),
        "brand": bytes(line.brand_sealed),
        "photo": bytes(photo.original),
        "attachment": bytes(Attachment.objects.get(pk=filled.attachment.pk).original),
        "restricted report": bytes(Report.objects.get(pk=filled.restricted.pk).content),
    }
    assert messaging_sealing.open_message(message) == "MSKU1234565 again"  # opens before
    assert results_sealing.sealed_fields(version)["notes"] == "found behind the false wall"

    before_state = sealed_state(filled.op)
    assert before_state["search"] > 0 and before_state["keys"] >= 3  # the index and its key exist
    output = run()
    assert "Shredded TEST-OP" in output

    key_cache.clear()  # a fresh process: nothing unwrapped in memory
    with pytest.raises(DecryptionError):
        messaging_sealing.open_message(message)  # the sealed body from before, with the master key
    with pytest.raises(DecryptionError):
        results_sealing.sealed_fields(version)
    with pytest.raises(DecryptionError):
        results_sealing.photo_content(photo, part="original")
    for blob in before.values():  # directly with the crypto, whatever the context
        with pytest.raises(DecryptionError, match="no such data key"):
            open_sealed(context="anything", blob=blob)
    # The database after: no key of the operation, no ciphertext of it.
    state = sealed_state(filled.op)
    assert state | {"shredded_at": None} == {
        "messages": 0,
        "versions": 0,
        "attachments": 0,
        "photos": 0,
        "notes": 0,
        "brands": 0,
        "reports": 1,  # the public edition
        "keys": 0,
        "search": 0,
        "shredded_at": None,
    }
    assert state["shredded_at"] is not None
    version.refresh_from_db()
    assert version.notes_digest == hashlib.sha256(before["notes"]).hexdigest()
    assert (
        not ResultVersion.objects.filter(result__operation=filled.op).exclude(reference_sealed=None).exists()
    )


def test_public_report_is_still_served_and_the_pages_say_when_it_was_shredded(filled):
    run()
    client = verified_client(filled.officer_it)
    report = Report.objects.get(operation=filled.op)
    assert report.pk == filled.public.pk
    download = client.get(f"/operations/TEST-OP/reports/{report.pk}/download")
    assert download.status_code == 200
    assert (
        hashlib.sha256(
            b"".join(download.streaming_content if download.streaming else [download.content])
        ).hexdigest()
        == report.sha256
    )
    api = client.get(f"/api/v1/operations/TEST-OP/reports/{report.pk}/download")
    assert api.status_code == 200
    shredded_on = timezone.now().strftime("%-d %b %Y")
    for path in (
        "/operations/TEST-OP/rooms/",
        f"/operations/TEST-OP/rooms/{Room.objects.filter(operation=filled.op).first().pk}/",
        "/operations/TEST-OP/rooms/acknowledgements/",
        "/operations/TEST-OP/results/",
        "/operations/TEST-OP/results/board/",
        f"/operations/TEST-OP/results/{filled.result.uuid}/",
        "/operations/TEST-OP/results/categories/",
    ):
        page = client.get(path)
        assert page.status_code == 410, path
        text = page.content.decode()
        assert f"shredded on {shredded_on}" in text, path
        assert f"/operations/TEST-OP/reports/{report.pk}/download" in text, path
    for path in ("/operations/TEST-OP/", "/operations/TEST-OP/reports/"):
        page = verified_client(filled.coordinator).get(path)
        assert page.status_code == 200, path
        assert f"shredded on {shredded_on}" in page.content.decode()
        assert 'id="report-form"' not in page.content.decode()  # nothing left to build a report from
        assert 'name="to_state"' not in page.content.decode() and 'name="reason"' not in page.content.decode()
    # The API answers what remains, without a server error.
    client = verified_client(filled.coordinator)
    for path in (
        "/api/v1/operations/TEST-OP",
        "/api/v1/operations/TEST-OP/retention",
        f"/api/v1/operations/TEST-OP/rooms/{Room.objects.filter(operation=filled.op).first().pk}/messages",
        "/api/v1/operations/TEST-OP/results",
        f"/api/v1/operations/TEST-OP/results/{filled.result.uuid}",
        "/api/v1/operations/TEST-OP/board",
    ):
        assert client.get(path).status_code == 200, path
    assert (
        client.get(
            f"/api/v1/operations/TEST-OP/results/{filled.result.uuid}/photos/{filled.photo.uid}"
        ).status_code
        == 404
    )
    assert client.get(f"/api/v1/operations/TEST-OP/reports/{filled.restricted.pk}").status_code == 404
    # An outsider still gets nothing.
    assert verified_client(filled.outsider).get("/operations/TEST-OP/rooms/").status_code == 404


def test_verify_chain_passes_on_what_remains(filled):
    assert ResultVersion.objects.filter(result__operation=filled.op, notes_sealed__isnull=False).exists()
    run()
    out = StringIO()
    call_command("verify_chain", "TEST-OP", stdout=out)
    assert "results chain OK, 2 entries" in out.getvalue()
    assert audit_verify(filled.op.pk) is None
    event = AuditEvent.objects.filter(operation=filled.op, action="records.shred").get()
    assert (
        event.data["messages"] == 1
        and event.data["photos"] == 1
        and event.data["kept_reports"] == [filled.public.pk]
    )


def test_the_chain_would_notice_a_changed_digest(filled):
    """The kept digests are what the links hash: altering one breaks the chain (the check can fail)."""
    run()
    version = ResultVersion.objects.get(result=filled.result, is_current=True)
    ResultVersion.objects.filter(pk=version.pk).update(notes_digest="0" * 64)
    with pytest.raises(CommandError, match="broken"):
        call_command("verify_chain", "TEST-OP", stdout=StringIO())


def test_a_held_operation_is_untouched(filled):
    legal_hold_set(
        operation=filled.op,
        reason="Court order 12/2031",
        actor=filled.coordinator,
        membership=membership(filled, filled.coordinator),
    )
    before = sealed_state(filled.op)
    output = run()
    assert "Held: TEST-OP" in output and "Nothing is due" in output
    assert sealed_state(filled.op) == before
    assert messaging_sealing.open_message(Message.objects.get(pk=filled.message.pk)) == "MSKU1234565 again"


def test_dry_run_changes_nothing_and_lists(filled):
    before = sealed_state(filled.op)
    events = AuditEvent.objects.count()
    output = run("--dry-run")
    assert "Would shred TEST-OP" in output and "1 message," in output and "keeps 1 public report," in output
    assert sealed_state(filled.op) == before and AuditEvent.objects.count() == events


def test_running_again_is_a_no_op(filled):
    run()
    after = sealed_state(filled.op)
    events = AuditEvent.objects.count()
    assert "Nothing is due" in run()
    assert sealed_state(filled.op) == after and AuditEvent.objects.count() == events


def test_an_operation_not_yet_due_is_left_and_listed_next(filled):
    Operation.objects.filter(pk=filled.op.pk).update(retention_days=30)
    before = sealed_state(filled.op)
    output = run()
    assert "Next due:" in output and "TEST-OP" in output and "in 19 days" in output
    assert sealed_state(filled.op) == before


def test_a_failure_leaves_the_operation_as_it_was(filled, monkeypatch):
    from records import retention
    from results.chain import Verdict

    monkeypatch.setattr(retention, "chain_verify", lambda operation_id: Verdict(first_broken=1))
    before = sealed_state(filled.op)
    with pytest.raises(CommandError, match="TEST-OP"):
        run()
    assert sealed_state(filled.op) == before
    key_cache.clear()
    assert messaging_sealing.open_message(Message.objects.get(pk=filled.message.pk)) == "MSKU1234565 again"


def test_an_operation_without_a_public_report_gets_one_before_it_is_shredded(world):
    from tests.world import send_message

    send_message(world, world.officer_al, "hello")
    close(world)
    output = run()
    assert "Shredded TEST-OP" in output
    kept = Report.objects.get(operation=world.op)
    assert (kept.edition, kept.format, kept.sealed) == ("public", "pdf", False)


def test_other_operations_are_not_touched(filled):
    import uuid

    from messaging.services import message_post

    other_message, _ = message_post(
        membership=membership(filled, filled.officer_other, filled.other),
        room=Room.objects.get(operation=filled.other, kind="operation"),
        client_id=uuid.uuid4(),
        text="Piraeus",
        kind="chat",
        handling="operation",
        reply_to_id=None,
        warning_id=None,
        entry_point_ids=[],
        attachment_ids=[],
    )
    run()
    key_cache.clear()
    assert messaging_sealing.open_message(Message.objects.get(pk=other_message.pk)) == "Piraeus"


def test_shredded_operation_cannot_be_reopened_nor_held_nor_reported(filled):
    from django.core.exceptions import ValidationError

    from cencomm.errors import Refused
    from operations.services import operation_transition
    from reports.services import report_request_for_member

    run()
    with pytest.raises(Refused):
        operation_transition(operation=filled.op, to_state="follow_up", actor=filled.coordinator)
    with pytest.raises(Refused):
        legal_hold_set(
            operation=filled.op,
            reason="late",
            actor=filled.coordinator,
            membership=membership(filled, filled.coordinator),
        )
    with pytest.raises(ValidationError):
        report_request_for_member(
            membership=membership(filled, filled.coordinator), edition="public", format="pdf"
        )
    assert not LegalHold.objects.exists()


def test_closing_sets_closed_at_and_reopening_clears_it(world):
    from operations.services import operation_transition

    start = timezone.now()
    operation_transition(operation=world.op, to_state="follow_up", actor=world.coordinator)
    op = operation_transition(operation=world.op, to_state="closed", actor=world.coordinator)
    assert op.closed_at is not None and op.closed_at >= start
    assert Operation.objects.get(pk=op.pk).closed_at == op.closed_at
    op = operation_transition(operation=op, to_state="follow_up", actor=world.coordinator)
    assert Operation.objects.get(pk=op.pk).closed_at is None
    op = operation_transition(operation=op, to_state="closed", actor=world.coordinator)
    closed_at = Operation.objects.get(pk=op.pk).closed_at
    op = operation_transition(operation=op, to_state="archived", actor=world.coordinator)
    assert Operation.objects.get(pk=op.pk).closed_at == closed_at


def test_the_migration_fills_closed_at_from_the_history(world):
    import importlib

    from django.apps import apps

    from operations.models import OperationTransition

    migration = importlib.import_module("operations.migrations.0004_closed_at_from_transitions")
    closed = timezone.now() - dt.timedelta(days=400)
    Operation.objects.filter(pk=world.op.pk).update(state="archived", closed_at=None)
    OperationTransition.objects.create(
        operation=world.op, from_state="follow_up", to_state="closed", at=closed - dt.timedelta(days=9)
    )
    OperationTransition.objects.create(
        operation=world.op, from_state="follow_up", to_state="closed", at=closed
    )
    migration.forwards(apps, None)
    assert Operation.objects.get(pk=world.op.pk).closed_at == closed
    assert Operation.objects.get(pk=world.other.pk).closed_at is None  # still active


def test_an_error_in_one_operation_leaves_it_whole_and_the_next_is_still_shredded(filled, monkeypatch):
    from records import retention
    from reports.selectors import SYSTEM, Audience
    from reports.services import report_generate_now

    close(filled, filled.other)
    report_generate_now(operation=filled.other, audience=Audience(SYSTEM), edition="public", format="json")
    real = retention.shred_operation_results

    def failing(operation_id: int) -> dict[str, int]:
        if operation_id == filled.op.pk:
            raise RuntimeError("disk full")
        return real(operation_id)

    monkeypatch.setattr(retention, "shred_operation_results", failing)
    before = sealed_state(filled.op)
    out = StringIO()
    with pytest.raises(CommandError, match="1 operation"):
        call_command("apply_retention", stdout=out, stderr=out)
    assert "TEST-OP failed (RuntimeError)" in out.getvalue() and "disk full" not in out.getvalue()
    assert "Shredded OTHER-OP" in out.getvalue()
    assert sealed_state(filled.op) == before
    assert Operation.objects.get(pk=filled.other.pk).shredded_at is not None


@pytest.mark.postgres
def test_postgresql_writes_the_same_payloads_as_python_for_shredded_versions(filled):
    """The fast check (PostgreSQL writes each payload) agrees with Python on the kept digests: it
    finds no broken link on its own, without falling back to the authoritative check."""
    from results.chain import fast_first_broken, pg_links, python_links

    run()
    assert ResultVersion.objects.filter(result__operation=filled.op).exclude(notes_digest="").exists()
    assert GoodsLine.objects.filter(version__result__operation=filled.op).exclude(brand_digest="").exists()
    assert list(pg_links(filled.op.pk, 0, 10**9)) == list(python_links(filled.op.pk))
    assert fast_first_broken(filled.op.pk) is None


def test_an_operation_whose_report_is_being_generated_waits_for_the_next_run(filled):
    Report.objects.filter(pk=filled.restricted.pk).update(state=Report.State.RUNNING)
    before = sealed_state(filled.op)
    with pytest.raises(CommandError, match="TEST-OP"):
        run()
    assert sealed_state(filled.op) == before
    Report.objects.filter(pk=filled.restricted.pk).update(state=Report.State.DONE)
    assert "Shredded TEST-OP" in run()
