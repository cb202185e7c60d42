"""`kanban-api serve` as a user starts it: a real process on a real port, SQLite by default."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

STARTUP_DEADLINE_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_starts_on_sqlite_in_the_working_directory(tmp_path: Path) -> None:
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("KANBAN_")}
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "kanban_api", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        response = _wait_for(f"http://127.0.0.1:{port}/docs", server)
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


def _wait_for(url: str, server: subprocess.Popen[bytes]) -> httpx.Response:
    deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = server.stdout.read().decode() if server.stdout else ""
            raise AssertionError(f"server exited with {server.returncode}:\n{output}")
        try:
            return httpx.get(url)
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"server did not answer {url} within {STARTUP_DEADLINE_SECONDS}s")
