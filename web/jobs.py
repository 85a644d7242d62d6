"""The background-job queue (huey), created in one place from the app's settings.

- `REDIS_URL` set: a `RedisHuey` shared by every web process and by `passerelle worker`
  consumers on any machine.
- otherwise: a `SqliteHuey` file in the instance folder; `passerelle serve` and
  `passerelle demo` run a consumer in their own process (threads), so the embedded
  default needs no other service.
- `JOBS_IMMEDIATE` (tests): tasks run synchronously, in the process that enqueues them.

Jobs never depend on a Flask request: each task receives the app it belongs to through
its closure and opens its own database session from the app's session factory.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context
from flask_babel import lazy_gettext as _l
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer

log = logging.getLogger(__name__)
# The logger of the audit trail's checkpoints: keep its lines (ship them off the database's host).
AUDIT_LOGGER = "passerelle.audit"


class Jobs:
    """The app's queue and the tasks registered on it."""

    def __init__(self, huey: Huey) -> None:
        self.huey = huey
        self.tasks: dict[str, Any] = {}

    def register(self, name: str, func: Callable[..., Any]) -> None:
        """Declare a task (a plain function) under a stable name."""
        self.tasks[name] = self.huey.task(name=name)(func)

    def enqueue(self, name: str, *args: Any) -> None:
        """Queue a task; in immediate mode it runs now, in this thread."""
        self.tasks[name](*args)

    def enqueue_after_commit(self, session: Any, name: str, *args: Any,
                             on_failure: Callable[[], None] | None = None) -> None:
        """Queue a task once `session`'s transaction is committed (services.on_commit).

        Never before: a consumer could take the job before its rows exist. If the queue
        does not take it (Redis down, the queue file unwritable), `on_failure` undoes what
        waited for the job (in its own transaction) and the request answers 503.
        """
        from services import on_commit
        from services.errors import Unavailable

        def go() -> None:
            try:
                self.enqueue(name, *args)
            except Exception as exc:  # noqa: BLE001 - whatever the queue's error, the job is not queued
                log.error("job %s%r not queued: %s: %s", name, args, type(exc).__name__, exc)
                if on_failure is not None:
                    on_failure()
                raise Unavailable(_l("La file des tâches de calcul ne répond pas : rien n'a été lancé. "
                                     "Réessayez dans quelques minutes.")) from exc

        on_commit.on_commit(session, go)

    def is_pending(self, name: str, *args: Any) -> bool:
        """Whether a task with these arguments waits in the queue (not yet taken by a consumer)."""
        return any(t.name == name and tuple(t.args) == args for t in self.huey.pending())

    def pending_count(self) -> int:
        """Tasks waiting in the queue (not yet taken by a consumer)."""
        return int(self.huey.pending_count())


def create_huey(app: Flask) -> Huey:
    """The huey instance the app's settings call for."""
    immediate = bool(app.config.get("JOBS_IMMEDIATE"))
    name = str(app.config.get("JOBS_QUEUE_NAME") or "passerelle")
    if app.config.get("REDIS_URL"):
        return RedisHuey(name, url=app.config["REDIS_URL"], immediate=immediate, results=False)
    path = app.config.get("JOBS_SQLITE_PATH") or str(Path(app.instance_path) / "jobs.sqlite")
    return SqliteHuey(name, filename=path, immediate=immediate, results=False)


def init_app(app: Flask) -> Jobs:
    """Create the app's queue and register every task on it."""
    # The tasks keep the app itself, never the `current_app` proxy (jobs run without a context).
    app = getattr(app, "_get_current_object", lambda: app)()
    jobs = Jobs(create_huey(app))

    def run_match(run_id: int, attempt: int) -> None:
        _outside_request(_run_match, app, run_id, attempt)

    def snapshot_solve(solve_id: int) -> None:
        _outside_request(_snapshot_solve, app, solve_id)

    jobs.register("run_match", run_match)
    jobs.register("snapshot_solve", snapshot_solve)
    _register_periodic(app, jobs)
    app.extensions["jobs"] = jobs
    return jobs


