"""Demo results for Balkan Gate whose totals reproduce the published figures.

3,888,013 units seized or detained in 130 cases: medicines 3,369,544; accessories 180,412;
games and toys 86,973; electronic appliances 77,840; foodstuffs 75,660; the remainder over other
categories. China is the origin in 81 cases, Turkey in 19. Results are spread over the ten entry
points and the days of the window that have passed; a few releases, corrections, validations and
nil returns make the board believable. About two in five final seizures carry handling code H0
(cleared to leave the operation: the public report's notable seizures and the CEN export); the
rest stay H1 (operation participants).

Nothing here depends on the day ``seed`` runs: each result's client ID is a UUID derived from the
operation and the result's number, its content comes from a random generator seeded by that number,
and its time falls in the first days of the operation's stored window (those that had passed when
the demo was first set up). Running it again, the next day or a month later, returns the stored
results and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from cencomm.principal import Principal
from operations.models import EntryPoint, Membership, Operation
from operations.selectors import access_membership, operation_entry_points
from products.demo import demo_gtin
from results import services
from results.models import HandlingCode, NilReturn, Result
from results.selectors import counted_on_day, entry_point_day

# (category code, total units, cases)
CATEGORY_TOTALS = [
    ("medicines", 3_369_544, 38),
    ("accessories", 180_412, 24),
    ("games-toys", 86_973, 16),
    ("electronics", 77_840, 14),
    ("foodstuffs", 75_660, 12),
    ("clothing", 41_230, 8),
    ("footwear", 22_115, 6),
    ("cosmetics", 18_904, 5),
    ("spare-parts", 9_870, 4),
    ("tobacco", 5_465, 3),
]
TOTAL_UNITS = 3_888_013
NAMESPACE = uuid.UUID("0b7d8f4e-52a1-4c3b-9e0f-6d2a7c15b3e8")
SEED = 20240613
#: Results fall in the first days of the window: the demo window starts three days before set-up.
SEEDED_DAYS = 3
H0_SHARE = 0.4  # of the final seizures
ORIGINS = ["CN"] * 81 + ["TR"] * 19 + ["HK"] * 8 + ["AE"] * 7 + ["IN"] * 6 + ["VN"] * 5 + ["EG"] * 4
RELEASED = 12
ENTRY_POINT_WEIGHTS = {
    "Port of Durrës": 16,
    "Port of Piraeus": 18,
    "Port of Bari": 14,
    "Port of Constanța": 15,
    "Port of Rijeka": 12,
    "Port of Bar": 8,
    "Belgrade Nikola Tesla Airport": 9,
}
TRANSPORT = {
    EntryPoint.Kind.SEAPORT: ["sea_container"],
    EntryPoint.Kind.LAND_BORDER: ["road_vehicle"],
    EntryPoint.Kind.AIRPORT: ["air_cargo", "passenger", "express_courier"],
}
DETECTION = ["risk_profile", "risk_profile", "scanner", "random", "warning", "dog", "intelligence", "ipm"]
DESCRIPTIONS = {
    "medicines": "Erectile dysfunction tablets",
    "accessories": "Handbags and watches",
    "games-toys": "Plush toys and puzzles",
    "electronics": "Phone chargers",
    "foodstuffs": "Energy drinks",
    "clothing": "Sports shirts",
    "footwear": "Trainers",
    "cosmetics": "Perfume",
    "spare-parts": "Brake pads",
    "tobacco": "Cigarettes",
}
assert sum(t for _, t, _ in CATEGORY_TOTALS) == TOTAL_UNITS
assert sum(n for _, _, n in CATEGORY_TOTALS) == len(ORIGINS) == 130


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """``parts`` positive integers that add up to ``total``, unevenly like real seizures."""
    weights = [rng.paretovariate(1.3) for _ in range(parts)]
    scale = sum(weights)
    amounts = [max(1, int(total * w / scale)) for w in weights]
    amounts[amounts.index(max(amounts))] += total - sum(amounts)
    return amounts


def _officers(operation: Operation) -> dict[int, Membership]:
    memberships = Membership.objects.filter(operation=operation, role=Membership.Role.OFFICER).select_related(
        "user", "entry_point"
    )
    return {
        m.entry_point_id: access_membership(Principal(m.user), operation_id=operation.pk) for m in memberships
    }


def client_id(operation: Operation, index: int) -> str:
    """The demo result's client ID: a canonical UUID string, the same on every run."""
    return str(uuid.uuid5(NAMESPACE, f"{operation.code}:result:{index}"))


def _legacy_client_id(index: int) -> str:
    """What earlier versions of the demo used (a database set up then is not seeded twice)."""
    return f"demo-balkan-gate-{index:03d}"


def seeded_days(operation: Operation) -> list[dt.date]:
    return operation.window_days[:SEEDED_DAYS]


def _moment(rng: random.Random, operation: Operation, quiet: int | None) -> dt.datetime:
    """A time in the first days of the window, from the window alone (never from the clock).

    Smaller entry points (``quiet`` set) find nothing on every third day, so the board shows
    nil returns and days not reported.
    """
    days = seeded_days(operation)
    busy = [d for n, d in enumerate(days) if quiet is None or (n + quiet) % 3 != 0] or days
    day = busy[rng.randrange(len(busy))]
    first = max(operation.window_start, dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC))
    last = min(
        operation.window_end - dt.timedelta(minutes=1),
        dt.datetime.combine(day, dt.time(23, 59), tzinfo=dt.UTC),
    )
    span = max(0.0, (last - first).total_seconds())
    return first + dt.timedelta(seconds=int(rng.random() * span))


