"""The deployment kit agrees with the app: .env.example, compose.yaml, the systemd units, the lock."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from web import config

ROOT = Path(__file__).resolve().parents[2]
# Settings a deployment does not set: derived, fixed by the app, or for tests and development.
NOT_FOR_DEPLOYMENTS = {
    "API_TITLE", "API_VERSION", "OPENAPI_VERSION", "OPENAPI_URL_PREFIX", "OPENAPI_JSON_PATH", "API_SPEC_OPTIONS",
    "SQLALCHEMY_DATABASE_URI", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE", "SESSION_COOKIE_SECURE",
    "REMEMBER_COOKIE_HTTPONLY", "REMEMBER_COOKIE_SECURE", "WTF_CSRF_TIME_LIMIT", "WTF_CSRF_ENABLED",
    "JOBS_IMMEDIATE", "LANGUAGES", "BABEL_DEFAULT_LOCALE", "BABEL_DEFAULT_TIMEZONE", "RATELIMIT_HEADERS_ENABLED",
    "DEVELOPMENT_PUBLIC_URL", "DEVELOPMENT_AUDIT_KEY",
}
OWN_NAMES = set(config.ENV_NAMES) | {"PASSERELLE_INSTANCE_PATH"}


def _settings_read() -> set[str]:
    """Every setting the code reads: the defaults, the contract's names, and app.config look-ups."""
    names = set(config.DEFAULTS) | set(config.ENV_NAMES) | {"PASSERELLE_INSTANCE_PATH"}
    pattern = re.compile(r"config(?:\[|\.get\()\"([A-Z][A-Z0-9_]+)\"")
    for folder in ("web", "services"):
        for path in (ROOT / folder).rglob("*.py"):
            names.update(pattern.findall(path.read_text()))
    return names


def _env_name(setting: str) -> str:
    return setting if setting in OWN_NAMES else "PASSERELLE_" + setting


def _example_variables() -> set[str]:
    text = (ROOT / "deploy" / ".env.example").read_text()
    return set(re.findall(r"^#?\s?([A-Z][A-Z0-9_]+)=", text, flags=re.M))


def test_every_variable_of_env_example_is_read_by_the_app():
    known = {_env_name(s) for s in _settings_read()}
    unknown = sorted(_example_variables() - known)
    assert not unknown, f"deploy/.env.example sets variables the app never reads: {unknown}"


def test_every_setting_a_deployment_may_set_is_in_env_example():
    wanted = {_env_name(s) for s in _settings_read() - NOT_FOR_DEPLOYMENTS}
    missing = sorted(wanted - _example_variables())
    assert not missing, f"add these to deploy/.env.example (commented with their default): {missing}"


def test_the_required_production_settings_are_set_uncommented():
    text = (ROOT / "deploy" / ".env.example").read_text()
    for setting in config.PRODUCTION_REQUIRED:
        assert re.search(rf"^{_env_name(setting)}=", text, flags=re.M), setting


def _console_scripts() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(project["project"]["scripts"]) | {"gunicorn"}  # gunicorn: a runtime dependency


def test_the_systemd_units_start_console_scripts_of_the_venv():
    for unit in (ROOT / "deploy" / "systemd").glob("*.service"):
        commands = re.findall(r"^ExecStart(?:Pre)?=(.+)$", unit.read_text(), flags=re.M)
        assert commands, unit.name
        for command in commands:
            program = shlex.split(command)[0]
            assert program.startswith("/opt/passerelle/venv/bin/"), (unit.name, program)
            assert Path(program).name in _console_scripts(), (unit.name, program)


def test_compose_has_the_whole_stack_wired_together():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"web", "worker", "nginx", "db", "redis"}
    for name in ("web", "worker"):
        service = services[name]
        assert service["env_file"] == "passerelle.env"
        assert service["environment"]["PASSERELLE_PROXIES"] == "1"
        assert "@db:5432/" in service["environment"]["DATABASE_URL"]
        assert service["environment"]["REDIS_URL"].startswith("redis://redis:")
        assert service["build"]["target"] == "app"
    assert "passerelle db upgrade" in " ".join(services["web"]["command"])
    assert services["worker"]["command"] == ["passerelle", "worker"]
    assert services["nginx"]["build"]["target"] == "static"
    assert services["db"]["image"].startswith("postgres:") and services["redis"]["image"].startswith("redis:")
    # Only nginx is published: the app, the database and Redis stay on the compose network.
    assert [n for n, s in services.items() if s.get("ports")] == ["nginx"]


def test_the_dockerfile_builds_from_the_lock_as_a_non_root_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM debian:bookworm-slim" in dockerfile
    assert "--require-hashes" in dockerfile and "requirements.lock" in dockerfile
    assert re.search(r"^USER passerelle$", dockerfile, flags=re.M)
    for library in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-dejavu-core"):
        assert library in dockerfile
    # The nginx image uses deploy/nginx.conf, the upstream alone rewritten.
    assert "COPY deploy/nginx.conf" in dockerfile and "server 127.0.0.1:8000;" in (
        ROOT / "deploy" / "nginx.conf").read_text()


def test_the_lock_pins_every_runtime_dependency_within_its_floor():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = dict(re.findall(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s\\]+)", (ROOT / "requirements.lock").read_text(),
                           flags=re.M))
    pins = {re.sub(r"\[.*\]", "", k).lower().replace("_", "-"): v for k, v in pins.items()}
    for line in project["project"]["dependencies"]:
        requirement = Requirement(line)
        name = requirement.name.lower().replace("_", "-")
        assert name in pins, f"{name} is not in requirements.lock: run tools/lock.sh"
        assert requirement.specifier.contains(Version(pins[name])), (
            f"requirements.lock pins {name}=={pins[name]}, outside {requirement.specifier}: run tools/lock.sh")
