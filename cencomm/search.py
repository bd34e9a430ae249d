"""The search index primitive: normalised words, hashed under a per-operation search key.

The index holds no readable word. Each word of a document is normalised (``normalise``: NFKD, marks
removed, case folded, Arabic letter forms unified, any script's digits made ASCII), cut into tokens
(``tokenise``: words; identifiers such as container numbers, GTINs and plates both whole and as
their parts, with spaces, hyphens, dots and slashes between their pieces removed), and stored as a
64-bit keyed BLAKE2b hash (``token_hash``) under the operation's search key: a data key of scope
``search:<operation id>``, wrapped by the master key like every other (``cencomm.crypto``). Equal
words of one operation hash alike; the same word in another operation, or after a rotation, does not.

The apps that own documents write them in their own transaction: messaging for messages (post,
edit, withdrawal), results for results (every new version), through ``index_document`` and
``unindex``. The query side (parsing, access, ranking, snippets) is ``records.search``; rebuilding
an operation's index and rotating its key is ``records.services``. See docs/security.md for what the
index reveals to someone who reads the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction

from cencomm.crypto import active_data_key, data_key_rotate, key_cache
from cencomm.models import DataKey, SearchDocument, SearchToken

Kind = SearchDocument.Kind
MAX_TOKEN_CHARS = 64  # longer runs are cut: no word of a message is that long, and it bounds a hash input
_PERSON = b"cencomm-search"

# --- normalising ---------------------------------------------------------------------------------

# Arabic letter forms a searcher does not tell apart (after NFKD has taken the hamza off alef,
# waw and yeh): alef wasla, alef maksura -> yeh, teh marbuta -> heh; tatweel (the stretching
# stroke) goes.
_ARABIC = str.maketrans({"\u0671": "\u0627", "\u0649": "\u064a", "\u0629": "\u0647", "\u0640": None})


def normalise(text: str) -> str:
    """Accents and marks removed, case folded, letter forms unified, digits ASCII.

    ``"Durrës" -> "durres"``, ``"ÉTÉ" -> "ete"``, ``"Ёлка" -> "елка"``, ``"أَحْمَد" -> "احمد"``,
    ``"٤٠٠٦" -> "4006"``.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    out = []
    for char in decomposed:
        if unicodedata.category(char) == "Mn":  # accents, Arabic harakat, the hamza NFKD split off
            continue
        digit = unicodedata.decimal(char, None)
        out.append(str(digit) if digit is not None else char)
    return "".join(out).translate(_ARABIC).casefold()


# --- tokens --------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")
# Between two pieces of one identifier ("MSKU 123456-5", "AB-123-CD", "4 006381 333931").
_JOINER = frozenset(" -./")
_PARTS = re.compile(r"\d+|[^\W\d_]+")
MAX_JOINED_PIECES = 4


def _pieces(normalised: str) -> list[tuple[str, str]]:
    """Words in order, each with the identifier separator that joins it to the next ("" for none)."""
    found = list(_WORD.finditer(normalised))
    pieces = []
    for i, match in enumerate(found):
        sep = ""
        if (
            i + 1 < len(found)
            and found[i + 1].start() - match.end() == 1
            and normalised[match.end()] in _JOINER
        ):
            sep = normalised[match.end()]
        pieces.append((match.group()[:MAX_TOKEN_CHARS], sep))
    return pieces


def _identifier_piece(word: str) -> bool:
    """A piece an identifier is made of: digits, letters and digits, or a short run of letters."""
    return any(c.isdigit() for c in word) or len(word) <= 4


def _identifier(joined: str) -> bool:
    return any(c.isdigit() for c in joined) and 5 <= len(joined) <= 24


def _word_tokens(word: str) -> list[str]:
    """A word, and for one of letters and digits (``msku1234565``) its runs (``msku``, ``1234565``)."""
    tokens = [word] if _kept(word) else []
    parts = _PARTS.findall(word)
    if len(parts) > 1:
        tokens += [p for p in parts if _kept(p)]
    return tokens


