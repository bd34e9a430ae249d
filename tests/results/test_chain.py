"""The results hash chain: verify_chain finds tampering; concurrent posts never fork it."""

from __future__ import annotations

import threading
import uuid
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from cencomm.chain import chain_head
from cencomm.principal import Principal
from operations.selectors import access_membership
from results import services
from results.models import ResultVersion
from results.chain import results_chain_verify
from tests.results.conftest import body


def _content(w: Any, **overrides: Any) -> services.ResultInput:

    from results.api import ResultIn

    return ResultIn(**body(w, **overrides)).content()


def _post(w: Any, user: Any, client_id: str, entry_point: Any, content: Any = None) -> Any:
    membership = access_membership(Principal(user), operation_code="TEST-OP")
    return services.result_post(
        membership=membership,
        entry_point_id=entry_point.pk,
        client_id=client_id,
        content=content or _content(w),
    )[0]


def verify(code: str = "TEST-OP") -> str:
    out = StringIO()
    call_command("verify_chain", code, stdout=out)
    return out.getvalue()


def test_verify_chain_accepts_untouched_chain(world: Any, post: Any) -> None:
    first = post(world.officer_al, notes="a note").json()["uuid"]
    post(world.officer_it, entry_point=world.bari)
    membership = access_membership(Principal(world.coordinator), operation_code="TEST-OP")
    services.result_correct(
        membership=membership, result_uuid=first, content=_content(world, origin="TR"), reason="fix"
    )
    assert "results chain OK, 3 entries" in verify()


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE results_goodsline SET quantity = 1 WHERE id = (SELECT MIN(id) FROM results_goodsline)",
        "UPDATE results_resultversion SET origin_country = 'US' WHERE number = 1",
        "UPDATE results_resultversion SET notes_sealed = NULL",
        "UPDATE results_result SET entry_point_id = {bari}",
        "DELETE FROM results_goodsline WHERE id = (SELECT MAX(id) FROM results_goodsline)",
    ],
)
def test_tampering_with_a_stored_row_is_found(world: Any, post: Any, tamper: str) -> None:
    post(
        world.officer_al,
        notes="a note",
        lines=[{"category": "medicines", "quantity": 5}, {"category": "other", "quantity": 6}],
    )
    assert "OK" in verify()
    with connection.cursor() as cursor:
        cursor.execute(tamper.format(bari=world.bari.pk))
    with pytest.raises(CommandError, match=r"broken at entry #1 \(result .* version 1\)"):
        verify()


def test_reviving_an_old_version_is_found(world: Any, post: Any) -> None:
    uid = post(world.officer_al).json()["uuid"]
    membership = access_membership(Principal(world.officer_al), operation_code="TEST-OP")
    services.result_correct(
        membership=membership, result_uuid=uid, content=_content(world, origin="TR"), reason="fix"
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE results_resultversion SET is_current = FALSE")
        cursor.execute("UPDATE results_resultversion SET is_current = TRUE WHERE number = 1")
    with pytest.raises(CommandError, match="not the latest"):
        verify()


def test_deleted_last_entry_is_found(world: Any, post: Any) -> None:
    post(world.officer_al)
    post(world.officer_al)
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM results_goodsline WHERE version_id = (SELECT MAX(id) FROM results_resultversion)"
        )
        cursor.execute(
            "DELETE FROM results_resultversion WHERE id = (SELECT MAX(id) FROM results_resultversion)"
        )
    with pytest.raises(CommandError, match="entry #2"):
        verify()


def test_unknown_operation(world: Any) -> None:
    with pytest.raises(CommandError, match="No operation"):
        verify("NOPE")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_do_not_fork_the_chain(tworld: Any) -> None:
    threads, per_thread = 8, 3
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []
    same_client_id, same_content = str(uuid.uuid4()), _content(tworld)

    def worker(n: int) -> None:
        try:
            barrier.wait()
            user, entry_point = (
                (tworld.officer_al, tworld.durres) if n % 2 else (tworld.officer_it, tworld.bari)
            )
            for k in range(per_thread):
                _post(tworld, user, str(uuid.uuid4()), entry_point)
            # the same draft (client ID and body) posted from every thread at once is still one result
            _post(tworld, tworld.coordinator, same_client_id, tworld.durres, same_content)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors, errors
    expected = threads * per_thread + 1
    versions = ResultVersion.objects.filter(result__operation=tworld.op)
    assert versions.count() == expected
    assert sorted(versions.values_list("chain_seq", flat=True)) == list(range(1, expected + 1))
    assert len(set(versions.values_list("prev_hash", flat=True))) == expected
    assert chain_head(f"results:{tworld.op.pk}").seq == expected
    assert results_chain_verify(tworld.op.pk) is None
