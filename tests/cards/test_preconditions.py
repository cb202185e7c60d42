"""Versions, ETags and conditional requests (If-Match, If-None-Match) on cards and boards."""

from typing import Any

import pytest
from httpx import AsyncClient

from tests.helpers import (
    Account,
    Accounts,
    add_member,
    create_board,
    create_cards,
    detail,
    introduce,
    move_card,
)


async def _card(client: AsyncClient, account: Account, **fields: Any) -> dict[str, Any]:
    board = await create_board(client, account)
    (card,) = await create_cards(client, account, board["id"], {"title": "card", **fields})
    return card


def _with(account: Account, **headers: str) -> dict[str, str]:
    return {**account.headers, **{name.replace("_", "-"): value for name, value in headers.items()}}


async def test_versions_start_at_one_and_etags_name_them(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    response = await client.post("/api/boards", json={"title": "B"}, headers=alice.headers)
    assert response.status_code == 201
    board = response.json()
    assert board["version"] == 1
    assert response.headers["ETag"] == '"1-owner"'  # a board's names the caller's role too

    response = await client.get(f"/api/boards/{board['id']}", headers=alice.headers)
    assert response.headers["ETag"] == '"1-owner"'

    (card,) = await create_cards(client, alice, board["id"], {"title": "c"})
    assert card["version"] == 1
    response = await client.get(f"/api/cards/{card['id']}", headers=alice.headers)
    assert response.json()["version"] == 1
    assert response.headers["ETag"] == '"1"'


async def test_every_change_grows_the_version(client: AsyncClient, accounts: Accounts) -> None:
    alice = await accounts.create()
    card = await _card(client, alice)
    url = f"/api/cards/{card['id']}"
    versions = [card["version"]]
    for change in [{"title": "new"}, {"labels": ["red"]}, {"column": "DONE"}, {"labels": []}]:
        response = await client.patch(url, json=change, headers=alice.headers)
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == f'"{response.json()["version"]}"'
        versions.append(response.json()["version"])
    response = await move_card(client, alice, card["id"], "TODO", None)
    versions.append(response.json()["version"])
    assert versions == sorted(set(versions))

    # Nothing changed, so nothing grows.
    response = await client.patch(url, json={"title": "new"}, headers=alice.headers)
    assert response.json()["version"] == versions[-1]
    response = await client.patch(url, json={}, headers=alice.headers)
    assert response.json()["version"] == versions[-1]


async def test_board_changes_and_label_renames_grow_the_board_version(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    url = f"/api/boards/{board['id']}"
    response = await client.patch(url, json={"title": "renamed"}, headers=alice.headers)
    assert response.json()["version"] == 2
    assert response.headers["ETag"] == '"2-owner"'
    response = await client.patch(
        url, json={"labels": [{"color": "red", "name": "urgent"}]}, headers=alice.headers
    )
    assert response.json()["version"] == 3
    response = await client.patch(
        url, json={"labels": [{"color": "red", "name": "urgent"}]}, headers=alice.headers
    )
    assert response.json()["version"] == 3


async def test_if_match_guards_card_changes(client: AsyncClient, accounts: Accounts) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    card = await _card(client, alice)
    url = f"/api/cards/{card['id']}"
    await introduce(client, alice, bob)
    await client.put(f"/api/boards/{card['boardId']}/users/{bob.id}", headers=alice.headers)
    etag = (await client.get(url, headers=alice.headers)).headers["ETag"]

    # Bob changes the card first; Alice's copy is now stale.
    response = await client.patch(url, json={"title": "bob's"}, headers=_with(bob, if_match=etag))
    assert response.status_code == 200
    current = response.json()

    response = await client.patch(
        url, json={"title": "alice's"}, headers=_with(alice, if_match=etag)
    )
    assert response.status_code == 412
    assert response.json()["current"] == current
    assert "changed" in detail(response)
    assert response.headers["ETag"] == f'"{current["version"]}"'
    response = await move_card(client, alice, card["id"], "DONE", None, if_match=etag)
    assert response.status_code == 412
    response = await client.delete(url, headers=_with(alice, if_match=etag))
    assert response.status_code == 412
    assert (await client.get(url, headers=alice.headers)).json() == current

    # Reapplied on the current copy, with its ETag, the change goes through.
    fresh = f'"{current["version"]}"'
    response = await client.patch(
        url, json={"title": "alice's"}, headers=_with(alice, if_match=fresh)
    )
    assert response.status_code == 200
    fresh = response.headers["ETag"]
    response = await move_card(client, alice, card["id"], "DONE", None, if_match=fresh)
    assert response.status_code == 200
    response = await client.delete(url, headers=_with(alice, if_match=response.headers["ETag"]))
    assert response.status_code == 204


async def test_if_match_guards_board_changes(client: AsyncClient, accounts: Accounts) -> None:
    alice = await accounts.create()
    board = await create_board(client, alice)
    url = f"/api/boards/{board['id']}"
    response = await client.patch(url, json={"title": "v2"}, headers=alice.headers)
    current = response.json()

    stale = _with(alice, if_match='"1-owner"')
    response = await client.patch(url, json={"title": "v3"}, headers=stale)
    assert response.status_code == 412
    assert response.json() == {"detail": detail(response), "current": current}
    assert response.headers["ETag"] == '"2-owner"'
    response = await client.delete(url, headers=_with(alice, if_match='"1-owner"'))
    assert response.status_code == 412
    assert (await client.get(url, headers=alice.headers)).json() == current

    response = await client.delete(url, headers=_with(alice, if_match='"2-owner"'))
    assert response.status_code == 204


async def test_a_board_etag_changes_with_the_callers_role(
    client: AsyncClient, accounts: Accounts
) -> None:
    """BoardOut shows the caller's role: a demoted member's cached copy is not current."""
    owner, member = await accounts.create(), await accounts.create()
    board = await create_board(client, owner)
    url = f"/api/boards/{board['id']}"
    await add_member(client, owner, board["id"], member, "editor")
    as_editor = await client.get(url, headers=member.headers)
    as_owner = await client.get(url, headers=owner.headers)
    assert as_editor.json()["version"] == as_owner.json()["version"]
    assert as_editor.headers["ETag"] != as_owner.headers["ETag"]  # different bodies

    await add_member(client, owner, board["id"], member, "viewer")
    etag = as_editor.headers["ETag"]
    response = await client.get(url, headers=_with(member, if_none_match=etag))
    assert response.status_code == 200
    assert response.json()["role"] == "viewer"
    assert response.headers["ETag"] != etag
    response = await client.get(url, headers=_with(owner, if_none_match=etag))
    assert response.status_code == 200  # the editor's tag is not the owner's copy


@pytest.mark.parametrize("if_match", ["*", '"2"', '"7", "2"', ' "1" ,"2"'])
async def test_if_match_accepts_the_current_etag_or_a_star(
    client: AsyncClient, accounts: Accounts, if_match: str
) -> None:
    alice = await accounts.create()
    card = await _card(client, alice)
    url = f"/api/cards/{card['id']}"
    await client.patch(url, json={"title": "v2"}, headers=alice.headers)
    response = await client.patch(
        url, json={"title": "v3"}, headers=_with(alice, if_match=if_match)
    )
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "v3"


async def test_a_weak_etag_never_satisfies_if_match(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice = await accounts.create()
    card = await _card(client, alice)
    response = await client.patch(
        f"/api/cards/{card['id']}", json={"title": "x"}, headers=_with(alice, if_match='W/"1"')
    )
    assert response.status_code == 412


@pytest.mark.parametrize("value", ["1", '"1', "W/", '"1" "2"', ",", '"1",,x', '"a b"', ""])
async def test_malformed_conditions_are_rejected(
    client: AsyncClient, accounts: Accounts, value: str
) -> None:
    alice = await accounts.create()
    card = await _card(client, alice)
    url = f"/api/cards/{card['id']}"
    response = await client.patch(url, json={"title": "x"}, headers=_with(alice, if_match=value))
    assert response.status_code == 400, response.text
    assert "If-Match" in detail(response)
    response = await client.get(url, headers=_with(alice, if_none_match=value))
    assert response.status_code == 400, response.text
    assert (await client.get(url, headers=alice.headers)).json()["title"] == "card"


async def test_without_if_match_the_last_write_wins(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, bob = await accounts.create(), await accounts.create()
    card = await _card(client, alice)
    url = f"/api/cards/{card['id']}"
    await introduce(client, alice, bob)
    await client.put(f"/api/boards/{card['boardId']}/users/{bob.id}", headers=alice.headers)
    assert (await client.patch(url, json={"title": "a"}, headers=alice.headers)).status_code == 200
    assert (await client.patch(url, json={"title": "b"}, headers=bob.headers)).status_code == 200
    assert (await client.get(url, headers=alice.headers)).json()["title"] == "b"


async def test_outsiders_get_404_whatever_their_if_match(
    client: AsyncClient, accounts: Accounts
) -> None:
    alice, mallory = await accounts.create(), await accounts.create()
    card = await _card(client, alice)
    for if_match in ['"1"', '"9"', "junk"]:
        response = await client.patch(
            f"/api/cards/{card['id']}",
            json={"title": "x"},
            headers=_with(mallory, if_match=if_match),
        )
        assert response.status_code == 404
        response = await client.delete(
            f"/api/boards/{card['boardId']}", headers=_with(mallory, if_match=if_match)
        )
        assert response.status_code == 404


@pytest.mark.parametrize("resource", ["card", "board"])
async def test_if_none_match_answers_304_while_unchanged(
    client: AsyncClient, accounts: Accounts, resource: str
) -> None:
    alice = await accounts.create()
    card = await _card(client, alice)
    url = f"/api/cards/{card['id']}" if resource == "card" else f"/api/boards/{card['boardId']}"
    etag = (await client.get(url, headers=alice.headers)).headers["ETag"]

    for value in [etag, f"W/{etag}", f'"0", {etag}', "*"]:
        response = await client.get(url, headers=_with(alice, if_none_match=value))
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["ETag"] == etag

    await client.patch(url, json={"title": "changed"}, headers=alice.headers)
    response = await client.get(url, headers=_with(alice, if_none_match=etag))
    assert response.status_code == 200
    assert response.json()["title"] == "changed"
    assert response.headers["ETag"] != etag


async def test_conditional_requests_are_documented(client: AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path, method, model in [
        ("/api/cards/{card_id}", "patch", "CardPreconditionFailed"),
        ("/api/cards/{card_id}", "delete", "CardPreconditionFailed"),
        ("/api/cards/{card_id}/move", "post", "CardPreconditionFailed"),
        ("/api/boards/{board_id}", "patch", "BoardPreconditionFailed"),
        ("/api/boards/{board_id}", "delete", "BoardPreconditionFailed"),
    ]:
        operation = paths[path][method]
        assert "if-match" in [parameter["name"] for parameter in operation["parameters"]]
        schema = operation["responses"]["412"]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith(f"/{model}")
    for path in ["/api/cards/{card_id}", "/api/boards/{board_id}"]:
        operation = paths[path]["get"]
        assert "if-none-match" in [parameter["name"] for parameter in operation["parameters"]]
        assert "304" in operation["responses"]
        assert "ETag" in operation["responses"]["200"]["headers"]
