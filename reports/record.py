"""The report's adapters to the results app's record: sealed fields, photos, the chain check.

The results app owns how fields are sealed and how the chain is hashed. The chain check here is the
same as ``manage.py verify_chain`` but fast enough for a report over a million goods lines: on
PostgreSQL the database writes each version's canonical payload and Python only hashes it, two
connections on one snapshot checking the two halves of the chain at once; elsewhere the payloads are
built in Python from rows fetched 2,000 versions at a time. Both mirror
``results.selectors.version_payload``; whenever the fast check finds a link that does not match, the
authoritative ``results_chain_verify`` decides, so a drift can only slow the check, never change its
verdict (tests/reports/test_integrity.py and test_chain_check_pg.py pin them together).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Max, Q

from cencomm.chain import GENESIS, chain_head
from cencomm.crypto import DecryptionError
from operations.models import Operation
from results import selectors as rs
from results.models import GoodsLine, Result, ResultVersion

BATCH = 2000


def reveal(version: ResultVersion) -> dict[str, str]:
    """The version's sealed text fields (notes, reference, parties) in the clear; "" when empty."""
    try:
        fields = rs.sealed_fields(version)
    except DecryptionError:
        return {field: "[unreadable]" for field in rs.SEALED_FIELDS}
    return {field: value or "" for field, value in fields.items()}


PHOTOS_PER_SEIZURE = 3


def photos(version: ResultVersion) -> list[str]:
    """The result's first photos as data URIs: the display copies, without EXIF or GPS."""
    return [
        data_uri(photo.content_type, rs.photo_content(photo, part="display"))
        for photo in version.result.photos.select_related("result")[:PHOTOS_PER_SEIZURE]
    ]


def data_uri(content_type: str, data: bytes) -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"