def _segments(pieces: list[tuple[str, str]], joins: Callable[[str, str, str], bool]) -> list[list[str]]:
    """The words in order, grouped: a word goes with the next when ``joins(word, sep, next)``."""
    segments: list[list[str]] = []
    current: list[str] = []
    for i, (word, sep) in enumerate(pieces):
        current.append(word)
        if not (sep and i + 1 < len(pieces) and joins(word, sep, pieces[i + 1][0])):
            segments.append(current)
            current = []
    return segments


def _in_documents(word: str, sep: str, following: str) -> bool:
    """In a text, any identifier pieces written with a separator between them may be one identifier."""
    return _identifier_piece(word) and _identifier_piece(following)


def _in_queries(word: str, sep: str, following: str) -> bool:
    """In a query, a space separates words, except between groups of digits (``4 006381 333931``);
    a hyphen, dot or slash joins identifier pieces (``MSKU-123456-5``, ``AB-123-CD``)."""
    if sep == " ":
        return word.isdigit() and following.isdigit()
    return _in_documents(word, sep, following)


def _kept(word: str) -> bool:
    """Single letters say nothing (an elided article); single digits may be part of a number."""
    return len(word) > 1 or word.isdigit()


def tokenise(text: str) -> set[str]:
    """The tokens a document is found by: every word, and every identifier written in pieces,
    joined (each run of 2 to 4 consecutive pieces that makes an identifier)."""
    tokens: set[str] = set()
    for segment in _segments(_pieces(normalise(text)), _in_documents):
        for word in segment:
            tokens.update(_word_tokens(word))
        for start in range(len(segment)):
            for end in range(start + 2, min(len(segment), start + MAX_JOINED_PIECES) + 1):
                joined = "".join(segment[start:end])
                if _identifier(joined):
                    tokens.add(joined)
    return tokens


@dataclass(frozen=True)
class Term:
    """One thing the searcher asked for: found if any of its alternatives is, an alternative being
    found if all its tokens are. A word has one alternative (itself); an identifier typed in pieces
    two: whole (``msku1234565``), or every piece (``msku`` and ``1234565``)."""

    text: str
    alternatives: tuple[tuple[str, ...], ...]

    @property
    def identifier(self) -> bool:
        return _identifier(self.text)

    @property
    def tokens(self) -> set[str]:
        return {token for alternative in self.alternatives for token in alternative}


@dataclass(frozen=True)
class Query:
    """A search box's text as tokens: ``terms``, all of which a document must have, and ``exact``,
    identifiers typed in pieces with spaces (``MSKU 1234565``): a document that has one whole ranks
    higher, one that has only its pieces is still found."""

    terms: tuple[Term, ...]
    exact: tuple[str, ...] = ()

    @property
    def tokens(self) -> set[str]:
        return {t for term in self.terms for t in term.tokens} | set(self.exact)

    @property
    def ranked(self) -> bool:
        """Whether answers can hold more or fewer of the tokens (an identifier found whole or in
        pieces); if not, every answer holds them all and only the date orders them."""
        return bool(self.exact) or any(len(term.alternatives) > 1 for term in self.terms)


def query_parse(text: str) -> Query:
    """What a search box's text asks for, in order, duplicates dropped."""
    pieces = _pieces(normalise(text))
    terms: dict[str, Term] = {}
    for segment in _segments(pieces, _in_queries):
        for start in range(0, len(segment), MAX_JOINED_PIECES):
            run = segment[start : start + MAX_JOINED_PIECES]
            joined = "".join(run)
            parts = tuple(w for w in run if _kept(w))
            if len(run) > 1 and _identifier(joined):
                terms.setdefault(joined, Term(joined, ((joined,), parts) if parts else ((joined,),)))
                continue
            for word in parts:
                terms.setdefault(word, Term(word, ((word,),)))
    exact = set()
    for segment in _segments(pieces, _in_documents):
        if 1 < len(segment) <= MAX_JOINED_PIECES and _identifier("".join(segment)):
            exact.add("".join(segment))
    return Query(tuple(terms.values()), tuple(sorted(exact - set(terms))))


