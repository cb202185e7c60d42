"""Comments on cards: who may write, edit and delete them, and what they look like."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.helpers import (
    Account,
    Accounts,
    add_member,
    create_board,
    create_cards,
    create_comment,
    detail,
)


async def new_card(client: AsyncClient, owner: Account) -> dict[str, Any]:
    board = await create_board(client, owner)
    (card,) = await create_cards(client, owner, board["id"], {"title": "Card"})
    return card


async def list_comments(
    client: AsyncClient, account: Account, card_id: int
) -> list[dict[str, Any]]:
    response = await client.get(f"/api/cards/{card_id}/comments", headers=account.headers)
    assert response.status_code == 200, response.text
    comments: list[dict[str, Any]] = response.json()
    return comments


async def test_comments_are_listed_oldest_first(client: AsyncClient, accounts: Accounts) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    card = await new_card(client, alice)
    await add_member(client, alice, card["boardId"], bob, "editor")
    first = await create_comment(client, alice, card["id"], "First")
    second = await create_comment(client, bob, card["id"], "Second")

    assert list(first) == ["id", "cardId", "authorId", "body", "createdAt", "updatedAt"]
    assert (first["cardId"], first["authorId"], first["body"]) == (card["id"], alice.id, "First")
    assert first["createdAt"].endswith("Z")
    assert await list_comments(client, bob, card["id"]) == [first, second]
    other_card = await new_card(client, alice)
    assert await list_comments(client, alice, other_card["id"]) == []


@pytest.mark.parametrize(
    "body",
    [
        {"body": ""},
        {"body": "x" * 10_001},
        {"body": "nul \x00 byte"},
        {"body": None},
        {},
        {"body": "ok", "author_id": 1},
        ["body"],
    ],
)
async def test_invalid_comment_bodies_are_422(
    client: AsyncClient, accounts: Accounts, body: Any
) -> None:
    alice = await accounts.create()
    card = await new_card(client, alice)
    response = await client.post(
        f"/api/cards/{card['id']}/comments", json=body, headers=alice.headers
    )
    assert response.status_code == 422
    assert await list_comments(client, alice, card["id"]) == []


async def test_a_comment_may_be_10000_characters_long(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    card = await new_card(client, alice)
    comment = await create_comment(client, alice, card["id"], "é" * 10_000)
    assert len(comment["body"]) == 10_000


async def test_the_author_rewords_their_comment(client: AsyncClient, accounts: Accounts) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    card = await new_card(client, alice)
    await add_member(client, alice, card["boardId"], bob, "editor")
    comment = await create_comment(client, bob, card["id"], "Tpyo")

    response = await client.patch(
        f"/api/comments/{comment['id']}", json={"body": "Typo"}, headers=bob.headers
    )
    assert response.status_code == 200
    edited = response.json()
    assert edited["body"] == "Typo"
    assert edited["createdAt"] == comment["createdAt"]
    assert edited["updatedAt"] > comment["updatedAt"]
    assert await list_comments(client, alice, card["id"]) == [edited]

    # Not even an owner rewords someone else's comment.
    response = await client.patch(
        f"/api/comments/{comment['id']}", json={"body": "Mine now"}, headers=alice.headers
    )
    assert response.status_code == 403
    response = await client.patch(
        f"/api/comments/{comment['id']}", json={"body": ""}, headers=bob.headers
    )
    assert response.status_code == 422


async def test_the_author_or_an_owner_deletes_a_comment(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob, carol = [await accounts.create() for _ in range(3)]
    card = await new_card(client, alice)
    await add_member(client, alice, card["boardId"], bob, "editor")
    await add_member(client, alice, card["boardId"], carol, "editor")
    by_bob = await create_comment(client, bob, card["id"])
    by_carol = await create_comment(client, carol, card["id"])

    response = await client.delete(f"/api/comments/{by_bob['id']}", headers=carol.headers)
    assert response.status_code == 403
    assert "editor" in detail(response)
    response = await client.delete(f"/api/comments/{by_bob['id']}", headers=bob.headers)
    assert response.status_code == 204
    response = await client.delete(f"/api/comments/{by_carol['id']}", headers=alice.headers)
    assert response.status_code == 204
    assert await list_comments(client, alice, card["id"]) == []
    response = await client.delete(f"/api/comments/{by_carol['id']}", headers=alice.headers)
    assert response.status_code == 404


async def test_viewers_read_comments_but_may_not_write(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    card = await new_card(client, alice)
    await add_member(client, alice, card["boardId"], bob, "viewer")
    comment = await create_comment(client, alice, card["id"])
    assert await list_comments(client, bob, card["id"]) == [comment]
    response = await client.post(
        f"/api/cards/{card['id']}/comments", json={"body": "Hi"}, headers=bob.headers
    )
    assert response.status_code == 403
    assert "viewer" in detail(response)


async def test_outsiders_cannot_tell_a_comment_exists(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, mallory = await accounts.create(), await accounts.create()
    card = await new_card(client, alice)
    comment = await create_comment(client, alice, card["id"])
    missing = await client.get("/api/cards/999999/comments", headers=mallory.headers)
    hidden = await client.get(f"/api/cards/{card['id']}/comments", headers=mallory.headers)
    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())
    for method in ("PATCH", "DELETE"):
        missing = await client.request(
            method, "/api/comments/999999", json={"body": "x"}, headers=mallory.headers
        )
        hidden = await client.request(
            method, f"/api/comments/{comment['id']}", json={"body": "x"}, headers=mallory.headers
        )
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json() == missing.json()


async def test_comments_go_with_their_card(client: AsyncClient, accounts: Accounts) -> None:
    alice = await accounts.create()
    card = await new_card(client, alice)
    comment = await create_comment(client, alice, card["id"])
    response = await client.delete(f"/api/cards/{card['id']}", headers=alice.headers)
    assert response.status_code == 204
    response = await client.patch(
        f"/api/comments/{comment['id']}", json={"body": "x"}, headers=alice.headers
    )
    assert response.status_code == 404


async def test_a_deleted_authors_comments_stay_without_an_author(
    client: AsyncClient, accounts: Accounts, engine: AsyncEngine
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    card = await new_card(client, alice)
    await add_member(client, alice, card["boardId"], bob, "editor")
    comment = await create_comment(client, bob, card["id"], "Still relevant")
    # No endpoint deletes an account yet; the database's rule is what is tested here.
    async with engine.begin() as connection:
        await connection.execute(text('DELETE FROM "user" WHERE id = :id'), {"id": bob.id})
    (kept,) = await list_comments(client, alice, card["id"])
    assert kept == {**comment, "authorId": None}
