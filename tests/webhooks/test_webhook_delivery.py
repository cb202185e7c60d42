"""Delivery, end to end: a worker's sender POSTs the board's feed to a real local receiver."""

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import selectinload
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from kanban_api.access import act_as
from kanban_api.config import Settings
from kanban_api.models import Board
from kanban_api.models.base import utcnow
from kanban_api.schemas.card import CardCreate
from kanban_api.services import cards as card_service
from kanban_api.services.card_caps import CardCaps
from kanban_api.state import state_of
from kanban_api.webhooks import queue
from kanban_api.webhooks.sender import send_periodically
from tests.helpers import Account, add_member, create_board, introduce
from tests.webhooks.conftest import (
    Receiver,
    Sending,
    add_cards,
    create_webhook,
    eventually,
)


async def feed(client: AsyncClient, owner: Account, board_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"/api/boards/{board_id}/events", headers=owner.headers)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


async def deliveries(
    client: AsyncClient, owner: Account, board_id: int, webhook_id: int
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/boards/{board_id}/webhooks/{webhook_id}/deliveries?limit=100", headers=owner.headers
    )
    assert response.status_code == 200, response.text
    log: list[dict[str, Any]] = response.json()
    return log


async def webhook_state(
    client: AsyncClient, owner: Account, board_id: int, webhook_id: int
) -> dict[str, Any]:
    response = await client.get(
        f"/api/boards/{board_id}/webhooks/{webhook_id}", headers=owner.headers
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


@pytest.fixture
async def owner(sending: Sending) -> Account:
    return await sending.accounts.create()


async def test_a_delivery_is_the_feed_event_signed_per_standard_webhooks(
    sending: Sending, receiver: Receiver, owner: Account
) -> None:
    board_id = (await create_board(sending.client, owner))["id"]
    webhook = await create_webhook(sending.client, owner, board_id, receiver.url)
    await add_cards(sending.client, owner, board_id, 1)
    await eventually(lambda: receiver.acknowledged != [])
    (request,) = receiver.received
    (event,) = [e for e in await feed(sending.client, owner, board_id) if e["seq"] == request.seq]
    assert request.json() == event
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == f"{board_id}-{event['seq']}"
    assert Verifier(webhook["secret"]).verify(request.body, request.headers) == event
    with pytest.raises(WebhookVerificationError):
        Verifier(webhook["secret"]).verify(request.body.replace(b"Card", b"Evil"), request.headers)


async def test_ten_events_arrive_once_each_in_seq_order(
    sending: Sending, receiver: Receiver, owner: Account
) -> None:
    board_id = (await create_board(sending.client, owner))["id"]
    await create_webhook(sending.client, owner, board_id, receiver.url)
    await add_cards(sending.client, owner, board_id, 10)
    seqs = [event["seq"] for event in await feed(sending.client, owner, board_id)][-10:]
    await eventually(lambda: len(receiver.acknowledged) == 10)
    assert receiver.seqs() == seqs
    assert receiver.acknowledged == seqs


async def test_a_failing_event_is_retried_and_nothing_overtakes_it(
    sending: Sending, receiver: Receiver, owner: Account
) -> None:
    board_id = (await create_board(sending.client, owner))["id"]
    webhook = await create_webhook(sending.client, owner, board_id, receiver.url)
    first = webhook["lastDeliveredSeq"] + 1
    seqs = list(range(first, first + 10))
    receiver.failures[seqs[4]] = 3
    await add_cards(sending.client, owner, board_id, 10)
    await eventually(lambda: len(receiver.acknowledged) == 10)
    assert receiver.acknowledged == seqs
    assert receiver.seqs() == seqs[:4] + [seqs[4]] * 4 + seqs[5:]
    for request in receiver.received:
        assert receiver.acknowledged[: seqs.index(request.seq)] == request.acknowledged_before
    log = await deliveries(sending.client, owner, board_id, webhook["id"])
    fifth = [entry for entry in reversed(log) if entry["seq"] == seqs[4]]
    assert [(e["attempt"], e["status"], e["responseStatus"]) for e in fifth] == [
        (1, "failed", 500),
        (2, "failed", 500),
        (3, "failed", 500),
        (4, "delivered", 204),
    ]
    assert fifth[0]["error"] == "HTTP 500: try again"
    assert (await webhook_state(sending.client, owner, board_id, webhook["id"]))[
        "lastDeliveredSeq"
    ] == seqs[-1]


async def test_replay_sends_again_exactly_the_events_after_the_seq(
    sending: Sending, receiver: Receiver, owner: Account, engine: AsyncEngine
) -> None:
    board_id = (await create_board(sending.client, owner))["id"]
    webhook = await create_webhook(sending.client, owner, board_id, receiver.url)
    first = webhook["lastDeliveredSeq"] + 1
    await add_cards(sending.client, owner, board_id, 6)
    await eventually(lambda: len(receiver.acknowledged) == 6)
    path = f"/api/boards/{board_id}/webhooks/{webhook['id']}/replay"
    response = await sending.client.post(path, json={"afterSeq": first + 2}, headers=owner.headers)
    assert response.status_code == 202, response.text
    await eventually(lambda: len(receiver.acknowledged) == 9)
    assert receiver.acknowledged[6:] == [first + 3, first + 4, first + 5]
    async with engine.begin() as connection:
        await connection.execute(
            text("DELETE FROM board_event WHERE board_id = :id AND seq <= :seq"),
            {"id": board_id, "seq": first + 1},
        )
    for after in (first - 1, first + 6):
        gone = await sending.client.post(path, json={"afterSeq": after}, headers=owner.headers)
        assert gone.status_code == 410, gone.text


async def test_a_write_that_rolls_back_sends_nothing(
    sending: Sending, receiver: Receiver, owner: Account
) -> None:
    board_id = (await create_board(sending.client, owner))["id"]
    await create_webhook(sending.client, owner, board_id, receiver.url)
    state = state_of(sending.app)
    async with state.database.sessionmaker() as session, session.begin():
        act_as(session, user_id=owner.id)
        await card_service.create_cards(
            session,
            board=await session.get_one(Board, board_id, options=[selectinload(Board.labels)]),
            cards=[CardCreate(title="Rolled back")],
            caps=CardCaps.from_settings(state.settings),
        )
        await session.rollback()
    await add_cards(sending.client, owner, board_id, 1)
    await eventually(lambda: receiver.acknowledged != [])
    (request,) = receiver.received
    assert request.json()["data"]["title"] == "Card 0"


async def test_a_failing_receiver_is_turned_off_after_a_day_and_resumes_when_reactivated(
    sending: Sending, receiver: Receiver, owner: Account, engine: AsyncEngine
) -> None:
    board_id = (await create_board(sending.client, owner))["id"]
    webhook = await create_webhook(sending.client, owner, board_id, receiver.url)
    first = webhook["lastDeliveredSeq"] + 1
    receiver.failures[first + 1] = 1_000_000
    await add_cards(sending.client, owner, board_id, 3)
    await eventually(lambda: receiver.seqs().count(first + 1) >= 2)
    # As if the first failure had been a day ago.
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE webhook SET failing_since = :at WHERE id = :id"),
            {"at": utcnow() - timedelta(hours=25), "id": webhook["id"]},
        )

    async def turned_off() -> bool:
        found = await webhook_state(sending.client, owner, board_id, webhook["id"])
        return found["active"] is False

    await eventually(turned_off)
    found = await webhook_state(sending.client, owner, board_id, webhook["id"])
    assert f"Event {first + 1} failed for 24 hours" in found["disabledReason"]
    assert found["lastDeliveredSeq"] == first
    receiver.failures.clear()
    path = f"/api/boards/{board_id}/webhooks/{webhook['id']}"
    response = await sending.client.patch(path, json={"active": True}, headers=owner.headers)
    assert (response.status_code, response.json()["disabledReason"]) == (200, None)
    await eventually(lambda: receiver.acknowledged == [first, first + 1, first + 2])


