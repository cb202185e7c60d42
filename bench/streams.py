"""How many open event streams one worker holds, and what they cost in memory.

Starts one `kanban-api serve` worker (SQLite in a temporary folder unless --database-url
names a PostgreSQL database), opens N streams on one board, makes one change, checks that
every stream receives it, and reports the worker's resident memory before and after.

    python bench/streams.py --streams 200
    python bench/streams.py --streams 200 --database-url postgresql://postgres@127.0.0.1/bench

Linux only (memory is read from /proc). Traffic goes to 127.0.0.1 only, and the run is
bounded: every wait has a timeout.
"""

import argparse
import asyncio
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TIMEOUT_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc status")


async def wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    async with asyncio.timeout(TIMEOUT_SECONDS), httpx.AsyncClient() as client:
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited with {server.returncode}")
            try:
                await client.get(f"{url}/docs")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.2)


async def follow(
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    ready: asyncio.Event,
    all_ready: asyncio.Event,
) -> float:
    """Open one stream; returns when (time.monotonic()) it received the first card.created."""
    async with client.stream("GET", path, headers=headers) as response:
        response.raise_for_status()
        event = None
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line == "" and event == "ready":
                ready.set()
                await all_ready.wait()
            elif line == "" and event == "card.created":
                return time.monotonic()
            if line == "":
                event = None
    raise RuntimeError("a stream ended before the change arrived")


async def run(url: str, pid: int, count: int) -> None:
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=count + 10)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=TIMEOUT_SECONDS) as client:
        email, password = f"bench-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(12)
        (
            await client.post("/api/users", json={"email": email, "password": password})
        ).raise_for_status()
        login = await client.post(
            "/api/auth/tokens", data={"username": email, "password": password}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        board = (await client.post("/api/boards", json={"title": "Bench"}, headers=headers)).json()
        path = f"/api/boards/{board['id']}/events/stream"

        # Warm up the code paths of a stream, so the baseline is not just import cost.
        one_ready, released = asyncio.Event(), asyncio.Event()
        released.set()
        warmup = asyncio.create_task(follow(client, path, headers, one_ready, released))
        await asyncio.wait_for(one_ready.wait(), TIMEOUT_SECONDS)
        warmup.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await warmup
        before = rss_kib(pid)

        readies = [asyncio.Event() for _ in range(count)]
        all_ready = asyncio.Event()
        streams = [
            asyncio.create_task(follow(client, path, headers, ready, all_ready))
            for ready in readies
        ]
        async with asyncio.timeout(TIMEOUT_SECONDS):
            await asyncio.gather(*(ready.wait() for ready in readies))
        all_ready.set()
        held = rss_kib(pid)

        sent = time.monotonic()
        created = await client.post(
            f"/api/boards/{board['id']}/cards", json=[{"title": "Hello, everyone"}], headers=headers
        )
        created.raise_for_status()
        async with asyncio.timeout(TIMEOUT_SECONDS):
            received = await asyncio.gather(*streams)
        after = rss_kib(pid)

    print(f"streams open and live:       {count}")
    print(f"all received the change:     {len(received)} of {count}")
    print(f"slowest delivery:            {(max(received) - sent) * 1000:.0f} ms after the request")
    print(f"worker RSS before streams:   {before / 1024:.1f} MiB")
    print(f"worker RSS with streams:     {held / 1024:.1f} MiB")
    print(f"worker RSS after delivery:   {after / 1024:.1f} MiB")
    print(f"memory per open stream:      {(held - before) / count:.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        env = {key: value for key, value in os.environ.items() if not key.startswith("KANBAN_")}
        env |= {
            "KANBAN_ENV": "production",
            "KANBAN_SECRET_KEY": secrets.token_urlsafe(48),
            "KANBAN_DATABASE_URL": arguments.database_url or f"sqlite:///{folder}/bench.db",
        }
        command = [sys.executable, "-m", "kanban_api"]
        subprocess.run([*command, "migrate"], env=env, cwd=folder, check=True)
        port = free_port()
        server = subprocess.Popen(
            [*command, "serve", "--port", str(port)],
            env=env,
            cwd=folder,
            stdout=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            asyncio.run(wait_until_up(url, server))
            asyncio.run(run(url, server.pid, arguments.streams))
        finally:
            server.terminate()
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