def token_spans(text: str, tokens: set[str]) -> list[tuple[int, int]]:
    """Where in ``text`` the words are that ``tokens`` stand for (every piece of an identifier that
    was found whole), as (start, end) spans; the snippets' highlighting."""
    words = list(_WORD.finditer(text))
    pieces = []
    for i, match in enumerate(words):
        sep = ""
        if i + 1 < len(words) and words[i + 1].start() - match.end() == 1 and text[match.end()] in _JOINER:
            sep = text[match.end()]
        pieces.append((normalise(match.group()), sep))
    marked = {i for i, (word, _) in enumerate(pieces) if set(_word_tokens(word)) & tokens}
    index = 0
    for segment in _segments(pieces, _in_documents):
        for start in range(len(segment)):
            for end in range(start + 2, min(len(segment), start + MAX_JOINED_PIECES) + 1):
                joined = "".join(segment[start:end])
                if _identifier(joined) and joined in tokens:
                    marked.update(range(index + start, index + end))
        index += len(segment)
    spans: list[tuple[int, int]] = []
    for i in sorted(marked):
        start, end = words[i].span()
        if spans and start - spans[-1][1] <= 1 and i - 1 in marked:  # one identifier, one mark
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


# --- keyed hashes --------------------------------------------------------------------------------


def search_scope(operation_id: int) -> str:
    return f"search:{operation_id}"


def search_key(operation_id: int) -> bytes:
    """The operation's search key, unwrapped (made on first use, like every data key)."""
    return key_cache.raw(active_data_key(search_scope(operation_id)))


def search_key_if_any(operation_id: int) -> bytes | None:
    """The operation's search key if it has one, else None: what reading uses, so that a search
    never makes a key (an operation with no key has nothing indexed; a shredded one must stay
    without)."""
    key = DataKey.objects.filter(scope=search_scope(operation_id), active=True).first()
    return None if key is None else key_cache.raw(key)


def token_hash(key: bytes, token: str) -> int:
    """A token's keyed hash as a signed 64-bit integer (what a BIGINT column holds)."""
    digest = hashlib.blake2b(token.encode(), key=key, digest_size=8, person=_PERSON).digest()
    return int.from_bytes(digest, "big", signed=True)


class Hasher:
    """Hashes tokens under one operation's search key, each token once."""

    def __init__(self, operation_id: int, key: bytes | None = None) -> None:
        self.key = search_key(operation_id) if key is None else key
        self._seen: dict[str, int] = {}

    def __call__(self, token: str) -> int:
        value = self._seen.get(token)
        if value is None:
            value = self._seen[token] = token_hash(self.key, token)
        return value


# --- writing -------------------------------------------------------------------------------------


@dataclass
class Document:
    """A document as its app hands it to the index: where it is, who may find it, and its text.

    ``texts``: what everyone who may open the document reads; ``sealed_texts``: what only the
    document's administration reads (a result's sealed fields).
    """

    operation_id: int
    kind: str
    at: dt.datetime
    texts: Sequence[str]
    sealed_texts: Sequence[str] = ()
    author_id: int | None = None
    entry_point_id: int | None = None
    administration_id: int | None = None
    room_id: int | None = None
    message_id: int | None = None
    seq: int | None = None
    result_id: int | None = None
    version: int = 1
    voided: bool = False

    def token_sets(self) -> tuple[set[str], set[str]]:
        """(open tokens, tokens found only in sealed text)."""
        open_tokens: set[str] = set()
        for text in self.texts:
            open_tokens |= tokenise(text or "")
        sealed: set[str] = set()
        for text in self.sealed_texts:
            sealed |= tokenise(text or "")
        return open_tokens, sealed - open_tokens