_string = json.JSONEncoder(ensure_ascii=False).encode  # a JSON string exactly as canonical_json writes it
_dumps = functools.partial(json.dumps, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _line_json(
    position: int,
    category: int,
    description: str,
    brand: Any,
    gtin: str,
    hs_code: str,
    quantity: Any,
    unit: str,
) -> str:
    """One goods line of ``version_payload`` in canonical JSON (keys in sorted order), written directly."""
    digest = rs.ciphertext_digest(brand)
    return (
        f'{{"brand":{"null" if digest is None else _string(digest)},"category":{int(category)},'
        f'"description":{_string(description)},"gtin":{_string(gtin)},"hs_code":{_string(hs_code)},'
        f'"position":{int(position)},"quantity":"{format(quantity, ".3f")}","unit":{_string(unit)}}}'
    )


#: PostgreSQL writes each version's lines as the chain's canonical JSON itself: to_json() escapes a
#: string as Python's json.dumps(ensure_ascii=False) does, numeric(14,3)::text has the three decimals
#: of f"{q:.3f}", and sha256() of the ciphertext is ciphertext_digest(). Any difference only sends
#: the check to the authoritative path (see verify_chain).
_PG_LINE = (
    """'{"brand":' || COALESCE(to_json(encode(sha256(brand_sealed), 'hex'))::text, 'null')"""
    """ || ',"category":' || category_id || ',"description":' || to_json(description)::text"""
    """ || ',"gtin":' || to_json(gtin)::text || ',"hs_code":' || to_json(hs_code)::text"""
    """ || ',"position":' || position || ',"quantity":"' || quantity::text || '","unit":' || to_json(unit)::text || '}'"""
)


def lines_json(version_ids: list[int]) -> dict[int, str]:
    """Each version's goods lines as the canonical JSON array the chain hashes, from one raw query."""
    if not version_ids:
        return {}
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT version_id, '[' || string_agg({_PG_LINE}, ',' ORDER BY position) || ']' "  # noqa: S608
            f"FROM {GoodsLine._meta.db_table} WHERE version_id = ANY(%s) GROUP BY version_id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [version_ids])
            return dict(cursor.fetchall())
    placeholders = ", ".join(["%s"] * len(version_ids))
    sql = (
        "SELECT version_id, position, category_id, description, brand_sealed, gtin, hs_code, quantity, unit "  # noqa: S608
        f"FROM {GoodsLine._meta.db_table} WHERE version_id IN ({placeholders}) ORDER BY version_id, position"
    )
    parts: dict[int, list[str]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, version_ids)
        for version_id, *line in cursor.fetchall():
            parts[version_id].append(_line_json(*line))
    return {version_id: "[" + ",".join(items) + "]" for version_id, items in parts.items()}


def canonical(v: dict[str, Any], lines: str) -> bytes:
    """``canonical_json(version_payload(version))``, with the lines spliced in at their sorted place."""
    body = payload(v, [])
    del body["lines"]
    before = _dumps({k: value for k, value in body.items() if k < "lines"})
    after = _dumps({k: value for k, value in body.items() if k > "lines"})
    return (before[:-1] + ',"lines":' + lines + "," + after[1:]).encode()


def fast_link_hash(prev_hash: str, seq: int, canonical_payload: bytes) -> str:
    """cencomm.chain.link_hash over bytes already in canonical form (same framing)."""
    digest = hashlib.sha256(prev_hash.encode())
    digest.update(b"|%d|" % seq)
    digest.update(canonical_payload)
    return digest.hexdigest()


#: The stored fields the chain hashes, as one flat row per version (no model instances: speed).
VERSION_FIELDS = (
    "pk",
    "result__operation_id",
    "result__uuid",
    "result__client_id",
    "result__entry_point_id",
    "result__administration_id",
    "result__reported_by_id",
    "result__late",
    "number",
    "created_at",
    "created_by_id",
    "reason",
    "inspected_at",
    "transport_mode",
    "origin_country",
    "departure_country",
    "transit_countries",
    "destination_country",
    "detection_method",
    "outcome",
    "infringement",
    "concealment",
    "estimated_value",
    "currency",
    "handling_code",
    "answers_warning",
    "notes_sealed",
    "reference_sealed",
    "parties_sealed",
    "chain_seq",
    "prev_hash",
    "hash",
)


def payload(v: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    """``results.selectors.version_payload`` for a row of VERSION_FIELDS and its lines."""
    value = v["estimated_value"]
    return {
        "operation": v["result__operation_id"],
        "result": str(v["result__uuid"]),
        "client_id": v["result__client_id"],
        "entry_point": v["result__entry_point_id"],
        "administration": v["result__administration_id"],
        "reported_by": v["result__reported_by_id"],
        "late": v["result__late"],
        "version": v["number"],
        "created_at": v["created_at"].isoformat(),
        "created_by": v["created_by_id"],
        "reason": v["reason"],
        "inspected_at": v["inspected_at"].isoformat(),
        "transport_mode": v["transport_mode"],
        "origin": v["origin_country"],
        "departure": v["departure_country"],
        "transit": list(v["transit_countries"]),
        "destination": v["destination_country"],
        "detection_method": v["detection_method"],
        "outcome": v["outcome"],
        "infringement": v["infringement"],
        "concealment": v["concealment"],
        "estimated_value": None if value is None else f"{value:.2f}",
        "currency": v["currency"],
        "handling_code": v["handling_code"],
        "answers_warning": str(v["answers_warning"]) if v["answers_warning"] else None,
        "notes": rs.ciphertext_digest(v["notes_sealed"]),
        "reference": rs.ciphertext_digest(v["reference_sealed"]),
        "parties": rs.ciphertext_digest(v["parties_sealed"]),
        "lines": lines,
    }


def version_rows(operation_id: int) -> Any:
    """The operation's stored versions in chain order, as VERSION_FIELDS dicts, streamed.

    On PostgreSQL one plain server-side cursor (the ORM's per-row work is most of the cost at a
    million goods lines; psycopg already returns the same Python values, bar the JSON column).
    """
    if connection.vendor == "postgresql":
        return _version_rows_sql(operation_id)
    rows = (
        ResultVersion.objects.filter(result__operation_id=operation_id)
        .order_by("chain_seq")
        .values_list(*VERSION_FIELDS)
        .iterator(chunk_size=BATCH)
    )
    return (dict(zip(VERSION_FIELDS, row, strict=True)) for row in rows)


def _version_rows_sql(operation_id: int) -> Any:
    columns = ", ".join(
        f"r.{name.removeprefix('result__')}"
        if name.startswith("result__")
        else f"v.{'id' if name == 'pk' else name}"
        for name in VERSION_FIELDS
    )
    sql = (
        f"SELECT {columns} FROM {ResultVersion._meta.db_table} v JOIN {Result._meta.db_table} r ON r.id = v.result_id "  # noqa: S608
        "WHERE r.operation_id = %s ORDER BY v.chain_seq"
    )
    transit = VERSION_FIELDS.index("transit_countries")
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [operation_id])
        while rows := cursor.fetchmany(BATCH):
            for row in rows:
                item = dict(zip(VERSION_FIELDS, row, strict=True))
                if isinstance(row[transit], str):
                    item["transit_countries"] = json.loads(row[transit])
                yield item


def _python_links(operation_id: int) -> Iterator[tuple[int, str, str, bytes]]:
    """``(seq, prev_hash, hash, canonical payload)`` in chain order, the payload built in Python."""
    batch: list[dict[str, Any]] = []

    def flush() -> Iterator[tuple[int, str, str, bytes]]:
        lines = lines_json([v["pk"] for v in batch])
        for v in batch:
            yield v["chain_seq"], v["prev_hash"], v["hash"], canonical(v, lines.get(v["pk"], "[]"))

    for row in version_rows(operation_id):
        batch.append(row)
        if len(batch) == BATCH:
            yield from flush()
            batch = []
    yield from flush()


def _json(expr: str) -> str:
    return f"COALESCE(to_json({expr})::text, 'null')"


def _number(expr: str) -> str:
    return f"COALESCE(({expr})::text, 'null')"


def _iso(column: str) -> str:
    """datetime.isoformat() of a UTC timestamp: microseconds only when there are some."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return _json(
        f"""to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS') || CASE WHEN extract(microseconds FROM {utc})::bigint"""
        f""" %% 1000000 <> 0 THEN '.' || to_char({utc}, 'US') ELSE '' END || '+00:00'"""
    )


