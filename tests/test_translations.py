"""The English catalogue: every French msgid translated, placeholders kept, compiled, served on `?lang=en`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask

CATALOGUE = Path(__file__).resolve().parent.parent / "web" / "translations" / "en" / "LC_MESSAGES"
# Named %-placeholders with their conversion (%(n)d, %(km).0f), literal %%, and {braces}.
PLACEHOLDER = re.compile(r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%%|\{[^{}]*\}")


def _messages() -> list[Message]:
    with (CATALOGUE / "messages.po").open("rb") as fh:
        return [m for m in read_po(fh) if m.id]


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def _pairs(message: Message) -> list[tuple[str, str]]:
    """(msgid, msgstr) to compare: each plural form against the plural msgid (the singular may drop %(num)d)."""
    if isinstance(message.id, (list, tuple)):
        singular, plural = message.id
        strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
        return [(singular if i == 0 else plural, s) for i, s in enumerate(strings)]
    return [(message.id, message.string)]


def test_catalogue_is_not_empty() -> None:
    assert len(_messages()) > 100


def test_no_duplicate_entry() -> None:
    # read_po keeps the last of two identical msgids silently; msgfmt refuses the file.
    text = (CATALOGUE / "messages.po").read_text(encoding="utf-8")
    entries = len(re.findall(r"^msgid ", text, flags=re.M)) - 1  # less the header
    assert entries == len(_messages()), "duplicate msgid in messages.po: run tools/update_translations.sh"


def test_every_message_is_translated_with_the_same_placeholders() -> None:
    problems = []
    for message in _messages():
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        for msgid, msgstr in _pairs(message):
            if not msgstr or not msgstr.strip():
                problems.append(f"untranslated: {msgid!r}")
            elif _placeholders(msgid) != _placeholders(msgstr) and not (
                    # English singular may say "one" where French repeats the number.
                    isinstance(message.id, (list, tuple)) and msgid == message.id[0]
                    and set(_placeholders(msgstr)) <= set(_placeholders(message.id[1]))):
                problems.append(f"placeholders differ: {msgid!r} -> {msgstr!r}")
            elif msgid.count("\n") != msgstr.count("\n"):
                problems.append(f"line breaks differ: {msgid!r}")
    assert not problems, "\n".join(problems)


def test_plural_entries_have_two_forms() -> None:
    for message in _messages():
        if isinstance(message.id, (list, tuple)):
            assert isinstance(message.string, (list, tuple)) and len(message.string) == 2, message.id


def test_compiled_catalogue_matches_the_po() -> None:
    with (CATALOGUE / "messages.mo").open("rb") as fh:
        compiled = {m.id if isinstance(m.id, str) else tuple(m.id): m.string for m in read_mo(fh) if m.id}
    for message in _messages():
        key = message.id if isinstance(message.id, str) else tuple(message.id)
        assert key in compiled, f"not compiled (run tools/update_translations.sh): {message.id!r}"
        expected = message.string if isinstance(message.string, str) else tuple(message.string)
        got = compiled[key] if isinstance(compiled[key], str) else tuple(compiled[key])
        assert got == expected, f"stale .mo for {message.id!r}"


@pytest.mark.parametrize(("url", "shown", "absent"), [
    ("/connexion?lang=en", "Log in", "Se connecter"),
    ("/connexion", "Se connecter", "Log in"),
])
def test_login_page_language(app: Flask, url: str, shown: str, absent: str) -> None:
    client = app.test_client()  # a fresh client each time: the chosen language sticks to the session
    response = client.get(url, headers={"Accept-Language": "fr"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert shown in html
    assert absent not in html
