"""Static URLs carry their content's fingerprint, so an upgrade never leaves an old file cached."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask import url_for


def test_static_urls_carry_the_content_hash(app, client):
    page = client.get("/connexion").get_data(as_text=True)
    found = re.search(r'href="/static/css/app\.css\?v=([0-9a-f]{12})"', page)
    assert found, "the login page links app.css with a fingerprint"
    content = (Path(app.static_folder or "") / "css" / "app.css").read_bytes()
    assert found.group(1) == hashlib.sha256(content).hexdigest()[:12]
    # The fingerprinted URL serves the file itself.
    response = client.get(f"/static/css/app.css?v={found.group(1)}")
    try:
        assert response.status_code == 200 and response.data == content
    finally:
        response.close()  # the file Flask opened to send


def test_a_changed_file_gets_a_new_url(app, tmp_path):
    app.static_folder = str(tmp_path)
    (tmp_path / "site.css").write_text("body { color: black }")
    with app.test_request_context():
        first = url_for("static", filename="site.css")
        (tmp_path / "site.css").write_text("body { color: darkblue }")
        second = url_for("static", filename="site.css")
        missing = url_for("static", filename="absent.css")
    assert first != second and first.startswith("/static/site.css?v=")
    assert missing == "/static/absent.css"  # nothing to hash: Flask answers 404 as before


def test_every_page_names_the_platform_s_icon_and_it_is_served(client):
    """A browser tab shows Passerelle's icon, not a blank page or a 404 for /favicon.ico."""
    for path in ("/connexion", "/mentions"):
        page = client.get(path).get_data(as_text=True)
        found = re.search(r'<link rel="icon" type="image/svg\+xml" href="(/static/favicon\.svg\?v=[0-9a-f]{12})">',
                          page)
        assert found, f"{path} links the icon"
    response = client.get(found.group(1))
    try:
        assert response.status_code == 200 and response.mimetype == "image/svg+xml"
        assert b"<svg" in response.data and b"http" not in response.data.replace(b"http://www.w3.org", b"")
    finally:
        response.close()
