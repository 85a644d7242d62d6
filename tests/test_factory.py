"""The app factory and its settings."""

from __future__ import annotations

import pytest

from web import create_app
from web.config import ConfigurationError


def test_testing_config(app):
    assert app.testing
    assert create_app({"TESTING": False, "DATABASE_URL": "sqlite://"}).testing is False


def test_embedded_defaults_live_in_the_instance_folder(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "SECRET_KEY", "PASSERELLE_DATA_KEY", "PASSERELLE_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PASSERELLE_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    app2 = create_app()
    assert app.config["DATABASE_URL"].startswith("sqlite:///")
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'passerelle.sqlite'}"
    assert (tmp_path / "data_key").stat().st_mode & 0o077 == 0
    # Generated once, then the same at every start: cookies and ciphertexts survive restarts.
    assert app.config["SECRET_KEY"] == app2.config["SECRET_KEY"]
    assert app.config["PASSERELLE_DATA_KEY"] == app2.config["PASSERELLE_DATA_KEY"]


@pytest.mark.parametrize("missing", ["SECRET_KEY", "PASSERELLE_DATA_KEY", "DATABASE_URL", "PASSERELLE_PUBLIC_URL",
                                     "PASSERELLE_AUDIT_KEY"])
def test_production_refuses_to_start_without_secrets(monkeypatch, missing):
    env = {"PASSERELLE_ENV": "production", "SECRET_KEY": "s" * 40,
           "PASSERELLE_DATA_KEY": "x9lTZ0gx7FQj0PYpTpPQtBfVwbBz3JIfIwFxqzB2CwQ=",
           "DATABASE_URL": "sqlite://", "PASSERELLE_PUBLIC_URL": "https://passerelle.example.org",
           "PASSERELLE_AUDIT_KEY": "k" * 64}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing)
    with pytest.raises(ConfigurationError, match=missing):
        create_app()


def test_production_sets_secure_cookies(monkeypatch):
    monkeypatch.setenv("PASSERELLE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PASSERELLE_DATA_KEY", "x9lTZ0gx7FQj0PYpTpPQtBfVwbBz3JIfIwFxqzB2CwQ=")
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.setenv("PASSERELLE_PUBLIC_URL", "https://passerelle.example.org")
    monkeypatch.setenv("PASSERELLE_AUDIT_KEY", "k" * 64)
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
