"""The results pages render for those who may see them and are not found for others."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.conftest import verified_client


def test_pages_for_members(world: Any, post: Any) -> None:
    uid = post(world.officer_al, notes="secret pallet note").json()["uuid"]
    officer = verified_client(world.officer_al)
    assert officer.get("/operations/TEST-OP/results/").status_code == 200
    form = officer.get("/operations/TEST-OP/results/new/")
    assert form.status_code == 200 and b"results-config" in form.content
    own = officer.get(f"/operations/TEST-OP/results/{uid}/")
    assert own.status_code == 200 and b"secret pallet note" in own.content
    coordinator = verified_client(world.coordinator)
    board = coordinator.get("/operations/TEST-OP/results/board/")
    assert board.status_code == 200 and b"uPlot.iife.min.js" in board.content
    other = coordinator.get(f"/operations/TEST-OP/results/{uid}/")
    assert other.status_code == 200 and b"secret pallet note" not in other.content
    ncp = verified_client(world.ncp_al).get(f"/operations/TEST-OP/results/{uid}/")
    assert b"validate-form" in ncp.content


def test_pages_refused_to_others(world: Any, post: Any) -> None:
    uid = post(world.officer_al).json()["uuid"]
    assert verified_client(world.officer_it).get(f"/operations/TEST-OP/results/{uid}/").status_code == 404
    assert verified_client(world.officer_al).get("/operations/TEST-OP/results/board/").status_code == 404
    assert verified_client(world.observer).get("/operations/TEST-OP/results/new/").status_code == 404
    for path in ("", "new/", "board/", f"{uid}/"):
        assert verified_client(world.outsider).get(f"/operations/TEST-OP/results/{path}").status_code == 404


def test_nil_return_form_and_correction_page(world: Any, post: Any) -> None:
    uid = post(world.officer_al).json()["uuid"]
    officer = verified_client(world.officer_al)
    assert b"nil-form" in officer.get("/operations/TEST-OP/results/").content
    assert b"nil-form" not in verified_client(world.observer).get("/operations/TEST-OP/results/").content
    page = officer.get(f"/operations/TEST-OP/results/{uid}/")
    assert b"correct-link" in page.content
    form = officer.get(f"/operations/TEST-OP/results/{uid}/correct/")
    assert form.status_code == 200 and b"f-reason" in form.content
    assert (
        verified_client(world.observer).get(f"/operations/TEST-OP/results/{uid}/correct/").status_code == 404
    )
    assert (
        verified_client(world.officer_it).get(f"/operations/TEST-OP/results/{uid}/correct/").status_code
        == 404
    )
    assert (
        b"correct-link"
        not in verified_client(world.ncp_al).get(f"/operations/TEST-OP/results/{uid}/").content
    )


def test_categories_page_for_coordinators_only(world: Any) -> None:
    page = verified_client(world.coordinator).get("/operations/TEST-OP/results/categories/")
    assert page.status_code == 200 and b"reclassify-form" in page.content and b"games-toys" in page.content
    for user in (world.officer_al, world.ncp_al, world.observer, world.outsider):
        assert verified_client(user).get("/operations/TEST-OP/results/categories/").status_code == 404


def test_the_post_form_explains_the_handling_codes_and_lets_the_officer_pick(world: Any, post: Any) -> None:
    page = verified_client(world.officer_al).get("/operations/TEST-OP/results/new/").content.decode()
    hint = re.search(r'<p class="muted" id="handling-hint">([^<]+)</p>', page)
    assert hint and all(code in hint.group(1) for code in ("H0", "H1", "H2", "H3"))
    assert "CEN export" in hint.group(1)
    # in the short form, not folded away in "More details", and described by the hint
    assert page.index('id="f-handling_code"') < page.index('<details id="more-details">')
    assert 'aria-describedby="handling-hint"' in page
    config = json.loads(
        re.search(r'id="results-config" type="application/json">(.+?)</script>', page).group(1)
    )
    assert [c["value"] for c in config["handlingCodes"]] == ["H0", "H1", "H2", "H3"]
    # what the officer picks is what is stored
    response = post(world.officer_al, handling_code="H0")
    assert response.status_code == 201 and response.json()["current"]["handling_code"] == "H0"
