"""Locust users of the load test: landlord staff, association referents, coordinators.

Started by `benchmarks/load/run.py`, which seeds the accounts and passes them in
`PASSERELLE_LOAD_ACCOUNTS` (a JSON file): each simulated person has her own account,
API token and loopback source address (127.0.0.x), so the per-address and per-account
login limits stay on, as in production. Every request is also written to
`PASSERELLE_LOAD_RECORDS` (CSV: time, name, milliseconds, ok) for the harness's figures.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import random
import re
import threading
import time
from http import cookiejar
from typing import Any

import pyotp
from locust import HttpUser, between, events, task
from requests.adapters import HTTPAdapter
from urllib3.poolmanager import PoolManager

ACCOUNTS: dict[str, list[dict[str, Any]]] = json.loads(open(os.environ["PASSERELLE_LOAD_ACCOUNTS"]).read())
_cursor = {role: itertools.count() for role in ACCOUNTS}
_lock = threading.Lock()
_records = open(os.environ["PASSERELLE_LOAD_RECORDS"], "a", newline="")  # noqa: SIM115 - closed at quit
_writer = csv.writer(_records)
# Production's cookies are Secure; TLS ends at the proxy, and this load generator speaks plain
# HTTP to 127.0.0.1: it sends them anyway, as a browser would over HTTPS.
cookiejar.DefaultCookiePolicy.return_ok_secure = lambda self, cookie, request: True  # type: ignore[method-assign]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
HOUSEHOLD_REASONS = ("too_far_from_school", "unsafe_area", "too_expensive", "too_small")


@events.request.add_listener
def _record(request_type: str, name: str, response_time: float, response_length: int,
            exception: Exception | None, **_kw: Any) -> None:
    with _lock:
        _writer.writerow([f"{time.time():.3f}", f"{request_type} {name}", f"{response_time:.1f}",
                          0 if exception else 1])


@events.quitting.add_listener
def _close(**_kw: Any) -> None:
    _records.close()


class SourceAddress(HTTPAdapter):
    """Connect from a given loopback address, so each person is a distinct client."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **kw: Any) -> None:
        self.poolmanager = PoolManager(num_pools=connections, maxsize=maxsize, block=block,
                                       source_address=(self.address, 0), **kw)


class Person(HttpUser):
    abstract = True
    role = ""
    wait_time = between(1, 3)

    def on_start(self) -> None:
        with _lock:
            pool = ACCOUNTS[self.role]
            self.account = pool[next(_cursor[self.role]) % len(pool)]
        self.client.mount("http://", SourceAddress(self.account["source"]))
        # As behind the TLS proxy: the app sees HTTPS (and checks the Referer as over HTTPS).
        self.client.headers["X-Forwarded-Proto"] = "https"
        self.client.headers["Referer"] = f"https://{self.host.split('://', 1)[1]}/"
        self.api = {"Authorization": f"Bearer {self.account['token']}"}
        page = self.client.get("/connexion", name="/connexion")
        token = CSRF.search(page.text)
        with self.client.post("/connexion", name="/connexion [POST]", allow_redirects=False,
                              data={"csrf_token": token.group(1) if token else "", "email": self.account["email"],
                                    "password": self.account["password"]}, catch_response=True) as r:
            if r.status_code != 302:
                r.failure(f"login: {r.status_code}")
                return
        if self.account.get("totp"):
            page = self.client.get("/connexion/code", name="/connexion/code")
            token = CSRF.search(page.text)
            with self.client.post("/connexion/code", name="/connexion/code [POST]", allow_redirects=False,
                                  data={"csrf_token": token.group(1) if token else "",
                                        "code": pyotp.TOTP(self.account["totp"]).now()},
                                  catch_response=True) as r:
                if r.status_code != 302:
                    r.failure(f"second factor: {r.status_code}")

    def api_get(self, path: str, name: str) -> Any:
        response = self.client.get(path, headers=self.api, name=name)
        return response.json() if response.ok else None


class LandlordStaff(Person):
    role = "landlord"
    weight = 2

    @task(4)
    def units_page(self) -> None:
        self.client.get("/bailleur/logements", name="/bailleur/logements")

    @task(2)
    def unit_page(self) -> None:
        page = self.api_get(f"/api/v1/units?page={random.randint(1, 5)}", "/api/v1/units")
        if page and page["items"]:
            unit = random.choice(page["items"])
            self.client.get(f"/bailleur/logements/{unit['id']}", name="/bailleur/logements/<id>")

    @task(2)
    def proposals_page(self) -> None:
        self.client.get("/bailleur/propositions", name="/bailleur/propositions")

    @task(2)
    def commission_decides(self) -> None:
        page = self.api_get("/api/v1/proposals?status=household_accepted&per_page=20",
                            "/api/v1/proposals?status=household_accepted")
        if not page or not page["items"]:
            return
        proposal = random.choice(page["items"])
        body: dict[str, Any] = ({"decision": "accept", "rank": 1} if random.random() < 0.7
                                else {"decision": "decline", "reason": "incomplete_file"})
        with self.client.post(f"/api/v1/proposals/{proposal['id']}/decision", json=body, headers=self.api,
                              name="/api/v1/proposals/<id>/decision [commission]", catch_response=True) as r:
            if r.status_code == 409:  # a colleague decided first: the right answer, not an error
                r.success()


class Referent(Person):
    role = "association"
    weight = 2

    @task(4)
    def households_page(self) -> None:
        self.client.get("/association/", name="/association/")

    @task(2)
    def household_page(self) -> None:
        page = self.api_get(f"/api/v1/households?page={random.randint(1, 5)}", "/api/v1/households")
        if page and page["items"]:
            household = random.choice(page["items"])
            self.client.get(f"/association/menages/{household['id']}", name="/association/menages/<id>")

    @task(2)
    def proposals_page(self) -> None:
        self.client.get("/association/propositions", name="/association/propositions")

    @task(2)
    def household_decides(self) -> None:
        page = self.api_get("/api/v1/proposals?status=pending&per_page=20", "/api/v1/proposals?status=pending")
        if not page or not page["items"]:
            return
        proposal = random.choice(page["items"])
        body: dict[str, Any] = ({"decision": "accept"} if random.random() < 0.7
                                else {"decision": "decline", "reason": random.choice(HOUSEHOLD_REASONS)})
        with self.client.post(f"/api/v1/proposals/{proposal['id']}/decision", json=body, headers=self.api,
                              name="/api/v1/proposals/<id>/decision [household]", catch_response=True) as r:
            if r.status_code == 409:
                r.success()


class Coordinator(Person):
    role = "coordinator"
    weight = 1

    @task(3)
    def runs_page(self) -> None:
        self.client.get("/coordination/", name="/coordination/")

    @task(1)
    def run_page(self) -> None:
        run = ACCOUNTS.get("runs", [{}])[0].get("id")
        if run:
            self.client.get(f"/coordination/rapprochements/{run}", name="/coordination/rapprochements/<id>")
            self.api_get(f"/api/v1/match-runs/{run}/proposals?per_page=50", "/api/v1/match-runs/<id>/proposals")
