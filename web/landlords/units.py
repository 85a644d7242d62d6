"""A landlord's units: list, create, edit, publish, withdraw, import a spreadsheet.

Views are thin: the form gives text, `services.units` checks every rule and changes the
unit, the view commits once and redirects (or shows the errors next to their fields).
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms.fields.choices import SelectChoice

from matching import geo
from models import Organisation, User
from models.housing import UNIT_STATUSES
from services import communes, photos, proposals, shelter, units
from services.errors import Conflict, NotFound, ValidationError
from services.imports import ImportRejected
from web.config import public_url
from web.db import get_session
from web.extensions import limiter
from web.landlords import bp
from web.landlords.forms import ActionForm, FilterForm, ImportForm, UnitForm
from web.landlords.photos import PhotoActionForm, PhotoForm


def _user() -> User:
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    return user


def _landlord() -> Organisation:
    organisation = _user().organisation
    if organisation is None:  # pragma: no cover - a landlord account always has one
        abort(404)
    return organisation


def _unit(unit_id: str, *, for_update: bool = False):  # type: ignore[no-untyped-def]
    """The landlord's own unit, or 404 exactly as for a unit that does not exist."""
    try:
        return units.get_unit(get_session(), _landlord(), unit_id, for_update=for_update)
    except NotFound:
        abort(404)


def _context(**kw: Any) -> dict[str, Any]:
    kw.setdefault("status_labels", units.STATUS_LABELS)
    kw.setdefault("field_labels", units.FIELD_LABELS)
    kw.setdefault("typology", units.typology)
    kw.setdefault("describe_commune", communes.describe)
    return kw


@bp.route("/logements")
def unit_list():  # type: ignore[no-untyped-def]
    """The landlord's units, filtered by commune, typology and status, page by page."""
    db = get_session()
    landlord = _landlord()
    form = FilterForm(request.args)
    choices = units.landlord_communes(db, landlord)
    form.commune.choices = [SelectChoice("", _("Toutes"))] + [SelectChoice(c, name) for c, name in choices]
    commune = form.commune.data if form.commune.data in dict(choices) else None
    rooms = int(form.rooms.data) if form.rooms.data in {str(r) for r in units.TYPOLOGIES} else None
    status = form.status.data if form.status.data in UNIT_STATUSES else None
    page = units.list_units(db, landlord, commune=commune, rooms=rooms, status=status,
                            page=request.args.get("page", 1, type=int),
                            per_page=request.args.get("per_page", 25, type=int))
    filters = {k: v for k, v in (("commune", commune), ("rooms", rooms), ("status", status)) if v}
    return render_template("landlords/units.html", **_context(
        page=page, form=form, filters=filters, filtered=bool(filters), action_form=ActionForm(),
        drafts=[u for u in page.items if u.status == "draft"]))


def _suggest_communes(form: UnitForm) -> UnitForm:
    """The commune field proposes matching communes as she types (htmx fills a datalist)."""
    form.commune.render_kw = {**(form.commune.render_kw or {}), "list": "communes-suggestions",
                              "hx-get": url_for(".commune_suggestions"), "hx-trigger": "input changed delay:300ms",
                              "hx-target": "#communes-suggestions", "hx-swap": "innerHTML"}
    return form


@bp.route("/communes")
def commune_suggestions():  # type: ignore[no-untyped-def]
    """Up to 10 communes for what is typed (code or name): options of the form's datalist."""
    text = request.args.get("commune", "").strip()[:80]
    found = geo.search_communes(text, limit=10) if len(text) >= 2 else []
    return render_template("landlords/_commune_options.html", communes=found,
                           department_name=geo.department_name)


@bp.route("/logements/nouveau", methods=["GET", "POST"])
def unit_new():  # type: ignore[no-untyped-def]
    """Describe a new unit (it starts as a draft)."""
    form = _suggest_communes(UnitForm())
    general: list[str] = []
    if form.validate_on_submit():
        db = get_session()
        try:
            unit = units.create_unit(db, _landlord(), form.unit_data(), actor=_user())
        except ValidationError as exc:
            db.rollback()
            general = form.add_errors(exc.errors)
        else:
            db.commit()
            flash(_("Logement %(ref)s enregistré comme brouillon.", ref=unit.reference), "success")
            return redirect(url_for(".unit_detail", unit_id=unit.public_id))
    elif request.method == "GET":
        form.floor.data = "0"
    return render_template("landlords/unit_form.html", **_context(form=form, unit=None, general=general))


