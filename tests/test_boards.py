from httpx import AsyncClient

from tests.helpers import Accounts, create_board

COLORS = ["red", "orange", "yellow", "green", "blue", "purple", "gray"]


async def test_create_board(auth_client: AsyncClient) -> None:
    response = await auth_client.post(
        "/api/boards", json={"title": "Test Board", "description": "Test Description"}
    )
    assert response.status_code == 201
    board = response.json()
    assert list(board) == [
        "id",
        "title",
        "description",
        "labels",
        "createdAt",
        "updatedAt",
        "role",
    ]
    assert board["role"] == "owner"
    assert board["title"] == "Test Board"
    assert board["description"] == "Test Description"
    assert board["labels"] == [{"color": color, "name": ""} for color in COLORS]
    assert board["createdAt"].endswith("Z") or board["createdAt"].endswith("+00:00")


async def test_description_defaults_to_empty(auth_client: AsyncClient) -> None:
    response = await auth_client.post("/api/boards", json={"title": "Plain"})
    assert response.status_code == 201
    assert response.json()["description"] == ""


async def test_list_boards_shows_only_the_callers(client: AsyncClient, accounts: Accounts) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    mine = await create_board(client, alice, "Alice's")
    await create_board(client, bob, "Bob's")
    response = await client.get("/api/boards", headers=alice.headers)
    assert response.status_code == 200
    assert [board["id"] for board in response.json()] == [mine["id"]]
