"""The results hash chain: what is hashed for a result version, the one append point, and the check.

``VERSION`` and ``LINE`` are the one table of what a version's link covers. From it come the payload
Python builds for a model instance (the writer and the authoritative check), the payload built from
plain rows (the check without PostgreSQL), and the SQL with which PostgreSQL writes the same payload
as canonical JSON itself (the fast check of ``manage.py verify_chain`` and of the report). Adding a
stored field to a version is one line here (plus the model); tests/results/test_chain_table.py fails
when a model field is in neither the table nor ``NOT_HASHED``.

``chain_verify`` is the one check: ``manage.py verify_chain`` and the report both call it. The fast
path may in theory misread a value (an escape the database writes differently); a link it finds
broken is therefore always re-checked by the authoritative Python path, so a drift can only slow the
check, never change its verdict.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Max, Q

from cencomm.chain import (
    GENESIS,
    Link,
    canonical_json,
    chain_append,
    chain_head,
    first_broken_link,
    link_hash_bytes,
)
from results.models import GoodsLine, Result, ResultVersion

BATCH = 2000


def results_chain_name(operation_id: int) -> str:
    return f"results:{operation_id}"


def ciphertext_digest(blob: Any) -> str | None:
    """A sealed value is hashed by its ciphertext's SHA-256 (the chain never sees plaintext).

    Once retention has shredded the operation, the ciphertext is gone and the digest it had is kept
    beside it (``Hashed.kept``): the link hashes the same digest, so the chain still verifies.
    """
    return hashlib.sha256(bytes(blob)).hexdigest() if blob is not None else None


# --- the table ----------------------------------------------------------------------------------


def _sql_json(expr: str) -> str:
    return f"COALESCE(to_json({expr})::text, 'null')"


def _sql_number(expr: str) -> str:
    return f"COALESCE(({expr})::text, 'null')"


def _sql_iso(column: str) -> str:
    """datetime.isoformat() of a UTC timestamp: microseconds only when there are some."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return _sql_json(
        f"""to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS') || CASE WHEN extract(microseconds FROM {utc})::bigint"""
        f""" %% 1000000 <> 0 THEN '.' || to_char({utc}, 'US') ELSE '' END || '+00:00'"""
    )


def _sql_countries(column: str) -> str:
    """A JSON array of strings as canonical JSON; anything else a value no hash can match."""
    return (
        f"CASE WHEN jsonb_typeof({column}) = 'array' AND NOT EXISTS (SELECT 1 FROM "
        f"jsonb_array_elements({column}) AS e(x) WHERE jsonb_typeof(e.x) <> 'string') "
        "THEN '[' || COALESCE((SELECT string_agg(to_json(t.x)::text, ',' ORDER BY t.n) FROM "
        f"jsonb_array_elements_text({column}) WITH ORDINALITY AS t(x, n)), '') || ']' "
        "ELSE '\"not a list of countries\"' END"
    )


@dataclass(frozen=True)
class Kind:
    """How a stored value enters the payload: in Python, and as PostgreSQL writes it in canonical JSON.

    to_json() escapes a string as json.dumps(ensure_ascii=False) does; numeric(14,2)::text and
    numeric(14,3)::text have the decimals f"{x:.2f}" and f"{x:.3f}" have; sha256() of a bytea is
    ciphertext_digest(); a boolean's ::text is true/false.
    """

    python: Callable[[Any], Any]
    sql: Callable[[str], str]
    # The SQL of the value when a column keeps it once the stored one is gone (a shredded digest).
    sql_kept: Callable[[str, str], str] | None = None


INT = Kind(lambda v: v, _sql_number)
FLAG = Kind(bool, _sql_number)
TEXT = Kind(lambda v: v, _sql_json)
MOMENT = Kind(lambda v: v.isoformat(), _sql_iso)
MONEY = Kind(lambda v: None if v is None else f"{v:.2f}", lambda c: _sql_json(f"{c}::text"))
AMOUNT = Kind(lambda v: f"{v:.3f}", lambda c: _sql_json(f"{c}::text"))
UUID = Kind(lambda v: None if v is None else str(v), lambda c: _sql_json(f"{c}::text"))
DIGEST = Kind(
    ciphertext_digest,
    lambda c: _sql_json(f"encode(sha256({c}), 'hex')"),
    lambda c, k: _sql_json(f"COALESCE(encode(sha256({c}), 'hex'), NULLIF({k}, ''))"),
)
COUNTRIES = Kind(list, _sql_countries)