@bp.route("/logements/<unit_id>")
def unit_detail(unit_id: str):  # type: ignore[no-untyped-def]
    """One unit: its fields in words, and what can be done with it."""
    unit = _unit(unit_id)
    db = get_session()
    return render_template("landlords/unit.html", **_context(
        unit=unit, action_form=ActionForm(), at_commune=units.located_at_commune(unit),
        editable=unit.status in units.EDITABLE_STATUSES,
        publishable=unit.status in units.PUBLISHABLE_STATUSES,
        withdrawable=unit.status in units.WITHDRAWABLE_STATUSES,
        # What withdrawing would cancel, said on the button; the candidates in the commission's order.
        open_proposals=len(proposals.cancellable(db, unit=unit)),
        stay=shelter.open_stay(db, unit=unit) if unit.temporary else None,
        candidates=proposals.unit_candidates(db, _user(), unit), proposal_labels=proposals.STATUS_LABELS,
        photos=photos.photos_of(db, [unit.id])[unit.id], photo_form=PhotoForm(formdata=None),
        photo_action_form=PhotoActionForm(), max_photos=photos.MAX_PHOTOS))


@bp.route("/logements/<unit_id>/modifier", methods=["GET", "POST"])
def unit_edit(unit_id: str):  # type: ignore[no-untyped-def]
    """Change a unit's description (not once it is proposed or allocated)."""
    db = get_session()
    unit = _unit(unit_id, for_update=request.method == "POST")
    if unit.status not in units.EDITABLE_STATUSES:
        flash(_("Ce logement est %(status)s : il ne peut plus être modifié.",
                status=str(units.STATUS_LABELS[unit.status]).lower()), "error")
        return redirect(url_for(".unit_detail", unit_id=unit.public_id))
    form = _suggest_communes(UnitForm())
    general: list[str] = []
    if form.validate_on_submit():
        try:
            units.update_unit(db, unit, form.unit_data(), actor=_user())
        except (ValidationError, Conflict) as exc:
            db.rollback()
            general = form.add_errors(getattr(exc, "errors", None) or {"_schema": [exc.message]})
        else:
            db.commit()
            flash(_("Logement %(ref)s modifié.", ref=unit.reference), "success")
            return redirect(url_for(".unit_detail", unit_id=unit.public_id))
    elif request.method == "GET":
        form.fill(units.unit_values(unit))
    return render_template("landlords/unit_form.html", **_context(form=form, unit=unit, general=general))


def _change_status(unit_id: str, change, done: str):  # type: ignore[no-untyped-def]
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    db = get_session()
    unit = _unit(unit_id, for_update=True)
    try:
        change(db, unit, actor=_user())
    except Conflict as exc:
        db.rollback()
        flash(str(exc.message), "error")
    else:
        db.commit()
        flash(done % {"ref": unit.reference}, "success")
    return redirect(url_for(".unit_detail", unit_id=unit_id))


@bp.route("/logements/<unit_id>/publier", methods=["POST"])
def unit_publish(unit_id: str):  # type: ignore[no-untyped-def]
    """Offer the unit to matching."""
    return _change_status(unit_id, units.publish_unit,
                          _("Logement %(ref)s publié : il sera proposé aux prochains rapprochements."))