def _digest(column: str) -> str:
    return _json(f"encode(sha256({column}), 'hex')")


#: ``payload()``'s keys and how PostgreSQL writes each value as canonical JSON; the payload is
#: assembled in key order below, as canonical_json's sort_keys does. A transit list that is not an
#: array of strings becomes a value no hash can match, which sends the check to the authoritative path.
_PG_PAYLOAD = {
    "operation": _number("r.operation_id"),
    "result": _json("r.uuid::text"),
    "client_id": _json("r.client_id"),
    "entry_point": _number("r.entry_point_id"),
    "administration": _number("r.administration_id"),
    "reported_by": _number("r.reported_by_id"),
    "late": _number("r.late"),
    "version": _number("v.number"),
    "created_at": _iso("v.created_at"),
    "created_by": _number("v.created_by_id"),
    "reason": _json("v.reason"),
    "inspected_at": _iso("v.inspected_at"),
    "transport_mode": _json("v.transport_mode"),
    "origin": _json("v.origin_country"),
    "departure": _json("v.departure_country"),
    "transit": "CASE WHEN jsonb_typeof(v.transit_countries) = 'array' AND NOT EXISTS (SELECT 1 FROM "
    "jsonb_array_elements(v.transit_countries) AS e(x) WHERE jsonb_typeof(e.x) <> 'string') "
    "THEN '[' || COALESCE((SELECT string_agg(to_json(t.x)::text, ',' ORDER BY t.n) FROM "
    "jsonb_array_elements_text(v.transit_countries) WITH ORDINALITY AS t(x, n)), '') || ']' "
    "ELSE '\"not a list of countries\"' END",
    "destination": _json("v.destination_country"),
    "detection_method": _json("v.detection_method"),
    "outcome": _json("v.outcome"),
    "infringement": _json("v.infringement"),
    "concealment": _json("v.concealment"),
    "estimated_value": _json("v.estimated_value::text"),
    "currency": _json("v.currency"),
    "handling_code": _json("v.handling_code"),
    "answers_warning": _json("v.answers_warning::text"),
    "notes": _digest("v.notes_sealed"),
    "reference": _digest("v.reference_sealed"),
    "parties": _digest("v.parties_sealed"),
    "lines": "COALESCE(l.lines, '[]')",
}
_PG_PAYLOAD_SQL = (
    "'{' || "
    + " || ',' || ".join(f"'{_string(key)}:' || {expr}" for key, expr in sorted(_PG_PAYLOAD.items()))
    + " || '}'"
)
_PG_LINKS = " ".join(  # built from the constants above only: no input in the text
    (
        "SELECT v.chain_seq, v.prev_hash, v.hash,",
        _PG_PAYLOAD_SQL,
        f"FROM {ResultVersion._meta.db_table} v JOIN {Result._meta.db_table} r ON r.id = v.result_id",
        "LEFT JOIN LATERAL (SELECT '[' || string_agg(",
        _PG_LINE,
        f", ',' ORDER BY g.position) || ']' AS lines FROM {GoodsLine._meta.db_table} g",
        "WHERE g.version_id = v.id) l ON true",
        "WHERE r.operation_id = %s AND v.chain_seq > %s AND v.chain_seq <= %s ORDER BY v.chain_seq",
    )
)


