"""The REST equivalents, bad input, attachments, and outsiders who must see nothing."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from PIL import Image

from cencomm import uploads
from cencomm.live import capture_live_events
from messaging import selectors
from messaging.models import Acknowledgement, Attachment, Message, Room
from operations.models import Membership
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db


def rooms(client, code="TEST-OP"):
    response = client.get(f"/api/v1/operations/{code}/rooms")
    assert response.status_code == 200, response.content
    return {r["kind"] if r["kind"] != "administration" else r["name"]: r for r in response.json()}


def post(client, room_id, body, code="TEST-OP"):
    return client.post(
        f"/api/v1/operations/{code}/rooms/{room_id}/messages",
        json.dumps(body),
        content_type="application/json",
    )


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (41.0, 18.0, 45.0)  # GPSLatitudeRef, GPSLatitude
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def upload(client, room_id, data, name="photo.jpg", code="TEST-OP"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        f"/api/v1/operations/{code}/rooms/{room_id}/attachments",
        {"file": SimpleUploadedFile(name, data, content_type="image/jpeg")},
    )


def test_post_list_after_seq_and_retry_returns_the_stored_message(world, django_capture_on_commit_callbacks):
    client = verified_client(world.officer_al)
    room = rooms(client)["operation"]["id"]
    client_id = str(uuid.uuid4())
    with capture_live_events() as published, django_capture_on_commit_callbacks(execute=True):
        first = post(client, room, {"client_id": client_id, "text": "Nil return for Durrës today."})
    assert first.status_code == 201
    epoch = world.op.__class__.objects.values_list("access_epoch", flat=True).get(pk=world.op.pk)
    hint = {"type": "room.message", "room": room, "seq": 1, "rev": 1, "epoch": epoch}
    assert published == [(f"room.{room}", hint)]
    again = post(client, room, {"client_id": client_id, "text": "Nil return for Durrës today."})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    post(client, room, {"client_id": str(uuid.uuid4()), "text": "second"})
    page = (
        verified_client(world.officer_it)
        .get(f"/api/v1/operations/TEST-OP/rooms/{room}/messages?after_seq=1")
        .json()
    )
    assert [m["text"] for m in page["messages"]] == ["second"]
    assert page["seq"] == 2
    assert Message.objects.count() == 2


def test_warning_feedback_acknowledgement_and_coordinator_overview(world):
    coordinator = verified_client(world.coordinator)
    room = rooms(coordinator)["operation"]["id"]
    warning = post(
        coordinator,
        room,
        {
            "client_id": str(uuid.uuid4()),
            "kind": "warning",
            "text": "Profile: toys from Ningbo",
            "entry_points": [world.durres.pk],
        },
    ).json()
    officer = verified_client(world.officer_al)
    feedback = post(
        officer,
        room,
        {
            "client_id": str(uuid.uuid4()),
            "kind": "feedback",
            "warning": warning["id"],
            "text": "Controlled: 2 containers, 4,000 toys detained.",
        },
    )
    assert feedback.status_code == 201 and feedback.json()["warning"] == warning["id"]
    status = coordinator.get(f"/api/v1/operations/TEST-OP/messages/{warning['id']}/acks").json()
    # Addressed to Durrës: its officer and Albania's contact point, not Bari.
    assert [(s["username"], s["acknowledged_at"]) for s in status] == [
        ("ncp-al", None),
        ("officer-durres", None),
    ]
    assert officer.post(f"/api/v1/operations/TEST-OP/messages/{warning['id']}/ack").status_code == 200
    overview = coordinator.get("/api/v1/operations/TEST-OP/acknowledgements").json()
    assert overview[0]["acknowledged"] == 1 and overview[0]["total"] == 2
    # Officers may not send warnings nor see the overview.
    assert (
        post(officer, room, {"client_id": str(uuid.uuid4()), "kind": "alert", "text": "x"}).status_code == 409
    )
    assert officer.get("/api/v1/operations/TEST-OP/acknowledgements").status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({"text": "no client id"}, "client_id"),
        ({"client_id": "not-a-uuid", "text": "x"}, "client_id"),
        ({"client_id": "U", "text": "x" * 4001}, "text"),
        ({"client_id": "U", "text": "   "}, "text"),
        ({"client_id": "U", "text": "x", "author": 1}, "author"),
        ({"client_id": "U", "text": "x", "kind": "seizure"}, "kind"),
        ({"client_id": "U", "text": "x", "kind": "feedback"}, "warning"),
        ({"client_id": "U", "text": "x", "reply_to": 999999}, "reply_to"),
        ({"client_id": "U", "text": "x", "entry_points": [1]}, "entry_points"),
    ],
)
def test_bad_input_is_refused_with_field_messages_and_stores_nothing(world, body, field):
    client = verified_client(world.officer_al)
    room = rooms(client)["operation"]["id"]
    body = {k: (str(uuid.uuid4()) if v == "U" else v) for k, v in body.items()}
    response = post(client, room, body)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert Message.objects.count() == 0


def test_forged_author_and_other_operations_rooms_and_messages(world):
    other = verified_client(world.officer_other)
    other_room = rooms(other, "OTHER-OP")["operation"]["id"]
    post(other, other_room, {"client_id": str(uuid.uuid4()), "text": "Piraeus only"}, code="OTHER-OP")
    other_message = Message.objects.get()
    client = verified_client(world.officer_al)
    rooms(client)
    # Another operation's room through this operation's URL, and directly.
    assert post(client, other_room, {"client_id": str(uuid.uuid4()), "text": "x"}).status_code == 404
    assert (
        post(client, other_room, {"client_id": str(uuid.uuid4()), "text": "x"}, code="OTHER-OP").status_code
        == 404
    )
    assert client.post(f"/api/v1/operations/TEST-OP/messages/{other_message.pk}/ack").status_code == 404
    room = Room.objects.get(operation=world.op, kind="operation").pk
    assert (
        post(
            client, room, {"client_id": str(uuid.uuid4()), "text": "x", "reply_to": other_message.pk}
        ).status_code
        == 422
    )
    assert Message.objects.count() == 1


def test_outsiders_get_404_on_every_endpoint(world):
    coordinator = verified_client(world.coordinator)
    room = rooms(coordinator)["operation"]["id"]
    message = post(
        coordinator, room, {"client_id": str(uuid.uuid4()), "kind": "alert", "text": "secret"}
    ).json()
    attachment = upload(coordinator, room, jpeg_with_gps()).json()
    base = "/api/v1/operations/TEST-OP"
    for user in (world.outsider, world.officer_other):
        client = verified_client(user)
        calls = [
            client.get(f"{base}/rooms"),
            client.post(f"{base}/rooms", json.dumps({"name": "x"}), content_type="application/json"),
            client.get(f"{base}/rooms/{room}/messages"),
            post(client, room, {"client_id": str(uuid.uuid4()), "text": "x"}),
            client.patch(
                f"{base}/messages/{message['id']}", json.dumps({"text": "y"}), content_type="application/json"
            ),
            client.delete(f"{base}/messages/{message['id']}"),
            client.post(f"{base}/messages/{message['id']}/ack"),
            client.get(f"{base}/messages/{message['id']}/acks"),
            client.get(f"{base}/acknowledgements"),
            client.put(f"{base}/rooms/{room}/read", json.dumps({"seq": 1}), content_type="application/json"),
            upload(client, room, jpeg_with_gps()),
            client.get(f"{base}/attachments/{attachment['id']}"),
            client.get(f"{base}/rooms/"),
            client.get(f"{base}/rooms/{room}/"),
            client.get(f"{base}/rooms/acknowledgements/"),
        ]
        assert [c.status_code for c in calls] == [404] * len(calls), [c.status_code for c in calls]
    assert (
        Message.objects.count() == 1
        and Acknowledgement.objects.count() == 0
        and Attachment.objects.count() == 1
    )


def test_photo_is_stored_sealed_and_shown_without_location(world):
    client = verified_client(world.officer_al)
    room = rooms(client)["operation"]["id"]
    original = jpeg_with_gps()
    assert b"PhoneMaker" in original
    response = upload(client, room, original, name="../../etc/container 7.jpg")
    assert response.status_code == 201, response.content
    meta = response.json()
    assert meta["name"] == "container 7.jpg" and meta["preview"] is True
    stored = Attachment.objects.get()
    assert b"PhoneMaker" not in bytes(stored.original) and b"\xff\xd8\xff" not in bytes(stored.original)[:20]
    sent = post(client, room, {"client_id": str(uuid.uuid4()), "text": "", "attachments": [meta["id"]]})
    assert sent.status_code == 201 and sent.json()["attachments"][0]["id"] == meta["id"]
    shown = verified_client(world.officer_it).get(f"/api/v1/operations/TEST-OP/attachments/{meta['id']}")
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"
    assert (
        b"PhoneMaker" not in shown.content
        and Image.open(io.BytesIO(shown.content)).getexif().get_ifd(0x8825) == {}
    )
    evidence = client.get(f"/api/v1/operations/TEST-OP/attachments/{meta['id']}?original=true")
    assert evidence.content == original and evidence["X-Content-SHA256"] == stored.sha256


@pytest.mark.parametrize(
    "data, status",
    [
        (b"GIF89a" + b"\0" * 100, 422),  # not an allowed type
        (b"\xff\xd8\xff\xe0" + b"garbage" * 50, 422),  # says JPEG, is not
        (b"%PDF-1.7\n no end", 422),
        (b"", 422),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(world, data, status):
    client = verified_client(world.officer_al)
    room = rooms(client)["operation"]["id"]
    assert upload(client, room, data).status_code == status
    assert Attachment.objects.count() == 0


def test_oversized_upload_and_decompression_bomb(world, settings, monkeypatch):
    client = verified_client(world.officer_al)
    room = rooms(client)["operation"]["id"]
    settings.CENCOMM_UPLOAD_MAX_BYTES = 2048
    noisy = Image.effect_noise((200, 200), 100).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, format="PNG")
    assert upload(client, room, out.getvalue(), name="big.png").status_code == 413
    settings.CENCOMM_UPLOAD_MAX_BYTES = 10 * 1024 * 1024
    monkeypatch.setattr(uploads, "MAX_IMAGE_PIXELS", 10**12)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # a small image counts as a bomb
    bomb = io.BytesIO()
    Image.new("L", (100, 100)).save(bomb, format="PNG")
    response = upload(client, room, bomb.getvalue(), name="bomb.png")
    assert response.status_code == 422 and "pixels" in response.json()["errors"]["file"][0]
    assert Attachment.objects.count() == 0


def test_pdf_is_accepted_and_served_as_download(world):
    client = verified_client(world.ncp_al)
    room = rooms(client)["operation"]["id"]
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = upload(client, room, pdf, name="invoice.pdf")
    assert response.status_code == 201 and response.json()["content_type"] == "application/pdf"
    served = client.get(f"/api/v1/operations/TEST-OP/attachments/{response.json()['id']}")
    assert served.content == pdf and served["Content-Disposition"].startswith("attachment")


def test_edit_window_and_observer_reads_only(world, monkeypatch):
    client = verified_client(world.officer_al)
    room = rooms(client)["operation"]["id"]
    message = post(client, room, {"client_id": str(uuid.uuid4()), "text": "draft"}).json()
    edited = client.patch(
        f"/api/v1/operations/TEST-OP/messages/{message['id']}",
        json.dumps({"text": "final"}),
        content_type="application/json",
    )
    assert edited.status_code == 200 and edited.json()["version"] == 2
    monkeypatch.setattr(selectors, "EDIT_WINDOW", selectors.EDIT_WINDOW * 0)
    late = client.patch(
        f"/api/v1/operations/TEST-OP/messages/{message['id']}",
        json.dumps({"text": "late"}),
        content_type="application/json",
    )
    assert late.status_code == 409
    observer = verified_client(world.observer)
    assert post(observer, room, {"client_id": str(uuid.uuid4()), "text": "hello"}).status_code == 409
    assert Message.objects.get().version == 2


def test_read_position_only_moves_forward(world):
    client = verified_client(world.officer_al)
    room = rooms(client)["operation"]["id"]
    for text in ("a", "b", "c"):
        post(client, room, {"client_id": str(uuid.uuid4()), "text": text})

    def put(seq):
        return client.put(
            f"/api/v1/operations/TEST-OP/rooms/{room}/read",
            json.dumps({"seq": seq}),
            content_type="application/json",
        ).json()["seq"]

    assert put(2) == 2 and put(1) == 2 and put(99) == 3
    assert rooms(client)["operation"]["read"] == 3


def test_coordinator_opens_a_room_for_some_members(world):
    coordinator = verified_client(world.coordinator)
    response = coordinator.post(
        "/api/v1/operations/TEST-OP/rooms",
        json.dumps({"name": "Durrës follow-up", "members": [world.officer_al.pk]}),
        content_type="application/json",
    )
    assert response.status_code == 201
    assert "custom" in rooms(verified_client(world.officer_al))
    assert "custom" not in rooms(verified_client(world.officer_it))
    officer = verified_client(world.officer_al)
    assert (
        officer.post(
            "/api/v1/operations/TEST-OP/rooms", json.dumps({"name": "mine"}), content_type="application/json"
        ).status_code
        == 404
    )
    bad = coordinator.post(
        "/api/v1/operations/TEST-OP/rooms",
        json.dumps({"name": "x", "members": [world.officer_other.pk]}),
        content_type="application/json",
    )
    assert bad.status_code == 422
    Membership.objects.get(user=world.officer_al, operation=world.op).delete()
    assert verified_client(world.officer_al).get("/api/v1/operations/TEST-OP/rooms").status_code == 404