def _plan(rng: random.Random) -> list[tuple[str, int, str, str]]:
    """(category, quantity, origin, outcome) for the 130 cases and the releases."""
    cases = [(code, qty) for code, total, n in CATEGORY_TOTALS for qty in _split(rng, total, n)]
    rng.shuffle(cases)
    origins = ORIGINS[:]
    rng.shuffle(origins)
    plan = [
        (code, qty, origin, rng.choice(["seized"] * 4 + ["detained"]))
        for (code, qty), origin in zip(cases, origins, strict=True)
    ]
    for _ in range(RELEASED):
        code = rng.choice([c for c, _, _ in CATEGORY_TOTALS])
        plan.append(
            (
                code,
                rng.randint(10, 4000),
                rng.choice(["CN", "TR", "RS", "DE"]),
                rng.choice(["released", "no_irregularity"]),
            )
        )
    return plan


def seed(operation: Operation) -> None:
    if operation.state not in (Operation.State.ACTIVE, Operation.State.FOLLOW_UP):
        return
    now = timezone.now()
    entry_points = list(operation_entry_points(operation))
    officers = _officers(operation)
    weights = [ENTRY_POINT_WEIGHTS.get(e.name, 5) for e in entry_points]
    quiet = {e.pk: n for n, e in enumerate(entry_points) if ENTRY_POINT_WEIGHTS.get(e.name, 5) < 10}
    legacy = set(
        Result.objects.filter(operation=operation, client_id__startswith="demo-").values_list(
            "client_id", flat=True
        )
    )
    for index, (category, quantity, origin, outcome) in enumerate(_plan(random.Random(SEED))):
        if _legacy_client_id(index) in legacy:
            continue
        rng = random.Random(f"{SEED}:{index}")  # this result's own draws: the same whatever the date
        entry_point = rng.choices(entry_points, weights)[0]
        membership = officers.get(entry_point.pk)
        if membership is None:
            continue
        inspected_at = _moment(rng, operation, quiet.get(entry_point.pk))
        content = services.ResultInput(
            inspected_at=min(inspected_at, now - dt.timedelta(minutes=10)),
            origin=origin,
            outcome=outcome,
            transport_mode=rng.choice(TRANSPORT.get(entry_point.kind, ["road_vehicle"])),
            detection_method=rng.choice(DETECTION),
            infringement="falsified" if category == "medicines" else "trademark",
            reference=f"MSCU{rng.randint(1000000, 9999999)}" if rng.random() < 0.5 else None,
            handling_code=(
                HandlingCode.H0 if outcome == "seized" and rng.random() < H0_SHARE else HandlingCode.H1
            ),
            lines=(
                services.LineInput(
                    category=category,
                    quantity=Decimal(quantity),
                    description=DESCRIPTIONS.get(category, ""),
                    gtin=demo_gtin(category, index),  # the product concerned (products.demo); counts nothing
                ),
            ),
        )
        services.result_post(
            membership=membership,
            entry_point_id=entry_point.pk,
            client_id=client_id(operation, index),
            content=content,
        )
    _validate_some(operation)
    _nil_returns(operation, officers, now)


def _demo_results(operation: Operation) -> Any:
    ids = [client_id(operation, n) for n in range(len(_plan(random.Random(SEED))))]
    return Result.objects.filter(operation=operation).filter(
        Q(client_id__in=ids) | Q(client_id__startswith="demo-")
    )


def _validate_some(operation: Operation) -> None:
    """National contact points have validated about a third of the older results."""
    ncps = Membership.objects.filter(
        operation=operation, role=Membership.Role.NATIONAL_CONTACT
    ).select_related("user")
    for ncp in ncps:
        membership = access_membership(Principal(ncp.user), operation_id=operation.pk)
        results = (
            _demo_results(operation).filter(administration_id=ncp.administration_id).order_by("client_id")
        )
        for result in results[: max(1, results.count() // 3)]:
            if result.validation == Result.Validation.PENDING and result.validated_at is None:
                services.result_validate(membership=membership, result_uuid=result.uuid, decision="validated")


def _nil_returns(operation: Operation, officers: dict[int, Membership], now: dt.datetime) -> None:
    """Entry points without results on a seeded day (on their own clock) mostly sent a nil return;
    some did not report."""
    for n, day in enumerate(seeded_days(operation)):
        for k, (entry_point_id, membership) in enumerate(sorted(officers.items())):
            entry_point = membership.entry_point
            if (n + k) % 4 == 3 or day >= entry_point_day(entry_point, now):
                continue  # (one in four) a day it did not report, or a day not over yet
            if counted_on_day(operation, entry_point, day).exists():
                continue  # results that day
            if NilReturn.objects.filter(operation=operation, entry_point_id=entry_point_id, day=day).exists():
                continue
            services.nil_return_post(membership=membership, entry_point_id=entry_point_id, day=day)
