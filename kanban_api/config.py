"""Settings, read from `KANBAN_*` environment variables and a `.env` file."""

import ipaddress
import json
import math
import re
import secrets
from collections import Counter
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from redis.connection import parse_url as parse_redis_url
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from kanban_api.errors import ConfigError
from kanban_api.limits import TCP_PORTS

DEV_SECRET_FILE = Path(".kanban-secret")
MIN_SECRET_LENGTH = 32
# A floor on the key's entropy estimated from its characters' frequencies: 32 random
# hex digits (128 bits) score 95 or more, 32 copies of one character 0.
MIN_SECRET_BITS = 80
HOW_TO_GENERATE = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"


# RFC 6454 §6.1's serialization: a scheme, "://", a host (a name or an [IPv6 address])
# and an optional port.
_ORIGIN = re.compile(r"([a-z][a-z0-9+.-]*)://([^/?#@\s:\[\]*]+|\[[0-9a-f:.]+\])(?::([0-9]+))?")


def _as_origin(written: str) -> str:
    """The origin as browsers send it: scheme and host in lower case, a name in its
    ASCII (IDNA) form, an IPv6 address compressed, no default or zero-padded port;
    ValueError if it is not an origin."""
    match = _ORIGIN.fullmatch(written.lower())
    try:
        if match is None:
            raise ValueError
        scheme, host, port = match.groups()
        if host.startswith("["):
            host = f"[{_compressed_ipv6(host[1:-1])}]"
        elif not host.isascii():
            raise ValueError("a name in its ASCII form (xn--…), as browsers send it")
        elif _ends_in_a_number(host) and not _is_dotted_ipv4(host):
            # Browsers read such a host as an IPv4 address, and send its dotted form.
            raise ValueError("an IPv4 address as four decimal numbers")
        if port is not None and int(port) not in TCP_PORTS:
            raise ValueError
    except ValueError as error:
        raise ValueError(
            f"{written!r} is not an origin: write scheme://host[:port], such as "
            "https://app.example.com (no path, no trailing slash, no wildcard, a port from "
            "1 to 65535" + (f", {error}" if str(error) else "") + "), or *"
        ) from None
    if port is None or _DEFAULT_PORTS.get(scheme) == int(port):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{int(port)}"


def _ends_in_a_number(host: str) -> bool:
    return re.fullmatch(r"0x[0-9a-f]*|[0-9]+", host.rpartition(".")[2]) is not None


def _is_dotted_ipv4(host: str) -> bool:
    try:
        return str(ipaddress.IPv4Address(host)) == host
    except ValueError:
        return False


def _compressed_ipv6(address: str) -> str:
    try:
        return ipaddress.IPv6Address(address).compressed
    except ValueError:
        raise ValueError("an IPv6 address in brackets") from None


