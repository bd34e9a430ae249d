"""Hash chains: each link's hash covers the previous hash, its position and its record."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from cencomm.models import ChainHead

GENESIS = "0" * 64


def canonical_json(payload: Any) -> bytes:
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


def link_hash(prev_hash: str, seq: int, payload: Any) -> str:
    return link_hash_bytes(prev_hash, seq, canonical_json(payload))


def link_hash_bytes(prev_hash: str, seq: int, canonical_payload: bytes) -> str:
    """``link_hash`` over a payload already in canonical form (a database may write it)."""
    digest = hashlib.sha256()
    digest.update(prev_hash.encode())
    digest.update(b"|%d|" % seq)
    digest.update(canonical_payload)
    return digest.hexdigest()


@dataclass(frozen=True)
class Link:
    seq: int
    prev_hash: str
    hash: str


def chain_append(name: str, payload: Any) -> Link:
    """Append one link under a row lock on the chain head; must run inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("chain_append must run inside a transaction")
    ChainHead.objects.bulk_create([ChainHead(name=name, seq=0, head_hash=GENESIS)], ignore_conflicts=True)
    head = ChainHead.objects.select_for_update(no_key=True).get(name=name)
    seq = head.seq + 1
    link = Link(seq=seq, prev_hash=head.head_hash, hash=link_hash(head.head_hash, seq, payload))
    head.seq = seq
    head.head_hash = link.hash
    head.save(update_fields=["seq", "head_hash"])
    return link


def chain_head(name: str) -> Link:
    head = ChainHead.objects.filter(name=name).first()
    if head is None:
        return Link(seq=0, prev_hash=GENESIS, hash=GENESIS)
    return Link(seq=head.seq, prev_hash="", hash=head.head_hash)


def first_broken_link(links: list[tuple[int, str, str, Any]], head: Link | None = None) -> int | None:
    """Given ``(seq, prev_hash, hash, payload)`` in order, the first seq that does not match.

    A link breaks when its recorded previous hash differs from the hash before it, when its
    hash does not cover its payload, or when a position is missing. If ``head`` is given, the
    last link must equal it (a deleted tail is found too).
    """
    expected_prev = GENESIS
    expected_seq = 1
    for seq, prev_hash, hash_, payload in links:
        if seq != expected_seq or prev_hash != expected_prev:
            return expected_seq
        if link_hash(prev_hash, seq, payload) != hash_:
            return seq
        expected_prev = hash_
        expected_seq += 1
    if head is not None and (head.seq != expected_seq - 1 or head.hash != expected_prev):
        return expected_seq
    return None
