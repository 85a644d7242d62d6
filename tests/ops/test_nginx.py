"""The deployment kit end to end: Debian's nginx, configured from deploy/nginx.conf, in front
of gunicorn in production mode, on PostgreSQL.

The site file is the shipped one; only what a deployment changes is rewritten (ports,
certificate paths, the static root, the upstream port), so a mistake in the shipped file
(a header lost, the static root wrong, the forwarded headers not set) fails here.
"""

from __future__ import annotations

import datetime
import http.client
import os
import re
import shutil
import signal
import ssl
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import web
from tests.helpers import scratch_database
from tests.ops.test_production import BIN, ROOT, free_port, wait_for

pytestmark = pytest.mark.postgres

HOST = "passerelle.example.org"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
STATIC = Path(web.__file__).resolve().parent / "static"


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "fullchain.pem", directory / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def site_config(http_port: int, https_port: int, app_port: int, cert: Path, key: Path) -> str:
    """deploy/nginx.conf with a deployment's values put in, and nothing else changed."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    replacements = [
        (r"server 127\.0\.0\.1:8000;", f"server 127.0.0.1:{app_port};"),
        (r"listen 80;", f"listen 127.0.0.1:{http_port};"),
        (r"listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        (r"ssl_certificate     \S+;", f"ssl_certificate     {cert};"),
        (r"ssl_certificate_key \S+;", f"ssl_certificate_key {key};"),
        (r"alias \S+/web/static/;", f"alias {STATIC}/;"),
    ]
    for pattern, value in replacements:
        text, count = re.subn(pattern, value, text)
        assert count == 1, f"deploy/nginx.conf no longer has `{pattern}`"
    # No IPv6 listener in a test sandbox.
    return re.sub(r"^\s*listen \[::\]:.*$", "", text, flags=re.MULTILINE)


def main_config(directory: Path, site: Path) -> str:
    temp = {name: directory / name for name in ("client", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
    return f"""
