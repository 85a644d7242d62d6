"""Behind a reverse proxy: `PASSERELLE_PROXIES` says how many X-Forwarded-* hops to trust.

With 0 (the default) no such header is believed: a client cannot choose her address to escape
the per-IP login limit. With 1 (nginx in front of gunicorn) the address nginx appended is the
client's, so two clients behind the same proxy have separate limits.
"""

from __future__ import annotations

import pytest
from flask import request
from werkzeug.middleware.proxy_fix import ProxyFix

from tests.conftest import make_config
from web import access, create_app
from web.config import ConfigurationError

PROXY = "10.0.0.2"  # nginx, as gunicorn sees it


@pytest.fixture
def limited(app_config):  # type: ignore[no-untyped-def]
    app_config.update(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")


@pytest.fixture
def seen(app, monkeypatch):  # type: ignore[no-untyped-def]
    """A route that says which client, scheme and host the app believes it is talking to."""
    app.add_url_rule("/essai/client", "test_client_seen",
                     lambda: f"{request.remote_addr} {request.scheme} {request.host}")
    monkeypatch.setitem(access.ACCESS, "test_client_seen", access.OPEN)
    return app


def _failed_login(client, i: int, forwarded_for: str):  # type: ignore[no-untyped-def]
    # A new address each time: the per-account limit stays out of the way of the per-IP one.
    return client.post("/connexion", data={"email": f"someone{i}@example.org", "password": "wrong password xyz"},
                       headers={"X-Forwarded-For": forwarded_for}, environ_base={"REMOTE_ADDR": PROXY})


def test_by_default_no_forwarded_header_is_believed(seen):
    r = seen.test_client().get("/essai/client", environ_base={"REMOTE_ADDR": "198.51.100.7"}, headers={
        "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"})
    assert r.get_data(as_text=True) == "198.51.100.7 http localhost"


def test_by_default_a_forged_forwarded_for_does_not_escape_the_per_ip_limit(limited, app):
    client = app.test_client()
    codes = [_failed_login(client, i, f"203.0.113.{i + 1}").status_code for i in range(11)]
    assert codes == [200] * 10 + [429]


@pytest.mark.parametrize("app_config", [{"PROXIES": 1}])
def test_behind_one_proxy_the_app_sees_the_client_nginx_saw(seen):
    client = seen.test_client()
    r = client.get("/essai/client", environ_base={"REMOTE_ADDR": PROXY}, headers={
        "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "passerelle.example.org"})
    assert r.get_data(as_text=True) == "203.0.113.9 https passerelle.example.org"
    # What a client put in front of what nginx appended is not believed.
    r = client.get("/essai/client", environ_base={"REMOTE_ADDR": PROXY},
                   headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.9"})
    assert r.get_data(as_text=True).split()[0] == "203.0.113.9"


@pytest.mark.parametrize("app_config", [{"PROXIES": 1, "RATELIMIT_ENABLED": True,
                                         "RATELIMIT_STORAGE_URI": "memory://"}])
def test_behind_one_proxy_each_client_has_her_own_limit(app):
    client = app.test_client()
    codes = [_failed_login(client, i, "203.0.113.1").status_code for i in range(11)]
    assert codes == [200] * 10 + [429]
    # The same client forging an address in front of hers is still herself for nginx.
    assert _failed_login(client, 20, "198.51.100.1, 203.0.113.1").status_code == 429
    # Another client behind the same proxy is not affected.
    assert _failed_login(client, 21, "203.0.113.2").status_code == 200


def test_the_setting_comes_from_the_environment(monkeypatch, database_url):
    monkeypatch.setenv("PASSERELLE_PROXIES", "2")
    app = create_app(make_config(database_url))
    assert app.config["PROXIES"] == 2
    assert isinstance(app.wsgi_app, ProxyFix)
    assert (app.wsgi_app.x_for, app.wsgi_app.x_proto, app.wsgi_app.x_host) == (2, 2, 2)
    monkeypatch.setenv("PASSERELLE_PROXIES", "0")
    assert not isinstance(create_app(make_config(database_url)).wsgi_app, ProxyFix)


@pytest.mark.parametrize("value", [-1, "un", 1.5, True])
def test_a_wrong_number_of_proxies_refuses_to_start(database_url, value):
    with pytest.raises(ConfigurationError, match="PASSERELLE_PROXIES"):
        create_app(make_config(database_url, PROXIES=value))


@pytest.mark.parametrize(("proxies", "expected"), [(0, 302), (1, 200)])
def test_in_production_https_is_claimed_only_through_a_trusted_proxy(database_url, monkeypatch, proxies, expected):
    # Talisman reads X-Forwarded-Proto itself: with no trusted proxy, a client on plain HTTP
    # claiming HTTPS must still be sent to HTTPS (and get no HSTS header over HTTP).
    app = create_app(make_config(database_url, PASSERELLE_ENV="production", PROXIES=proxies,
                                 PUBLIC_URL="https://passerelle.example.org", AUDIT_KEY="k" * 64))
    app.add_url_rule("/essai/https", "test_https_seen", lambda: request.scheme)
    monkeypatch.setitem(access.ACCESS, "test_https_seen", access.OPEN)
    r = app.test_client().get("/essai/https", environ_base={"REMOTE_ADDR": PROXY},
                              headers={"X-Forwarded-Proto": "https"})
    assert r.status_code == expected
    if expected == 302:
        assert r.headers["Location"].startswith("https://")
        assert "Strict-Transport-Security" not in r.headers
    else:
        assert r.get_data(as_text=True) == "https"
        assert "max-age=" in r.headers["Strict-Transport-Security"]
