"""Who may start, see and download a report: outsiders and other operations' officers get 404."""

from __future__ import annotations

import pytest

from reports.models import Report
from reports.services import report_run_pending
from tests.conftest import verified_client
from tests.reports.conftest import post

pytestmark = pytest.mark.django_db
API = "/api/v1/operations/TEST-OP/reports"


def _request(client, edition="public", fmt="json"):
    return client.post(API, {"edition": edition, "format": fmt}, content_type="application/json")


def test_coordinator_starts_a_report_and_downloads_it(world):
    client = verified_client(world.coordinator)
    response = _request(client, "restricted", "json")
    assert response.status_code == 202, response.content
    report_id = response.json()["id"]
    assert response.json()["state"] == "queued"
    assert report_run_pending() == 1
    detail = client.get(f"{API}/{report_id}").json()
    assert detail["state"] == "done" and detail["progress"] == 100 and detail["chain_seq"] == 0
    download = client.get(detail["download_url"])
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    assert b'"edition": "restricted"' in download.content
    assert client.get(f"{API}/{report_id}/download").status_code == 200
    assert [r["id"] for r in client.get(API).json()] == [report_id]


@pytest.mark.parametrize("who", ["outsider", "officer_other"])
def test_outsider_and_other_operation_cannot_start_list_or_download(world, who):
    report = Report.objects.create(operation=world.op, edition="public", format="json", kind="interim")
    report_run_pending()
    client = verified_client(getattr(world, who))
    assert _request(client).status_code == 404
    assert client.get(API).status_code == 404
    assert client.get(f"{API}/{report.pk}").status_code == 404
    assert client.get(f"{API}/{report.pk}/download").status_code == 404
    assert client.get(f"/operations/TEST-OP/reports/{report.pk}/download").status_code == 404
    assert client.get("/operations/TEST-OP/reports/").status_code == 404
    assert (
        client.post("/operations/TEST-OP/reports/", {"edition": "public", "format": "pdf"}).status_code == 404
    )
    assert Report.objects.count() == 1


def test_signed_out_visitor_gets_nothing(world):
    from django.test import Client

    assert (
        Client()
        .post(API, {"edition": "public", "format": "json"}, content_type="application/json")
        .status_code
        == 401
    )
    assert Client().get("/operations/TEST-OP/reports/").status_code in (302, 404)


def test_officer_may_ask_for_the_public_edition_only(world):
    client = verified_client(world.officer_al)
    refused = _request(client, "restricted")
    assert refused.status_code == 422 and "edition" in refused.json()["errors"]
    assert _request(client, "public").status_code == 202
    assert Report.objects.count() == 1


def test_bad_edition_or_format_is_422_and_stores_nothing(world):
    client = verified_client(world.coordinator)
    assert set(_request(client, "secret", "docx").json()["errors"]) == {"edition", "format"}
    assert _request(client, "public", "cen").status_code == 422
    assert (
        client.post(
            API, {"edition": "public", "format": "pdf", "sql": "x"}, content_type="application/json"
        ).status_code
        == 422
    )
    assert Report.objects.count() == 0


def test_restricted_report_of_a_national_contact_is_not_readable_by_the_coordinator(world):
    ncp = verified_client(world.ncp_al)
    report_id = _request(ncp, "restricted").json()["id"]
    report_run_pending()
    assert ncp.get(f"{API}/{report_id}/download").status_code == 200
    assert verified_client(world.coordinator).get(f"{API}/{report_id}").status_code == 404
    assert verified_client(world.officer_al).get(f"{API}/{report_id}/download").status_code == 404
    public_id = _request(ncp, "public").json()["id"]
    report_run_pending()
    assert verified_client(world.officer_al).get(f"{API}/{public_id}/download").status_code == 200


def test_restricted_file_is_sealed_at_rest(world):
    client = verified_client(world.coordinator)
    restricted = _request(client, "restricted", "json").json()["id"]
    public = _request(client, "public", "json").json()["id"]
    report_run_pending()
    stored = {r.pk: (r.sealed, bytes(r.content)) for r in Report.objects.all()}
    assert stored[restricted][0] is True and b"TEST-OP" not in stored[restricted][1]
    assert stored[public][0] is False and b"TEST-OP" in stored[public][1]
    assert b"TEST-OP" in client.get(f"{API}/{restricted}/download").content


def test_page_starts_generation_and_lists_reports(world):
    client = verified_client(world.coordinator)
    response = client.post("/operations/TEST-OP/reports/", {"edition": "public", "format": "html"})
    assert response.status_code == 302
    report_run_pending()
    page = client.get("/operations/TEST-OP/reports/")
    assert page.status_code == 200
    assert b"Download" in page.content and b'class="current">Reports' in page.content
    download = client.get(f"/operations/TEST-OP/reports/{Report.objects.get().pk}/download")
    assert download["Content-Security-Policy"].startswith("sandbox")
    assert b"has changed since" not in page.content
    post(world, world.officer_al, world.durres, "later", lines=[("medicines", 5, "x")])
    assert b"has changed since (now #1)" in client.get("/operations/TEST-OP/reports/").content