@bp.route("/logements/publier", methods=["POST"])
def units_publish():  # type: ignore[no-untyped-def]
    """Publish the chosen draft units at once (those of an import, or those ticked on the list)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        published = units.publish_units(db, _landlord(), request.form.getlist("units"), actor=_user())
    except (ValidationError, NotFound, Conflict) as exc:
        db.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for(".unit_list", status="draft"), 303)
    db.commit()
    flash(ngettext("%(num)d logement publié : il sera proposé aux prochains rapprochements.",
                   "%(num)d logements publiés : ils seront proposés aux prochains rapprochements.",
                   len(published)), "success")
    return redirect(url_for(".unit_list", status="published"), 303)


@bp.route("/logements/<unit_id>/retirer", methods=["POST"])
def unit_withdraw(unit_id: str):  # type: ignore[no-untyped-def]
    """Take the unit out of matching, cancelling its open proposals."""
    base_url = public_url()

    def withdraw(db: Any, unit: Any, *, actor: User) -> None:
        cancelled = len(proposals.cancellable(db, unit=unit))
        units.withdraw_unit(db, unit, actor=actor, base_url=base_url)
        if cancelled:
            flash(ngettext("%(num)d proposition en cours a été annulée ; le ménage et son association sont "
                           "prévenus.", "%(num)d propositions en cours ont été annulées ; les ménages et "
                           "leurs associations sont prévenus.", cancelled), "success")

    return _change_status(unit_id, withdraw, _("Logement %(ref)s retiré : il ne sera plus proposé."))


@bp.route("/logements/importer", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])  # as the API's import: parsing a file costs CPU
def unit_import():  # type: ignore[no-untyped-def]
    """Import units from a spreadsheet: all rows or none, with a report of every bad line."""
    form = ImportForm()
    report: list[Any] = []
    if form.validate_on_submit():
        upload = form.file.data
        if not upload or not upload.filename:
            form.file.errors = [_("Choisissez un fichier CSV, XLSX, XLS ou ODS.")]
        else:
            db = get_session()
            updating = form.mode.data == "update"
            service = units.update_units_from_file if updating else units.import_units
            try:
                summary = service(db, _landlord(), upload.filename, upload.read(), actor=_user())
            except ImportRejected as exc:
                db.rollback()
                report = exc.rows
            except ValidationError as exc:
                db.rollback()
                form.file.errors = [str(exc.message)]
            else:
                db.commit()
                if updating:
                    return render_template("landlords/import_update_summary.html", **_context(summary=summary))
                return render_template("landlords/import_summary.html", **_context(
                    summary=summary, action_form=ActionForm()))
    status = 422 if report or form.file.errors else 200
    return render_template("landlords/import.html", **_context(
        form=form, report=report, notes=units.TEMPLATE_NOTES)), status


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge):  # type: ignore[no-untyped-def]
    """A file over MAX_CONTENT_LENGTH: say so in French, on the import page for a landlord."""
    limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    message = _("Le fichier dépasse %(mb)d Mo : découpez-le en plusieurs fichiers.", mb=limit)
    if (request.endpoint == "landlords.unit_import" and current_user.is_authenticated
            and current_user.role == "landlord"):
        form = ImportForm(formdata=None)
        form.file.errors = [message]
        return render_template("landlords/import.html", **_context(
            form=form, report=[], notes=units.TEMPLATE_NOTES)), 413
    return render_template("error.html", code=413, status=_("Requête trop volumineuse"),
                           errors={"file": [message]}), 413


SPREADSHEET_MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}


@bp.route("/logements/modele.<any(csv, xlsx, ods):kind>")
def unit_template(kind: str):  # type: ignore[no-untyped-def]
    """The import template, with the expected columns and two example lines."""
    body = {"csv": units.template_csv, "xlsx": units.template_xlsx, "ods": units.template_ods}[kind]()
    return Response(body, mimetype=SPREADSHEET_MIMETYPES[kind], headers={
        "Content-Disposition": f"attachment; filename=modele-logements.{kind}"})


@bp.route("/logements/export.<any(csv, xlsx, ods):kind>")
@limiter.limit("30 per hour")  # every unit of the landlord, written out: not for a loop
def unit_export(kind: str):  # type: ignore[no-untyped-def]
    """All the landlord's units, laid out as the import template: edit and send back to update them."""
    body = units.export_units(get_session(), _landlord(), kind)
    return Response(body, mimetype=SPREADSHEET_MIMETYPES[kind], headers={
        "Content-Disposition": f"attachment; filename=mes-logements.{kind}"})
