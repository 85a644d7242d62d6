"""Static file URLs carry a fingerprint of the file's content (`?v=<hash>`).

Why: nginx (deploy/nginx.conf) lets browsers cache static files; with the content's hash in
the URL, an upgrade that changes a stylesheet or script changes its URL, so no browser keeps
an old one, and fingerprinted URLs can be cached for a year as immutable.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from flask import Flask
from werkzeug.security import safe_join


def init_app(app: Flask) -> None:
    # (filename, size, mtime) -> digest: a stat per URL, the file read once per version.
    digests: dict[tuple[str, int, int], str] = {}

    @app.url_defaults
    def fingerprint(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint != "static" or "v" in values or not isinstance(values.get("filename"), str):
            return
        path = safe_join(app.static_folder or "", values["filename"])
        if path is None:
            return
        try:
            stat = os.stat(path)
        except (OSError, ValueError):
            return  # a missing file or a name no file can have (NUL): Flask answers as usual
        key = (path, stat.st_size, stat.st_mtime_ns)
        digest = digests.get(key)
        if digest is None:
            with open(path, "rb") as fh:
                digest = hashlib.file_digest(fh, "sha256").hexdigest()[:12]
            digests[key] = digest
        values["v"] = digest
