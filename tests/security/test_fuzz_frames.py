"""The WebSocket protocol fuzzed from its own schemas.

For every socket route, hypothesis generates frames from the JSON schemas of the consumer's
``frames`` table (valid ones, pointed at real rooms and messages) and mutates them: wrong types, huge
values, deep nesting, unknown fields, ORM lookup keys, channel-layer event types. Whatever arrives,
the consumer does not crash, answers a frame its schema refuses with an error frame (or closes with
a protocol close code), stores nothing for refused frames, and a bystander's socket keeps working.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.conftest import verified_client, ws_communicator
from tests.security.conftest import fill, row_counts, seed_operation

pytestmark = pytest.mark.django_db(transaction=True)

CLOSE_CODES = {1000, 4400, 4401, 4404, 4408, 4413, 4429}
HUGE = [2**53 + 1, 2**63, 10**30, -(2**63) - 1, -1, 0, 1e308, float("inf"), float("nan")]
WRONG = [None, True, "1", "", [], {}, [1], {"$gt": 0}, 1.5, "\x00", "\ud800" * 0 + "é" * 3]
ORM_KEYS = [
    "room__operation__code",
    "author",
    "author_id",
    "user_id",
    "operation",
    "operation_id",
    "seq",
    "id",
    "pk",
    "__class__",
    "__proto__",
    "constructor",
    "message__room__operation_id",
    "type__in",
]
EVENT_TYPES = [
    "room.message",
    "room_message",
    "access.changed",
    "access_changed",
    "session.ended",
    "session_ended",
    "board.event",
    "websocket.close",
    "websocket.disconnect",
    "handle_send",
    "send_json",
    "close",
    "receive",
    "__init__",
    "dispatch",
    "authorize",
    "Send",
    "PING",
    " ping",
]


def routes() -> list[tuple[str, type]]:
    from hub.routing import websocket_urlpatterns

    return [("/" + str(p.pattern), p.callback.consumer_class) for p in websocket_urlpatterns]


# --- frames from JSON schema ------------------------------------------------------------------------


def from_schema(
    schema: dict[str, Any], defs: dict[str, Any], hints: dict[str, list[int]], name: str = ""
) -> st.SearchStrategy:
    if "$ref" in schema:
        return from_schema(defs[schema["$ref"].split("/")[-1]], defs, hints, name)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of(*(from_schema(s, defs, hints, name) for s in schema["anyOf"]))
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        ints = st.integers(schema.get("minimum"), schema.get("maximum"))
        real = hints.get(name, [])
        return st.one_of(st.sampled_from(real), ints) if real else ints
    if kind == "string":
        if "pattern" in schema:
            text = st.from_regex(schema["pattern"], fullmatch=True)
            return text.filter(lambda s: len(s) <= schema.get("maxLength", 10**9))
        return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 50), 50))
    if kind == "array":
        return st.lists(
            from_schema(schema.get("items", {}), defs, hints, name),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 5), 5),
        )
    if kind == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        fields = {k: from_schema(v, defs, hints, k) for k, v in props.items()}
        return st.fixed_dictionaries(
            {k: v for k, v in fields.items() if k in required},
            optional={k: v for k, v in fields.items() if k not in required},
        )
    return st.none()


def mutate(frame: dict[str, Any], draw: Any) -> dict[str, Any] | str:
    """One hostile change to a valid frame."""
    frame = dict(frame)
    how = draw(
        st.sampled_from(
            [
                "wrong_type",
                "huge",
                "unknown_field",
                "orm_key",
                "deep",
                "event_type",
                "drop_type",
                "long_text",
                "raw",
            ]
        )
    )
    keys = [k for k in frame if k != "type"] or ["ref"]
    key = draw(st.sampled_from(keys))
    if how == "wrong_type":
        frame[key] = draw(st.sampled_from(WRONG))
    elif how == "huge":
        frame[key] = draw(st.sampled_from(HUGE))
    elif how == "unknown_field":
        frame[draw(st.text(min_size=1, max_size=20))] = draw(st.sampled_from(WRONG + HUGE))
    elif how == "orm_key":
        frame[draw(st.sampled_from(ORM_KEYS))] = draw(
            st.sampled_from(["OTHER-OP", 1, {"operation__code": "OTHER-OP"}])
        )
    elif how == "deep":  # as text: hypothesis cannot print a 5000-deep list
        depth = draw(st.sampled_from([50, 999, 5000]))
        frame[key] = "DEEP"
        return json.dumps(frame).replace('"DEEP"', "[" * depth + "1" + "]" * depth)
    elif how == "event_type":
        frame["type"] = draw(st.sampled_from(EVENT_TYPES))
    elif how == "drop_type":
        frame.pop("type", None)
    elif how == "long_text":
        frame[key] = "x" * draw(st.sampled_from([4001, 70_000]))
    elif how == "raw":
        return draw(
            st.sampled_from(
                [
                    " ",
                    "null",
                    "[]",
                    "1",
                    '"ping"',
                    "{",
                    '{"type": "ping"' * 3,
                    json.dumps(frame) + "garbage",
                    "\x00",
                    "[" * 3000 + "]" * 3000,
                ]
            )
        )
    return frame


def frames_strategy(consumer: type, hints: dict[str, list[int]]) -> st.SearchStrategy:
    valid = []
    for schema_class, _ in consumer.frames.values():
        schema = schema_class.model_json_schema()
        valid.append(from_schema(schema, schema.get("$defs", {}), hints))
    any_valid = st.one_of(*valid)

    @st.composite
    def one(draw: Any) -> dict[str, Any] | str:
        frame = draw(any_valid)
        return mutate(frame, draw) if draw(st.booleans()) else frame

    return st.lists(one(), min_size=1, max_size=12)


def locally_valid(consumer: type, raw: str) -> bool:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return False
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("type"), str)
        or data["type"] not in consumer.frames
    ):
        return False
    try:
        consumer.frames[data["type"]][0].model_validate(data)
    except (ValidationError, RecursionError):
        return False
    return len(raw.encode()) <= consumer.max_frame_bytes


# --- one session: a member's socket gets the frames, a bystander's socket must still answer ---------


async def session(
    path: str, consumer: type, clients: SimpleNamespace, frames: list[Any]
) -> list[tuple[bool, list[dict]]]:
    bystander = ws_communicator(path, client=clients.bystander)
    assert (await bystander.connect())[0]
    attacker = ws_communicator(path, client=clients.attacker)
    assert (await attacker.connect())[0]
    await replies_to(attacker, "start")
    outcomes = []
    for n, frame in enumerate(frames):
        raw = frame if isinstance(frame, str) else json.dumps(frame)
        await attacker.send_to(text_data=raw)
        replies, close = await replies_to(attacker, f"sync-{n}")
        outcomes.append((locally_valid(consumer, raw), replies))
        if close is not None:
            assert close in CLOSE_CODES, close
            break
    else:
        await attacker.disconnect()
    # The bystander is still served.
    assert (await replies_to(bystander, "still-there"))[1] is None
    await bystander.disconnect()
    return outcomes


async def replies_to(communicator: Any, ref: str) -> tuple[list[dict[str, Any]], int | None]:
    """What the socket answered before our ping with ``ref`` (frames are handled in order), or its close."""
    await communicator.send_json_to({"type": "ping", "ref": ref})
    replies = []
    while True:
        output = await communicator.receive_output(timeout=5)  # an exception in the consumer surfaces here
        if output["type"] == "websocket.close":
            return replies, output.get("code")
        frame = json.loads(output["text"])
        if frame["type"] == "pong" and frame.get("ref") == ref:
            return replies, None
        if frame["type"] not in UNSOLICITED:
            replies.append(frame)


UNSOLICITED = {"hello", "presence", "heartbeat", "board.snapshot"}  # sent on connect or on a timer


async def next_of(communicator: Any, kind: str) -> dict[str, Any]:
    while True:
        frame = await communicator.receive_json_from(timeout=3)
        if frame["type"] == kind:
            return frame


@pytest.fixture
def fuzz_world(tworld: SimpleNamespace) -> SimpleNamespace:
    seed = seed_operation(tworld)
    hints = {
        name: [getattr(seed, attr)]
        for name, attr in (("room", "room_id"), ("message", "message_id"))
        if hasattr(seed, attr)
    }
    hints["entry_point"] = [tworld.durres.pk, tworld.piraeus.pk]
    hints["administration"] = [tworld.al.pk, tworld.gr.pk]
    clients = SimpleNamespace(
        attacker=verified_client(tworld.coordinator), bystander=verified_client(tworld.coordinator)
    )
    return SimpleNamespace(w=tworld, seed=seed, hints=hints, clients=clients)


@pytest.mark.parametrize(("route", "consumer"), routes(), ids=[r for r, _ in routes()])
def test_fuzzed_frames_never_crash_a_socket_nor_store_refused_input(fuzz_world, route, consumer):
    path = fill(route, {"code": "TEST-OP"})

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(frames=frames_strategy(consumer, fuzz_world.hints))
    def run(frames: list[Any]) -> None:
        from channels.layers import channel_layers

        channel_layers.backends.clear()  # each example runs on a new event loop; so must the layer
        before = row_counts()
        outcomes = async_to_sync(session)(path, consumer, fuzz_world.clients, frames)
        for valid, replies in outcomes:
            if not valid:
                assert all(r["type"] == "error" for r in replies), replies
        if not any(valid for valid, _ in outcomes):
            assert row_counts() == before

    run()


@pytest.mark.parametrize("room_field", ["room", "message"])
async def test_orm_lookup_keys_in_a_frame_are_refused_not_followed(tworld, room_field):
    """``{"room__operation__code": ...}`` is an unknown field, never a filter."""
    path = next((r for r, _ in routes() if "rooms" in r), None)
    if path is None:
        pytest.skip("no rooms socket")
    client = await sync_to_async(verified_client)(tworld.coordinator)
    communicator = ws_communicator(fill(path, {"code": "TEST-OP"}), client=client)
    assert (await communicator.connect())[0]
    await replies_to(communicator, "start")
    frame = {
        "type": "history",
        "ref": "h",
        f"{room_field}__operation__code": "OTHER-OP",
        "before_seq": 5,
        "room": 1,
    }
    await communicator.send_json_to(frame)
    reply = await next_of(communicator, "error")
    assert reply["code"] == "invalid_frame" and f"{room_field}__operation__code" in reply["fields"]
    await communicator.disconnect()


def test_frame_tables_name_real_handlers_and_closed_schemas():
    """Every row of every frames table: a closed, strict schema whose type is the row's key."""
    for _, consumer in routes():
        for frame_type, (schema, handler) in consumer.frames.items():
            assert callable(getattr(consumer, handler)), handler
            assert schema.model_config.get("extra") == "forbid" and schema.model_config.get("strict") is True
            assert schema.model_json_schema()["properties"]["type"]["const"] == frame_type
            assert not handler.startswith(("websocket", "_")), handler


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30])
async def test_out_of_range_ids_in_a_board_filter_get_an_error_frame(tworld, value):
    """An id beyond the database's integer range is refused by the schema, not by a crashing query."""
    path = next((r for r, _ in routes() if "board" in r), None)
    if path is None:
        pytest.skip("no board socket")
    client = await sync_to_async(verified_client)(tworld.coordinator)
    communicator = ws_communicator(fill(path, {"code": "TEST-OP"}), client=client)
    assert (await communicator.connect())[0]
    await replies_to(communicator, "start")
    await communicator.send_json_to({"type": "filter", "ref": "f", "administration": value})
    replies, close = await replies_to(communicator, "after")
    assert close is None and [r["type"] for r in replies] == ["error"], replies
    await communicator.disconnect()


@pytest.mark.parametrize(("flood", "close_code"), [("rate", 4429), ("size", 4413), ("invalid", 4400)])
async def test_an_abusive_client_is_closed_and_the_others_keep_being_served(tworld, flood, close_code):
    for route, _ in routes():
        path = fill(route, {"code": "TEST-OP"})
        client = await sync_to_async(verified_client)(tworld.coordinator)
        bystander = ws_communicator(path, client=client)
        assert (await bystander.connect())[0]
        abuser = ws_communicator(path, client=client)
        assert (await abuser.connect())[0]
        await replies_to(abuser, "start")
        frames = {
            "rate": ['{"type": "ping"}'] * 200,
            "size": ['{"type": "ping", "ref": "' + "x" * 70_000 + '"}'],
            "invalid": ['{"type": "nope"}'] * 30,
        }[flood]
        for raw in frames:
            await abuser.send_to(text_data=raw)
        while (output := await abuser.receive_output(timeout=5))["type"] != "websocket.close":
            pass
        assert output["code"] == close_code, (route, output)
        assert (await replies_to(bystander, "still-there"))[1] is None, route
        await bystander.disconnect()
