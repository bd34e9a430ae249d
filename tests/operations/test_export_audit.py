"""manage.py export_audit: the audit record as JSON lines that recompute to the chain, or nothing."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cencomm.chain import GENESIS, link_hash
from cencomm.models import AuditEvent

PAYLOAD_KEYS = ("operation", "at", "actor", "action", "target_type", "target_id", "data")


def export(code: str) -> list[dict]:
    out = io.StringIO()
    call_command("export_audit", code, "--output", "-", stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_every_line_recomputes_to_its_hash_and_links_to_the_one_before(world) -> None:
    lines = export("TEST-OP")
    assert len(lines) == AuditEvent.objects.filter(operation=world.op).count() > 3
    prev = GENESIS
    for n, line in enumerate(lines, start=1):
        assert line["seq"] == n and line["prev_hash"] == prev
        assert line["hash"] == link_hash(prev, n, {k: line[k] for k in PAYLOAD_KEYS})
        prev = line["hash"]
    assert {line["operation_code"] for line in lines} == {"TEST-OP"}
    assert {"operation.create", "membership.add"} <= {line["action"] for line in lines}


def test_only_the_operations_own_events_are_exported(world) -> None:
    assert {line["operation"] for line in export("OTHER-OP")} == {world.other.pk}


def test_a_broken_chain_exports_nothing_and_fails(world, tmp_path: Path) -> None:
    event = AuditEvent.objects.filter(operation=world.op).order_by("seq")[1]
    AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    target = tmp_path / "audit.jsonl"
    with pytest.raises(CommandError, match=rf"broken at event #{event.seq}"):
        call_command("export_audit", "TEST-OP", "--output", str(target))
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_a_file_is_written_whole(world, tmp_path: Path) -> None:
    target = tmp_path / "audit.jsonl"
    call_command("export_audit", "TEST-OP", "--output", str(target), stderr=io.StringIO())
    assert [json.loads(x) for x in target.read_text().splitlines()] == export("TEST-OP")


def test_an_unknown_operation_is_refused(world) -> None:
    with pytest.raises(CommandError, match="No operation"):
        call_command("export_audit", "NOPE", "--output", "-")
