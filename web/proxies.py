"""What the app believes of the X-Forwarded-* headers: exactly `PASSERELLE_PROXIES` hops."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

FORWARDED = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
             "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_PREFIX", "HTTP_FORWARDED")


def init_app(app: Flask) -> None:
    """Trust the configured proxies' headers; with none, remove the headers a client sent."""
    hops = app.config["PROXIES"]
    if hops:
        # The client's address (per-IP rate limits), scheme and host as the proxies saw them.
        # Only that many hops are trusted: anything a client put in front of them is ignored.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    else:
        # Talisman reads X-Forwarded-Proto itself: left in place, a client on plain HTTP could
        # claim HTTPS and be served without the redirect.
        app.wsgi_app = WithoutForwardedHeaders(app.wsgi_app)  # type: ignore[method-assign]


class WithoutForwardedHeaders:
    """WSGI middleware: the request goes on without any X-Forwarded-* or Forwarded header."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        for key in FORWARDED:
            environ.pop(key, None)
        return self.wsgi_app(environ, start_response)