def _register_periodic(app: Flask, jobs: Jobs) -> None:
    """The housekeeping the platform needs on a schedule (run by consumers started with periodic=True).

    Expiry is what makes "silence is a refusal" true without anyone's action; the outbox is
    how e-mails leave; the nightly purge is the retention period kept. All are safe if two
    consumers run them at once.
    """
    from web.cli_proposals import expire_overdue, send_queued

    def expire() -> None:
        with app.app_context():
            log.info("%d proposal(s) expired", expire_overdue(app))

    def send() -> None:
        with app.app_context():
            sent, failed = send_queued(app)
            if sent or failed:
                log.info("%d e-mail(s) sent, %d failed", sent, failed)

    def stale_runs() -> None:
        from services import runs

        with app.app_context():
            db = app.extensions["db"].sessionmaker()
            try:
                runs.fail_stale_runs(db, float(app.config.get("RUN_STALE_SECONDS") or 600))
                db.commit()
            finally:
                db.close()

    def purge() -> None:
        from services import privacy

        with app.app_context():
            db = app.extensions["db"].sessionmaker()
            try:
                months = int(app.config.get("PURGE_AFTER_MONTHS") or privacy.DEFAULT_PURGE_AFTER_MONTHS)
                grace = int(app.config.get("FOLLOWUP_GRACE_MONTHS") or privacy.DEFAULT_FOLLOWUP_GRACE_MONTHS)
                erased = privacy.purge(db, months, followup_grace_months=grace)
                db.commit()
                log.info("retention: %d household(s) erased", len(erased))
            finally:
                db.close()

    def freeze_quarters() -> None:
        from services import snapshots

        with app.app_context():
            db = app.extensions["db"].sessionmaker()
            try:
                after = int(app.config.get("QUARTER_FREEZE_AFTER_DAYS") or snapshots.DEFAULT_FREEZE_AFTER_DAYS)
                made = snapshots.freeze_due(db, snapshots.committee_scopes(db), after_days=after,
                                            **snapshots.settings(app.config))
                db.commit()
                log.info("%d quarter snapshot(s) frozen", len(made))
            finally:
                db.close()

    def reminders() -> None:
        from services import followup, worklists
        from web.config import public_url

        with app.app_context():
            db = app.extensions["db"].sessionmaker()
            try:
                sent = worklists.send_reminders(db, app.config["STEP_DELAY_DAYS"],
                                                int(app.config["REMINDER_DAYS_BEFORE"]),
                                                base_url=public_url())
                # The follow-up checkpoints after a lease (issue 18), by the same job.
                sent += followup.send_reminders(db, int(app.config["REMINDER_DAYS_BEFORE"]))
                db.commit()
                log.info("%d reminder(s) sent", sent)
            finally:
                db.close()

    def audit_checkpoint() -> None:
        from services import audit

        with app.app_context():
            db = app.extensions["db"].sessionmaker()
            try:
                head = audit.checkpoint(db)
            finally:
                db.close()
            if head is not None:
                # To the application log, outside the database: a writer who deletes the trail's
                # last rows cannot delete this line (`passerelle audit verify --checkpoints`).
                logging.getLogger(AUDIT_LOGGER).info(head.line())

    # Before the purge (01:40): a quarter is frozen before its rows can be erased.
    jobs.tasks["freeze_quarters"] = jobs.huey.periodic_task(crontab(minute="20", hour="1"),
                                                            name="freeze_quarters")(freeze_quarters)
    jobs.tasks["purge"] = jobs.huey.periodic_task(crontab(minute="40", hour="1"), name="purge")(purge)
    # Every hour: each territory's proposals expire in the hour after its own midnight
    # (Paris, Guadeloupe, Réunion... see services.clock); the query is cheap.
    jobs.tasks["expire_proposals"] = jobs.huey.periodic_task(crontab(minute="10"),
                                                             name="expire_proposals")(expire)
    # Every hour too (each territory's day starts at its own midnight); a reminder is sent once.
    jobs.tasks["send_reminders"] = jobs.huey.periodic_task(crontab(minute="30"), name="send_reminders")(reminders)
    jobs.tasks["send_outbox"] = jobs.huey.periodic_task(crontab(), name="send_outbox")(send)
    # The only place stale runs are failed (no page does it): every minute, so a run whose
    # job died frees its departments within a minute of RUN_STALE_SECONDS.
    jobs.tasks["fail_stale_runs"] = jobs.huey.periodic_task(crontab(), name="fail_stale_runs")(stale_runs)
    # Every ten minutes: only the rows after the last checkpoint could be deleted unseen.
    jobs.tasks["audit_checkpoint"] = jobs.huey.periodic_task(crontab(minute="*/10"),
                                                             name="audit_checkpoint")(audit_checkpoint)


_init_lock = threading.Lock()


def _run_match(app: Flask, run_id: int, attempt: int) -> None:
    from services import runs

    # An app context (not a request): settings, translations; the session is the job's own.
    with app.app_context():
        runs.execute_run(app.extensions["db"].sessionmaker, run_id, attempt, runs.RunSettings.from_config(app.config))


def _snapshot_solve(app: Flask, solve_id: int) -> None:
    from flask_babel import force_locale

    from services import snapshot_solves

    with app.app_context():
        snapshot_solves.execute(app.extensions["db"].sessionmaker, solve_id, force_locale)


