"""Each worker's webhook sender: claims due deliveries (queue.py), POSTs them, records how
it went, and looks again; started and stopped with the worker (`AppState`)."""

import asyncio
import logging
import time

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kanban_api.config import Settings
from kanban_api.utils.failure_log import RepeatedFailureLog
from kanban_api.webhooks import queue, signing, targets
from kanban_api.webhooks.queue import Job, Outcome

logger = logging.getLogger(__name__)

# A lease outlasts the delivery's own time limit this many times over, so that a slow
# event loop or a clock a little off on another machine cannot let a second sender in.
LEASE_TIMEOUTS = 3
# How much of a failing receiver's answer the delivery log keeps.
ERROR_MAX = 300


async def send_periodically(
    sessionmaker: async_sessionmaker[AsyncSession], *, settings: Settings
) -> None:
    """Deliver what is due, then look again every `webhook_poll_seconds` when idle."""
    # Redirects are not followed (they could lead anywhere), and no proxy from the
    # environment may stand between the checked address and the request.
    failures = RepeatedFailureLog(logger)
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as client:
        while True:
            try:
                jobs = await queue.claim(
                    sessionmaker, lease_seconds=LEASE_TIMEOUTS * settings.webhook_timeout_seconds
                )
                await asyncio.gather(
                    *(_deliver(sessionmaker, client, job, settings) for job in jobs)
                )
            except Exception:
                # Whatever went wrong (the database away, most likely), the leases taken
                # run out and their events are sent again; the sender itself must go on.
                failures.failed("delivering webhooks failed; trying again")
                jobs = []
            if not jobs:
                await asyncio.sleep(settings.webhook_poll_seconds)


async def _deliver(
    sessionmaker: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    job: Job,
    settings: Settings,
) -> None:
    outcome = await send(client, job, settings=settings)
    try:
        await queue.finish(
            sessionmaker,
            job=job,
            outcome=outcome,
            retry_base_seconds=settings.webhook_retry_base_seconds,
        )
    except Exception:
        # The lease runs out and the event is sent again: at least once.
        logger.exception("recording webhook %d's delivery of seq %d failed", *_ids(job))


def _ids(job: Job) -> tuple[int, int]:
    return job.webhook_id, job.event.seq


async def send(client: httpx.AsyncClient, job: Job, *, settings: Settings) -> Outcome:
    """POST the event, signed, to the address its URL resolves to now; the whole of it,
    resolving included, within `webhook_timeout_seconds`. Only a 2xx acknowledges it."""
    started = time.monotonic()
    status, error = None, None
    try:
        async with asyncio.timeout(settings.webhook_timeout_seconds):
            status, error = await _post(client, job, allow_private=settings.webhook_allow_private)
    except targets.UnsafeTargetError as refused:
        error = f"Refused: the URL {refused}"
    except TimeoutError:
        error = f"No answer within {settings.webhook_timeout_seconds:g} seconds"
    except httpx.HTTPError as failed:
        error = f"{type(failed).__name__}: {failed}"[:ERROR_MAX]
    duration_ms = round((time.monotonic() - started) * 1000)
    if error is not None:
        logger.info("webhook %d: seq %d not delivered: %s", *_ids(job), error)
    return Outcome(ok=error is None, response_status=status, error=error, duration_ms=duration_ms)


async def _post(
    client: httpx.AsyncClient, job: Job, *, allow_private: bool
) -> tuple[int, str | None]:
    """The answer's status, and an error unless it is a 2xx."""
    url = targets.parse(job.url, allow_private=allow_private)
    target = await targets.resolve(url, allow_private=allow_private)
    body = job.event.model_dump_json(by_alias=True).encode()
    headers = signing.headers(
        secret=job.secret, message_id=job.message_id, timestamp=int(time.time()), body=body
    )
    request = client.build_request(
        "POST",
        target.request_url(),
        content=body,
        headers={
            **headers,
            "Content-Type": "application/json",
            "Host": url.netloc.decode("ascii"),
            "User-Agent": "kanban-api-webhooks",
        },
        extensions={"sni_hostname": url.host} if url.scheme == "https" else {},
    )
    response = await client.send(request, stream=True)
    try:
        if response.is_success:
            return response.status_code, None
        return response.status_code, f"HTTP {response.status_code}: {await _start_of(response)}"
    finally:
        await response.aclose()


async def _start_of(response: httpx.Response) -> str:
    """The start of the answer's body, for the log: never more than ERROR_MAX is read."""
    start = b""
    async for chunk in response.aiter_bytes():
        start += chunk
        if len(start) >= ERROR_MAX:
            break
    return start[:ERROR_MAX].decode("utf-8", errors="replace")