async def test_events_of_a_board_its_creator_no_longer_owns_are_not_sent(
    sending: Sending, receiver: Receiver, owner: Account
) -> None:
    other = await sending.accounts.create()
    board_id = (await create_board(sending.client, owner))["id"]
    await introduce(sending.client, owner, other)
    await add_member(sending.client, owner, board_id, other, "owner")
    webhook = await create_webhook(sending.client, owner, board_id, receiver.url)
    await add_member(sending.client, other, board_id, owner, "editor")
    await add_cards(sending.client, other, board_id, 1)

    async def turned_off() -> bool:
        found = await webhook_state(sending.client, other, board_id, webhook["id"])
        return found["active"] is False

    await eventually(turned_off)
    assert receiver.received == []
    found = await webhook_state(sending.client, other, board_id, webhook["id"])
    assert found["disabledReason"] == "Its creator is no longer an owner of the board"


async def test_a_deleted_webhook_sends_nothing_more(
    sending: Sending, receiver: Receiver, owner: Account
) -> None:
    board_id = (await create_board(sending.client, owner))["id"]
    webhook = await create_webhook(sending.client, owner, board_id, receiver.url)
    receiver.failures[webhook["lastDeliveredSeq"] + 1] = 1_000_000
    await add_cards(sending.client, owner, board_id, 1)
    await eventually(lambda: len(receiver.received) >= 2)
    path = f"/api/boards/{board_id}/webhooks/{webhook['id']}"
    assert (await sending.client.delete(path, headers=owner.headers)).status_code == 204
    # A delivery may have been in flight; after it, none starts: the sender has moved on
    # once another webhook of the board, created afterwards, has had its first event.
    count = len(receiver.received)
    second = await create_webhook(sending.client, owner, board_id, receiver.url + "?second")
    await add_cards(sending.client, owner, board_id, 2)
    await eventually(lambda: len(receiver.acknowledged) == 2)
    first_url = [request for request in receiver.received[count:] if request.query == ""]
    assert len(first_url) <= 1
    assert second["id"] != webhook["id"], "a webhook's id is never reused"


