"""`kanban-api serve` as a user starts it: a real process on a real port, SQLite by default."""

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.helpers import free_port, wait_for_server


def test_serve_starts_on_sqlite_in_the_working_directory(tmp_path: Path) -> None:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("KANBAN_")}
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "kanban_api", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        response = wait_for_server(f"http://127.0.0.1:{port}/docs", server)
        assert response.status_code == 200
        signup = httpx.post(
            f"http://127.0.0.1:{port}/api/users",
            json={"email": "cli@example.com", "password": "password123"},
        )
        assert signup.status_code == 201
        assert (tmp_path / "kanban.db").is_file()
        assert (tmp_path / ".kanban-secret").is_file()
    finally:
        server.terminate()
        server.wait(timeout=30)
