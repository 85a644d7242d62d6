"""The landlord's proposals: candidates per unit, the commission's decision, the lease.

A candidate's profile (size, income band, rent burden, needs, the association's contact)
appears once the household has accepted; before that the landlord sees only that a
proposal waits for her answer. Nothing on these pages identifies her or says where she
must not live: the profile is `services.profiles.LandlordProfile`, an allow-list.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from matching import geo
from models import Decision, Proposal
from services import leases, profiles, units, worklists
from services import proposals as svc
from services.errors import Conflict, ValidationError
from web.config import public_url
from web.db import get_session
from web.landlords import bp
from web.notifications import add_notification_pages
from web.proposal_messages import add_message_pages


class CommissionAcceptForm(FlaskForm):
    # Every rank is accepted here: whether it is still free is the service's to say (the
    # page offers only the free ones, but another colleague may have taken one meanwhile).
    rank = SelectField(_l("Rang donné par la commission"),
                       choices=[SelectChoice(str(n), str(n)) for n in svc.COMMISSION_RANKS], coerce=int,
                       validators=[InputRequired(message=_l("Choisissez le rang donné par la commission."))],
                       description=_l("La candidate de rang 1 se voit proposer le bail ; les suivantes "
                                      "attendent, dans l'ordre, qu'il ne soit pas signé."))


class RefusalForm(FlaskForm):
    reason = SelectField(
        _l("Motif"),
        choices=[SelectChoice("", _l("— Choisir un motif —")),
                 *(SelectChoice(code, label) for code, label in svc.COMMISSION_REFUSAL_LABELS.items())],
        validators=[InputRequired(message=_l("Indiquez le motif du refus."))],
    )


class LeaseForm(FlaskForm):
    """The lease is signed: its dates and kind, counted by the committee. The dates start
    at today (the lease is usually recorded the day it is signed); the kind has no default,
    the landlord says which it is."""

    signed_on = DateField(_l("Date de signature du bail"), default=svc.paris_today,
                          validators=[InputRequired(message=_l("Indiquez la date de signature."))])
    move_in_on = DateField(_l("Date d'entrée dans les lieux"), default=svc.paris_today,
                           validators=[InputRequired(message=_l("Indiquez la date d'entrée dans les lieux."))])
    kind = SelectField(
        _l("Type de bail"),
        choices=[SelectChoice("", _l("— Choisir le type de bail —")),
                 *(SelectChoice(code, label) for code, label in leases.KIND_LABELS.items())],
        validators=[InputRequired(message=_l("Indiquez le type de bail."))],
    )


# Each form of each candidate has its own prefix, so that ids stay unique on a page that
# shows several candidates.
FORMS = {"accept": CommissionAcceptForm, "refuse": RefusalForm, "lease": LeaseForm,
         "lease_failed": RefusalForm}


def _form(kind: str, public_id: str, *, submitted: bool = False) -> FlaskForm:
    prefix = f"{public_id}-{kind}"
    if submitted:
        return FORMS[kind](prefix=prefix)
    return FORMS[kind](formdata=None, prefix=prefix)


# The forms a candidate's card offers in each state (a board shows dozens of cards: no
# form is built for a state that has none).
FORMS_BY_STATUS = {"household_accepted": ("accept", "refuse"), "commission_accepted": ("lease", "lease_failed"),
                   "commission_ranked": ("lease_failed",)}


def _forms(proposal: Proposal, failed: FlaskForm | None = None, kind: str | None = None,
           free_ranks: list[int] | None = None) -> SimpleNamespace:
    forms = {k: _form(k, proposal.public_id) for k in FORMS_BY_STATUS.get(proposal.status, ())}
    if free_ranks is not None and "accept" in forms:
        # Offer the ranks still free, the next one first chosen.
        rank = forms["accept"].rank  # type: ignore[attr-defined]
        rank.choices = [SelectChoice(str(n), str(n)) for n in free_ranks]
        rank.data = free_ranks[0] if free_ranks else None
    if failed is not None and kind is not None:
        forms[kind] = failed
    return SimpleNamespace(**forms)


def _card(proposal: Proposal, decisions: dict[str, Decision] | None = None,
          free_ranks: list[int] | None = None, failed: FlaskForm | None = None,
          kind: str | None = None) -> dict[str, Any]:
    """What the page shows of one candidate (`decisions`: its decisions by step, and
    `free_ranks`: the ranks the commission may still give on its unit, when the caller read
    those of a whole page at once; `failed`: a submitted form of this `kind` shown again)."""
    db = get_session()
    if decisions is None:
        decisions = svc.decisions_of(db, proposal)
    if free_ranks is None:
        free_ranks = svc.free_ranks(db, proposal.unit) if proposal.status == "household_accepted" else []
    accepted = svc.accepted_by_household(decisions)
    return {"proposal": proposal, "forms": _forms(proposal, failed, kind, free_ranks=free_ranks),
            "free_ranks": free_ranks,
            "profile": profiles.landlord_profile(proposal) if accepted else None,
            "decisions": decisions}


def _commune_name(code: str) -> str:
    place = geo.commune(code)
    return place.name if place else code


def _base_url() -> str:
    return public_url()


@bp.route("/propositions")
def proposals():  # type: ignore[no-untyped-def]
    """The commission's worklist: the landlord's units with their candidates, grouped by unit,
    those whose commission has waited longest first; filtered by view (awaiting the commission,
    the lease, decided, all) and paged."""
    db = get_session()
    view = request.args.get("vue", worklists.DEFAULT_VIEW)
    if view not in worklists.LANDLORD_VIEWS:
        view = worklists.DEFAULT_VIEW
    units_page, candidates = worklists.landlord_worklist(
        db, current_user, view=view, page=request.args.get("page", 1, type=int),
        per_page=request.args.get("per_page", current_app.config["WORKLIST_PAGE_SIZE"], type=int))
    shown = [p for ps in candidates.values() for p in ps]
    decisions = svc.decisions_by_proposal(db, shown)
    started = worklists.step_started(db, shown)
    delays = current_app.config["STEP_DELAY_DAYS"]
    board = []
    for unit in units_page.items:
        waiting = any(p.status == "household_accepted" for p in candidates[unit.id])
        free = svc.free_ranks(db, unit) if waiting else []
        cards = []
        for p in candidates[unit.id]:
            card = _card(p, decisions[p.id], free)
            card["due"] = worklists.step_due(p, started.get(p.id), delays)
            cards.append(card)
        board.append((unit, _commune_name(unit.commune), cards))
    return render_template("landlords/proposals/board.html", page=units_page, board=board, view=view,
                           views=worklists.LANDLORD_VIEWS, counts=worklists.landlord_counts(db, current_user),
                           labels=svc.STATUS_LABELS, reason_label=svc.reason_label)


@bp.route("/logements/<unit_id>/dossier-commission")
def commission_pack(unit_id: str):  # type: ignore[no-untyped-def]
    """The printable pack of one unit for the commission: the unit and the anonymised profiles
    of its (up to 3) candidates who accepted, nothing that locates them."""
    db = get_session()
    unit = units.get_unit(db, current_user.organisation, unit_id)
    pack = worklists.commission_pack(db, current_user, unit)
    decisions = svc.decisions_by_proposal(db, pack)
    started = worklists.step_started(db, pack)
    delays = current_app.config["STEP_DELAY_DAYS"]
    entries = [{"proposal": p, "profile": profiles.landlord_profile(p), "decisions": decisions[p.id],
                "due": worklists.step_due(p, started.get(p.id), delays)} for p in pack]
    return render_template("landlords/proposals/pack.html", unit=unit, commune_name=_commune_name(unit.commune),
                           entries=entries, labels=svc.STATUS_LABELS, typology=units.typology,
                           today=svc.paris_today())


def _detail(public_id: str, failed: FlaskForm | None = None, kind: str | None = None,
            status: int = 200):  # type: ignore[no-untyped-def]
    db = get_session()
    proposal = svc.get_for(db, current_user, public_id)
    card = _card(proposal, failed=failed, kind=kind)
    # On this page only (the board shows dozens of cards): the signed lease's terms.
    card["lease"] = leases.of(db, proposal) if proposal.status == "leased" else None
    return render_template(
        "landlords/proposals/detail.html", card=card, proposal=proposal,
        unit=proposal.unit, commune_name=_commune_name(proposal.unit.commune),
        entries=svc.timeline(db, proposal, current_user),
        candidates=svc.unit_candidates(db, current_user, proposal.unit),
        labels=svc.STATUS_LABELS, reason_label=svc.reason_label,
    ), status


@bp.route("/propositions/<public_id>")
def proposal(public_id: str):  # type: ignore[no-untyped-def]
    """One candidate: the anonymised profile, the decision forms, the history."""
    return _detail(public_id)


def _decide(public_id: str, kind: str, message: Any, **decision: Any) -> Any:
    """Validate the submitted form, call the service, and say what happened (`message`:
    the text, or a function of the decided proposal that gives it)."""
    form = _form(kind, public_id, submitted=True)
    if not form.validate_on_submit():
        return _detail(public_id, form, kind, status=422)
    if kind == "accept":
        decision["rank"] = form.rank.data  # type: ignore[attr-defined]
    if kind in ("refuse", "lease_failed"):
        decision["reason"] = form.reason.data  # type: ignore[attr-defined]
    if kind == "lease":
        decision["lease"] = leases.LeaseTerms(
            signed_on=form.signed_on.data, move_in_on=form.move_in_on.data,  # type: ignore[attr-defined]
            kind=form.kind.data)  # type: ignore[attr-defined]
    db = get_session()
    try:
        proposal = svc.decide(db, current_user, public_id, base_url=_base_url(), **decision)
    except Conflict as exc:
        db.rollback()
        field = getattr(form, exc.field or "", None) if exc.field == "rank" else None
        if field is not None:
            # A rank already given: said next to the rank, the choice kept.
            field.errors = [str(exc.message)]
            return _detail(public_id, form, kind, status=409)
        flash(str(exc.message), "error")
        return redirect(url_for(".proposal", public_id=public_id), 303)
    except ValidationError as exc:
        db.rollback()
        fields = {name: getattr(form, name, None) for name in exc.errors}
        if not fields or None in fields.values():
            flash(str(exc.message), "error")
            return redirect(url_for(".proposal", public_id=public_id), 303)
        # Every field at fault is said next to it (the lease's two dates may both be wrong).
        for name, field in fields.items():
            messages = exc.errors[name]
            field.errors = [str(m) for m in (messages if isinstance(messages, list) else [messages])]
        return _detail(public_id, form, kind, status=422)
    if callable(message):
        message = message(proposal)
    db.commit()
    flash(message, "success")
    return redirect(url_for(".proposal", public_id=public_id), 303)


@bp.route("/propositions/<public_id>/retenir", methods=["POST"])
def commission_accept(public_id: str):  # type: ignore[no-untyped-def]
    """The commission chooses this candidate: the unit is promised to her."""
    def said(proposal: Proposal) -> str:
        if proposal.status == "commission_accepted":
            return _("Décision enregistrée : le ménage est retenu au rang %(rank)d, le bail lui est "
                     "proposé. Les autres candidatures restent ouvertes jusqu'à la signature du bail.",
                     rank=proposal.commission_rank)
        return _("Décision enregistrée : le ménage est retenu au rang %(rank)d. Le bail lui sera "
                 "proposé si les candidates classées avant lui ne le signent pas.", rank=proposal.commission_rank)

    return _decide(public_id, "accept", said, decision="accept", step="commission")


@bp.route("/propositions/<public_id>/refuser", methods=["POST"])
def commission_refuse(public_id: str):  # type: ignore[no-untyped-def]
    """The commission refuses this candidate, with a coded reason."""
    return _decide(public_id, "refuse", _("Décision enregistrée : la candidature est refusée."),
                   decision="decline", step="commission")


@bp.route("/propositions/<public_id>/bail", methods=["POST"])
def lease(public_id: str):  # type: ignore[no-untyped-def]
    """The lease is signed: the unit is allocated and the household housed."""
    return _decide(public_id, "lease", _("Bail enregistré : le logement est attribué."),
                   decision="accept", step="lease")


@bp.route("/propositions/<public_id>/bail-annule", methods=["POST"])
def lease_failed(public_id: str):  # type: ignore[no-untyped-def]
    """The lease will not be signed with this candidate (the one offered it, or one waiting her
    turn), with a coded reason: the lease goes, or stays, with the best-ranked one left."""
    def said(proposal: Proposal) -> str:
        offered = svc.lease_holder(get_session(), proposal.unit)
        if offered is None:
            return _("Enregistré : le bail ne sera pas signé avec ce ménage, et aucune autre candidate "
                     "retenue n'attend ce logement.")
        return _("Enregistré : le bail ne sera pas signé avec ce ménage. Il est proposé à la "
                 "candidature %(id)s.", id=worklists.reference(offered))

    return _decide(public_id, "lease_failed", said, decision="decline", step="lease")


add_notification_pages(bp)
add_message_pages(bp, "landlords.proposal")
