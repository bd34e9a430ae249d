"""Envelope encryption: bound to its context and key, rotatable, re-wrappable."""

import secrets
from base64 import urlsafe_b64encode

import pytest

from cencomm import crypto
from cencomm.models import DataKey

pytestmark = pytest.mark.django_db


def test_sealed_text_opens_only_in_its_own_context():
    blob = crypto.seal_text(scope="room:1", context="msg:1:a:body", text="container MSCU1234567")
    assert b"MSCU1234567" not in blob
    assert crypto.open_text(context="msg:1:a:body", blob=blob, scope="room:1") == "container MSCU1234567"
    with pytest.raises(crypto.DecryptionError):
        crypto.open_text(context="msg:1:b:body", blob=blob)  # copied to another row
    with pytest.raises(crypto.DecryptionError):
        crypto.open_text(context="msg:1:a:body", blob=blob, scope="room:2")  # claimed by another room


def test_a_tampered_ciphertext_does_not_open():
    blob = bytearray(crypto.seal_text(scope="room:1", context="c", text="hello"))
    blob[-1] ^= 1
    with pytest.raises(crypto.DecryptionError):
        crypto.open_text(context="c", blob=bytes(blob))


def test_data_keys_are_stored_wrapped():
    crypto.seal_text(scope="room:9", context="c", text="x")
    key = DataKey.objects.get(scope="room:9")
    raw = crypto.key_cache.raw(key)
    assert raw not in bytes(key.wrapped)
    assert len(bytes(key.wrapped)) == 24 + 32 + 16  # nonce, key, tag
    assert key.master_key_id == crypto.master_key_id(crypto.current_master_key())


def test_rotation_keeps_old_records_readable_and_seals_new_ones_with_the_new_key():
    old = crypto.seal_text(scope="room:1", context="m1", text="before")
    crypto.data_key_rotate(scope="room:1")
    new = crypto.seal_text(scope="room:1", context="m2", text="after")
    assert crypto.key_id_of(old) != crypto.key_id_of(new)
    assert crypto.open_text(context="m1", blob=old) == "before"
    assert crypto.open_text(context="m2", blob=new) == "after"
    assert DataKey.objects.filter(scope="room:1", active=True).count() == 1


def test_rewrap_under_a_new_master_key_keeps_everything_readable(settings):
    blob = crypto.seal_text(scope="operation:1", context="r", text="secret")
    new_master = secrets.token_bytes(32)
    assert crypto.master_key_rewrap(new_master=new_master) == 1
    settings.CENCOMM_MASTER_KEY = urlsafe_b64encode(new_master).decode()
    crypto.key_cache.clear()
    assert crypto.open_text(context="r", blob=blob) == "secret"
    # The old master key no longer unwraps anything.
    settings.CENCOMM_MASTER_KEY = urlsafe_b64encode(secrets.token_bytes(32)).decode()
    crypto.key_cache.clear()
    with pytest.raises(crypto.DecryptionError):
        crypto.open_text(context="r", blob=blob)