def enqueue_snapshot_solve(app: Flask, session: Any, solve: Any) -> None:
    """Queue a committee solve after the commit; if the queue refuses it, the solve fails (503)."""
    from services import snapshot_solves

    app = getattr(app, "_get_current_object", lambda: app)()
    solve_id = solve.id

    def give_up() -> None:
        with app.extensions["db"].sessionmaker() as db:
            snapshot_solves.fail(db, solve_id, "not_queued")
            db.commit()

    get_jobs(app).enqueue_after_commit(session, snapshot_solves.JOB_NAME, solve_id, on_failure=give_up)


def _outside_request(func: Callable[..., Any], *args: Any) -> None:
    """Run a job as a worker would, even in immediate mode: never inside the caller's request.

    In immediate mode the job would otherwise see the request's context (its user, its
    session, its log fields); a thread of its own starts with none, and is waited for.
    """
    if not has_request_context():
        func(*args)
        return
    errors: list[BaseException] = []

    def target() -> None:
        try:
            func(*args)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target, name="job-immediate")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def run_liveness(app: Flask) -> Any:
    """How a run start tells a dead match job (services.runs.Liveness), from the settings.

    A running job writes its heartbeat every RUN_HEARTBEAT_SECONDS: four missed beats
    (RUN_DEAD_AFTER_SECONDS to say otherwise) and its worker is taken for dead.
    """
    from services import runs

    jobs = get_jobs(app)
    after = app.config.get("RUN_DEAD_AFTER_SECONDS")
    dead_after = float(after) if after else 4 * float(app.config.get("RUN_HEARTBEAT_SECONDS") or 15)

    def job_pending(run_id: int, attempt: int) -> bool:
        try:
            return jobs.is_pending("run_match", run_id, attempt)
        except Exception:  # noqa: BLE001 - a queue we cannot read: we cannot tell, so not dead
            log.warning("job queue unreadable: queued runs not checked", exc_info=True)
            return True

    return runs.Liveness(dead_after_s=dead_after, job_pending=job_pending)


def enqueue_run(app: Flask, session: Any, run: Any) -> None:
    """Queue a run's job after the commit; if the queue refuses it, the run fails (503)."""
    from services import runs

    app = getattr(app, "_get_current_object", lambda: app)()
    run_id, attempt = run.id, run.attempt
    get_jobs(app).enqueue_after_commit(
        session, "run_match", run_id, attempt,
        on_failure=lambda: runs.fail_unqueued(app.extensions["db"].sessionmaker, run_id, attempt))


def get_jobs(app: Flask) -> Jobs:
    """The queue of an app, created on first use."""
    app = getattr(app, "_get_current_object", lambda: app)()
    with _init_lock:
        if "jobs" not in app.extensions:
            init_app(app)
    jobs: Jobs = app.extensions["jobs"]
    return jobs


class EmbeddedConsumer(Consumer):  # type: ignore[misc]
    """A consumer that lives in a web process: threads only, the server keeps its signals."""

    def _set_signal_handlers(self) -> None:
        # Ctrl+C must still stop the web server; the worker threads are daemons.
        pass


def start_consumer(app: Flask, *, workers: int = 1, embedded: bool = True,
                   periodic: bool = True) -> Consumer:
    """Start a consumer of the app's queue; embedded ones run in background threads.

    `periodic`: this consumer also runs the scheduled housekeeping (expiry, outbox, stale runs).
    """
    jobs = get_jobs(app)
    cls = EmbeddedConsumer if embedded else Consumer
    consumer = cls(jobs.huey, workers=workers, worker_type="thread", periodic=periodic,
                   initial_delay=0.1, max_delay=1.0, check_worker_health=True)
    if embedded:
        consumer.start()
    return consumer


def start_embedded_consumer(app: Flask) -> Consumer | None:
    """The in-process consumer of `serve`/`demo`: only on the embedded queue (no REDIS_URL)."""
    if app.config.get("REDIS_URL") or app.config.get("JOBS_IMMEDIATE"):
        return None
    return start_consumer(app, workers=int(app.config.get("JOBS_EMBEDDED_WORKERS") or 1))


def stop_consumer(consumer: Consumer) -> None:
    """Stop an embedded consumer, waiting for the job under way."""
    consumer.stop(graceful=True)


def run_consumer_forever(app: Flask, workers: int, *, periodic: bool = True) -> None:
    """Run a consumer in the foreground until SIGINT/SIGTERM (the `worker` command)."""
    consumer = start_consumer(app, workers=workers, embedded=False, periodic=periodic)
    consumer.run()
