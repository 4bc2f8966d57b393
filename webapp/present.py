"""The present view: a projector's full screen, with live bars and a QR code to join.

The room sees what the audience may see: hidden results stay hidden even for
a signed-in presenter, who gets a "Reveal results" control (and the R key)
that shows them on this screen only (`?reveal=1`).
"""

from __future__ import annotations

import segno
from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext
from markupsafe import Markup

from .auth import signed_in
from .lookup import get_topic
from .pages import PRESENT, REVEALED, mode_of, results_of, visible_in

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
    share_url = url_for("pages.topic", topic_id=current["id"], _external=True)
    mode = mode_of(REVEALED if request.args.get("reveal") == "1" else PRESENT)
    return render_template(
        "present.html",
        topic=current,
        results=results_of(current, mode),
        share_url=share_url,
        qr=qr_svg(share_url),
        # Offered only when there is something to reveal or hide again.
        can_reveal=signed_in() and not visible_in(current, PRESENT),
    )