def _pg_links(operation_id: int, after: int, upto: int) -> Iterator[tuple[int, str, str, bytes]]:
    """Links ``after < seq <= upto`` with PostgreSQL writing each canonical payload: Python only hashes."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(_PG_LINKS, [operation_id, after, upto])
        while rows := cursor.fetchmany(BATCH):
            for seq, prev_hash, hash_, body in rows:
                yield seq, prev_hash, hash_, body.encode()


@dataclass
class _Run:
    """What checking a run of consecutive links found."""

    broken: int | None = None
    first_prev: str | None = None  # the first link's recorded previous hash
    next_seq: int = 1
    last_hash: str = GENESIS


def _check_run(links: Iterable[tuple[int, str, str, bytes]], first_seq: int, first_prev: str | None) -> _Run:
    """Check links that should be numbered from ``first_seq``; ``first_prev`` None: taken as recorded."""
    run = _Run(next_seq=first_seq, last_hash=first_prev or GENESIS)
    expected_prev = first_prev
    for seq, prev_hash, hash_, body in links:
        if run.first_prev is None:
            run.first_prev = prev_hash
            expected_prev = prev_hash if expected_prev is None else expected_prev
        if seq != run.next_seq or prev_hash != expected_prev:
            run.broken = run.next_seq
            return run
        if fast_link_hash(prev_hash, seq, body) != hash_:
            run.broken = seq
            return run
        expected_prev = run.last_hash = hash_
        run.next_seq += 1
    return run


def on_snapshot(snapshot_id: str, work: Any) -> Any:
    """Run ``work()`` in this thread's own connection, in a read-only transaction on the snapshot."""
    own = transaction.get_connection()
    try:
        with transaction.atomic():
            with own.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot_id])
            return work()
    finally:
        own.close()


PARALLEL_FROM = 4 * BATCH  # fewer links than this: one connection is quicker than two


def _fast_first_broken(operation_id: int, snapshot_id: str | None = None) -> int | None:
    """Like cencomm.chain.first_broken_link over the stored versions, streamed in batches.

    On PostgreSQL the database writes each version's canonical payload and Python only hashes it;
    with ``snapshot_id`` (the snapshot the caller's transaction is on) the chain's second half is
    checked at the same time by a second connection on that snapshot.
    """
    head = chain_head(rs.results_chain_name(operation_id))
    if connection.vendor != "postgresql":
        run = _check_run(_python_links(operation_id), 1, GENESIS)
    else:
        lowest, highest = -(2**63), 2**63 - 1  # bigint's whole range: no stored row is left unread
        if snapshot_id is None or head.seq < PARALLEL_FROM:
            run = _check_run(_pg_links(operation_id, lowest, highest), 1, GENESIS)
        else:
            middle = head.seq // 2
            second: dict[str, Any] = {}

            def check_second_half() -> None:
                try:
                    second["run"] = on_snapshot(
                        snapshot_id,
                        lambda: _check_run(_pg_links(operation_id, middle, highest), middle + 1, None),
                    )
                except BaseException as exc:  # raised again below
                    second["error"] = exc

            helper = threading.Thread(target=check_second_half, name="chain-check-second-half", daemon=True)
            helper.start()
            try:
                run = _check_run(_pg_links(operation_id, lowest, middle), 1, GENESIS)
            finally:
                helper.join()
            if "error" in second:
                raise second["error"]
            if run.broken is None:
                if run.next_seq != middle + 1:
                    run.broken = run.next_seq
                else:
                    later: _Run = second["run"]
                    if later.first_prev is not None and later.first_prev != run.last_hash:
                        run.broken = middle + 1
                    else:
                        run = later if later.first_prev is not None else run
    if run.broken is not None:
        return run.broken
    if head.seq != run.next_seq - 1 or head.hash != run.last_hash:
        return run.next_seq
    return None


def stale_current(operation_id: int) -> int:
    """Results whose current version is missing, doubled, or not their latest: counted in SQL."""
    return (
        Result.objects.filter(operation_id=operation_id)
        .annotate(
            latest=Max("versions__number"),
            current=Max("versions__number", filter=Q(versions__is_current=True)),
            currents=Count("versions", filter=Q(versions__is_current=True)),
        )
        .exclude(currents=1, current=F("latest"))
        .count()
    )


def verify_chain(operation: Operation, *, snapshot_id: str | None = None) -> dict[str, Any]:
    """The verdict of ``manage.py verify_chain``: the first link that does not match, if any.

    ``snapshot_id``: the PostgreSQL snapshot the caller's transaction is on (exported or imported);
    outside any transaction on PostgreSQL, the check opens its own snapshot. Either way the rows are
    read ahead by a second connection. Inside a caller's transaction without one, it reads inline.
    """
    if snapshot_id is None and connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                return verify_chain(operation, snapshot_id=cursor.fetchone()[0])
    first_broken = _fast_first_broken(operation.pk, snapshot_id)
    if first_broken is not None:  # let the results app's own check have the last word
        first_broken = rs.results_chain_verify(operation.pk)
    stale = stale_current(operation.pk)
    return {
        "checked": True,
        "ok": first_broken is None and not stale,
        "first_broken": first_broken,
        "stale_results": stale,
    }
