"""Serving a static web client next to the API (KANBAN_STATIC_DIR)."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from httpx import ASGITransport, AsyncClient

from kanban_api.app import create_app
from kanban_api.config import Settings
from kanban_api.state import state_of


@pytest.fixture
async def site_client(settings: Settings, tmp_path: Path) -> AsyncIterator[AsyncClient]:
    (tmp_path / "index.html").write_text("<h1>home</h1>")
    (tmp_path / "boards").mkdir()
    (tmp_path / "boards" / "index.html").write_text("<h1>boards</h1>")
    (tmp_path / "app.js").write_text("console.log('hi')")
    # A file that would shadow the API if the static site were allowed to.
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "boards").write_text("static impostor")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.html").write_text("static docs impostor")
    (tmp_path / "docs-assets").mkdir()
    (tmp_path / "docs-assets" / "swagger-ui.css").write_text("static assets impostor")
    app = create_app(settings.model_copy(update={"static_dir": tmp_path}))
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        yield client
    await state_of(app).database.dispose()


async def test_root_serves_index(site_client: AsyncClient) -> None:
    response = await site_client.get("/")
    assert response.status_code == 200
    assert response.text == "<h1>home</h1>"


async def test_page_folder_redirects_to_slash_then_serves_its_index(
    site_client: AsyncClient,
) -> None:
    redirect = await site_client.get("/boards")
    assert redirect.status_code in (301, 307, 308)
    assert redirect.headers["location"].endswith("/boards/")
    page = await site_client.get("/boards/")
    assert page.text == "<h1>boards</h1>"


async def test_files_and_missing_files(site_client: AsyncClient) -> None:
    assert (await site_client.get("/app.js")).text == "console.log('hi')"
    assert (await site_client.get("/nope.html")).status_code == 404


async def test_api_docs_and_schema_always_win(site_client: AsyncClient) -> None:
    api = await site_client.get("/api/boards")
    assert api.status_code == 401
    assert api.headers["content-type"] == "application/json"
    unknown_api = await site_client.get("/api/unknown")
    assert unknown_api.status_code == 404
    assert unknown_api.json() == {"detail": "Not Found"}
    docs = await site_client.get("/docs")
    assert "swagger" in docs.text.lower()
    assert "impostor" not in (await site_client.get("/docs-assets/swagger-ui.css")).text
    assert (await site_client.get("/openapi.json")).json()["info"]["title"] == "kanban-api"


async def test_without_static_dir_root_points_to_the_docs_and_the_rest_is_not_found(
    client: AsyncClient,
) -> None:
    assert (await client.get("/")).json()["docs"] == "/docs"
    assert (await client.get("/index.html")).status_code == 404