# Ports a browser leaves out of an origin (RFC 6454 §6.2 serializes the URL's own).
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="KANBAN_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///kanban.db"
    database_pool_size: int = Field(default=10, ge=1, le=1000)
    database_connect_timeout: float = Field(default=5.0, gt=0, le=300)
    database_command_timeout: float = Field(default=30.0, gt=0, le=3600)
    # A request waiting this long for a row lock (a busy board) gives up with a 503, so
    # that queued writers of one board cannot hold every pooled connection (PostgreSQL).
    database_lock_timeout: float = Field(default=5.0, gt=0, le=3600)
    secret_key: SecretStr | None = None
    access_token_minutes: int = Field(default=60, ge=1, le=60 * 24 * 30)
    # Workers on other machines mint tokens by their own clocks; this much skew is tolerated.
    token_leeway_seconds: int = Field(default=30, ge=0, le=300)
    # Changing email or password needs the current password, or a token this fresh: a
    # token that leaked later cannot take the account over.
    reauth_minutes: int = Field(default=10, ge=0, le=60 * 24)
    # Ten guesses per quarter hour stop online guessing, yet leave room for a few typos.
    login_max_failures_per_account: int = Field(default=10, ge=1)
    # Higher, because offices and mobile carriers put many people behind one address.
    login_max_failures_per_address: int = Field(default=50, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1, le=24 * 60 * 60)
    # Requests one user (or address, without a token) may have worked on at once in one
    # worker, and waiting beyond those; more get 429 (see overload.py). Browsers open up
    # to 6 connections per host, so a client's ordinary parallel requests fit.
    max_requests_in_flight: int = Field(default=8, ge=1, le=10_000)
    max_requests_queued: int = Field(default=100, ge=0, le=100_000)
    # Cards per board: active ones (Trello's limit of open cards per board), and archived
    # ones, which card lists leave out unless asked, under a separate, higher cap.
    max_cards_per_board: int = Field(default=5000, ge=1, le=1_000_000)
    max_archived_cards_per_board: int = Field(default=20_000, ge=0, le=1_000_000)
    # Requests per minute per user, access token or (anonymous) address, counted across
    # workers (see rate_limit.py); 0 turns the limit off.
    rate_limit_per_minute: int = Field(default=600, ge=0, le=1_000_000)
    # redis://host:port/db: rate-limit counts go there instead of the database.
    redis_url: str | None = None
    cors_origins: Annotated[list[str], NoDecode] = []
    static_dir: Path | None = None
    # Events older than this are deleted (hourly, and by `kanban-api prune-events`); 0 keeps all.
    event_retention_days: int = Field(default=30, ge=0, le=36_500)
    # Boards and cards in the trash longer than this are deleted for good (with the events).
    trash_retention_days: int = Field(default=30, ge=1, le=36_500)
    # Live streams: a comment line this often keeps proxies from closing idle streams, and
    # each one re-checks that the user may still read the board.
    stream_heartbeat_seconds: float = Field(default=15, gt=0, le=3600)
    # Events a stream may have waiting before it is closed as too slow (it then reconnects
    # and catches up); larger than the biggest card batch, so one batch never overflows it.
    stream_queue_size: int = Field(default=1000, ge=1, le=100_000)
    # A stream whose client takes longer than this to accept one write is closed.
    stream_send_timeout_seconds: float = Field(default=30, gt=0, le=3600)
    # Webhooks (docs/webhooks.md): a receiver has this long to answer one delivery with a
    # 2xx; failures are retried after this base, doubling; senders look for due
    # deliveries this often; loopback and private targets only when allowed.
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=300)
    webhook_retry_base_seconds: float = Field(default=10, gt=0, le=3600)
    webhook_poll_seconds: float = Field(default=1, gt=0, le=300)
    webhook_allow_private: bool = False

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept `a,b` as well as a JSON list, since operators write both."""
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                return json.loads(value)
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _are_origins(cls, origins: list[str]) -> list[str]:
        """Each as a browser sends its page's origin, `scheme://host[:port]` in lower case
        (RFC 6454 §6.1), since CORS compares them as text: `app.example.com`, a trailing
        `/`, a path or a `*.example.com` pattern would silently match no page."""
        return [origin if origin == "*" else _as_origin(origin) for origin in origins]

    @field_validator("redis_url")
    @classmethod
    def _is_redis_url(cls, url: str | None) -> str | None:
        """Parsed as the Redis client will (redis-py), so a bad URL stops the start."""
        if url is None:
            return None
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        try:
            parse_redis_url(url)  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
        except ValueError as error:
            raise ValueError(f"is not a Redis URL: {error}") from None
        parts = urlsplit(url)
        if parts.scheme == "unix":
            return url
        # What redis-py lets through: port 0, and a path it silently reads as database 0.
        if parts.port is not None and parts.port not in TCP_PORTS:
            raise ValueError("is not a Redis URL: a port is 1 to 65535")
        if not re.fullmatch(r"/?([0-9]+)?", parts.path):
            raise ValueError(
                "is not a Redis URL: the path, if any, is a database number such as /0"
            )
        return url

    @field_validator("static_dir")
    @classmethod
    def _static_dir_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a folder")
        return value

    @cached_property
    def async_database_url(self) -> URL:
        """The URL as users write it, with the async driver SQLAlchemy needs."""
        return to_async_url(self.database_url)

    @property
    def is_sqlite(self) -> bool:
        return self.async_database_url.get_backend_name() == "sqlite"

    def resolve_secret_key(self) -> str:
        """The JWT signing key; refuses weak keys in production, remembers one in development."""
        if self.secret_key is not None:
            key = self.secret_key.get_secret_value()
            if self.env == "production":
                _check_strength(key)
            return key
        if self.env == "production":
            raise ConfigError(
                f"KANBAN_SECRET_KEY is required when KANBAN_ENV=production; {HOW_TO_GENERATE}"
            )
        return _development_secret()


def _check_strength(key: str) -> None:
    """Refuse a production key that is short, repeats a shorter string, or has few
    distinct characters (ConfigError), since anyone who guesses it can sign tokens."""
    if len(key) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"KANBAN_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters in "
            f"production; {HOW_TO_GENERATE}"
        )
    if _is_repetition(key) or _frequency_bits(key) < MIN_SECRET_BITS:
        raise ConfigError(
            "KANBAN_SECRET_KEY is too predictable (repeated or too few distinct characters); "
            + HOW_TO_GENERATE
        )


def _frequency_bits(key: str) -> float:
    """Shannon entropy of the key's character frequencies, times its length, in bits."""
    length = len(key)
    return -length * sum(
        count / length * math.log2(count / length) for count in Counter(key).values()
    )


