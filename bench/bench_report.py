"""Report generation at 10,000, 100,000 and 1,000,000 goods lines, JSON and PDF, on PostgreSQL.

In a throw-away database (``cencomm_bench_report``, created and dropped here; the tests' database is
never touched), the Balkan Gate operation gets results written with COPY: ten goods lines per
result, with a valid results hash chain so that the report's chain check does its full work. At
each size, in one child process:

- the bare baseline: each breakdown's GROUP BY as plain SQL through one cursor, nothing else;
- the report's own aggregate queries (two statements), through the ORM's connection;
- the report's JSON and PDF, end to end as a worker makes them (snapshot read, every aggregate,
  the chain check over every stored version, rendering, storing the file);
- the chain check alone, since it reads every goods line where the aggregates only group them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from bench._harness import PYTHON, ROOT, hub_database, log, ratio, table

TITLE = "Report generation"
SIZES = (10_000, 100_000, 1_000_000)
LINES_PER_RESULT = 10

BARE_QUERIES = {
    "categories": "l.category_id",
    "origins": "v.origin_country",
    "administrations": "r.administration_id",
    "entry_points": "r.entry_point_id",
    "days": "(v.inspected_at AT TIME ZONE 'UTC')::date",
    "transport_modes": "v.transport_mode",
    "detection_methods": "v.detection_method",
    "seized_pending": "v.outcome",
}


def run() -> str:
    with hub_database("cencomm_bench_report") as hub:
        env = {**os.environ, **hub.env()}
        done = subprocess.run(
            [PYTHON, "-m", "bench.bench_report", "--child", json.dumps(list(SIZES))],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode != 0:
            raise RuntimeError(f"report benchmark failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        sys.stderr.write(done.stderr)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
    rows = [
        [
            f"{f['lines']:,}",
            f"{f['results']:,}",
            f"{f['bare_s']:.2f}",
            f"{f['aggregates_s']:.2f}",
            ratio(f["aggregates_s"], f["bare_s"]),
            f"{f['verify_s']:.2f}",
            f"{f['json_s']:.2f}",
            ratio(f["json_s"], f["bare_s"]),
            f"{f['pdf_s']:.2f}",
            ratio(f["pdf_s"], f["bare_s"]),
            f"{f['pdf_bytes'] / 1024:,.0f} KiB",
            f"{f['load']:.1f}",
        ]
        for f in figures
    ]
    return (
        __doc__.split("\n\n", 1)[1].strip()
        + "\n\n"
        + table(
            [
                "goods lines",
                "results",
                "bare GROUP BYs (s)",
                "report's aggregates (s)",
                "÷ bare",
                "chain check (s)",
                "report JSON (s)",
                "÷ bare",
                "report PDF (s)",
                "÷ bare",
                "PDF size",
                "load average",
            ],
            rows,
        )
        + "\n\n- *bare GROUP BYs*: each breakdown as its own `SUM(quantity), COUNT(DISTINCT version)` over the goods "
        "lines, plain SQL through one cursor (what the board's selectors ask for).\n"
        "- *report's aggregates*: `reports/aggregates.py`, the same figures in two statements (each version's "
        "lines summed once, then grouped by every dimension).\n"
        "- *chain check*: recomputing every stored version's hash, as `manage.py verify_chain` does; the report runs it "
        "so that it can say the record is intact. It reads every goods line, so it grows with the record. On "
        "PostgreSQL the database writes each version's canonical payload (Python only hashes it) and the chain's two "
        "halves are checked at once by two connections on one snapshot; in a report this runs beside the aggregates, "
        "on the report's exported snapshot. The JSON and PDF columns include it.\n"
        "- The report's total is checked against the bare queries' total in the same run (the run fails if they "
        "differ); the load average is the machine's at the end of each size (other work shares these 2 cores).\n"
    )


# --- the child: Django set up on the benchmark's database -----------------------------------------


def _world() -> Any:
    import yaml

    from hub.demo import FIXTURE
    from operations.models import Membership, Operation
    from operations.selectors import operation_entry_points
    from operations.services import operation_load

    data = yaml.safe_load(FIXTURE.read_text())
    operation = operation_load(data)
    Operation.objects.filter(pk=operation.pk).update(state=Operation.State.CLOSED)
    operation.refresh_from_db()
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="bench-coordinator", password="x" * 20)
    Membership.objects.create(operation=operation, user=user, role=Membership.Role.COORDINATOR)
    from operations.models import CommodityCategory

    return SimpleNamespace(
        op=operation,
        user=user,
        entry_points=list(operation_entry_points(operation)),
        categories=list(CommodityCategory.objects.values_list("pk", flat=True)),
    )


def _copy(table_name: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    from django.db import connection

    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table_name} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _add_results(world: Any, start: int, count: int, prev_hash: str) -> str:
    """Append ``count`` results (ten goods lines each) with chained hashes; returns the new head hash."""
    from cencomm.chain import link_hash
    from results.chain import row_payload as payload
    from results.models import GoodsLine, Result, ResultVersion

    origins = ["CN"] * 6 + ["TR"] * 2 + ["AE", "IN", "HK", "VN"]
    outcomes = ["seized"] * 5 + ["detained"] * 2 + ["released", "no_irregularity"]
    modes, methods = (
        ["sea_container", "road_vehicle", "air_cargo", "post"],
        ["risk_profile", "scanner", "random", "dog"],
    )
    window_start = world.op.window_start
    created = dt.datetime(2015, 3, 20, tzinfo=dt.UTC)
    result_rows, version_rows, line_rows = [], [], []
    for n in range(start, start + count):
        pk = n + 1
        ep = world.entry_points[n % len(world.entry_points)]
        version = {
            "pk": pk,
            "result__operation_id": world.op.pk,
            "result__uuid": uuid.UUID(int=pk),
            "result__client_id": f"bench-{pk}",
            "result__entry_point_id": ep.pk,
            "result__administration_id": ep.administration_id,
            "result__reported_by_id": world.user.pk,
            "result__late": False,
            "number": 1,
            "created_at": created,
            "created_by_id": world.user.pk,
            "reason": "",
            "inspected_at": window_start + dt.timedelta(minutes=(n * 37) % (7 * 24 * 60)),
            "transport_mode": modes[n % 4],
            "origin_country": origins[n % len(origins)],
            "departure_country": "",
            "transit_countries": [],
            "destination_country": "",
            "detection_method": methods[(n // 3) % 4],
            "outcome": outcomes[n % len(outcomes)],
            "infringement": "trademark",
            "concealment": "",
            "estimated_value": None,
            "currency": "",
            "handling_code": "H0" if n % 5 == 0 else "H1",
            "answers_warning": None,
            "notes_sealed": None,
            "reference_sealed": None,
            "parties_sealed": None,
        }
        lines = [
            {
                "position": p,
                "category": world.categories[(n + p) % 6],
                "description": "counterfeit goods",
                "brand": None,
                "gtin": "",
                "hs_code": "",
                "quantity": f"{Decimal(1 + (n * 7 + p * 13) % 500):.3f}",
                "unit": "pieces",
            }
            for p in range(LINES_PER_RESULT)
        ]
        seq = pk
        digest = link_hash(prev_hash, seq, payload(version, lines))
        result_rows.append(
            (
                pk,
                version["result__uuid"],
                world.op.pk,
                version["result__client_id"],
                ep.pk,
                ep.administration_id,
                world.user.pk,
                created,
                False,
                "pending",
                "",
            )
        )
        version_rows.append(
            (
                pk,
                pk,
                1,
                True,
                created,
                world.user.pk,
                "",
                version["inspected_at"],
                version["transport_mode"],
                version["origin_country"],
                "",
                "[]",
                "",
                version["detection_method"],
                version["outcome"],
                "trademark",
                "",
                "",
                version["handling_code"],
                seq,
                prev_hash,
                digest,
            )
        )
        line_rows.extend(
            (
                pk * LINES_PER_RESULT + line["position"],
                pk,
                line["position"],
                line["category"],
                line["description"],
                "",
                "",
                line["quantity"],
                "pieces",
            )
            for line in lines
        )
        prev_hash = digest
    _copy(
        Result._meta.db_table,
        [
            "id",
            "uuid",
            "operation_id",
            "client_id",
            "entry_point_id",
            "administration_id",
            "reported_by_id",
            "created_at",
            "late",
            "validation",
            "validation_comment",
        ],
        result_rows,
    )
    _copy(
        ResultVersion._meta.db_table,
        [
            "id",
            "result_id",
            "number",
            "is_current",
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
            "currency",
            "handling_code",
            "chain_seq",
            "prev_hash",
            "hash",
        ],
        version_rows,
    )
    _copy(
        GoodsLine._meta.db_table,
        ["id", "version_id", "position", "category_id", "description", "gtin", "hs_code", "quantity", "unit"],
        line_rows,
    )
    return prev_hash


def _set_head(world: Any, seq: int, head: str) -> None:
    from django.db import connection

    from cencomm.models import ChainHead
    from results.selectors import results_chain_name

    ChainHead.objects.update_or_create(
        name=results_chain_name(world.op.pk), defaults={"seq": seq, "head_hash": head}
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _bare(world: Any) -> tuple[float, int]:
    """The report's GROUP BYs as plain SQL: what the database alone needs."""
    from django.db import connection

    from results.models import GoodsLine, Result, ResultVersion

    base = (
        f"FROM {GoodsLine._meta.db_table} l JOIN {ResultVersion._meta.db_table} v ON v.id = l.version_id "
        f"JOIN {Result._meta.db_table} r ON r.id = v.result_id "
        "WHERE r.operation_id = %s AND v.is_current AND v.outcome IN ('seized', 'detained')"
    )
    started = time.perf_counter()
    total = 0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT SUM(l.quantity), COUNT(DISTINCT l.version_id) {base}", [world.op.pk])
        total = int(cursor.fetchone()[0] or 0)
        for key in BARE_QUERIES.values():
            cursor.execute(
                f"SELECT {key}, SUM(l.quantity), COUNT(DISTINCT l.version_id) {base} GROUP BY 1",
                [world.op.pk],
            )
            cursor.fetchall()
        cursor.execute(
            f"SELECT v.outcome, COUNT(*) FROM {ResultVersion._meta.db_table} v JOIN {Result._meta.db_table} r "
            "ON r.id = v.result_id WHERE r.operation_id = %s AND v.is_current GROUP BY 1",
            [world.op.pk],
        )
        cursor.fetchall()
    return time.perf_counter() - started, total


