"""The report's adapters to the results app's record: sealed fields, photos, the chain check.

The results app owns how fields are sealed and how the chain is hashed. The chain check here is the
same as ``manage.py verify_chain`` but batched (goods lines fetched 2,000 versions at a time rather
than one query per version), so a report over a million goods lines does not wait minutes for it.
Its payload mirrors ``results.selectors.version_payload``; whenever the fast check finds a link that
does not match, the authoritative ``results_chain_verify`` decides, so a drift between the two can
only slow the check, never change its verdict (tests/reports/test_integrity.py pins them together).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections import defaultdict
from typing import Any

from django.db import connection
from django.db.models import Count, F, Max, Q

from cencomm.chain import chain_head
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


def _fast_first_broken(operation_id: int) -> int | None:
    """Like cencomm.chain.first_broken_link over the stored versions, streamed in batches."""
    expected_prev, expected_seq = "0" * 64, 1

    def check(batch: list[dict[str, Any]]) -> int | None:
        nonlocal expected_prev, expected_seq
        lines = lines_json([v["pk"] for v in batch])
        for v in batch:
            if v["chain_seq"] != expected_seq or v["prev_hash"] != expected_prev:
                return expected_seq
            if (
                fast_link_hash(v["prev_hash"], v["chain_seq"], canonical(v, lines.get(v["pk"], "[]")))
                != v["hash"]
            ):
                return v["chain_seq"]
            expected_prev, expected_seq = v["hash"], expected_seq + 1
        return None

    batch: list[dict[str, Any]] = []
    for row in version_rows(operation_id):
        batch.append(row)
        if len(batch) == BATCH:
            broken, batch = check(batch), []
            if broken is not None:
                return broken
    broken = check(batch)
    if broken is not None:
        return broken
    head = chain_head(rs.results_chain_name(operation_id))
    if head.seq != expected_seq - 1 or head.hash != expected_prev:
        return expected_seq
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


def verify_chain(operation: Operation) -> dict[str, Any]:
    """The verdict of ``manage.py verify_chain``: the first link that does not match, if any."""
    first_broken = _fast_first_broken(operation.pk)
    if first_broken is not None:  # let the results app's own check have the last word
        first_broken = rs.results_chain_verify(operation.pk)
    stale = stale_current(operation.pk)
    return {
        "checked": True,
        "ok": first_broken is None and not stale,
        "first_broken": first_broken,
        "stale_results": stale,
    }