def _is_repetition(key: str) -> bool:
    """Whether the key is a shorter string written several times (`abcabcabc`)."""
    return key in (key + key)[1:-1]


def _development_secret() -> str:
    """A random key kept in a git-ignored file so that tokens survive restarts."""
    if DEV_SECRET_FILE.is_file():
        key = DEV_SECRET_FILE.read_text(encoding="utf-8").strip()
        if len(key) >= MIN_SECRET_LENGTH:
            return key
    key = secrets.token_urlsafe(48)
    DEV_SECRET_FILE.touch(mode=0o600)
    DEV_SECRET_FILE.write_text(key + "\n", encoding="utf-8")
    return key


def to_async_url(raw_url: str) -> URL:
    """Map `postgresql://`, `postgres://` and `sqlite://` URLs to asyncpg and aiosqlite.

    Raises ConfigError for anything else; its message does not repeat the URL, which may
    hold a password.
    """
    if raw_url.startswith("postgres://"):
        raw_url = "postgresql://" + raw_url.removeprefix("postgres://")
    try:
        url = make_url(raw_url)
    except (ArgumentError, ValueError) as error:
        raise ConfigError(
            "KANBAN_DATABASE_URL is not a database URL; write postgresql://USER:PASSWORD@HOST"
            ":PORT/DATABASE or sqlite:///FILE"
        ) from error
    backend = url.get_backend_name()
    if url.port is not None and url.port not in TCP_PORTS:
        raise ConfigError(f"KANBAN_DATABASE_URL has port {url.port}; a port is 1 to 65535")
    if backend == "postgresql":
        return url.set(drivername="postgresql+asyncpg", query=_ssl_only(url))
    if backend == "sqlite":
        if url.host:
            raise ConfigError(
                "KANBAN_DATABASE_URL names a host for SQLite; write sqlite:///FILE (three "
                "slashes, then the file's path)"
            )
        return url.set(drivername="sqlite+aiosqlite")
    raise ConfigError(
        f"KANBAN_DATABASE_URL must be a postgresql:// or sqlite:/// URL, not {backend}://"
    )


# libpq's TLS modes, which asyncpg takes as `ssl` (https://www.postgresql.org/docs/current/libpq-ssl.html).
_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def _ssl_only(url: URL) -> dict[str, str]:
    """The URL's query for asyncpg: only a TLS mode, as `ssl` (libpq's `sslmode` is what
    operators write). Other libpq parameters would reach asyncpg's `connect()`, which
    takes none of them; ConfigError for those and for an unknown or repeated mode."""
    query = url.normalized_query
    if unknown := sorted(set(query) - {"ssl", "sslmode"}):
        raise ConfigError(
            f"KANBAN_DATABASE_URL has {', '.join(unknown)}, which this server does not take; "
            "a PostgreSQL URL may end in ?sslmode= (" + ", ".join(_SSL_MODES) + ") only"
        )
    modes = [*query.get("sslmode", ()), *query.get("ssl", ())]
    if not modes:
        return {}
    if len(modes) > 1 or modes[0] not in _SSL_MODES:
        raise ConfigError(
            f"KANBAN_DATABASE_URL has sslmode={'&'.join(modes)}; it must be one of "
            f"{', '.join(_SSL_MODES)}, once"
        )
    return {"ssl": modes[0]}
