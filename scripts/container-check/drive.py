"""One user's first minutes against a running stack: sign up, log in, create a board and a
card, read the card back. Usage: python3 drive.py http://127.0.0.1:8000 (standard library only,
so it runs on the host's Python). Exits non-zero, saying which step failed, on any surprise."""

import json
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


def call(base: str, method: str, path: str, body: Any = None, **options: Any) -> Any:
    headers = {"Authorization": f"Bearer {options['token']}"} if "token" in options else {}
    data = None
    if "form" in options:
        data = urllib.parse.urlencode(options["form"]).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(base + path, data, headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (http only)
            answer = json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        sys.exit(f"container check FAILED: {method} {path} answered {error.code}: {error.read()!r}")
    print(f"container check: {method} {path} -> {response.status}")
    return answer


def main(base: str) -> None:
    email, password = f"check-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(12)
    call(base, "POST", "/api/users", {"email": email, "password": password})
    token = call(base, "POST", "/api/auth/tokens", form={"username": email, "password": password})
    token = token["access_token"]
    board = call(base, "POST", "/api/boards", {"title": "Container check"}, token=token)
    cards = call(
        base, "POST", f"/api/boards/{board['id']}/cards", [{"title": "It runs"}], token=token
    )
    card = call(base, "GET", f"/api/cards/{cards[0]['id']}", token=token)
    if card["title"] != "It runs" or card["boardId"] != board["id"]:
        sys.exit(f"container check FAILED: the card read back is {card}")


if __name__ == "__main__":
    main(sys.argv[1])