@dataclass(frozen=True)
class Hashed:
    key: str  # the payload's key
    column: str  # the stored field, as an ORM path from the version ("result__uuid") or the line
    kind: Kind
    # Left out of the payload while false: for fields added after chains existed, so that every
    # version stored before the field keeps its bytes, and its link stays valid.
    only_if_true: bool = False
    # A column that holds the value once ``column`` is emptied (a sealed value shredded by
    # retention keeps its ciphertext's digest here); empty there means there was no value.
    kept: str = ""


VERSION: tuple[Hashed, ...] = (
    Hashed("operation", "result__operation_id", INT),
    Hashed("result", "result__uuid", UUID),
    Hashed("client_id", "result__client_id", TEXT),
    Hashed("entry_point", "result__entry_point_id", INT),
    Hashed("administration", "result__administration_id", INT),
    Hashed("reported_by", "result__reported_by_id", INT),
    Hashed("late", "result__late", FLAG),
    Hashed("version", "number", INT),
    Hashed("created_at", "created_at", MOMENT),
    Hashed("created_by", "created_by_id", INT),
    Hashed("reason", "reason", TEXT),
    Hashed("inspected_at", "inspected_at", MOMENT),
    Hashed("transport_mode", "transport_mode", TEXT),
    Hashed("origin", "origin_country", TEXT),
    Hashed("departure", "departure_country", TEXT),
    Hashed("transit", "transit_countries", COUNTRIES),
    Hashed("destination", "destination_country", TEXT),
    Hashed("detection_method", "detection_method", TEXT),
    Hashed("outcome", "outcome", TEXT),
    Hashed("infringement", "infringement", TEXT),
    Hashed("concealment", "concealment", TEXT),
    Hashed("estimated_value", "estimated_value", MONEY),
    Hashed("currency", "currency", TEXT),
    Hashed("handling_code", "handling_code", TEXT),
    Hashed("answers_warning", "answers_warning", UUID),
    Hashed("notes", "notes_sealed", DIGEST, kept="notes_digest"),
    Hashed("reference", "reference_sealed", DIGEST, kept="reference_digest"),
    Hashed("parties", "parties_sealed", DIGEST, kept="parties_digest"),
    # "voided" only when true: every version before voids existed (all of them false) hashes as before.
    Hashed("voided", "voided", FLAG, only_if_true=True),
)
LINE: tuple[Hashed, ...] = (
    Hashed("position", "position", INT),
    Hashed("category", "category_id", INT),
    Hashed("description", "description", TEXT),
    Hashed("brand", "brand_sealed", DIGEST, kept="brand_digest"),
    Hashed("gtin", "gtin", TEXT),
    Hashed("hs_code", "hs_code", TEXT),
    Hashed("quantity", "quantity", AMOUNT),
    Hashed("unit", "unit", TEXT),
)
#: Stored fields deliberately outside the payload: the link itself, and what moves after it is written.
NOT_HASHED = {
    "version": {"id", "result", "is_current", "chain_seq", "prev_hash", "hash"},
    "line": {"id", "version"},
}
#: The columns of a version row for the Python check (the table's, plus the link's own).
ROW_COLUMNS = (
    "pk",
    "chain_seq",
    "prev_hash",
    "hash",
    *(f.column for f in VERSION),
    *(f.kept for f in VERSION if f.kept),
)
LINE_COLUMNS = ("version_id", *(f.column for f in LINE), *(f.kept for f in LINE if f.kept))


def _build(fields: Iterable[Hashed], value: Callable[[str], Any]) -> dict[str, Any]:
    out = {}
    for f in fields:
        item = f.kind.python(value(f.column))
        if item is None and f.kept:
            item = value(f.kept) or None
        if f.only_if_true and not item:
            continue
        out[f.key] = item
    return out


def _attribute(obj: Any, column: str) -> Any:
    for name in column.split("__"):
        obj = getattr(obj, name)
    return obj


