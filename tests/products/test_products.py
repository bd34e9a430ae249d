"""Product records: GTIN validation, right holders kept to their own records and out of every
operation, the lookup and CRUD API, the offline cache, seizures shown to right holders (H0 only),
and the board's breakdown by brand."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from cencomm.errors import Refused
from products.models import RightHolder, validate_gtin
from products.services import ProductInput, product_create, right_holder_member_add
from results.board import board_snapshot
from tests.world import api_json, api_post, make_user, post_result, verified_client

GOOD = {
    8: ["96385074", "20098766"],
    12: ["036000291452", "200555000016"],
    13: ["4006381333931", "2001234000017"],
    14: ["10614141000415", "12001234000014"],
}


@pytest.mark.parametrize("code", [c for codes in GOOD.values() for c in codes])
def test_a_gtin_with_its_right_check_digit_is_valid(code: str) -> None:
    validate_gtin(code)


@pytest.mark.parametrize("code", [c for codes in GOOD.values() for c in codes])
def test_every_wrong_check_digit_is_refused(code: str) -> None:
    for wrong in {str(d) for d in range(10)} - {code[-1]}:
        with pytest.raises(ValidationError, match="check digit"):
            validate_gtin(code[:-1] + wrong)


@pytest.mark.parametrize(
    "code", ["", "1234567", "123456789", "12345678901", "123456789012345", "40063813339a1"]
)
def test_a_gtin_of_another_length_or_with_letters_is_refused(code: str) -> None:
    with pytest.raises(ValidationError, match="8, 12, 13 or 14 digits"):
        validate_gtin(code)


def _content(**overrides: Any) -> ProductInput:
    data: dict[str, Any] = {
        "brand": "Veridia",
        "name": "Solvantil 50 mg",
        "category": "medicines",
        "gtins": ("2001234000017",),
        "contact_name": "Brand desk",
        "contact_phone": "+41 61 555 01 23",
        "genuine_features": "Holographic seal",
    }
    return ProductInput(**(data | overrides))


@pytest.fixture
def holders(world: SimpleNamespace) -> SimpleNamespace:
    h = SimpleNamespace()
    h.veridia = RightHolder.objects.create(name="Veridia Pharma AG")
    h.oakline = RightHolder.objects.create(name="Oakline Leather Goods Ltd")
    h.veridia_user = make_user("rh-veridia")
    h.oakline_user = make_user("rh-oakline")
    right_holder_member_add(right_holder=h.veridia, user=h.veridia_user, actor=None)
    right_holder_member_add(right_holder=h.oakline, user=h.oakline_user, actor=None)
    h.pill = product_create(right_holder=h.veridia, content=_content(), actor=None)
    h.bag = product_create(
        right_holder=h.oakline,
        content=_content(
            brand="Oakline", name="Harbour tote", category="accessories", gtins=("2009876000013",)
        ),
        actor=None,
    )
    return h


def test_product_gtins_are_checked_and_unique_across_right_holders(world: Any, holders: Any) -> None:
    with pytest.raises(ValidationError) as bad:
        product_create(right_holder=holders.oakline, content=_content(gtins=("2001234000018",)), actor=None)
    assert "gtins.0" in bad.value.message_dict
    with pytest.raises(ValidationError) as taken:
        product_create(right_holder=holders.oakline, content=_content(gtins=("2001234000017",)), actor=None)
    assert "already recorded" in taken.value.message_dict["gtins.0"][0]


def test_a_member_of_an_operation_cannot_become_a_right_holder(world: Any, holders: Any) -> None:
    with pytest.raises(Refused):
        right_holder_member_add(right_holder=holders.veridia, user=world.officer_al, actor=None)


def test_officer_looks_a_gtin_up_and_sees_the_card_of_any_right_holder(world: Any, holders: Any) -> None:
    officer = verified_client(world.officer_al)
    found = officer.get("/api/v1/products?gtin=2009876000013").json()
    assert [p["brand"] for p in found] == ["Oakline"]
    assert found[0]["right_holder"] == "Oakline Leather Goods Ltd"
    assert found[0]["contact"]["name"] == "Brand desk" and found[0]["category"] == "accessories"
    assert officer.get("/api/v1/products?gtin=4006381333931").json() == []
    assert officer.get(f"/api/v1/products/{holders.pill.pk}").status_code == 200


def test_outsider_and_anonymous_cannot_look_up(world: Any, holders: Any) -> None:
    assert verified_client(world.outsider).get("/api/v1/products?gtin=2001234000017").status_code == 404
    assert verified_client(world.outsider).get(f"/api/v1/products/{holders.pill.pk}").status_code == 404
    assert api_json(verified_client(world.outsider).__class__(), "GET", "/api/v1/products").status_code == 401


def test_right_holder_sees_only_their_own_records(world: Any, holders: Any) -> None:
    veridia = verified_client(holders.veridia_user)
    assert [p["id"] for p in veridia.get("/api/v1/products").json()] == [holders.pill.pk]
    assert veridia.get("/api/v1/products?gtin=2009876000013").json() == []  # Oakline's: not theirs
    assert veridia.get(f"/api/v1/products/{holders.bag.pk}").status_code == 404
    body = _content(gtins=("2009876000013",)).__dict__ | {"gtins": ["2009876000013"]}
    assert api_json(veridia, "PUT", f"/api/v1/products/{holders.bag.pk}", body).status_code == 404
    assert veridia.delete(f"/api/v1/products/{holders.bag.pk}").status_code == 404
    photo = io.BytesIO()
    Image.new("RGB", (8, 8)).save(photo, format="PNG")
    photo.name = "p.png"
    assert veridia.post(f"/api/v1/products/{holders.bag.pk}/photos", {"file": photo}).status_code == 404


def test_right_holder_sees_no_operation_room_or_result(world: Any, holders: Any) -> None:
    result = post_result(world, world.officer_al, world.durres, "rh-1", lines=[("medicines", 5, "")])
    veridia = verified_client(holders.veridia_user)
    code = world.op.code
    for path in (
        "/api/v1/operations",
        f"/api/v1/operations/{code}/results",
        f"/api/v1/operations/{code}/results/{result.uuid}",
        f"/api/v1/operations/{code}/board",
        f"/api/v1/operations/{code}/rooms",
        f"/api/v1/operations/{code}/products",
    ):
        response = veridia.get(path)
        assert response.status_code == 404 or response.json() == [], path
    for path in (f"/operations/{code}/", f"/operations/{code}/results/", f"/operations/{code}/rooms/"):
        assert veridia.get(path).status_code == 404, path
    assert veridia.get("/").url == "/products/"  # their start page is their products


def test_right_holder_creates_changes_and_deletes_a_product(world: Any, holders: Any) -> None:
    veridia = verified_client(holders.veridia_user)
    body = {
        "brand": "Veridia",
        "name": "Cardiolex 10 mg",
        "category": "medicines",
        "gtins": ["2001234000024", "200 1234 0000 31"],
        "contact_name": "Brand desk",
        "contact_email": "desk@veridia.example",
    }
    created = api_post(veridia, "/products", body)
    assert created.status_code == 201, created.json()
    product = created.json()
    assert product["gtins"] == ["2001234000024", "2001234000031"]
    bad = api_post(veridia, "/products", body | {"gtins": ["2001234000025"]})
    assert bad.status_code == 422 and "gtins.0" in bad.json()["errors"]
    changed = api_json(
        veridia, "PUT", f"/api/v1/products/{product['id']}", body | {"name": "Cardiolex 20 mg"}
    )
    assert changed.json()["name"] == "Cardiolex 20 mg"
    assert verified_client(world.officer_al).get("/api/v1/products?gtin=2001234000031").json()[0]["name"] == (
        "Cardiolex 20 mg"
    )
    assert veridia.delete(f"/api/v1/products/{product['id']}").status_code == 204
    assert verified_client(world.officer_al).get("/api/v1/products?gtin=2001234000031").json() == []
    # an officer cannot create one
    assert api_post(verified_client(world.officer_al), "/products", body).status_code == 404


def test_product_photo_is_stored_without_its_location_data(world: Any, holders: Any) -> None:
    image = Image.new("RGB", (40, 30), "blue")
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (41.0, 18.0, 44.0), 3: "E", 4: (19.0, 26.0, 45.0)}  # GPS
    exif[0x010F] = "PhoneMaker"
    raw = io.BytesIO()
    image.save(raw, format="JPEG", exif=exif)
    assert b"PhoneMaker" in raw.getvalue()
    raw.seek(0)
    raw.name = "seal.jpg"
    veridia = verified_client(holders.veridia_user)
    response = veridia.post(f"/api/v1/products/{holders.pill.pk}/photos", {"file": raw, "caption": "Seal"})
    assert response.status_code == 201, response.content
    served = verified_client(world.officer_al).get(response.json()["url"])
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    data = b"".join(served.streaming_content) if served.streaming else served.content
    assert b"PhoneMaker" not in data and not Image.open(io.BytesIO(data)).getexif()
    assert verified_client(world.outsider).get(response.json()["url"]).status_code == 404


def test_offline_cache_lists_the_products_of_the_operation_target_categories(
    world: Any, holders: Any
) -> None:
    cache = verified_client(world.officer_al).get(f"/api/v1/operations/{world.op.code}/products")
    assert [p["brand"] for p in cache.json()] == ["Veridia"]  # medicines is the target; accessories not
    assert (
        verified_client(world.officer_other).get(f"/api/v1/operations/{world.op.code}/products").status_code
        == 404
    )


def test_right_holder_learns_of_h0_seizures_of_their_product_only(world: Any, holders: Any) -> None:
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from results.services import LineInput, ResultInput, result_post
    from tests.world import membership

    def post(client_id: str, gtin: str, handling: str, outcome: str = "seized") -> None:
        content = ResultInput(
            inspected_at=timezone.now() - dt.timedelta(hours=3),
            origin="CN",
            outcome=outcome,
            handling_code=handling,
            parties="Mr Smuggler",
            lines=(LineInput(category="medicines", quantity=Decimal(40), gtin=gtin),),
        )
        result_post(
            membership=membership(world, world.officer_al),
            entry_point_id=world.durres.pk,
            client_id=client_id,
            content=content,
        )

    post("a", "2001234000017", "H0")
    post("b", "2001234000017", "H1")  # stays in the operation
    post("c", "2001234000017", "H0", outcome="released")
    post("d", "2009876000013", "H0")  # Oakline's
    veridia = verified_client(holders.veridia_user)
    seizures = veridia.get("/api/v1/products/seizures").json()
    assert [(s["gtin"], s["quantity"], s["outcome"]) for s in seizures] == [("2001234000017", 40, "seized")]
    assert set(seizures[0]) == {
        "operation",
        "operation_name",
        "day",
        "product_id",
        "product",
        "gtin",
        "quantity",
        "unit",
        "outcome",
    }
    page = veridia.get("/products/seizures/")
    assert page.status_code == 200 and b"Solvantil" in page.content
    assert b"officer-durres" not in page.content and b"Smuggler" not in page.content
    assert b"Harbour" not in page.content
    assert verified_client(world.officer_al).get("/api/v1/products/seizures").status_code == 404


def test_board_breaks_seizures_down_by_brand_and_right_holder(world: Any, holders: Any) -> None:
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from results.services import LineInput, ResultInput, result_post
    from tests.world import membership

    content = ResultInput(
        inspected_at=timezone.now() - dt.timedelta(hours=3),
        origin="CN",
        outcome="seized",
        lines=(
            LineInput(category="medicines", quantity=Decimal(40), gtin="2001234000017"),
            LineInput(category="accessories", quantity=Decimal(3), gtin="2009876000013"),
            LineInput(category="accessories", quantity=Decimal(5)),
        ),
    )
    result_post(
        membership=membership(world, world.officer_al),
        entry_point_id=world.durres.pk,
        client_id="x",
        content=content,
    )
    brands = {r["key"]: (r["units"], r["cases"]) for r in board_snapshot(world.op)["brands"]}
    assert brands == {"Veridia · Veridia Pharma AG": (40, 1), "Oakline · Oakline Leather Goods Ltd": (3, 1)}


def test_result_shows_the_product_its_gtin_resolves_to(world: Any, holders: Any) -> None:
    from tests.world import result_body

    officer = verified_client(world.officer_al)
    body = result_body(world, lines=[{"category": "medicines", "quantity": 12, "gtin": "2001234000017"}])
    posted = api_post(officer, f"/operations/{world.op.code}/results", body)
    assert posted.status_code == 201, posted.json()
    line = posted.json()["current"]["lines"][0]
    assert line["gtin"] == "2001234000017"
    assert line["product"] == {
        "id": holders.pill.pk,
        "brand": "Veridia",
        "name": "Solvantil 50 mg",
        "right_holder": "Veridia Pharma AG",
    }
    unknown = result_body(world, lines=[{"category": "medicines", "quantity": 1, "gtin": "4006381333931"}])
    assert (
        api_post(officer, f"/operations/{world.op.code}/results", unknown).json()["current"]["lines"][0][
            "product"
        ]
        is None
    )


def test_the_openapi_schema_documents_the_product_endpoints(world: Any) -> None:
    paths = verified_client(world.officer_al).get("/api/v1/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/products"])
    assert {"get", "put", "delete"} <= set(paths["/api/v1/products/{product_id}"])
    assert "post" in paths["/api/v1/products/{product_id}/photos"]
    assert "get" in paths["/api/v1/operations/{code}/products"]
    assert "get" in paths["/api/v1/products/seizures"]


def test_admin_adds_a_right_holder_member_through_the_service(world: Any, holders: Any) -> None:
    from cencomm.models import AuditEvent
    from products.models import RightHolderMember

    admin_user = make_user("admin")
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client = verified_client(admin_user)
    newcomer = make_user("rh-new")
    url = "/admin/products/rightholdermember/add/"
    refused = client.post(url, {"user": world.officer_al.pk, "right_holder": holders.veridia.pk})
    assert refused.status_code == 200 and b"cannot speak for a right holder" in refused.content
    added = client.post(url, {"user": newcomer.pk, "right_holder": holders.veridia.pk})
    assert added.status_code == 302
    assert RightHolderMember.objects.get(user=newcomer).right_holder == holders.veridia
    assert AuditEvent.objects.filter(action="right_holder.member_add", actor=admin_user).exists()


def test_result_page_names_the_product_of_the_gtin(world: Any, holders: Any) -> None:
    from tests.world import result_body

    officer = verified_client(world.officer_al)
    body = result_body(world, lines=[{"category": "medicines", "quantity": 3, "gtin": "2001234000017"}])
    uuid = api_post(officer, f"/operations/{world.op.code}/results", body).json()["uuid"]
    page = officer.get(f"/operations/{world.op.code}/results/{uuid}/")
    assert b"Veridia Solvantil 50 mg \xc2\xb7 Veridia Pharma AG" in page.content


def test_hostile_text_of_a_product_is_escaped_on_the_right_holders_pages(world: Any, holders: Any) -> None:
    hostile = "<script>alert('pwned')</script><img src=x onerror=alert(1)>"
    product = product_create(
        right_holder=holders.veridia,
        content=_content(
            name=hostile, gtins=("2001234000024",), genuine_features=hostile, contact_name=hostile
        ),
        actor=None,
    )
    veridia = verified_client(holders.veridia_user)
    for path in ("/products/", f"/products/{product.pk}/", "/products/new/"):
        response = veridia.get(path)
        assert response.status_code == 200, path
        text = response.content.decode()
        assert "<script>alert(" not in text and "<img src=x onerror" not in text, path
    assert "&lt;script&gt;alert(" in veridia.get("/products/").content.decode()