def _row(document: Document, tokens: int) -> SearchDocument:
    return SearchDocument(
        operation_id=document.operation_id,
        kind=document.kind,
        at=document.at,
        author_id=document.author_id,
        entry_point_id=document.entry_point_id,
        administration_id=document.administration_id,
        room_id=document.room_id,
        message_id=document.message_id,
        seq=document.seq,
        result_id=document.result_id,
        version=document.version,
        voided=document.voided,
        tokens=tokens,
    )


@transaction.atomic(savepoint=False)  # in the caller's transaction (no savepoint of its own), or in one
def index_documents(documents: Sequence[Document]) -> int:
    """Index ``documents`` (all of one operation), replacing what the index held for each; the count
    of tokens written. Runs in the caller's transaction: a rolled-back write leaves the index as it was."""
    if not documents:
        return 0
    operation_ids = {d.operation_id for d in documents}
    if len(operation_ids) != 1:
        raise ValueError("index_documents takes the documents of one operation")
    hasher = Hasher(operation_ids.pop())
    unindex(
        message_ids=[d.message_id for d in documents if d.message_id is not None],
        result_ids=[d.result_id for d in documents if d.result_id is not None],
    )
    rows, tokens = [], []
    for document in documents:
        open_tokens, sealed = document.token_sets()
        row = _row(document, len(open_tokens) + len(sealed))
        rows.append(row)
        tokens.append([(hasher(t), False) for t in open_tokens] + [(hasher(t), True) for t in sealed])
    SearchDocument.objects.bulk_create(rows)
    postings = [
        SearchToken(token=value, document=row, sealed=sealed)
        for row, hashes in zip(rows, tokens, strict=True)
        for value, sealed in dict(hashes).items()
    ]
    SearchToken.objects.bulk_create(postings, batch_size=5000)
    return len(postings)


def index_document(document: Document) -> int:
    """Index one document, replacing its earlier version: see ``index_documents``."""
    return index_documents([document])


def unindex(*, message_ids: Iterable[int] = (), result_ids: Iterable[int] = ()) -> int:
    """Remove these messages' and results' documents and their tokens; how many documents went."""
    message_ids, result_ids = list(message_ids), list(result_ids)
    found = SearchDocument.objects.none()
    if message_ids:
        found = found | SearchDocument.objects.filter(message_id__in=message_ids)
    if result_ids:
        found = found | SearchDocument.objects.filter(result_id__in=result_ids)
    ids = list(found.values_list("pk", flat=True))
    if not ids:
        return 0
    SearchToken.objects.filter(document_id__in=ids).delete()
    SearchDocument.objects.filter(pk__in=ids).delete()
    return len(ids)


def forget_operation(operation_id: int) -> int:
    """Remove an operation's whole index and destroy its search keys (every version): what rebuilding
    or shredding starts with. Returns how many documents went."""
    documents = SearchDocument.objects.filter(operation_id=operation_id)
    SearchToken.objects.filter(document__in=documents).delete()
    count = documents.count()
    documents.delete()
    return count


@transaction.atomic
def search_key_replace(operation_id: int) -> DataKey:
    """A new search key for the operation, the earlier versions destroyed: nothing sealed depends on
    them (they only ever hashed), and a hash kept from before the rotation then links to nothing.
    The caller rebuilds the operation's index under the new key in the same transaction."""
    key = data_key_rotate(scope=search_scope(operation_id))
    DataKey.objects.filter(scope=search_scope(operation_id), active=False).delete()
    return key


def search_keys_destroy(operation_id: int) -> int:
    """Destroy every version of the operation's search key (shredding); how many went."""
    return DataKey.objects.filter(scope=search_scope(operation_id)).delete()[0]
