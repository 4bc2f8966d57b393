"""The present view: a projector's full screen, with live bars and a QR code to join.

The room sees what the audience may see: hidden results stay hidden even for
a signed-in presenter, who gets a "Reveal results" control (and the R key)
that shows them on this screen only (`?reveal=1`).
"""

from __future__ import annotations

import segno
from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from markupsafe import Markup

from core.rules.errors import RulesConflict
from webapp import services
from webapp.auth import signed_in
from webapp.htmx import is_htmx, vary
from webapp.lookup import get_topic
from webapp.public_url import public_url_for
from webapp.results.panel import (
    PAGE,
    PRESENT,
    REVEALED,
    live_results,
    mode_of,
    results_of,
    visible_in,
)

bp = Blueprint("present", __name__)


def qr_svg(url: str) -> Markup:
    """The URL as an inline SVG QR code, drawn here (no external service).

    Dark modules on a white field with the standard 4-module quiet zone,
    whatever the page's colour scheme: phone cameras need that contrast.
    """
    code = segno.make(url, error="m", micro=False)
    svg = code.svg_inline(
        scale=1,
        border=4,
        omitsize=True,
        dark="#000",
        light="#fff",
        svgclass="qr-code",
        title=gettext("QR code for %(url)s", url=url),
    )
    # segno escapes the title; the rest is path data it generated.
    return Markup(svg)


@bp.get("/t/<topic_id>/present")
def view(topic_id):
    """Full-screen view for a projector: question, live bars, share URL and QR code."""
    current = get_topic(topic_id)
    share_url = public_url_for("pages.topic", topic_id=current["id"])
    mode = mode_of(REVEALED if request.args.get("reveal") == "1" else PRESENT)
    results, stream_url = live_results(current, mode)
    return render_template(
        "present.html",
        topic=current,
        results=results,
        stream_url=stream_url,
        share_url=share_url,
        qr=qr_svg(share_url),
        # Offered only when there is something to reveal or hide again.
        can_reveal=signed_in() and not visible_in(current, PRESENT),
    )


@bp.post("/t/<topic_id>/answers")
def moderate(topic_id):
    """A presenter hides an open-text answer from the screen, or shows it again.

    Signed-in admins only (CSRF-checked like every form). htmx gets the results
    partial back, redrawn without (or with) the answer; a plain form post
    goes back to the view it came from.
    """
    if not signed_in():
        abort(403)
    topic = get_topic(topic_id, fresh=True)
    text = request.form.get("text", "")
    hidden = request.form.get("action") != "show"
    try:
        services.topics().set_answer_hidden(topic["id"], text, hidden=hidden)
    except RulesConflict:
        abort(409)  # not a text question: it has no answers to hide
    mode = mode_of(request.form.get("view"))
    if is_htmx():
        topic = get_topic(topic_id, fresh=True)
        body = render_template("_results.html", topic=topic, results=results_of(topic, mode))
        return vary(make_response(body))
    if mode == PAGE:
        return redirect(url_for("pages.topic", topic_id=topic["id"]), 303)
    reveal = 1 if mode == REVEALED else None
    return redirect(url_for("present.view", topic_id=topic["id"], reveal=reveal), 303)
