"""API: ask for a report, follow its progress, list the finished ones, download one.

The page polls ``GET /operations/{code}/reports/{id}`` for progress; programs do the same.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import ConfigDict

from cencomm.downloads import download_response
from cencomm.errors import Refused
from cencomm.principal import principal_of
from operations.selectors import access_membership
from reports import selectors, services
from reports.models import Report

router = Router(tags=["reports"])


class ReportIn(Schema):
    model_config = ConfigDict(extra="forbid")

    edition: str = Report.Edition.PUBLIC
    format: str = Report.Format.PDF


class ReportOut(Schema):
    id: int
    edition: str
    format: str
    kind: str
    state: str
    progress: int
    stage: str
    error: str
    requested_at: dt.datetime
    finished_at: dt.datetime | None
    requested_by: str | None
    filename: str
    size: int | None
    sha256: str
    chain_seq: int | None
    chain_head: str | None
    generation_ms: int | None
    download_url: str | None


def report_out(report: Report) -> dict:
    done = report.state == Report.State.DONE
    return {
        "id": report.pk,
        "edition": report.edition,
        "format": report.format,
        "kind": report.kind,
        "state": report.state,
        "progress": report.progress,
        "stage": report.stage,
        "error": "Generation failed." if report.state == Report.State.FAILED else "",
        "requested_at": report.requested_at,
        "finished_at": report.finished_at,
        "requested_by": report.requested_by.get_username() if report.requested_by else None,
        "filename": report.filename,
        "size": report.size,
        "sha256": report.sha256,
        "chain_seq": report.inputs.get("chain_seq"),
        "chain_head": report.inputs.get("chain_head"),
        "generation_ms": report.generation_ms,
        "download_url": reverse("reports:download", args=[report.operation.code, report.pk])
        if done
        else None,
    }


@router.post("/operations/{code}/reports", response={202: ReportOut})
def report_create(request: HttpRequest, code: str, payload: ReportIn) -> Status:
    membership = access_membership(principal_of(request), operation_code=code)
    report = services.report_request_for_member(
        membership=membership, edition=payload.edition, format=payload.format
    )
    return Status(202, report_out(report))


@router.get("/operations/{code}/reports", response=list[ReportOut])
def report_list(request: HttpRequest, code: str) -> list[dict]:
    membership = access_membership(principal_of(request), operation_code=code)
    return [report_out(r) for r in selectors.reports_for(membership).select_related("operation")[:100]]


@router.get("/operations/{code}/reports/{report_id}", response=ReportOut)
def report_detail(request: HttpRequest, code: str, report_id: int) -> dict:
    _, report = selectors.access_report(principal_of(request), operation_code=code, report_id=report_id)
    return report_out(report)


@router.get("/operations/{code}/reports/{report_id}/download")
def report_download(request: HttpRequest, code: str, report_id: int) -> HttpResponse:
    _, report = selectors.access_report(principal_of(request), operation_code=code, report_id=report_id)
    return report_file(report)


def report_file(report: Report, *, inline: bool = False) -> HttpResponse:
    """The stored file, as an attachment; HTML sandboxed so it can never run script in the hub."""
    if report.state != Report.State.DONE:
        raise Refused("The report is not finished yet.")
    return download_response(
        selectors.report_content(report),
        filename=report.filename,
        content_type=report.content_type,
        inline=inline,
        headers={
            "Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
        },
    )
