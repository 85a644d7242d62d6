"""Run a function on untrusted input in a child process held to a memory, CPU and time bound.

Why: the spreadsheet parsers (openpyxl, calamine) build what a file describes. Pre-checks in
services/imports.py refuse the bombs we know (a claimed dimension, a cell far away, repeated
cells), but a file we have not thought of could still cost gigabytes or minutes, or make
calamine abort the whole process (a Rust allocation failure cannot be caught). In a child,
the worst such a file can do is end that child: the web worker answers a clear refusal and
goes on serving.

What it bounds: resources, not what the code may do. The child runs our own code as the same
user; it is not a sandbox against code execution.

The child comes from a fork server (started once, the parsers preloaded), never from a fork of
the web worker itself: forking a threaded process can copy a lock held by another thread, and
the child would carry the worker's database connections and secrets. Results come back over a
pipe; a `ServiceError` the function raises comes back as itself.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import resource
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext, SpawnContext
from typing import Any, TypeVar

from services.errors import ServiceError

log = logging.getLogger(__name__)

T = TypeVar("T")

# Modules the fork server imports once, so a child starts in milliseconds and reads no module
# from disk while it parses.
PRELOAD = ["services.imports", "services.photos", "openpyxl", "python_calamine", "olefile", "defusedxml.ElementTree",
           "PIL.Image", "PIL.ImageOps"]


class Exhausted(Exception):
    """The child went past a bound (memory, CPU, time) or died: the input is refused."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@functools.cache
def _context() -> ForkServerContext | SpawnContext:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        return context
    return multiprocessing.get_context("spawn")  # Windows: no fork server


def _child(conn: Connection, func: Callable[..., Any], args: tuple[Any, ...],
           memory_bytes: int, cpu_seconds: int) -> None:
    # The limits apply to this child only: the fork server and the web worker keep theirs.
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    try:
        outcome: tuple[str, Any] = ("ok", func(*args))
    except ServiceError as exc:
        outcome = ("refused", exc)
    except MemoryError:
        outcome = ("exhausted", "memory")
    except Exception:  # a parser's bug on a strange file: the parent logs it and refuses the file
        outcome = ("crashed", traceback.format_exc())
    try:
        conn.send(outcome)
    except MemoryError:  # the result itself does not fit in the bound
        conn.send(("exhausted", "memory"))
    conn.close()


def run(func: Callable[..., T], *args: Any, memory_bytes: int, cpu_seconds: int, timeout: float) -> T:
    """``func(*args)`` in a bounded child; its result, or the `ServiceError` it raised.

    `func` and its arguments must be picklable (a module-level function).

    :raise Exhausted: the child ran out of memory, CPU or time, was killed, or crashed.
    """
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, func, args, memory_bytes, cpu_seconds), daemon=True)
    process.start()
    sender.close()  # the child holds the only sending end: its death reads as end of file
    try:
        if not receiver.poll(timeout):
            raise Exhausted("time")
        try:
            kind, value = receiver.recv()
        except EOFError:
            raise Exhausted("killed") from None  # SIGXCPU, SIGKILL, an abort: no answer
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiver.close()
    if kind == "ok":
        return value  # type: ignore[no-any-return]
    if kind == "refused":
        raise value
    if kind == "crashed":
        log.error("bounded child crashed in %s:\n%s", getattr(func, "__qualname__", func), value)
    raise Exhausted(kind if kind == "crashed" else value)
