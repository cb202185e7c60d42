"""`kanban-api demo` (also `seed`): demo data made through the CLI, checked through the API."""

import asyncio
from datetime import UTC, datetime

from click.testing import CliRunner, Result
from httpx import AsyncClient

from kanban_api.cli import main
from tests.conftest import TEST_SECRET
from tests.helpers import Account, Accounts, assert_board_order, move_card

COLUMNS = ["BACKLOG", "TODO", "DOING", "DONE"]


async def _seed(database_url: str, *args: str, command: str = "demo") -> Result:
    """Runs the command in a thread: it starts an event loop of its own, as from a shell."""
    env = {"KANBAN_DATABASE_URL": database_url, "KANBAN_SECRET_KEY": TEST_SECRET}
    return await asyncio.to_thread(CliRunner().invoke, main, [command, *args], env=env)


async def test_demo_boards_have_every_detail_a_filter_can_find(
    client: AsyncClient, accounts: Accounts, database_url: str
) -> None:
    result = await _seed(database_url, "--cards", "24", "--password", "demo pass 1")

    assert result.exit_code == 0, result.output
    [(first, _), (second, _)] = [line.split(" ", 1) for line in result.stdout.splitlines()]
    token = await accounts.login(first, "demo pass 1")
    headers = {"Authorization": f"Bearer {token}"}
    boards = (await client.get("/api/boards", headers=headers)).json()
    mine = [board for board in boards if board["role"] == "owner"]
    shared = [board for board in boards if board["role"] == "editor"]
    assert len(mine) == len(shared) == 3
    board = mine[0]
    assert {label["name"] for label in board["labels"]} >= {"Bug", "Feature", "Docs"}
    members = (await client.get(f"/api/boards/{board['id']}/users", headers=headers)).json()
    assert {member["email"] for member in members} == {first, second}
    url = f"/api/boards/{board['id']}/cards"
    cards = (await client.get(url, headers=headers)).json()
    archived = (await client.get(url, params={"archived": "true"}, headers=headers)).json()
    assert cards
    assert archived
    assert len(cards) + len(archived) == 24
    assert len({card["title"] for card in cards}) == len(cards)
    assert "Card 1" not in {card["title"] for card in cards}
    due = [card for card in cards if card["dueAt"] is not None]
    now = datetime.now(UTC).isoformat()
    overdue = (await client.get(url, params={"dueBefore": now}, headers=headers)).json()
    assert 0 < len(overdue) < len(due)
    for member in members:
        assigned = await client.get(url, params={"assignee": member["id"]}, headers=headers)
        assert assigned.json(), member
    comments = (await client.get(f"/api/cards/{cards[0]['id']}/comments", headers=headers)).json()
    assert len(comments) == 2


async def test_seed_is_still_the_plain_command_name(
    client: AsyncClient, accounts: Accounts, database_url: str
) -> None:
    result = await _seed(
        database_url,
        "--users",
        "2",
        "--boards",
        "3",
        "--cards",
        "9",
        "--password",
        "demo pass 1",
        "--plain",
        command="seed",
    )

    assert result.exit_code == 0, result.output
    assert "created 2 users, 6 boards and 54 cards" in result.stderr
    credentials = [line.split(" ", 1) for line in result.stdout.splitlines()]
    assert credentials == [
        ["demo1@example.com", "demo pass 1"],
        ["demo2@example.com", "demo pass 1"],
    ]
    for email, password in credentials:
        token = await accounts.login(email, password)
        headers = {"Authorization": f"Bearer {token}"}
        boards = (await client.get("/api/boards", headers=headers)).json()
        assert [board["title"] for board in boards] == [f"Demo board {n}" for n in (1, 2, 3)]
        assert all(len(board["labels"]) == 7 for board in boards)
        assert {(board["role"], board["version"]) for board in boards} == {("owner", 1)}
        for board in boards:
            cards = (await client.get(f"/api/boards/{board['id']}/cards", headers=headers)).json()
            assert len(cards) == 9
            assert {card["column"] for card in cards} == set(COLUMNS)
            assert all(len(card["labels"]) == 2 for card in cards)
            assert len({tuple(card["labels"]) for card in cards}) > 1
            assert {card["version"] for card in cards} == {1}
            assert_board_order(cards)
            events = await client.get(f"/api/boards/{board['id']}/events", headers=headers)
            assert events.json() == []
    # Seeded data behaves as data made through the API: a move lands between neighbours,
    # and the board's change feed starts with it.
    first, second, *_ = [card for card in cards if card["column"] == "BACKLOG"]
    account = Account(0, email, password, token, headers)
    moved = await move_card(client, account, second["id"], "BACKLOG", None)
    assert moved.status_code == 200, moved.text
    assert moved.json()["position"] < first["position"]
    [event] = (await client.get(f"/api/boards/{board['id']}/events", headers=headers)).json()
    assert event["seq"] == 1


async def test_seeding_again_adds_users_with_a_printed_random_password(
    client: AsyncClient, accounts: Accounts, database_url: str
) -> None:
    first = await _seed(database_url, "--users", "1", "--boards", "0")
    second = await _seed(database_url, "--users", "1", "--boards", "1", "--cards", "0")

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    [(email, password)] = [line.split(" ", 1) for line in second.stdout.splitlines()]
    assert email == "demo2@example.com"
    assert password != first.stdout.split(" ", 1)[1].strip()
    token = await accounts.login(email, password)
    boards = (await client.get("/api/boards", headers={"Authorization": f"Bearer {token}"})).json()
    assert len(boards) == 1


async def test_seed_rejects_a_short_password_and_bad_counts(database_url: str) -> None:
    for args in (["--password", "short"], ["--users", "-1"], ["--labels", "8"]):
        result = await _seed(database_url, *args)
        assert result.exit_code == 2, args
        assert "Invalid value" in result.stderr
