"""Coordination pages of conventions: record one, its yearly commitments and training sessions.

Achievements are never typed here: they are counted from the platform's events
(services.conventions). A coordinator sees and manages only conventions of her territory.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from models.conventions import COMMITMENT_KINDS
from services import conventions as svc
from services import snapshots
from services.errors import ValidationError
from services.stats import Quarter
from web.coordinators import bp
from web.db import get_session


class ConventionForm(FlaskForm):
    """A new convention."""

    title = StringField(_l("Titre"), validators=[DataRequired(), Length(max=200)],
                        description=_l("Par exemple : Pass'Logement Hauts-de-France 2024–2026."))
    parties = TextAreaField(_l("Parties signataires"), validators=[DataRequired(), Length(max=4000)],
                            description=_l("Une par ligne : union régionale des bailleurs, fédération, État…"))
    funders = TextAreaField(_l("Financeurs"), validators=[Optional(), Length(max=4000)],
                            description=_l("Un par ligne."))
    departments = StringField(_l("Départements"), validators=[DataRequired(), Length(max=200)],
                              description=_l("Codes séparés par des virgules, dans votre territoire."))
    starts_on = DateField(_l("Début"), validators=[DataRequired()])
    ends_on = DateField(_l("Fin (premier jour hors convention)"), validators=[DataRequired()])
    submit = SubmitField(_l("Enregistrer la convention"))


class CommitmentForm(FlaskForm):
    """What an organisation undertakes for a year."""

    organisation_id = SelectField(_l("Organisation"), coerce=int, validators=[DataRequired()])
    year = SelectField(_l("Année"), coerce=int, validators=[DataRequired()])
    kind = SelectField(_l("Engagement"), choices=[SelectChoice(k, svc.KIND_LABELS[k]) for k in COMMITMENT_KINDS])
    target = IntegerField(_l("Nombre prévu"), validators=[DataRequired(message=_l("Indiquez un nombre.")),
                                                          NumberRange(min=0, max=100000)])
    submit = SubmitField(_l("Enregistrer l'engagement"))


class TrainingForm(FlaskForm):
    """A training session held."""

    organisation_id = SelectField(_l("Organisation formée"), coerce=int, validators=[DataRequired()])
    held_on = DateField(_l("Date de la formation"), validators=[DataRequired()])
    persons = IntegerField(_l("Personnes formées"), validators=[DataRequired(), NumberRange(min=1, max=1000)])
    submit = SubmitField(_l("Enregistrer la formation"))


def _forms(convention: Any) -> tuple[CommitmentForm, TrainingForm]:
    orgs = [SelectChoice(o.id, o.name) for o in svc.commitment_organisations(get_session(), convention)]
    commitment = CommitmentForm(prefix="c")
    commitment.organisation_id.choices = orgs
    commitment.year.choices = [SelectChoice(y, str(y)) for y in svc.years(convention)]
    training = TrainingForm(prefix="t")
    training.organisation_id.choices = orgs
    return commitment, training


def _page(convention: Any, commitment: CommitmentForm | None = None, training: TrainingForm | None = None,
          status: int = 200) -> Any:
    db = get_session()
    defaults = _forms(convention)
    commitment, training = commitment or defaults[0], training or defaults[1]
    progress = [(y, svc.progress(db, convention, y)) for y in svc.years(convention)]
    return render_template("coordinators/convention.html", convention=convention, progress=progress,
                           commitment_form=commitment, training_form=training,
                           trainings=svc.trainings(db, convention)), status


@bp.route("/conventions")
def conventions():  # type: ignore[no-untyped-def]
    """The conventions of the coordinator's territory."""
    items = svc.list_conventions(get_session(), svc.territory(current_user))
    return render_template("coordinators/conventions.html", conventions=items, close_form=close_form())


@bp.route("/conventions/nouvelle", methods=["GET", "POST"])
def convention_new():  # type: ignore[no-untyped-def]
    """Record a convention."""
    form = ConventionForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            convention = svc.create_convention(
                db, user=current_user, title=form.title.data or "", parties=form.parties.data or "",
                funders=form.funders.data or "", departments=form.departments.data or "",
                starts_on=form.starts_on.data, ends_on=form.ends_on.data)
        except ValidationError as exc:
            db.rollback()
            for name, messages in exc.errors.items():
                getattr(form, name, form.title).errors = [str(m) for m in messages]
        else:
            db.commit()
            flash(_("Convention « %(t)s » enregistrée.", t=convention.title), "success")
            return redirect(url_for("coordinators.convention", convention_id=convention.id), 303)
    elif not form.is_submitted() and current_user.organisation:
        form.departments.data = ", ".join(current_user.organisation.departments or [])
    status = 422 if form.is_submitted() else 200
    return render_template("coordinators/convention_new.html", form=form), status