async def test_redirects_are_not_followed(
    sending: Sending, receiver: Receiver, owner: Account
) -> None:
    receiver.redirect_to = receiver.url + "?followed"
    board_id = (await create_board(sending.client, owner))["id"]
    webhook = await create_webhook(sending.client, owner, board_id, receiver.url)
    await add_cards(sending.client, owner, board_id, 1)

    async def redirected() -> bool:
        log = await deliveries(sending.client, owner, board_id, webhook["id"])
        return any(entry["status"] == "failed" for entry in log)

    await eventually(redirected)
    log = await deliveries(sending.client, owner, board_id, webhook["id"])
    assert log[-1]["responseStatus"] == 307
    assert all(request.query == "" for request in receiver.received)


async def test_only_the_wanted_event_types_are_sent(
    sending: Sending, receiver: Receiver, owner: Account
) -> None:
    board_id = (await create_board(sending.client, owner))["id"]
    webhook = await create_webhook(
        sending.client, owner, board_id, receiver.url, events=["card.moved"]
    )
    await add_cards(sending.client, owner, board_id, 2)
    cards = (
        await sending.client.get(f"/api/boards/{board_id}/cards", headers=owner.headers)
    ).json()
    moved = await sending.client.post(
        f"/api/cards/{cards[0]['id']}/move",
        json={"column": "DONE", "afterId": None},
        headers=owner.headers,
    )
    assert moved.status_code == 200, moved.text
    await add_cards(sending.client, owner, board_id, 1)
    latest = (await feed(sending.client, owner, board_id))[-1]["seq"]

    async def caught_up() -> bool:
        found = await webhook_state(sending.client, owner, board_id, webhook["id"])
        return bool(found["lastDeliveredSeq"] == latest)

    await eventually(caught_up)
    assert [request.json()["type"] for request in receiver.received] == ["card.moved"]


async def test_a_sender_failing_again_and_again_says_so_once_a_while(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The database away: each look for due deliveries fails, every poll interval; the
    log gets one line for the lot, not one (with a traceback) per second."""
    attempts = 0
    enough = asyncio.Event()

    async def database_away(*_: Any, **__: Any) -> list[Any]:
        nonlocal attempts
        attempts += 1
        if attempts == 5:
            enough.set()
        raise OSError("Connect call failed")

    monkeypatch.setattr(queue, "claim", database_away)
    settings = Settings(_env_file=None, webhook_poll_seconds=0.001)
    with caplog.at_level(logging.WARNING, logger="kanban_api.webhooks.sender"):
        sender = asyncio.create_task(send_periodically(async_sessionmaker(), settings=settings))
        await enough.wait()
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
    [said] = caplog.records
    assert said.getMessage() == (
        "delivering webhooks failed; trying again (0 more such failures since the last line)"
    )
    assert said.exc_info is not None
