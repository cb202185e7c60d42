"""Settings and the command line: URLs, secrets, and refusing unsafe production starts."""

import secrets
import socket
import warnings
from pathlib import Path

import pytest
import uvicorn
from click.testing import CliRunner

from kanban_api import config
from kanban_api.cli import main
from kanban_api.config import Settings, to_async_url
from kanban_api.errors import ConfigError


@pytest.mark.parametrize(
    ("written", "driver"),
    [
        ("postgresql://u:p@db/kanban", "postgresql+asyncpg"),
        ("postgres://u:p@db/kanban", "postgresql+asyncpg"),
        ("postgresql+psycopg://u:p@db/kanban", "postgresql+asyncpg"),
        ("sqlite:///kanban.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///kanban.db", "sqlite+aiosqlite"),
    ],
)
def test_database_urls_as_users_write_them(written: str, driver: str) -> None:
    assert to_async_url(written).drivername == driver


def test_libpq_sslmode_is_passed_to_asyncpg_as_its_ssl_mode() -> None:
    url = to_async_url("postgresql://u:pw@db.example/kanban?sslmode=verify-full")
    assert dict(url.query) == {"ssl": "verify-full"}


def test_unsupported_database_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="postgresql:// or sqlite:///"):
        to_async_url("mysql://u:p@db/kanban")


def test_cors_origins_accept_commas_and_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KANBAN_CORS_ORIGINS", "https://a.example, https://b.example")
    assert Settings(_env_file=None).cors_origins == ["https://a.example", "https://b.example"]
    monkeypatch.setenv("KANBAN_CORS_ORIGINS", '["https://c.example"]')
    assert Settings(_env_file=None).cors_origins == ["https://c.example"]
    monkeypatch.setenv(
        "KANBAN_CORS_ORIGINS", "*, http://localhost:5173, app://kanban, http://[::1]:80"
    )
    assert Settings(_env_file=None).cors_origins == [
        "*",
        "http://localhost:5173",
        "app://kanban",
        "http://[::1]",
    ]
    # CORS compares text, and browsers send the scheme and host in lower case, a name in
    # its ASCII form, an IPv6 address compressed and no default port.
    monkeypatch.setenv(
        "KANBAN_CORS_ORIGINS",
        "HTTPS://App.Example.COM:8443, http://z.example:000080, https://w.example:443, "
        "http://xn--e1afmkfd.xn--p1ai, http://[::FFFF:1.2.3.4]:3000, http://127.0.0.1:3000",
    )
    assert Settings(_env_file=None).cors_origins == [
        "https://app.example.com:8443",
        "http://z.example",
        "https://w.example",
        "http://xn--e1afmkfd.xn--p1ai",
        "http://[::ffff:102:304]:3000",
        "http://127.0.0.1:3000",
    ]


@pytest.mark.parametrize(
    "written",
    [
        "app.example.com",
        "https://app.example.com/",
        "https://app.example.com/board",
        "https://*.example.com",
        "https://app.example.com:99999",
        "https://app.example.com:0",
        "https://app.example.com:abc",
        # Browsers send a name's ASCII form and an IPv4 address's dotted form.
        "http://пример.рф",
        "http://127.1",
        "http://0x7f.0.0.1",
    ],
)
def test_a_cors_origin_that_no_browser_sends_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KANBAN_CORS_ORIGINS", f"https://ok.example, {written}")
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code == 2, result.output
    assert f"KANBAN_CORS_ORIGINS: '{written}' is not an origin" in result.output
    assert (
        "such as https://app.example.com (no path, no trailing slash, no wildcard" in result.output
    )
    assert not list(tmp_path.glob("*.db"))


def test_development_secret_is_created_once_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = Settings(_env_file=None).resolve_secret_key()
    second = Settings(_env_file=None).resolve_secret_key()
    assert first == second
    assert len(first) >= config.MIN_SECRET_LENGTH
    secret_file = tmp_path / config.DEV_SECRET_FILE
    assert secret_file.read_text().strip() == first
    assert secret_file.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (None, "KANBAN_SECRET_KEY is required"),
        ("short", "at least 32 characters"),
        ("x" * 32, "too predictable"),
        ("0123456789abcdef" * 2, "too predictable"),
        ("aAbB" * 12, "too predictable"),
    ],
)
def test_production_refuses_to_start_without_a_strong_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secret: str | None, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KANBAN_ENV", "production")
    monkeypatch.setenv("KANBAN_DATABASE_URL", f"sqlite:///{tmp_path / 'k.db'}")
    if secret is None:
        monkeypatch.delenv("KANBAN_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("KANBAN_SECRET_KEY", secret)
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code != 0
    assert message in result.output
    assert not (tmp_path / config.DEV_SECRET_FILE).exists()


@pytest.mark.parametrize(
    "secret", [secrets.token_hex(16), secrets.token_urlsafe(24), secrets.token_urlsafe(48)]
)
def test_production_accepts_generated_secrets(secret: str) -> None:
    settings = Settings(_env_file=None, env="production", secret_key=secret)
    assert settings.resolve_secret_key() == secret


def test_migrate_command_creates_the_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "fresh.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KANBAN_DATABASE_URL", f"sqlite:///{database}")
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code == 0, result.output
    import sqlite3

    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"user", "board", "card", "label", "user_board", "card_label"} <= tables


def test_a_first_migration_warns_of_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Quick start's first `serve` migrates a fresh SQLite file; its output stays clean."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KANBAN_DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code == 0, result.output
    assert [str(warning.message) for warning in caught] == []


