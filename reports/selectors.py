"""Reads of report jobs and of who may see what in a report. ``access_*`` raise NotFound."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from cencomm.errors import NotFound
from cencomm.principal import Principal
from operations.models import Membership
from operations.selectors import access_membership
from reports.models import Report
from reports.sealing import open_content
from results.models import HandlingCode

Role = Membership.Role
#: The command line runs with the server's authority: a coordinator's view of the record.
SYSTEM = "system"
#: Roles that may ask for the restricted edition (and the CEN export, which has case-level rows).
RESTRICTED_ROLES = (Role.COORDINATOR, Role.ANALYST, Role.NATIONAL_CONTACT, SYSTEM)


@dataclass(frozen=True)
class Audience:
    """The reader a restricted edition is built for: their role and where they serve."""

    role: str
    administration_id: int | None = None
    entry_point_id: int | None = None

    @classmethod
    def of(cls, membership: Membership) -> Audience:
        return cls(membership.role, membership.administration_id, membership.entry_point_id)

    @classmethod
    def of_report(cls, report: Report) -> Audience:
        return cls(report.audience_role or SYSTEM, report.audience_administration_id)

    @property
    def may_read_restricted(self) -> bool:
        return self.role in RESTRICTED_ROLES

    def sees_nominal(self, administration_id: int) -> bool:
        """Names of persons and companies stay national: only the result's own administration."""
        return self.administration_id is not None and self.administration_id == administration_id


def case_visibility(audience: Audience) -> Q:
    """Which current versions' case-level content (rows, references, photos) the audience may see.

    Handling codes: H0 and H1 go to every participant allowed the restricted edition, H2 to
    coordinators and the result's own administration, H3 to its own administration only.
    """
    visible = Q(handling_code__in=[HandlingCode.H0, HandlingCode.H1])
    if audience.role in (Role.COORDINATOR, SYSTEM):
        visible |= Q(handling_code=HandlingCode.H2)
    if audience.administration_id is not None:
        visible |= Q(result__administration_id=audience.administration_id)
    if audience.role == Role.OFFICER:
        visible &= Q(result__entry_point_id=audience.entry_point_id)
    return visible


#: What may appear in the public edition's case-level items (notable seizures) and the CEN export.
MAY_LEAVE_OPERATION = Q(handling_code=HandlingCode.H0)


def _report_visibility(membership: Membership) -> Q:
    """Public reports go to every member; a restricted one to readers whose view includes its view."""
    visible = Q(edition=Report.Edition.PUBLIC) | Q(
        requested_by_id=membership.user_id,
        audience_role=membership.role,
        audience_administration_id=membership.administration_id,
    )
    same_or_no_administration = Q(audience_administration=None) | Q(
        audience_administration_id=membership.administration_id
    )
    if membership.role == Role.COORDINATOR:
        visible |= Q(audience_role__in=[Role.COORDINATOR, Role.ANALYST, SYSTEM]) & same_or_no_administration
    elif membership.role == Role.ANALYST:
        visible |= Q(audience_role=Role.ANALYST) & same_or_no_administration
    elif membership.role == Role.NATIONAL_CONTACT:
        visible |= Q(
            audience_role=Role.NATIONAL_CONTACT, audience_administration_id=membership.administration_id
        )
    return visible


def reports_for(membership: Membership) -> QuerySet[Report]:
    return (
        Report.objects.filter(operation_id=membership.operation_id)
        .filter(_report_visibility(membership))
        .defer("content")
        .select_related("requested_by")
    )


def access_report(
    principal: Principal, *, operation_code: str, report_id: object
) -> tuple[Membership, Report]:
    """A report of an operation the caller belongs to, that their role may read, or NotFound."""
    membership = access_membership(principal, operation_code=operation_code)
    try:
        pk = int(str(report_id))
    except ValueError:
        raise NotFound("report") from None
    report = reports_for(membership).filter(pk=pk).first()
    if report is None:
        raise NotFound("report")
    return membership, report


def report_content(report: Report) -> bytes:
    """The stored file, opened when it was sealed."""
    blob = Report.objects.filter(pk=report.pk).values_list("content", flat=True).first()
    if blob is None:
        raise NotFound("report file")
    if report.sealed:
        return open_content(report, bytes(blob))
    return bytes(blob)
