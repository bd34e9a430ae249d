"""Writes of the records floor for search: rebuilding an operation's index, rotating its search key.

Day to day the index is written by the services that own each document, in their transaction
(``messaging.indexing``, ``results.indexing``). Here it is rebuilt whole, from the sealed records
opened again: for an operation whose records predate the index (``manage.py reindex_search``), and
when its search key is rotated (``manage.py rotate_search_key``): every token is a keyed hash, so a
new key means hashing every word again. Both hold the operation's row FOR NO KEY UPDATE, as a
lifecycle transition does, so the writes that index (which hold it FOR SHARE first) wait and then
hash under the key this leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from cencomm import search
from cencomm.audit import search_index_rebuilt
from cencomm.errors import Refused
from messaging.indexing import operation_message_documents
from operations.models import Operation
from results.indexing import operation_result_documents

BATCH = 2000


@dataclass(frozen=True)
class Rebuilt:
    documents: int
    tokens: int
    key_version: int | None


@transaction.atomic
def search_index_rebuild(
    *, operation: Operation, actor: AbstractBaseUser | None, rotate_key: bool = False
) -> Rebuilt:
    """Drop the operation's index and write it again from its messages and results, under a new
    search key if ``rotate_key`` (the old key versions destroyed). Audited. Refused for an operation
    shredded (its row is read again under the lock: a shredding may have committed meanwhile)."""
    operation = Operation.objects.select_for_update(no_key=True).get(pk=operation.pk)
    if operation.shredded_at is not None:  # shredded since the caller looked: no index, no key again
        raise Refused(f"{operation.code} was shredded on {operation.shredded_at:%Y-%m-%d}.")
    search.forget_operation(operation.pk)
    key_version = search.search_key_replace(operation.pk).version if rotate_key else None
    documents = tokens = 0
    batch: list[search.Document] = []
    for document in chain(
        operation_message_documents(operation.pk), operation_result_documents(operation.pk)
    ):
        batch.append(document)
        if len(batch) >= BATCH:
            tokens += search.index_documents(batch)
            documents, batch = documents + len(batch), []
    tokens += search.index_documents(batch)
    documents += len(batch)
    search_index_rebuilt(
        operation=operation, actor=actor, key_version=key_version, documents=documents, tokens=tokens
    )
    return Rebuilt(documents=documents, tokens=tokens, key_version=key_version)
