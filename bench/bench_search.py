"""Search over 100,000 messages and 10,000 results of one operation, beside PostgreSQL's full-text search.

In a throw-away database (``cencomm_bench_search``), the Balkan Gate operation gets 100,000 messages
spread over its rooms (sealed as the hub seals them) and 10,000 results (descriptions and GTINs in
the clear as the hub keeps them, references and notes sealed), written in bulk; their index is
computed with the hub's own tokeniser and keyed hash and written with COPY. The same texts, in the
clear, go into a plain table with a ``tsvector`` column (``simple`` configuration) and a GIN index:
the baseline, what a hub that kept its text readable would run.

Each query runs 40 times (after 3 unmeasured runs) as the coordinator, who may open everything, and as
an officer at Durrës, who may open two rooms and his entry point's results. The hub's time is
``records.search.search`` end to end: the query parsed and hashed, the answers counted (up to 500),
the first page of 20 ranked, those 20 opened and their snippets marked. The baseline does the same
work in one SQL statement each: ``COUNT`` up to 500 with the same access filter (rooms, entry point),
the first 20 by ``ts_rank`` then date, and ``ts_headline`` for their snippets.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import random
import subprocess
import sys
import time
import uuid
from typing import Any
from unittest import mock

from bench._harness import PYTHON, ROOT, hub_database, load_note, log, ms, percentile, ratio, table

TITLE = "Search"
# Smaller sizes for a quick check of the benchmark itself (the documented run uses the defaults).
MESSAGES = int(os.environ.get("CENCOMM_BENCH_SEARCH_MESSAGES", "100000"))
RESULTS = int(os.environ.get("CENCOMM_BENCH_SEARCH_RESULTS", "10000"))
RUNS = 40
WARMUP = 3

# The words messages are made of: the hub's six languages, an operation's vocabulary; drawn with a
# Zipf-like weight so that a few are everywhere and most are rare, as in real traffic.
VOCABULARY = (
    "container containers inspection scanner lane consignee consignor shipment tablets blister pharmacy "
    "sildenafil medicines counterfeit handbags belts toys electronics foodstuffs cigarettes perfume "
    "declared weight cartons kitchenware plastic household goods ro-ro ferry truck trailer driver "
    "manifest invoice booking transhipped seized detained released warning feedback alert nil return "
    "Durrës Bari Piraeus Ancona Constanța Burgas Koper Rijeka Bar Thessaloniki Ningbo Shenzhen Mersin "
    "opération douanière contrôle saisie marchandises conteneur expéditeur destinataire comprimés "
    "aduana inspección incautación mercancías contenedor remitente destinatario "
    "alfândega inspeção apreensão mercadorias contentor remetente "
    "таможня досмотр изъятие контейнер грузополучатель таблетки контрафакт "
    "الجمارك تفتيش مصادرة حاوية المرسل إليه أقراص مزيفة بضائع"
).split()
ROOM_SHARE = 0.6  # of the messages in the operation's room; the rest in the administrations' rooms

QUERIES = [
    ("a container number, typed with spaces and a hyphen", "MSKU 123456-5"),
    ("a rare word", "zanzibarco"),
    ("two common words", "container inspection"),
    ("a very common word", "container"),
    ("an accented word, typed without its accent", "Durres sildenafil"),
    ("Cyrillic", "контейнер таблетки"),
    ("Arabic, with a hamza typed without it", "حاوية اقراص"),
    ("a GTIN (results)", "4006381333931"),
    ("a word nothing holds", "quetzalcoatl"),
]


def run() -> str:
    with hub_database("cencomm_bench_search") as hub:
        env = {**os.environ, **hub.env()}
        done = subprocess.run(
            [PYTHON, "-m", "bench.bench_search", "--child"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if done.returncode != 0:
            raise RuntimeError(f"search benchmark failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        sys.stderr.write(done.stderr)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
    rows = []
    for q in figures["queries"]:
        for who in ("coordinator", "officer"):
            hub_f, base_f = q[who]["hub"], q[who]["base"]
            rows.append(
                [
                    f"{q['label']}: `{q['q']}`",
                    who,
                    f"{hub_f['count']}",
                    ms(hub_f["p50"]),
                    ms(hub_f["p99"]),
                    f"{base_f['count']}",
                    ms(base_f["p50"]),
                    ms(base_f["p99"]),
                    ratio(hub_f["p50"], base_f["p50"]),
                ]
            )
    size = figures["size"]
    return (
        __doc__.split("\n\n", 1)[1].strip()
        + "\n\n"
        + table(
            [
                "query",
                "as",
                "hub answers",
                "hub p50 (ms)",
                "hub p99 (ms)",
                "baseline answers",
                "baseline p50 (ms)",
                "baseline p99 (ms)",
                "hub p50 ÷ baseline p50",
            ],
            rows,
        )
        + "\n\n"
        + table(
            ["index", "rows", "size (tables and their indexes)"],
            [
                [
                    "hub: `cencomm_searchdocument` + `cencomm_searchtoken`",
                    f"{size['documents']:,} documents, {size['tokens']:,} tokens",
                    f"{size['hub_bytes'] / 2**20:,.0f} MiB",
                ],
                [
                    "baseline: text, `tsvector` and GIN index",
                    f"{size['documents']:,} rows",
                    f"{size['base_bytes'] / 2**20:,.0f} MiB ({size['base_index_bytes'] / 2**20:,.0f} MiB of it the GIN index)",
                ],
            ],
        )
        + f"\n\n- Seeding (sealing, tokenising, hashing, COPY): {figures['seed_s']:.0f} s.\n"
        "- *Answers* are those the member may open, counted up to 500 (the page says “more than 500” beyond). "
        "Where the columns differ, the hub finds what the baseline cannot: an identifier written in pieces or "
        "whole (`MSKU 123456-5` and `MSKU1234565`), a word typed without its accent (`Durres`) or an Arabic "
        "word typed without its hamza (`اقراص` for `أقراص`); the `simple` configuration folds neither. The "
        "baseline also matches results' references and notes for everyone; the hub only for the result's "
        "administration (the coordinator has none).\n"
        "- The hub's time is mostly its statements: the count and the page (each planned over the postings "
        "of the query's hashes and the member's access), the page's messages and results, and one key "
        "lookup per answer opened. On these two shared cores the figures move by a factor of two or three "
        "with the load (see below): compare the two columns of one run, not runs.\n"
        "- The hub's index is larger than the baseline's GIN index: every word of every document is a row "
        "(a 64-bit hash, the document's id, a flag) in a B-tree keyed by hash, with a second index by "
        "document for replacing a document's words; a keyed hash cannot be stemmed, compressed by prefix, or "
        "shared between operations.\n"
        f"- {load_note()}\n"
    )


# --- the child: Django set up on the benchmark's database -----------------------------------------


def _words(rng: random.Random, count: int) -> list[str]:
    weights = [1 / (rank + 30) for rank in range(len(VOCABULARY))]
    return rng.choices(VOCABULARY, weights, k=count)


def _world() -> Any:
    import yaml
    from django.contrib.auth import get_user_model

    from hub.demo import FIXTURE
    from messaging.models import Room
    from messaging.services import rooms_ensure
    from operations.models import Membership
    from operations.selectors import operation_entry_points
    from operations.services import operation_load

    operation = operation_load(yaml.safe_load(FIXTURE.read_text()))
    rooms = rooms_ensure(operation=operation)
    User = get_user_model()
    coordinator = User.objects.create_user(username="bench-coordinator", password="x" * 20)
    officer = User.objects.create_user(username="bench-officer", password="x" * 20)
    entry_points = list(operation_entry_points(operation))
    durres = next(e for e in entry_points if e.name == "Port of Durrës")
    Membership.objects.create(operation=operation, user=coordinator, role=Membership.Role.COORDINATOR)
    Membership.objects.create(
        operation=operation,
        user=officer,
        role=Membership.Role.OFFICER,
        entry_point=durres,
        administration=durres.administration,
    )
    everyone = next(r for r in rooms if r.kind == Room.Kind.OPERATION)
    national = [r for r in rooms if r.kind == Room.Kind.ADMINISTRATION]
    return operation, everyone, national, entry_points, coordinator, officer


def _copy(table_name: str, columns: list[str], rows: Any) -> None:
    from django.db import connection

    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table_name} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _seed() -> tuple[Any, dict[str, Any]]:
    """The world, its records and their index; sealing asks for each scope's active key once, not
    once per record (``seal`` reads it from the database every time, which a post can afford)."""
    from cencomm import crypto

    cached = functools.lru_cache(maxsize=None)(crypto.active_data_key)
    with mock.patch.object(crypto, "active_data_key", cached):
        return _seed_records()


def _seed_records() -> tuple[Any, dict[str, Any]]:
    from django.db import connection

    from cencomm.models import SearchDocument, SearchToken
    from cencomm.search import Document, Hasher, Kind
    from messaging.models import Message
    from messaging.sealing import seal_message
    from operations.models import OperationCategory
    from results.models import GoodsLine, Result, ResultVersion
    from results.sealing import seal_field

    operation, everyone, national, entry_points, coordinator, officer = _world()
    rng = random.Random(20261204)
    start = operation.window_start
    documents: list[tuple[Document, str]] = []  # (document, its text in the clear for the baseline)

    log(f"search bench: sealing {MESSAGES:,} messages")
    messages = []
    seqs: dict[int, int] = {}
    for n in range(MESSAGES):
        room = everyone if rng.random() < ROOM_SHARE else rng.choice(national)
        words = _words(rng, rng.randint(8, 40))
        if n % 5000 == 7:
            words.insert(rng.randrange(len(words)), "MSKU1234565" if n % 10000 == 7 else "MSKU 123456-5")
        if n % 20000 == 11:
            words.append("zanzibarco")
        text = " ".join(words)
        seqs[room.pk] = seqs.get(room.pk, 0) + 1
        message = Message(
            room=room,
            seq=seqs[room.pk],
            rev=seqs[room.pk],
            client_id=uuid.UUID(int=n + 1),
            author=coordinator,
            kind=Message.Kind.WARNING if n % 50 == 0 else Message.Kind.CHAT,
        )
        message.body = seal_message(message, version=1, text=text)
        messages.append((message, text))
    Message.objects.bulk_create([m for m, _ in messages], batch_size=5000)
    with connection.cursor() as cursor:  # spread over the window (auto_now_add wrote now)
        cursor.execute(
            f"UPDATE {Message._meta.db_table} SET created_at = %s + (id * interval '5 seconds')",  # noqa: S608
            [start],
        )
    created = dict(Message.objects.values_list("pk", "created_at"))
    for message, text in messages:
        documents.append(
            (
                Document(
                    operation_id=operation.pk,
                    kind=Kind.WARNING if message.kind == Message.Kind.WARNING else Kind.MESSAGE,
                    at=created[message.pk],
                    texts=[text],
                    author_id=coordinator.pk,
                    room_id=message.room_id,
                    message_id=message.pk,
                    seq=message.seq,
                ),
                text,
            )
        )

    log(f"search bench: sealing {RESULTS:,} results")
    category = (
        OperationCategory.objects.filter(operation=operation).select_related("category").first().category
    )
    results = [
        Result(
            operation=operation,
            client_id=f"bench-{n}",
            entry_point=entry_points[n % len(entry_points)],
            administration_id=entry_points[n % len(entry_points)].administration_id,
            reported_by=officer,
        )
        for n in range(RESULTS)
    ]
    Result.objects.bulk_create(results, batch_size=5000)
    versions, lines = [], []
    for n, result in enumerate(results):
        description = " ".join(_words(rng, rng.randint(3, 8)))
        gtin = "4006381333931" if n % 1000 == 3 else f"{rng.randint(10**12, 10**13 - 1)}"
        reference = f"MSCU{rng.randint(1000000, 9999999)}"
        notes = " ".join(_words(rng, rng.randint(5, 20)))
        inspected = start + dt.timedelta(minutes=n * 3)
        version = ResultVersion(
            result=result,
            number=1,
            created_at=inspected,
            created_by=officer,
            inspected_at=inspected,
            origin_country="CN",
            outcome="seized",
            chain_seq=n + 1,
            prev_hash="0" * 64,
            hash="0" * 64,
            reference_sealed=seal_field(result, 1, "reference", reference),
            notes_sealed=seal_field(result, 1, "notes", notes),
        )
        versions.append(version)
        lines.append(
            GoodsLine(
                version=version,
                position=0,
                category=category,
                description=description,
                gtin=gtin,
                quantity=10,
            )
        )
        documents.append(
            (
                Document(
                    operation_id=operation.pk,
                    kind=Kind.RESULT,
                    at=inspected,
                    texts=[description, gtin],
                    sealed_texts=[reference, notes],
                    author_id=officer.pk,
                    entry_point_id=result.entry_point_id,
                    administration_id=result.administration_id,
                    result_id=result.pk,
                ),
                " ".join([description, gtin, reference, notes]),
            )
        )
    ResultVersion.objects.bulk_create(versions, batch_size=5000)
    GoodsLine.objects.bulk_create(lines, batch_size=5000)

    log(f"search bench: indexing {len(documents):,} documents (tokenise, hash, COPY)")
    hasher = Hasher(operation.pk)
    doc_columns = [
        "id",
        "operation_id",
        "kind",
        "at",
        "author_id",
        "entry_point_id",
        "administration_id",
        "room_id",
        "message_id",
        "seq",
        "result_id",
        "version",
        "voided",
        "tokens",
    ]
    doc_rows, token_rows = [], []
    for pk, (d, _) in enumerate(documents, start=1):
        open_tokens, sealed = d.token_sets()
        doc_rows.append(
            (
                pk,
                d.operation_id,
                d.kind,
                d.at,
                d.author_id,
                d.entry_point_id,
                d.administration_id,
                d.room_id,
                d.message_id,
                d.seq,
                d.result_id,
                1,
                False,
                len(open_tokens) + len(sealed),
            )
        )
        token_rows += [(hasher(t), pk, False) for t in open_tokens] + [(hasher(t), pk, True) for t in sealed]
    _copy(SearchDocument._meta.db_table, doc_columns, doc_rows)
    _copy(SearchToken._meta.db_table, ["token", "document_id", "sealed"], token_rows)

    log("search bench: the baseline table (text in the clear, tsvector, GIN)")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_fts (id bigint PRIMARY KEY, room_id bigint, entry_point_id bigint, "
            "at timestamptz NOT NULL, body text NOT NULL, "
            "tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED)"
        )
    _copy(
        "bench_fts",
        ["id", "room_id", "entry_point_id", "at", "body"],
        ((pk, d.room_id, d.entry_point_id, d.at, text) for pk, (d, text) in enumerate(documents, start=1)),
    )
    with connection.cursor() as cursor:
        cursor.execute("CREATE INDEX bench_fts_tsv ON bench_fts USING gin (tsv)")
        cursor.execute("ANALYZE")
        cursor.execute(
            "SELECT pg_total_relation_size(%s) + pg_total_relation_size(%s), "
            "pg_total_relation_size('bench_fts'), pg_relation_size('bench_fts_tsv')",
            [SearchDocument._meta.db_table, SearchToken._meta.db_table],
        )
        hub_bytes, base_bytes, base_index_bytes = cursor.fetchone()
    size = {
        "documents": len(documents),
        "tokens": len(token_rows),
        "hub_bytes": hub_bytes,
        "base_bytes": base_bytes,
        "base_index_bytes": base_index_bytes,
    }
    return (operation, coordinator, officer), size


BASELINE = """
WITH q AS (SELECT plainto_tsquery('simple', %(q)s) AS query),
hits AS (
    SELECT f.id, f.at, f.body, ts_rank(f.tsv, q.query) AS rank FROM bench_fts f, q
    WHERE f.tsv @@ q.query AND ({access})
),
counted AS (SELECT count(*) AS n FROM (SELECT 1 FROM hits LIMIT 501) capped),
page AS (SELECT id, at, body FROM hits ORDER BY rank DESC, at DESC, id DESC LIMIT 20)
SELECT counted.n, page.id, ts_headline('simple', page.body, q.query, 'MaxWords=35, MinWords=15')
FROM counted, q LEFT JOIN page ON true
"""


def _baseline(q: str, rooms: list[int], entry_point: int | None) -> tuple[float, int]:
    from django.db import connection

    access = "f.room_id = ANY(%(rooms)s)" + (
        " OR (f.room_id IS NULL AND f.entry_point_id = %(entry_point)s)"
        if entry_point
        else " OR f.room_id IS NULL"
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(BASELINE.format(access=access), {"q": q, "rooms": rooms, "entry_point": entry_point})
        rows = cursor.fetchall()
    return time.perf_counter() - started, rows[0][0] if rows else 0


def child() -> dict[str, Any]:
    import django

    django.setup()
    from messaging.selectors import rooms_for
    from operations.models import Membership
    from records.search import search

    started = time.perf_counter()
    (operation, coordinator, officer), size = _seed()
    seed_s = time.perf_counter() - started
    members = {
        "coordinator": Membership.objects.select_related("operation").get(
            operation=operation, user=coordinator
        ),
        "officer": Membership.objects.select_related("operation").get(operation=operation, user=officer),
    }
    figures = []
    for label, q in QUERIES:
        row: dict[str, Any] = {"label": label, "q": q}
        for who, membership in members.items():
            rooms = list(rooms_for(membership).values_list("pk", flat=True))
            hub_times, base_times = [], []
            hub_count = base_count = 0
            for i in range(WARMUP + RUNS):
                t0 = time.perf_counter()
                page = search(membership, q)
                elapsed = time.perf_counter() - t0
                base_s, base_count = _baseline(q, rooms, membership.entry_point_id)
                hub_count = page.count
                if i >= WARMUP:
                    hub_times.append(elapsed)
                    base_times.append(base_s)
            row[who] = {
                "hub": {
                    "count": hub_count,
                    "p50": percentile(hub_times, 50),
                    "p99": percentile(hub_times, 99),
                },
                "base": {
                    "count": base_count,
                    "p50": percentile(base_times, 50),
                    "p99": percentile(base_times, 99),
                },
            }
            log(
                f"search bench: {q!r} as {who}: hub {hub_count} in {ms(row[who]['hub']['p50'])} ms, "
                f"baseline {base_count} in {ms(row[who]['base']['p50'])} ms"
            )
        figures.append(row)
    return {"queries": figures, "size": size, "seed_s": seed_s}


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--child":
        sys.path.insert(0, str(ROOT))
        print(json.dumps(child(), default=str))
    else:
        raise SystemExit("run it through `python -m bench search`")
