"""The messages page of a proposal, the same for the household's association and the
unit's landlord (the only two who may read it): the thread, a reminder that nothing that
locates the household may be written there, and the form."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from services import proposal_messages as svc
from services import worklists
from services.errors import ValidationError
from web.config import public_url
from web.db import get_session


class MessageForm(FlaskForm):
    body = TextAreaField(
        _l("Votre message"),
        validators=[InputRequired(message=_l("Écrivez un message.")),
                    Length(max=svc.BODY_MAX, message=_l("Au plus %(max)d caractères."))],
        description=_l("Ni adresse, ni lieu, ni numéro de téléphone du ménage."),
        render_kw={"rows": 4, "maxlength": svc.BODY_MAX},
    )


def add_message_pages(bp: Blueprint, detail_endpoint: str) -> None:
    """Register `/propositions/<public_id>/messages` (GET: the thread; POST: write) on an
    audience's blueprint; `detail_endpoint`: that audience's page of the proposal."""

    def render(public_id: str, form: MessageForm, status: int = 200):  # type: ignore[no-untyped-def]
        proposal, items = svc.thread(get_session(), current_user, public_id)
        title = (_("Candidature %(id)s", id=worklists.reference(proposal)) if current_user.role == "landlord"
                 else _("Proposition %(id)s", id=proposal.public_id))
        return render_template("proposal_messages.html", proposal=proposal, items=items, form=form,
                               title=title, back=url_for(detail_endpoint, public_id=public_id),
                               action=url_for(f"{bp.name}.proposal_messages", public_id=public_id)), status

    @bp.route("/propositions/<public_id>/messages", methods=["GET", "POST"])
    def proposal_messages(public_id: str):  # type: ignore[no-untyped-def]
        """The messages between the household's association and the landlord on one proposal."""
        if request.method == "GET":
            return render(public_id, MessageForm(formdata=None))
        form = MessageForm()
        if not form.validate_on_submit():
            return render(public_id, form, 422)
        db = get_session()
        try:
            svc.post(db, current_user, public_id, form.body.data, base_url=public_url())
        except ValidationError as exc:
            db.rollback()
            form.body.errors = [str(exc.message)]
            return render(public_id, form, 422)
        db.commit()
        flash(_("Message envoyé."), "success")
        return redirect(url_for(f"{bp.name}.proposal_messages", public_id=public_id), 303)