def row_payload(row: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The payload of a version from a plain row keyed by ``ROW_COLUMNS``; ``lines`` already payloads.

    A column the row lacks counts as empty (a field added later, left out while false).
    """
    return _build(VERSION, row.get) | {"lines": lines}


def line_payload(row: dict[str, Any]) -> dict[str, Any]:
    return _build(LINE, row.get)


def version_payload(version: ResultVersion) -> dict[str, Any]:
    """What the chain hashes for one stored version: every stored field, ciphertexts by digest."""
    lines = GoodsLine.objects.filter(version_id=version.pk).order_by("position")
    return _build(VERSION, lambda c: _attribute(version, c)) | {
        "lines": [_build(LINE, lambda c, line=line: _attribute(line, c)) for line in lines]
    }


def _sql_column(column: str, alias: str) -> str:
    if column.startswith("result__"):
        return f"r.{column.removeprefix('result__')}"
    return f"{alias}.{column}"


def _sql_value(f: Hashed, alias: str) -> str:
    column = _sql_column(f.column, alias)
    if f.kept and f.kind.sql_kept is not None:
        return f.kind.sql_kept(column, _sql_column(f.kept, alias))
    return f.kind.sql(column)


def _sql_object(fields: Iterable[Hashed], alias: str, extra: dict[str, str] | None = None) -> str:
    """SQL writing ``_build(fields)`` as canonical JSON (keys sorted, no spaces)."""
    parts = [(f.key, _sql_value(f, alias), f) for f in fields]
    parts += [(key, expr, None) for key, expr in (extra or {}).items()]
    parts.sort(key=lambda p: p[0])
    if parts[0][2] is not None and parts[0][2].only_if_true:
        raise ValueError("the first key of a payload must always be there")
    pieces = []
    for n, (key, expr, f) in enumerate(parts):
        piece = f"'{',' if n else ''}{json.dumps(key)}:' || {expr}"
        if f is not None and f.only_if_true:
            piece = f"CASE WHEN {_sql_column(f.column, alias)} THEN {piece} ELSE '' END"
        pieces.append(piece)
    return "'{' || " + " || ".join(pieces) + " || '}'"


_PG_LINKS = " ".join(  # built from the table only: no input in the text
    (
        "SELECT v.chain_seq, v.prev_hash, v.hash,",
        _sql_object(VERSION, "v", {"lines": "COALESCE(l.lines, '[]')"}),
        f"FROM {ResultVersion._meta.db_table} v JOIN {Result._meta.db_table} r ON r.id = v.result_id",
        "LEFT JOIN LATERAL (SELECT '[' || string_agg(",
        _sql_object(LINE, "g"),
        f", ',' ORDER BY g.position) || ']' AS lines FROM {GoodsLine._meta.db_table} g",
        "WHERE g.version_id = v.id) l ON true",
        "WHERE r.operation_id = %s AND v.chain_seq > %s AND v.chain_seq <= %s ORDER BY v.chain_seq",
    )
)


# --- writing ------------------------------------------------------------------------------------


def chain_version(version: ResultVersion) -> Link:
    """Append a stored version (its lines saved) to its operation's chain; the one append point.

    The payload is read back from the database, so the check recomputes exactly what was hashed.
    Runs in the writer's transaction, after the result's row lock (lock order: result, chain head).
    """
    stored = ResultVersion.objects.select_related("result").get(pk=version.pk)
    link = chain_append(results_chain_name(stored.result.operation_id), version_payload(stored))
    ResultVersion.objects.filter(pk=version.pk).update(
        chain_seq=link.seq, prev_hash=link.prev_hash, hash=link.hash
    )
    version.chain_seq, version.prev_hash, version.hash = link.seq, link.prev_hash, link.hash
    return link


# --- checking -----------------------------------------------------------------------------------


def chain_links(operation_id: int) -> list[tuple[int, str, str, dict[str, Any]]]:
    """The operation's chain as stored, from model instances: ``(seq, prev_hash, hash, payload)``."""
    versions = (
        ResultVersion.objects.filter(result__operation_id=operation_id)
        .select_related("result")
        .order_by("chain_seq")
    )
    return [(v.chain_seq, v.prev_hash, v.hash, version_payload(v)) for v in versions]


def results_chain_verify(operation_id: int) -> int | None:
    """The authoritative check: the chain position of the first stored version that does not match."""
    return first_broken_link(chain_links(operation_id), chain_head(results_chain_name(operation_id)))


def stale_results(operation_id: int) -> list[str]:
    """Results whose current version is missing, doubled, or not their latest (tampering), in SQL."""
    return [
        str(u)
        for u in Result.objects.filter(operation_id=operation_id)
        .annotate(
            latest=Max("versions__number"),
            current=Max("versions__number", filter=Q(versions__is_current=True)),
            currents=Count("versions", filter=Q(versions__is_current=True)),
        )
        .exclude(currents=1, current=F("latest"))
        .order_by("pk")
        .values_list("uuid", flat=True)
    ]


def python_links(operation_id: int) -> Iterator[tuple[int, str, str, bytes]]:
    """``(seq, prev_hash, hash, canonical payload)`` in chain order, payloads built in Python from rows."""
    rows = (
        ResultVersion.objects.filter(result__operation_id=operation_id)
        .order_by("chain_seq")
        .values_list(*ROW_COLUMNS)
        .iterator(chunk_size=BATCH)
    )
    batch: list[dict[str, Any]] = []

    def flush() -> Iterator[tuple[int, str, str, bytes]]:
        lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
        found = GoodsLine.objects.filter(version_id__in=[v["pk"] for v in batch]).order_by(
            "version_id", "position"
        )
        for line in found.values_list(*LINE_COLUMNS):
            item = dict(zip(LINE_COLUMNS, line, strict=True))
            lines[item["version_id"]].append(line_payload(item))
        for v in batch:
            body = canonical_json(row_payload(v, lines.get(v["pk"], [])))
            yield v["chain_seq"], v["prev_hash"], v["hash"], body

    for row in rows:
        batch.append(dict(zip(ROW_COLUMNS, row, strict=True)))
        if len(batch) == BATCH:
            yield from flush()
            batch = []
    yield from flush()


def pg_links(operation_id: int, after: int, upto: int) -> Iterator[tuple[int, str, str, bytes]]:
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
        if link_hash_bytes(prev_hash, seq, body) != hash_:
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


def fast_first_broken(operation_id: int, snapshot_id: str | None = None) -> int | None:
    """Like cencomm.chain.first_broken_link over the stored versions, streamed in batches.

    On PostgreSQL the database writes each version's canonical payload and Python only hashes it;
    with ``snapshot_id`` (the snapshot the caller's transaction is on) the chain's second half is
    checked at the same time by a second connection on that snapshot.
    """
    head = chain_head(results_chain_name(operation_id))
    if connection.vendor != "postgresql":
        run = _check_run(python_links(operation_id), 1, GENESIS)
    else:
        lowest, highest = -(2**63), 2**63 - 1  # bigint's whole range: no stored row is left unread
        if snapshot_id is None or head.seq < PARALLEL_FROM:
            run = _check_run(pg_links(operation_id, lowest, highest), 1, GENESIS)
        else:
            middle = head.seq // 2
            second: dict[str, Any] = {}

            def check_second_half() -> None:
                try:
                    second["run"] = on_snapshot(
                        snapshot_id,
                        lambda: _check_run(pg_links(operation_id, middle, highest), middle + 1, None),
                    )
                except BaseException as exc:  # raised again below
                    second["error"] = exc

            helper = threading.Thread(target=check_second_half, name="chain-check-second-half", daemon=True)
            helper.start()
            try:
                run = _check_run(pg_links(operation_id, lowest, middle), 1, GENESIS)
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


@dataclass(frozen=True)
class Verdict:
    first_broken: int | None  # the chain position of the first link that does not match
    stale: list[str] = field(default_factory=list)  # results whose current version is not the latest

    @property
    def ok(self) -> bool:
        return self.first_broken is None and not self.stale

    def as_dict(self) -> dict[str, Any]:
        """The report's form of the verdict."""
        return {
            "checked": True,
            "ok": self.ok,
            "first_broken": self.first_broken,
            "stale_results": len(self.stale),
        }


def chain_verify(operation_id: int, *, snapshot_id: str | None = None) -> Verdict:
    """The one chain check, for ``manage.py verify_chain`` and the report alike.

    ``snapshot_id``: the PostgreSQL snapshot the caller's transaction is on (exported or imported);
    outside any transaction on PostgreSQL, the check opens its own snapshot. Either way the second
    half of the chain is read by a second connection. Inside a caller's transaction without one, it
    reads inline.
    """
    if snapshot_id is None and connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                return chain_verify(operation_id, snapshot_id=cursor.fetchone()[0])
    first_broken = fast_first_broken(operation_id, snapshot_id)
    if first_broken is not None:  # the authoritative check has the last word
        first_broken = results_chain_verify(operation_id)
    return Verdict(first_broken=first_broken, stale=stale_results(operation_id))
