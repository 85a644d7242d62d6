"""What a browser would send back from a page's form: every field with the value it shows."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any


class _Form(HTMLParser):
    def __init__(self, action: str | None) -> None:
        super().__init__()
        self.action, self.inside, self.fields = action, False, []  # type: ignore[var-annotated]
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = self.action is None or a.get("action") == self.action or (
                self.action == "" and not a.get("action"))
        if not self.inside:
            return
        if tag == "option" and self._select and "selected" in a:  # an option has no name of its own
            self.fields.append((self._select, a.get("value") or ""))
            return
        if not a.get("name"):
            return
        name = a["name"] or ""
        if tag == "input" and a.get("type") not in ("submit", "button", "reset", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((name, a.get("value") or ""))
        elif tag == "select":
            self._select = name
        elif tag == "textarea":
            self._textarea = name
            self.fields.append((name, ""))

    def handle_data(self, data: str) -> None:
        if self._textarea:
            name, value = self.fields[-1]
            if not value:  # a browser drops the newline right after <textarea>
                data = data.removeprefix("\r").removeprefix("\n")
            self.fields[-1] = (name, value + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_fields(page: str, action: str | None = "") -> dict[str, Any]:
    """The fields of the page's form posting to `action` ("" = to the page itself), as sent:
    a name given several times (ticked boxes) maps to the list of its values."""
    parser = _Form(action)
    parser.feed(page)
    data: dict[str, Any] = {}
    for name, value in parser.fields:
        if name in data:
            data[name] = [*data[name], value] if isinstance(data[name], list) else [data[name], value]
        else:
            data[name] = value
    return data
