"""Row locks that serialise one kind of write must not stall or deadlock the others.

PostgreSQL checks foreign keys when a transaction commits by taking a KEY SHARE lock on each row
referred to (the operation of every audit event and result, the room of every message). A plain
``SELECT … FOR UPDATE`` on such a row, or on a row joined to it by ``select_related``, conflicts
with that check: every result posted while a message held its room's lock waited for it, and two
such transactions each holding a chain head deadlocked (seen in CI). The services lock with
``FOR NO KEY UPDATE`` on their own table only; these tests hold each lock open in another
transaction and post meanwhile. (Writers of one operation still queue on its audit chain's head,
briefly and in one order: that is what keeps the chain a chain.)
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection, transaction

from tests.conftest import verified_client
from tests.security.conftest import api_json, result_body

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
HOLD = 15.0  # seconds a lock is held at most; a post that needs it waits this long and fails


@contextmanager
def lock_held(take: Callable[[], Any], *, commit: bool = False) -> Iterator[threading.Event]:
    """Run ``take`` in a transaction on another connection and keep it open until the block ends
    (or ``release`` is set), then roll it back, or commit it."""
    taken, release = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def holder() -> None:
        try:
            with transaction.atomic():
                take()
                taken.set()
                outcome["released_in_time"] = release.wait(HOLD)
                transaction.set_rollback(not commit)
        except BaseException as exc:  # reported below
            outcome["error"] = exc
            taken.set()
        finally:
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    assert taken.wait(10), "the lock was not taken"
    try:
        yield release
    finally:
        release.set()
        thread.join(HOLD + 5)
    assert "error" not in outcome, outcome.get("error")
    assert outcome.get("released_in_time"), "the post waited for the other transaction's lock"


def lock_room(w: Any) -> Callable[[], Any]:
    from messaging import services
    from messaging.models import Room

    services.rooms_ensure(operation=w.op)
    room = Room.objects.get(operation=w.op, kind=Room.Kind.OPERATION)
    return lambda: services._locked_room(room)


def lock_result(w: Any) -> Callable[[], Any]:
    """What a correction, validation or photo upload takes first: its result's row."""
    from operations.models import Membership
    from results.services.versions import _lock_result

    response = post_result(w)
    assert response.status_code == 201, response.content
    membership = Membership.objects.get(operation=w.op, user=w.coordinator)
    return lambda: _lock_result(membership, response.json()["uuid"])


def post_result(w: Any) -> Any:
    return api_json(
        verified_client(w.officer_al), "POST", "/api/v1/operations/TEST-OP/results", result_body(w)
    )


def post_message(w: Any) -> Any:
    from messaging.models import Room

    room = Room.objects.get(operation=w.op, kind=Room.Kind.OPERATION)
    return api_json(
        verified_client(w.officer_al),
        "POST",
        f"/api/v1/operations/TEST-OP/rooms/{room.pk}/messages",
        {"client_id": str(uuid.uuid4()), "text": "meanwhile"},
    )


def test_a_result_posts_while_a_message_holds_its_room(tworld):
    take = lock_room(tworld)
    with lock_held(take):
        response = post_result(tworld)
    assert response.status_code == 201, response.content


def test_a_result_and_a_message_post_while_another_result_is_being_corrected(tworld):
    from messaging import services

    services.rooms_ensure(operation=tworld.op)
    with lock_held(lock_result(tworld)):
        posted = post_result(tworld)
        said = post_message(tworld)
    assert (posted.status_code, said.status_code) == (201, 201), (posted.content, said.content)


def test_results_and_messages_posted_at_once_never_deadlock(tworld):
    """Many rounds of the CI race: each round a fresh chain, results and messages at once."""
    from results.models import Result

    lock_room(tworld)
    failures: list[BaseException] = []
    statuses: list[int] = []

    def post(kind: str, barrier: threading.Barrier) -> None:
        try:
            barrier.wait(10)
            response = post_result(tworld) if kind == "result" else post_message(tworld)
            statuses.append(response.status_code)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    for _round in range(5):  # the first round also races to create the chain heads
        barrier = threading.Barrier(6)
        threads = [
            threading.Thread(target=post, args=("result" if i % 2 else "message", barrier)) for i in range(6)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert not failures, failures
    assert statuses == [201] * 30
    assert Result.objects.filter(operation=tworld.op).count() == 15


class Running(threading.Thread):
    """``work()`` on its own connection, its answer or error kept for the test."""

    def __init__(self, work: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.work, self.answer, self.error = work, None, None

    def run(self) -> None:
        try:
            self.answer = self.work()
        except BaseException as exc:  # looked at by the test
            self.error = exc
        finally:
            connection.close()


def close(w: Any) -> Callable[[], Any]:
    from operations import services

    services.operation_transition(operation=w.op, to_state="follow_up", actor=w.coordinator)
    return lambda: services.operation_transition(operation=w.op, to_state="closed", actor=w.coordinator)


@pytest.mark.parametrize("kind", ["message", "result", "correction"])
def test_a_write_racing_the_operation_closing_waits_for_it_and_is_refused(tworld, kind):
    """The close has changed the state but not committed: a write that read the old state would
    land in a closed operation. It waits on the operation's row instead, then sees it closed."""
    from messaging import services as messaging
    from messaging.models import Message
    from results.models import ResultVersion

    messaging.rooms_ensure(operation=tworld.op)
    posted = post_result(tworld)
    assert posted.status_code == 201
    closing = close(tworld)
    if kind == "message":
        write = lambda: post_message(tworld)  # noqa: E731
    elif kind == "result":
        write = lambda: post_result(tworld)  # noqa: E731
    else:
        body = {**result_body(tworld), "reason": "counted again"}
        del body["client_id"], body["entry_point"]
        url = f"/api/v1/operations/TEST-OP/results/{posted.json()['uuid']}/corrections"
        write = lambda: api_json(verified_client(tworld.coordinator), "POST", url, body)  # noqa: E731
    before = (Message.objects.count(), ResultVersion.objects.count())
    with lock_held(closing, commit=True) as release:
        racer = Running(write)
        racer.start()
        racer.join(1.0)
        assert racer.is_alive(), "the write did not wait for the closing operation"
        release.set()
    racer.join(HOLD)
    assert racer.error is None, racer.error
    assert racer.answer.status_code == 409, racer.answer.content
    assert b"closed" in racer.answer.content
    assert (Message.objects.count(), ResultVersion.objects.count()) == before


def test_renaming_a_category_while_a_result_with_it_commits_does_not_deadlock(tworld):
    """The post holds the operation's chain head; its goods line's foreign key is checked at commit.
    The rename must queue on the chain head before it changes the category's (unique) name."""
    from operations.models import Membership, OperationCategory
    from results import services

    membership = Membership.objects.get(operation=tworld.op, user=tworld.coordinator)
    with lock_held(lambda: post_result(tworld), commit=True) as release:
        renaming = Running(
            lambda: services.category_rename(membership=membership, code="medicines", name="Medicines (all)")
        )
        renaming.start()
        renaming.join(1.0)
        release.set()
    renaming.join(HOLD)
    assert renaming.error is None, renaming.error
    renamed = OperationCategory.objects.get(operation=tworld.op, category__code="medicines")
    assert renamed.name == "Medicines (all)"