daemon off;
worker_processes 1;
pid {directory / 'nginx.pid'};
error_log {directory / 'error.log'} warn;
{"user root;" if os.geteuid() == 0 else ""}
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {directory / 'access.log'};
    client_body_temp_path {temp['client']};
    proxy_temp_path {temp['proxy']};
    fastcgi_temp_path {temp['fastcgi']};
    uwsgi_temp_path {temp['uwsgi']};
    scgi_temp_path {temp['scgi']};
    include {site};
}}
"""


class Client:
    """HTTPS to nginx on 127.0.0.1 under the site's name, keeping the session cookie."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.context = ssl.create_default_context()
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=120)
        sent = {"Host": HOST, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie = value.split(";", 1)[0]
                    self.cookies[cookie.split("=", 1)[0]] = cookie.split("=", 1)[1]
            received = {}
            for name, value in response.getheaders():
                key = name.lower()
                received[key] = received[key] + "\n" + value if key in received else value
            return response.status, received, response.read()
        finally:
            conn.close()


@pytest.fixture
def nginx(postgres_url):  # tests/ops/conftest.py: PostgreSQL only
    if not os.path.exists(NGINX):
        pytest.skip("nginx is not installed (apt-get install nginx)")
    return NGINX


def test_nginx_in_front_of_gunicorn(postgres_url, nginx, tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "PASSERELLE_ENV": "production",
        "SECRET_KEY": "production-test-" + "x" * 40,
        "PASSERELLE_DATA_KEY": Fernet.generate_key().decode(),
        "PASSERELLE_INSTANCE_PATH": str(tmp_path / "instance"),
        "PASSERELLE_PUBLIC_URL": f"https://{HOST}",
        "PASSERELLE_AUDIT_KEY": "k" * 64,
        "PASSERELLE_PROXIES": "1",
    }
    (tmp_path / "instance").mkdir()
    with scratch_database(postgres_url, tmp_path) as url:
        env["DATABASE_URL"] = url

        def cli(*args: str, stdin: str | None = None) -> None:
            done = subprocess.run([str(BIN / "passerelle"), *args], env=env, cwd=tmp_path, input=stdin,
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr

        cli("db", "upgrade")
        cli("create-organisation", "--kind", "committee", "--name", "Comité régional")
        password = "un comité qui se réunit chaque trimestre"
        cli("create-user", "--email", "membre@comite.example", "--role", "committee",
            "--organisation", "Comité régional", "--password-stdin", stdin=password + "\n")

        app_port, http_port, https_port = free_port(), free_port(), free_port()
        nginx_dir = tmp_path / "nginx"
        nginx_dir.mkdir()
        cert, key = self_signed(nginx_dir)
        site = nginx_dir / "passerelle.conf"
        site.write_text(site_config(http_port, https_port, app_port, cert, key))
        conf = nginx_dir / "nginx.conf"
        conf.write_text(main_config(nginx_dir, site))
        checked = subprocess.run([NGINX, "-t", "-c", str(conf)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr

        gunicorn_log = (tmp_path / "gunicorn.err").open("wb")
        app = subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{app_port}", "--chdir", str(ROOT),
             "--no-control-socket", "web:create_app()"],
            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=gunicorn_log)
        proxy = subprocess.Popen([NGINX, "-c", str(conf)], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)  # its errors go to error.log
        try:
            wait_for(app_port, app)
            wait_for(https_port, proxy)
            client = Client(https_port)

            # Plain HTTP is sent to HTTPS by nginx itself.
            conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=20)
            conn.request("GET", "/connexion", headers={"Host": HOST})
            plain = conn.getresponse()
            assert plain.status == 301
            assert plain.getheader("Location") == f"https://{HOST}/connexion"
            conn.close()

            status, _h, body = client.request("GET", "/healthz")
            assert status == 200, body

            # The app sees HTTPS through X-Forwarded-Proto: no redirect loop, secure cookies,
            # its own headers passed through, nginx's request id echoed.
            status, headers, body = client.request("GET", "/connexion")
            assert status == 200, body[:500]
            assert "default-src 'self'" in headers["content-security-policy"]
            assert headers["x-frame-options"] == "DENY"
            assert "max-age=" in headers["strict-transport-security"]
            assert re.fullmatch(r"[0-9a-f]{32}", headers["x-request-id"])  # nginx's $request_id
            assert "Secure" in headers["set-cookie"] and "HttpOnly" in headers["set-cookie"]
            stylesheet = re.search(rb'href="(/static/css/app\.css\?v=[0-9a-f]+)"', body)
            assert stylesheet, "the page links its stylesheet with a fingerprint"
            token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body)
            assert token, "the login form has a CSRF token"

            # A whole login through the proxy: CSRF's referrer check under HTTPS holds with
            # the public host, and every redirect stays on https://HOST.
            form = (f"csrf_token={token.group(1).decode()}&email=membre%40comite.example"
                    f"&password={password.replace(' ', '+')}").encode()
            status, headers, body = client.request(
                "POST", "/connexion", form,
                {"Content-Type": "application/x-www-form-urlencoded",
                 "Referer": f"https://{HOST}/connexion", "Origin": f"https://{HOST}"})
            assert status == 302, body[:800]
            location = headers["location"]
            assert location.startswith("/") or location.startswith(f"https://{HOST}/"), location
            assert "/connexion" not in location, "the right password was refused behind the proxy"
            status, headers, body = client.request("GET", location.removeprefix(f"https://{HOST}"))
            assert status in (200, 302), body[:500]
            if status == 302:  # a second-factor step, when the policy asks for one
                assert headers["location"].startswith(("/", f"https://{HOST}/")), headers["location"]

            # Static files come from disk through nginx, with the shipped headers: the page's
            # fingerprinted URL is cached for a year, a bare one for a week.
            status, headers, body = client.request("GET", stylesheet.group(1).decode())
            assert status == 200
            assert body == (STATIC / "css" / "app.css").read_bytes()
            assert headers["cache-control"] == "public, max-age=31536000, immutable"
            status, headers, body = client.request("GET", "/static/css/app.css")
            assert status == 200
            assert headers["cache-control"] == "public, max-age=604800"
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["content-type"].startswith("text/css")
            status, _h, body = client.request("GET", "/static/../../pyproject.toml")
            assert status in (400, 404) and b"[project]" not in body

            # Uploads over the shipped limit are refused by nginx before the app reads them.
            status, _h, _b = client.request("POST", "/connexion", b"x" * (6 * 1024 * 1024),
                                            {"Content-Type": "application/octet-stream"})
            assert status == 413
        finally:
            proxy.send_signal(signal.SIGQUIT)
            app.send_signal(signal.SIGTERM)
            proxy.wait(20)
            app.wait(30)
            gunicorn_log.close()

    access = (nginx_dir / "access.log").read_text()
    # Pages are logged by nginx; static files are not (access_log off in the shipped file).
    assert '"POST /connexion HTTP/1.1" 302' in access and "/static/css/app.css" not in access
    log = (tmp_path / "gunicorn.err").read_text()
    assert '"level": "ERROR"' not in log, log[-3000:]
