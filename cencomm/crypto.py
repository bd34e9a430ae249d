"""Envelope encryption with PyNaCl.

A master key, from the environment or a file it names, wraps one data key per scope (a room, an
operation). Each record is sealed with XChaCha20-Poly1305 under its scope's active data key, with
associated data that names the record (its context) and the data key, so a ciphertext copied to
another row, or presented under another key, does not decrypt. See docs/security.md.
"""

from __future__ import annotations

import hashlib
import struct
import threading
from base64 import urlsafe_b64decode

import nacl.exceptions
import nacl.secret
import nacl.utils
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction

from cencomm.models import DataKey

FORMAT = b"C1"
_HEADER = struct.Struct(">2sQ")  # format marker, data key id
NONCE_SIZE = nacl.secret.Aead.NONCE_SIZE


class DecryptionError(Exception):
    """The ciphertext does not belong to this context or key, or was altered."""


def parse_master_key(encoded: str, *, name: str = "CENCOMM_MASTER_KEY") -> bytes:
    try:
        key = urlsafe_b64decode(encoded.strip() + "=" * (-len(encoded.strip()) % 4))
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be 32 bytes in URL-safe base64") from None
    if len(key) != nacl.secret.Aead.KEY_SIZE:
        raise ImproperlyConfigured(f"{name} must be 32 bytes in URL-safe base64, not {len(key)}")
    return key


def master_key_id(key: bytes) -> str:
    return hashlib.blake2b(key, digest_size=8, person=b"cencomm-master").hexdigest()


def _master_keys() -> dict[str, bytes]:
    """The current master key and any previous ones still accepted for unwrapping."""
    keys = {}
    for encoded in [settings.CENCOMM_MASTER_KEY, *getattr(settings, "CENCOMM_PREVIOUS_MASTER_KEYS", [])]:
        key = parse_master_key(encoded)
        keys[master_key_id(key)] = key
    return keys


def current_master_key() -> bytes:
    return parse_master_key(settings.CENCOMM_MASTER_KEY)


def _wrap_aad(scope: str, version: int) -> bytes:
    return f"cencomm:datakey|{scope}|{version}".encode()


def wrap_data_key(raw: bytes, *, scope: str, version: int, master: bytes) -> bytes:
    return nacl.secret.Aead(master).encrypt(raw, _wrap_aad(scope, version))


class _KeyCache:
    """Unwrapped data keys, per process, keyed by id and the wrapped bytes they came from."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[int, tuple[bytes, str, bytes, nacl.secret.Aead]] = {}

    def get(self, key: DataKey) -> nacl.secret.Aead:
        return self._entry(key)[3]

    def raw(self, key: DataKey) -> bytes:
        return self._entry(key)[2]

    def _entry(self, key: DataKey) -> tuple[bytes, str, bytes, nacl.secret.Aead]:
        wrapped = bytes(key.wrapped)
        with self._lock:
            hit = self._keys.get(key.pk)
        if hit and hit[0] == wrapped and hit[1] == settings.CENCOMM_MASTER_KEY:
            return hit
        master = _master_keys().get(key.master_key_id)
        if master is None:
            raise DecryptionError(f"data key {key.pk} is wrapped by an unknown master key")
        try:
            raw = nacl.secret.Aead(master).decrypt(wrapped, _wrap_aad(key.scope, key.version))
        except nacl.exceptions.CryptoError:
            raise DecryptionError(f"data key {key.pk} does not unwrap") from None
        entry = (wrapped, settings.CENCOMM_MASTER_KEY, raw, nacl.secret.Aead(raw))
        with self._lock:
            self._keys[key.pk] = entry
        return entry

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()


key_cache = _KeyCache()


def _create_data_key(scope: str, version: int) -> DataKey:
    master = current_master_key()
    raw = nacl.utils.random(nacl.secret.Aead.KEY_SIZE)
    return DataKey.objects.create(
        scope=scope,
        version=version,
        wrapped=wrap_data_key(raw, scope=scope, version=version, master=master),
        master_key_id=master_key_id(master),
        active=True,
    )


def active_data_key(scope: str) -> DataKey:
    key = DataKey.objects.filter(scope=scope, active=True).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            return _create_data_key(scope, 1)
    except IntegrityError:  # another request created it first
        return DataKey.objects.get(scope=scope, active=True)


def _aad(context: str, key_id: int) -> bytes:
    return f"cencomm:v1|{context}|key:{key_id}".encode()


def seal(*, scope: str, context: str, plaintext: bytes) -> bytes:
    """Encrypt ``plaintext`` under ``scope``'s active data key, bound to ``context``."""
    key = active_data_key(scope)
    box = key_cache.get(key)
    nonce = nacl.utils.random(NONCE_SIZE)
    sealed = box.encrypt(plaintext, _aad(context, key.pk), nonce)
    return _HEADER.pack(FORMAT, key.pk) + bytes(sealed)