@pytest.mark.parametrize(("options", "keep_alive"), [([], 5), (["--timeout-keep-alive", "75"], 75)])
def test_serve_passes_the_keep_alive_timeout_to_uvicorn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: list[str], keep_alive: int
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KANBAN_DATABASE_URL", f"sqlite:///{tmp_path / 'k.db'}")
    started: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *_, **kwargs: started.append(kwargs))
    # Port 0 (any free one): the README's own server may hold 8000 while the tests run.
    result = CliRunner().invoke(main, ["serve", "--port", "0", *options])
    assert result.exit_code == 0, result.output
    assert started[0]["timeout_keep_alive"] == keep_alive


def test_a_misspelt_setting_is_named_in_plain_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KANBAN_ENV", "prod")
    monkeypatch.setenv("KANBAN_ACCESS_TOKEN_MINUTES", "0")
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code == 2
    assert "KANBAN_ENV: Input should be 'development' or 'production'" in result.output
    assert (
        "KANBAN_ACCESS_TOKEN_MINUTES: Input should be greater than or equal to 1" in result.output
    )
    assert "validation error" not in result.output
    assert "pydantic" not in result.output
    assert not list(tmp_path.glob("*.db"))


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://u:secret@db/kanban", "must be a postgresql:// or sqlite:/// URL, not mysql://"),
        ("kanban.db", "is not a database URL"),
        ("postgresql://u:secret@db:port/kanban", "is not a database URL"),
        ("sqlite://", "names an in-memory SQLite database"),
        ("sqlite:///:memory:", "names an in-memory SQLite database"),
        ("sqlite://host/kanban.db", "names a host for SQLite; write sqlite:///FILE"),
        ("postgresql://u:secret@db/k?connect_timeout=5", "has connect_timeout, which this"),
        ("postgresql://u:secret@db/k?sslmode=sometimes", "has sslmode=sometimes; it must be"),
    ],
)
@pytest.mark.parametrize("command", [["migrate"], ["serve", "--port", "0"], ["demo"]])
def test_a_wrong_database_url_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, says: str, command: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KANBAN_DATABASE_URL", url)
    monkeypatch.setattr(uvicorn, "run", lambda *_, **__: pytest.fail("the server started"))
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 2, result.output
    assert "kanban-api: configuration error:" in result.output
    assert f"KANBAN_DATABASE_URL {says}" in result.output
    assert "Traceback" not in result.output
    assert "secret" not in result.output


def test_serve_on_a_busy_port_fails_before_migrating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KANBAN_DATABASE_URL", raising=False)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--port", str(port)])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "--port" in result.output
    assert not (tmp_path / "kanban.db").exists()


# The commands that open the database.
DATABASE_COMMANDS = [["migrate"], ["serve", "--port", "0"], ["demo"], ["prune-events"]]


@pytest.fixture
def no_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A command run in an empty folder (returned), failing the test if it starts serving."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(uvicorn, "run", lambda *_, **__: pytest.fail("the server started"))
    return tmp_path


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("command", DATABASE_COMMANDS)
def test_a_database_that_cannot_be_reached_is_one_line_and_exit_status_1(
    no_server: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    port = _closed_port()
    monkeypatch.setenv("KANBAN_DATABASE_URL", f"postgresql://kanban:secret@127.0.0.1:{port}/k")
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        f"kanban-api: cannot reach the database at postgresql://kanban:***@127.0.0.1:{port}/k: "
        f"[Errno 111] Connect call failed ('127.0.0.1', {port})"
    ]


@pytest.mark.parametrize("command", DATABASE_COMMANDS)
def test_a_sqlite_file_that_cannot_be_opened_is_one_line_and_exit_status_1(
    no_server: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    (no_server / "a-folder.db").mkdir()
    (no_server / "not-a-database.db").write_text("garbage\n" * 100)
    for url, reason in [
        ("sqlite:///missing/kanban.db", "missing does not exist"),
        ("sqlite:///not-a-database.db/kanban.db", "not-a-database.db is not a folder"),
        ("sqlite:///a-folder.db", "unable to open database file"),
        ("sqlite:///not-a-database.db", "file is not a database"),
    ]:
        monkeypatch.setenv("KANBAN_DATABASE_URL", url)
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 1, result.output
        assert result.output.splitlines() == [
            f"kanban-api: cannot reach the database at {url}: {reason}"
        ]
    assert not (no_server / "missing").exists()


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ("KANBAN_REDIS_URL=garbage", "KANBAN_REDIS_URL: must be a redis://, rediss:// or unix://"),
        ("KANBAN_REDIS_URL=http://127.0.0.1:6379/0", "KANBAN_REDIS_URL: must be a redis://"),
        ("KANBAN_REDIS_URL=redis://127.0.0.1:99999/0", "KANBAN_REDIS_URL: is not a Redis URL"),
        ("KANBAN_REDIS_URL=redis://127.0.0.1:0/0", "KANBAN_REDIS_URL: is not a Redis URL: a port"),
        ("KANBAN_REDIS_URL=redis://127.0.0.1/x", "is not a Redis URL: the path, if any, is a"),
        ("KANBAN_DATABASE_URL=postgresql://u:secret@db:99999/k", "has port 99999; a port is 1"),
        ("KANBAN_DATABASE_URL=postgresql://u:secret@db:-1/k", "has port -1; a port is 1 to"),
    ],
)
def test_a_url_setting_with_no_server_to_reach_stops_the_start(
    no_server: Path, monkeypatch: pytest.MonkeyPatch, setting: str, says: str
) -> None:
    name, value = setting.split("=", 1)
    monkeypatch.setenv(name, value)
    for command in (["migrate"], ["serve", "--port", "0"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2, result.output
        assert "kanban-api: configuration error:" in result.output
        assert says in result.output
        assert "Traceback" not in result.output
        assert "secret" not in result.output
