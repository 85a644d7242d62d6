"""Realistic demo data: organisations and accounts of a Hauts-de-France / Île-de-France partnership."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from models import Organisation
from services import accounts


@dataclass(frozen=True)
class DemoAccount:
    role: str
    email: str
    password: str
    organisation: str


ORGANISATIONS = [
    ("landlord", "Lille Métropole Habitat", ["59"]),
    ("landlord", "Pas-de-Calais Habitat", ["62", "80"]),
    ("landlord", "Paris Habitat", ["75", "93"]),
    ("association", "Solidarité Femmes Lille", ["59", "62"]),
    ("association", "Association Amiénoise Solidarité Femmes", ["80", "62"]),
    ("association", "ESPEREM Paris", ["75", "93"]),
    ("coordinator", "Coordination régionale Pass'Logement", ["59", "62", "80", "75", "93"]),
    ("committee", "Comité de suivi Hauts-de-France / Île-de-France", ["59", "62", "80", "75", "93"]),
]

# Passwords of the demo only: printed by `passerelle demo`, never used in production.
ACCOUNTS = [
    DemoAccount("landlord", "bailleur@lmh.demo", "demo-bailleur-lille", "Lille Métropole Habitat"),
    DemoAccount("landlord", "bailleur@pdc-habitat.demo", "demo-bailleur-artois",
                "Pas-de-Calais Habitat"),
    DemoAccount("landlord", "bailleur@paris-habitat.demo", "demo-bailleur-paris", "Paris Habitat"),
    DemoAccount("association", "referente@sf-lille.demo", "demo-referente-lille",
                "Solidarité Femmes Lille"),
    DemoAccount("association", "referente@sf-amiens.demo", "demo-referente-amiens",
                "Association Amiénoise Solidarité Femmes"),
    DemoAccount("association", "referente@esperem.demo", "demo-referente-paris", "ESPEREM Paris"),
    DemoAccount("coordinator", "coordination@passerelle.demo", "demo-coordination",
                "Coordination régionale Pass'Logement"),
    DemoAccount("committee", "comite@passerelle.demo", "demo-comite-de-suivi",
                "Comité de suivi Hauts-de-France / Île-de-France"),
    DemoAccount("admin", "admin@passerelle.demo", "demo-administration",
                "Coordination régionale Pass'Logement"),
]


def load(session: so.Session) -> bool:
    """Load the demo data unless some organisation already exists; True if it was loaded."""
    if session.scalar(sa.select(sa.func.count()).select_from(Organisation)):
        return False
    orgs = {}
    for kind, name, departments in ORGANISATIONS:
        orgs[name] = accounts.create_organisation(
            session, kind=kind, name=name, departments=departments,
            contact_email=f"contact@{name.split()[0].lower()}.demo",
        )
    for account in ACCOUNTS:
        accounts.create_user(session, email=account.email, role=account.role,
                             password=account.password, organisation=orgs[account.organisation])
    return True