def _report(world: Any, fmt: str) -> tuple[float, Any]:
    from reports.selectors import SYSTEM, Audience
    from reports.services import report_generate_now

    started = time.perf_counter()
    report = report_generate_now(
        operation=world.op, audience=Audience(SYSTEM), edition="restricted", format=fmt
    )
    elapsed = time.perf_counter() - started
    if report.state != "done":
        raise RuntimeError(f"{fmt} report failed: {report.error}")
    return elapsed, report


def child(sizes: list[int]) -> list[dict[str, Any]]:
    import django

    django.setup()
    import weasyprint  # noqa: F401

    import reports.charts  # noqa: F401  a worker imports matplotlib and WeasyPrint once, not per report
    from reports.builder import _breakdowns
    from reports.record import verify_chain
    from reports.selectors import report_content

    world = _world()
    figures = []
    done, head = 0, "0" * 64
    for lines in sizes:
        results = lines // LINES_PER_RESULT
        log(f"report bench: writing results up to {lines:,} goods lines")
        head = _add_results(world, done, results - done, head)
        done = results
        _set_head(world, done, head)
        bare_s, bare_units = _bare(world)
        started = time.perf_counter()
        _breakdowns(world.op)
        aggregates_s = time.perf_counter() - started
        started = time.perf_counter()
        verify = verify_chain(world.op)
        verify_s = time.perf_counter() - started
        if not verify["ok"]:
            raise RuntimeError(f"the benchmark's chain does not verify: {verify}")
        log(f"report bench: {lines:,} lines, bare {bare_s:.2f} s, chain check {verify_s:.2f} s")
        json_s, json_report = _report(world, "json")
        data = json.loads(report_content(json_report))
        if data["totals"]["units"] != bare_units or data["integrity"]["verify"]["ok"] is not True:
            raise RuntimeError(
                f"the report says {data['totals']['units']} units, the bare query {bare_units}"
            )
        pdf_s, pdf_report = _report(world, "pdf")
        log(f"report bench: {lines:,} lines, JSON {json_s:.2f} s, PDF {pdf_s:.2f} s")
        figures.append(
            {
                "lines": lines,
                "results": results,
                "bare_s": bare_s,
                "aggregates_s": aggregates_s,
                "json_s": json_s,
                "pdf_s": pdf_s,
                "load": os.getloadavg()[0],
                "verify_s": verify_s,
                "pdf_bytes": pdf_report.size,
                "units": bare_units,
            }
        )
    return figures


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        sys.path.insert(0, str(ROOT))
        print(json.dumps(child(json.loads(sys.argv[2]))))
    else:
        raise SystemExit("run it through `python -m bench report`")
