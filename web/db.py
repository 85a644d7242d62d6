"""The database engine of the app, and one session per request (flaskr's get_db, for SQLAlchemy)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, current_app, g, request

from services import on_commit

API_PREFIX = "/api/"


class Database:
    """An engine and the session factory bound to it."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.sessionmaker = so.sessionmaker(self.engine, expire_on_commit=False)

    def dispose(self) -> None:
        self.engine.dispose()


def create_engine(url: str, **kw: Any) -> sa.Engine:
    """An engine with the settings each backend needs.

    ``hide_parameters``: a statement's parameters (a household's income, an e-mail, a token's
    hash) never appear in an error's text, hence never in a log or a traceback.
    """
    kw.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30}, **kw)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # SQLite ignores foreign keys unless asked, and WAL lets the pages read
            # while a match run writes.
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url and url != "sqlite://":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True, **kw)


def init_app(app: Flask) -> None:
    """Create the engine, commit the API's requests at one point, close the session at teardown."""
    app.extensions["db"] = Database(app.config["DATABASE_URL"])
    app.teardown_appcontext(close_session)
    view = app.dispatch_request

    def dispatch_request() -> Any:
        """One commit point per API request (as Indico's RH.process): the view returned a
        success, its work is committed here, still inside the request's error handling (a
        commit that fails answers like any error); an error answer or an exception leaves
        it to the teardown's rollback. Pages still commit by hand for now.

        Then what the committed work asked to do after its commit (services.on_commit: job
        enqueues, e-mails): a failure there answers through the error handlers (a queue
        that is down: 503), the committed rows stay."""
        answer = view()
        session = g.get("db_session")
        if not request.path.startswith(API_PREFIX):
            if session is not None:
                on_commit.run_committed(session)
            return answer
        response = app.make_response(answer)
        if session is not None and response.status_code < 400:
            session.commit()
        if session is not None:
            on_commit.run_committed(session)
        return response

    app.dispatch_request = dispatch_request  # type: ignore[method-assign]


def get_db() -> Database:
    """The app's database."""
    db: Database = current_app.extensions["db"]
    return db


def get_session() -> so.Session:
    """The session of the current request (or CLI command), opened on first use."""
    if "db_session" not in g:
        g.db_session = get_db().sessionmaker()
    session: so.Session = g.db_session
    return session


def close_session(exc: BaseException | None = None) -> None:
    """Roll back whatever the request did not commit, and close its session."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
