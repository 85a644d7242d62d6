"""A live server on 127.0.0.1 and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

import models
from tests.conftest import make_config
from tests.helpers import scratch_database
from web import create_app


class LiveServer:
    """The app served by werkzeug in a thread, on its own database."""

    def __init__(self, app: Any) -> None:
        from werkzeug.serving import make_server

        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(5)
        self.app.extensions["db"].dispose()


@pytest.fixture(scope="module")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server on 127.0.0.1 with the demo data loaded, committed for real."""
    tmp = tmp_path_factory.mktemp("live")
    with scratch_database(database_url, tmp) as url:
        engine = sa.create_engine(url)
        models.Base.metadata.create_all(engine)
        engine.dispose()
        app = create_app(make_config(url, WTF_CSRF_ENABLED=True, SERVER_NAME=None))
        app.instance_path = str(tmp)
        with app.app_context():
            from services import demo
            from web.db import get_session

            demo.load(get_session())
            get_session().commit()
        with LiveServer(app) as server:
            yield server


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (its own cookies) and page."""
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def check_accessibility(page: Any) -> None:
    """Fail on any WCAG 2 A/AA violation that axe-core finds on the current page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
    violations = results.response["violations"]
    assert not violations, results.generate_report()
