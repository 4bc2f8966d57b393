"""The live results panel (templates/_results.html) as every page draws it.

The topic page, the present view, the event stage, the presenter's projected
stage and both embeds show one panel, built here from the topic's counters:
a single choice's counts and shares, every other type's results_for() dict
(core/rules/results.py), both made ready by webapp/results/views.py. Who may
see them depends on how they are looked at:

- PAGE: the viewer's own page, under the topic's results_visibility rule for
  them (a voter who voted, an admin);
- PRESENT: a projector, under the audience's rule (the room sees what an
  anonymous voter sees);
- REVEALED: a projector where a signed-in presenter chose to reveal them.
"""

from __future__ import annotations

import hashlib
import json

from flask import url_for
from flask_babel import get_locale

from core.rules.results import results_for
from webapp import services, voter
from webapp.auth import signed_in
from webapp.push.hub import digest
from webapp.results.views import single_view, typed_view

PAGE, PRESENT, REVEALED = "page", "present", "revealed"
# The projector asks twice a second (one screen per room, mostly bodiless 304s;
# the tallies it reads are cached, one read per second per process): a tap shows
# within 2 s at p95 (bench/tap_to_screen.py); phones ask every 2 s.
PAGE_POLL_SECONDS, PROJECTOR_POLL_SECONDS = 2, 0.5


def results_visible(topic: dict) -> bool:
    """The topic's results_visibility rule for this browser (admins always see)."""
    return services.voting().results_visible(topic, voter.current(), is_admin=signed_in())


def mode_of(requested: str | None) -> str:
    """The mode a request asks for; REVEALED only for a signed-in presenter."""
    if requested == REVEALED and signed_in():
        return REVEALED
    return PRESENT if requested in (PRESENT, REVEALED) else PAGE


def visible_in(topic: dict, mode: str) -> bool:
    if mode == PAGE:
        return results_visible(topic)
    if mode == REVEALED:
        return True
    return visible_in_for_anyone(topic)


def live_results(topic: dict, mode: str = PAGE) -> tuple[dict, str | None]:
    """The panel for a page, and the URL of the event stream that keeps it current (None:
    it polls): only while the topic is open, and only for a viewer who sees what anyone
    sees (`shared_with_room`)."""
    shared = topic["is_open"] and shared_with_room(topic, mode)
    results = results_of(topic, mode, streamed=shared, region=shared)
    if not shared:
        return results, None
    view = "present" if mode == PRESENT else None
    url = url_for("push.topic_stream", topic_id=topic["id"], view=view,
                  last=digest(results["partial_etag"]))  # fmt: skip
    return results, url


def shared_with_room(topic: dict, mode: str) -> bool:
    """Does this viewer see the panel exactly as anyone would (so an event stream may push
    it)? Not a signed-in admin (who may moderate), nor a voter the topic's rule treats
    apart (results shown once their own vote is counted)."""
    if signed_in():
        return False
    return mode == PRESENT or visible_in(topic, mode) == visible_in_for_anyone(topic)


def visible_in_for_anyone(topic: dict) -> bool:
    return services.voting().results_visible(topic, None, is_admin=False)


def results_of(topic: dict, mode: str = PAGE, streamed: bool = False, region: bool = False) -> dict:
    """The panel's view of the topic (as lookup.shown gives it) and its ETags.

    `streamed`: an event stream keeps the panel current, so it does not poll
    (static/app.js turns polling on if the stream fails); with `region`, the
    panel is itself the stream's `results` region (a topic's pages), else it
    sits in a larger one (the event stage). Results this viewer may not see yet
    still poll: whether they may is this browser's own state, never pushed.

    The ETag covers everything the panel renders: the counters, the topic
    version (title and choices change `last_upd`), whether it is open, the
    mode (its polling URL), whether this viewer may see the results and may
    moderate, and the language. Hidden results put no counts in the ETag
    either, so it cannot betray votes arriving.
    """
    visible = visible_in(topic, mode)
    counts = services.topics().counts(topic["id"]) if visible else {}
    # A signed-in admin sees hidden text answers (to show them again) on their own
    # page; a projector never shows them.
    moderator = signed_in()
    view = {
        "visible": visible,
        "mode": mode,
        "can_moderate": moderator,
        "poll_seconds": PAGE_POLL_SECONDS if mode == PAGE else PROJECTOR_POLL_SECONDS,
        "poll_url": url_for(
            "pages.results", topic_id=topic["id"], view=None if mode == PAGE else mode
        ),
        "single": None,
        "typed": None,
        "streamed": streamed and visible,
        "region": streamed and region,
    }
    if visible and topic.get("type", "single") == "single":
        view["single"] = single_view(topic, counts)
    elif visible:
        typed = results_for(topic, counts, admin=moderator and mode == PAGE)
        view["typed"] = typed_view(topic, typed)
    fingerprint = json.dumps(
        [sorted(counts.items()), moderator, topic["last_upd"], topic["is_open"], visible, mode,
         str(get_locale())]
    )  # fmt: skip
    version = hashlib.sha256(fingerprint.encode()).hexdigest()[:24]
    # The page and the partial are different bodies: different entity tags.
    view["partial_etag"] = f"{version}-p"
    view["page_etag"] = f"{version}-f"
    return view
