"""The demo conversation is idempotent, and the report's statistics read it without any text."""

import pytest

from cencomm.models import AuditEvent
from messaging import demo
from messaging.acknowledgements import communication_stats
from messaging.models import Acknowledgement, Message

pytestmark = pytest.mark.django_db


def test_demo_seed_twice_stores_the_conversation_once(world):
    demo.seed(world.op)
    counts = (Message.objects.count(), Acknowledgement.objects.count(), AuditEvent.objects.count())
    demo.seed(world.op)
    assert (Message.objects.count(), Acknowledgement.objects.count(), AuditEvent.objects.count()) == counts
    kinds = set(Message.objects.values_list("kind", flat=True))
    assert kinds == {"chat", "warning", "feedback", "alert"}


def test_communication_stats_count_kinds_and_acknowledgement_times(world):
    demo.seed(world.op)
    stats = communication_stats(world.op)
    assert stats["messages"] == Message.objects.count()
    assert stats["by_kind"]["warning"] == 2 and stats["by_kind"]["alert"] == 1
    assert stats["acknowledgements_given"] == Acknowledgement.objects.count() > 0
    assert stats["acknowledgements_missing"] > 0  # Albania's contact point and the rest have not
    assert stats["ack_seconds_median"] is not None and stats["ack_seconds_median"] >= 0
    assert "sildenafil" not in repr(stats) and "nil return" not in repr(stats)
