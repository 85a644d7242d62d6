"""A live server on 127.0.0.1 and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import totp_code
from tests.helpers import app_on_scratch_database


def _static_read_whole(app: Any) -> Any:
    """The app, with each static file's body read (and the file closed) before it is sent.

    Why: Chromium drops the favicon's request when a page is left at once; werkzeug's test
    server then skips closing the response (`connection_dropped`), the open file is left to
    the garbage collector, and its ResourceWarning, an error here, fails whichever test runs
    then. gunicorn, in production, closes it."""
    def serve(environ: dict[str, Any], start_response: Any) -> Any:
        body = app(environ, start_response)
        if not environ.get("PATH_INFO", "").startswith("/static/"):
            return body
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()
    return serve


class LiveServer:
    """The app served by werkzeug in a thread, on its own database."""

    def __init__(self, app: Any) -> None:
        from werkzeug.serving import make_server

        self.app = app
        self.server = make_server("127.0.0.1", 0, _static_read_whole(app), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(5)
        self.app.extensions["db"].dispose()


@contextmanager
def demo_app(database_url: str, tmp: Path, **config: Any) -> Iterator[Flask]:
    """An app on a scratch database holding the demo data, CSRF on, every request committed."""
    from services import demo
    from web.db import get_session

    with app_on_scratch_database(database_url, tmp, WTF_CSRF_ENABLED=True, SERVER_NAME=None,
                                 **config) as app:
        with app.app_context():
            demo.load(get_session())
            get_session().commit()
        yield app


@pytest.fixture(scope="module")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server on 127.0.0.1 with the demo data loaded, committed for real."""
    with demo_app(database_url, tmp_path_factory.mktemp("live")) as app, LiveServer(app) as server:
        yield server


# Each role's home; a referrer (landlord's local staff) starts on her referrals.
HOME_URL = re.compile(r"/((bailleur|association|coordination|comite|admin)/|bailleur/orientations)$")


def log_in(page: Any, url: str, account: Any) -> None:
    """Log in through the pages, second factor included, and wait for the home page."""
    page.goto(url + "/connexion")
    page.get_by_label("Adresse e-mail").fill(account.email)
    page.get_by_label("Mot de passe").fill(account.password)
    page.get_by_role("button", name="Se connecter").click()
    if account.totp_secret:
        # Coordination, committee and admin have a second factor: type the app's code.
        page.wait_for_url(re.compile(r"/connexion/code$"))
        page.get_by_label("Code à 6 chiffres").fill(totp_code(account.totp_secret, account.email))
        page.get_by_role("button", name="Valider").click()
    # The page's own HTML is enough: the committee's home then loads its charts for a while.
    page.wait_for_url(HOME_URL, wait_until="domcontentloaded")


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