@bp.route("/conventions/<int:convention_id>")
def convention(convention_id: int):  # type: ignore[no-untyped-def]
    """A convention: its parties, its commitments year by year against what was achieved."""
    return _page(svc.get_convention(get_session(), convention_id, current_user))


@bp.route("/conventions/<int:convention_id>/engagements", methods=["POST"])
def convention_commitment(convention_id: int):  # type: ignore[no-untyped-def]
    """Record or change a commitment."""
    db = get_session()
    item = svc.get_convention(db, convention_id, current_user)
    form, _training = _forms(item)
    if not form.validate_on_submit():
        return _page(item, commitment=form, status=422)
    try:
        svc.set_commitment(db, item, organisation_id=form.organisation_id.data, year=form.year.data,
                           kind=form.kind.data or "", target=form.target.data)
    except ValidationError as exc:
        db.rollback()
        for name, messages in exc.errors.items():
            getattr(form, name, form.target).errors = [str(m) for m in messages]
        return _page(item, commitment=form, status=422)
    db.commit()
    flash(_("Engagement enregistré."), "success")
    return redirect(url_for("coordinators.convention", convention_id=item.id), 303)


@bp.route("/conventions/<int:convention_id>/formations", methods=["POST"])
def convention_training(convention_id: int):  # type: ignore[no-untyped-def]
    """Record a training session (the event that counts staff trained)."""
    db = get_session()
    item = svc.get_convention(db, convention_id, current_user)
    _commitment, form = _forms(item)
    if not form.validate_on_submit():
        return _page(item, training=form, status=422)
    try:
        svc.record_training(db, item, user=current_user, organisation_id=form.organisation_id.data,
                            held_on=form.held_on.data, persons=form.persons.data)
    except ValidationError as exc:
        db.rollback()
        for name, messages in exc.errors.items():
            getattr(form, name, form.persons).errors = [str(m) for m in messages]
        return _page(item, training=form, status=422)
    db.commit()
    flash(_("Formation enregistrée."), "success")
    return redirect(url_for("coordinators.convention", convention_id=item.id) + "#formations", 303)





class CloseQuarterForm(FlaskForm):
    """Close a quarter: freeze its committee figures."""

    quarter = SelectField(_l("Trimestre à clore"), validators=[DataRequired()])
    submit = SubmitField(_l("Clore le trimestre"))


def close_form() -> CloseQuarterForm:
    """The form, offering the last four ended quarters."""
    form = CloseQuarterForm(prefix="q")
    last = Quarter.of(svc.today()).previous()
    choices = [last]
    for _i in range(3):
        choices.append(choices[-1].previous())
    form.quarter.choices = [SelectChoice(str(q), q.label) for q in choices]
    return form


@bp.route("/trimestres/clore", methods=["POST"])
def close_quarter():  # type: ignore[no-untyped-def]
    """Freeze a quarter's figures for the coordination's territory and the committees within it."""
    db = get_session()
    form = close_form()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("coordinators.conventions"), 303)
    quarter = Quarter.parse(form.quarter.data)
    mine = svc.territory(current_user)
    scopes = [s for s in snapshots.committee_scopes(db) if set(s) <= mine]
    if mine and sorted(mine) not in scopes:
        scopes.append(sorted(mine))
    frozen = 0
    for departments in scopes:
        if snapshots.find(db, quarter, departments) is None:
            try:
                snapshots.freeze(db, quarter, departments, user=current_user, **snapshots.settings(current_app.config))
            except ValidationError as exc:
                db.rollback()
                flash(str(exc.message), "error")
                return redirect(url_for("coordinators.conventions"), 303)
            frozen += 1
    db.commit()
    if frozen:
        flash(ngettext("%(num)d jeu de chiffres figé pour %(q)s.", "%(num)d jeux de chiffres figés pour %(q)s.",
                       frozen, q=quarter.label), "success")
    else:
        flash(_("%(q)s était déjà clos.", q=quarter.label), "info")
    return redirect(url_for("coordinators.conventions"), 303)
