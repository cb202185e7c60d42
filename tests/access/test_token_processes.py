"""Across server processes (PostgreSQL): a revoked access token fails on the next request
to any of them, and one keyed write sent to two of them at once runs once."""

import asyncio

from httpx import AsyncClient

from tests.events.test_event_processes import clients, postgres_url, servers  # noqa: F401
from tests.helpers import Accounts, board_events, create_api_token, create_board


async def test_a_revoked_token_fails_on_the_next_request_to_every_process(
    clients: tuple[AsyncClient, AsyncClient],  # noqa: F811
) -> None:
    first, second = clients
    owner = await Accounts(first).create()
    token = await create_api_token(first, owner)
    # Both processes have accepted the token, so any cache would now hold it.
    for client in (first, second, first, second):
        assert (await client.get("/api/boards", headers=token.headers)).status_code == 200
    revoked = await first.delete(
        f"/api/users/me/tokens/{token.token_info['id']}", headers=owner.headers
    )
    assert revoked.status_code == 204
    for client in (second, first):
        assert (await client.get("/api/boards", headers=token.headers)).status_code == 401


async def test_one_keyed_create_sent_to_two_processes_at_once_runs_once(
    clients: tuple[AsyncClient, AsyncClient],  # noqa: F811
) -> None:
    first, second = clients
    owner = await Accounts(first).create()
    board = await create_board(first, owner)
    headers = {**owner.headers, "Idempotency-Key": "create-once"}
    path = f"/api/boards/{board['id']}/cards"
    answers = await asyncio.gather(
        *(client.post(path, json=[{"title": "Once"}], headers=headers) for client in clients)
    )
    assert sorted(answer.status_code for answer in answers) in ([201, 201], [201, 409])
    cards = (await first.get(path, headers=owner.headers)).json()
    assert [card["title"] for card in cards] == ["Once"]
    events = await board_events(second, owner, board["id"])
    assert [event["type"] for event in events] == ["card.created"]
    # Once the first has answered, a retry anywhere gets its answer.
    again = await second.post(path, json=[{"title": "Once"}], headers=headers)
    assert (again.status_code, again.headers["Idempotency-Replayed"]) == (201, "true")
    assert again.json() == cards
