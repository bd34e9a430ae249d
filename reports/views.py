"""Pages: the operation's reports (ask for one, see what each leaves out, watch its progress, download)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from cencomm.chain import chain_head
from cencomm.errors import validation_messages
from cencomm.principal import Principal
from operations.selectors import access_membership
from reports import selectors, services
from reports.api import report_file, report_out
from reports.cases import left_out
from reports.models import Report
from results.selectors import results_chain_name


@require_http_methods(["GET", "POST"])
def report_index(request: HttpRequest, code: str) -> HttpResponse:
    membership = access_membership(Principal(request.user), operation_code=code)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            services.report_request_for_member(
                membership=membership,
                edition=request.POST.get("edition", ""),
                format=request.POST.get("format", ""),
            )
            return redirect("reports:index", code=code)
        except ValidationError as exc:
            errors = validation_messages(exc)
    reports = list(selectors.reports_for(membership).select_related("operation")[:50])
    audience = selectors.Audience.of(membership)
    return render(
        request,
        "reports/index.html",
        {
            "operation": membership.operation,
            "membership": membership,
            "tab": "reports",
            "reports": [
                report_out(r) | {"kind_label": r.get_kind_display(), "edition_label": r.get_edition_display()}
                for r in reports
            ],
            "editions": Report.Edition.choices,
            "formats": Report.Format.choices,
            "may_restricted": audience.may_read_restricted,
            "errors": errors,
            "member_count": membership.operation.memberships.count(),
            "chain_seq_now": chain_head(results_chain_name(membership.operation_id)).seq,
            "left_out": [
                item
                for item in left_out(membership.operation, audience)
                if audience.may_read_restricted or item["key"] in ("voided", "public")
            ],
        },
        status=422 if errors else 200,
    )


@require_GET
def report_download(request: HttpRequest, code: str, report_id: int) -> HttpResponse:
    _, report = selectors.access_report(Principal(request.user), operation_code=code, report_id=report_id)
    return report_file(report, inline=request.GET.get("view") == "1" and report.format == Report.Format.PDF)
