"""A file is parsed in a bounded child: what it costs ends there (issue 13, finding 4).

Before, parsing ran in the web worker: a file the pre-checks did not foresee could take its
memory or CPU, or make calamine abort the whole process. Each test below fails on that code:
the caller would run out of memory, spin, or die with the child.
"""

from __future__ import annotations

import logging
import os
import time

import pytest

from services import bounded, imports
from services.errors import ValidationError
from services.imports import Column
from tests.services.test_spreadsheet_formats import _ods, _text

BOUNDS = {"memory_bytes": 512 * 1024 * 1024, "cpu_seconds": 2, "timeout": 10.0}


# The functions a child runs: module level, so that they travel by name.
def allocate(size: int) -> int:
    return len(bytearray(size))


def spin() -> None:
    while True:
        pass


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def abort() -> None:
    os.abort()  # what a Rust allocation failure in calamine does


def refuse() -> None:
    raise ValidationError("Ce fichier XLSX est illisible.", field="file")


def crash() -> None:
    raise KeyError("a parser's bug")


def pid() -> int:
    return os.getpid()


def test_the_function_runs_in_another_process_and_its_result_comes_back():
    assert bounded.run(allocate, 1000, **BOUNDS) == 1000
    assert bounded.run(pid, **BOUNDS) != os.getpid()


def test_a_child_needing_more_memory_than_its_bound_is_refused():
    with pytest.raises(bounded.Exhausted) as refused:
        bounded.run(allocate, 2 * 1024 * 1024 * 1024, **BOUNDS)
    assert refused.value.reason == "memory"


def test_a_child_spinning_past_its_cpu_bound_is_killed():
    started = time.monotonic()
    with pytest.raises(bounded.Exhausted) as refused:
        bounded.run(spin, **{**BOUNDS, "cpu_seconds": 1})
    assert refused.value.reason == "killed"
    assert time.monotonic() - started < BOUNDS["timeout"]  # the CPU bound, not the wall clock, ended it


def test_a_child_waiting_past_its_time_bound_is_killed():
    with pytest.raises(bounded.Exhausted) as refused:
        bounded.run(sleep, 60, **{**BOUNDS, "timeout": 0.5})
    assert refused.value.reason == "time"


def test_a_child_that_aborts_takes_only_itself_down():
    with pytest.raises(bounded.Exhausted) as refused:
        bounded.run(abort, **BOUNDS)
    assert refused.value.reason == "killed"
    assert bounded.run(allocate, 10, **BOUNDS) == 10  # and the next file is read as usual


def test_a_refusal_raised_in_the_child_reaches_the_caller_as_itself():
    with pytest.raises(ValidationError) as refused:
        bounded.run(refuse, **BOUNDS)
    assert refused.value.field == "file" and str(refused.value) == "Ce fichier XLSX est illisible."


def test_a_parsers_bug_is_logged_with_its_traceback_and_the_file_refused(caplog):
    with caplog.at_level(logging.ERROR, logger="services.bounded"), pytest.raises(bounded.Exhausted) as refused:
        bounded.run(crash, **BOUNDS)
    assert refused.value.reason == "crashed"
    assert "KeyError: \"a parser's bug\"" in caplog.text


def test_calamine_past_the_pre_checks_ends_its_child_not_the_caller():
    # The pre-check (imports._ods_extent) refuses this file; were it to miss one like it,
    # calamine would build 50 million cells: past the bound, the child dies, the caller lives.
    bomb = _ods(f'<table:table-row table:number-rows-repeated="50000">{_text("x", 1000)}</table:table-row>')
    assert len(bomb) < 1000
    with pytest.raises(bounded.Exhausted):
        bounded.run(imports._calamine_cells, bomb, "ODS", memory_bytes=imports.PARSE_MEMORY,
                    cpu_seconds=imports.PARSE_CPU_SECONDS, timeout=imports.PARSE_TIMEOUT)


COLUMNS = (Column("name", ("nom",), required=True),)


def test_read_table_parses_in_the_bounded_child(monkeypatch):
    data = b"nom\n" + b"Gare\n" * imports.MAX_ROWS
    assert len(imports.read_table("a.csv", data, COLUMNS).rows) == imports.MAX_ROWS
    # A bound no child can meet (a millisecond for 5,000 lines): the file is refused, in her words.
    monkeypatch.setattr(imports, "PARSE_TIMEOUT", 0.001)
    with pytest.raises(ValidationError) as refused:
        imports.read_table("a.csv", data, COLUMNS)
    assert refused.value.field == "file" and "trop de mémoire ou de temps" in str(refused.value)


def test_a_csv_wider_than_the_limit_is_refused_at_its_first_wide_line():
    data = b"nom\n" + b";".join([b"x"] * (imports.MAX_COLUMNS + 1)) + b"\n"
    with pytest.raises(ValidationError) as refused:
        imports.read_table("a.csv", data, COLUMNS)
    assert f"plus de {imports.MAX_COLUMNS} colonnes" in str(refused.value)


def test_a_csv_of_millions_of_blank_lines_is_read_in_little_memory(monkeypatch):
    # 8 MB of line breaks, a list each: 450 MB. One shared list for all of them fits in 400.
    monkeypatch.setattr(imports, "PARSE_MEMORY", 400 * 1024 * 1024)
    table = imports.read_table("a.csv", b"nom\nGare\n" + b"\n" * 8_000_000 + b"Lille\n", COLUMNS)
    assert [(r.line, r.cells["name"]) for r in table.rows] == [(2, "Gare"), (8_000_003, "Lille")]


def test_a_csv_longer_than_the_limit_is_refused():
    data = b"nom\n" + b"x\n" * (imports.MAX_ROWS + 1)
    with pytest.raises(ValidationError) as refused:
        imports.read_table("a.csv", data, COLUMNS)
    assert f"{imports.MAX_ROWS} lignes" in str(refused.value)
