"""What of a result the search index gets (``cencomm.search``): its current version's text and
identifying fields.

Open to whoever may see the result: the goods lines' descriptions, GTINs and HS codes, and the
concealment. Sealed, found only by members of the result's administration (as
``selectors.may_see_sealed`` shows them): the notes, the reference (container, vehicle, flight,
parcel numbers), the parties (consignor, consignee) and the brands.

Every stored version (post, correction, void, restore, reclassification) replaces the result's
entry in the same transaction (``version_index``, called by the version writer). A voided result
stays findable, marked voided, as it stays readable, struck through.
``operation_result_documents`` gives every result of an operation, for rebuilding its index.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from cencomm.search import Document, Kind, index_document
from results.models import GoodsLine, Result, ResultVersion
from results.sealing import line_brand, sealed_fields


def version_document(
    result: Result,
    version: ResultVersion,
    *,
    lines: Sequence[GoodsLine],
    sealed: dict[str, str | None],
    brands: Sequence[str | None],
) -> Document:
    open_texts = [t for line in lines for t in (line.description, line.gtin, line.hs_code) if t]
    return Document(
        operation_id=result.operation_id,
        kind=Kind.RESULT,
        at=version.inspected_at,
        texts=[*open_texts, version.concealment],
        sealed_texts=[*(text for text in sealed.values() if text), *(b for b in brands if b)],
        author_id=result.reported_by_id,
        entry_point_id=result.entry_point_id,
        administration_id=result.administration_id,
        result_id=result.pk,
        version=version.number,
        voided=version.voided,
    )


def version_index(
    result: Result,
    version: ResultVersion,
    *,
    lines: Sequence[tuple[GoodsLine, str | None]],
    sealed: dict[str, str | None],
) -> None:
    """Index ``version`` (just stored as the current one) in place of the result's earlier version."""
    index_document(
        version_document(
            result, version, lines=[line for line, _ in lines], sealed=sealed, brands=[b for _, b in lines]
        )
    )


def operation_result_documents(operation_id: int) -> Iterator[Document]:
    """Every result of the operation, its current version opened, as the index gets it."""
    versions = (
        ResultVersion.objects.filter(result__operation_id=operation_id, is_current=True)
        .select_related("result")
        .prefetch_related("lines")
        .order_by("pk")
    )
    for version in versions.iterator(chunk_size=1000):
        lines = sorted(version.lines.all(), key=lambda line: line.position)
        yield version_document(
            version.result,
            version,
            lines=lines,
            sealed=sealed_fields(version),
            brands=[line_brand(version, line) for line in lines],
        )