def seal_text(*, scope: str, context: str, text: str) -> bytes:
    return seal(scope=scope, context=context, plaintext=text.encode())


def key_id_of(blob: bytes) -> int:
    marker, key_id = _HEADER.unpack_from(bytes(blob))
    if marker != FORMAT:
        raise DecryptionError("unknown ciphertext format")
    return key_id


def open_sealed(*, context: str, blob: bytes, scope: str | None = None) -> bytes:
    """Decrypt a blob made by :func:`seal` for the same ``context`` (and, if given, ``scope``)."""
    blob = bytes(blob)
    if len(blob) < _HEADER.size + NONCE_SIZE:
        raise DecryptionError("ciphertext too short")
    key_id = key_id_of(blob)
    key = DataKey.objects.filter(pk=key_id).first()
    if key is None or (scope is not None and key.scope != scope):
        raise DecryptionError("no such data key for this scope")
    try:
        return key_cache.get(key).decrypt(blob[_HEADER.size :], _aad(context, key.pk))
    except nacl.exceptions.CryptoError:
        raise DecryptionError("ciphertext does not match its context") from None


def open_text(*, context: str, blob: bytes, scope: str | None = None) -> str:
    return open_sealed(context=context, blob=blob, scope=scope).decode()


@transaction.atomic
def data_key_rotate(*, scope: str) -> DataKey:
    """Make a new active data key for ``scope``; older versions stay to decrypt older records."""
    current = DataKey.objects.select_for_update().filter(scope=scope, active=True).first()
    version = 1
    if current is not None:
        version = current.version + 1
        current.active = False
        current.save(update_fields=["active"])
    return _create_data_key(scope, version)


@transaction.atomic
def master_key_rewrap(*, new_master: bytes) -> int:
    """Re-wrap every data key under ``new_master``; returns how many were re-wrapped.

    The caller then replaces CENCOMM_MASTER_KEY with the new key (the old one may stay in
    CENCOMM_PREVIOUS_MASTER_KEYS until every process has restarted).
    """
    new_id = master_key_id(new_master)
    count = 0
    for key in DataKey.objects.select_for_update().order_by("pk"):
        if key.master_key_id == new_id:
            continue
        raw = key_cache.raw(key)
        key.wrapped = wrap_data_key(raw, scope=key.scope, version=key.version, master=new_master)
        key.master_key_id = new_id
        key.save(update_fields=["wrapped", "master_key_id"])
        count += 1
    key_cache.clear()
    return count


@transaction.atomic
def data_keys_destroy(*, scopes: list[str]) -> int:
    """Delete every version of the data keys of ``scopes`` (retention's shredding); returns how many.

    What they sealed can never be opened again, whatever master key is at hand: the wrapped keys are
    gone from the database (a backup taken before still holds them: see docs/security.md). This
    process's cache of unwrapped keys forgets them too.
    """
    count, _ = DataKey.objects.filter(scope__in=scopes).delete()
    key_cache.clear()
    return count
