"""The Ask panel's list as the event's stream pushes it: the `qna` region of the event feed.

The region is the room's top list (templates/qna/_room.html): one rendering per
change for every phone of a view (the page or the embed, one language), so it
holds nothing of any one browser: no CSRF token (the panel's hx-headers send the
page's), no voter (the embed sends its own in a header, static/embed.js), no
upvote pressed and no "my questions" (those sit outside the region, in the list
drawn for this browser). A phone presses its own upvotes again itself, from what
its own list last said (`data-upvoted`, static/streams.js): no request per push.

Its version is a digest of the public top list (from the per-process list cache,
so an upvote the worker counts moves it within a second or so); ABSENT while the
event takes no questions. The page's stream starts from the version it was drawn
with (`with_list_version`), so a first connection re-sends nothing.
"""

from __future__ import annotations

from flask import render_template

from core.rules.formats.qna import TOP
from core.services.qna import mode_of
from webapp import services
from webapp.push.hub import ABSENT, digest, join_ids
from webapp.qna.panel import POLL_SECONDS, PanelUrls, is_on

QNA_REGIONS = ("qna",)


def list_version(event: dict, listed: list[dict] | None = None) -> str:
    """The pushed list's version: what decides how it looks (mode, the top questions)."""
    if not is_on(event):
        return ABSENT
    if listed is None:
        listed = services.qna().listed(event, TOP)
    return digest([mode_of(event), listed])


def with_list_version(stage_ids: str, event: dict) -> str:
    """A page's Last-Event-ID: its stage's region versions, then its list's."""
    return join_ids((stage_ids, list_version(event)))


class PushedList:
    """The `qna` region for one view of an event's stream: its version, then its fragment."""

    def __init__(self, event: dict, embedded: bool):
        self.event = event
        self.listed = services.qna().listed(event, TOP) if is_on(event) else []
        self.version = list_version(event, self.listed)
        # The embed's URLs as every frame's (its panel's hx-vals adds what one frame keeps).
        self.urls = PanelUrls(event["code"], embedded=embedded)

    def versions(self) -> tuple[str, ...]:
        return (self.version,)

    def render(self, names) -> dict[str, str]:
        if "qna" not in names:
            return {}
        view = {"sort": TOP, "questions": self.listed, "mine": [], "upvoted": set()}
        qna = {"event": self.event, "mode": mode_of(self.event), "urls": self.urls,
               "list": view, "streamed": True, "pushed": True,
               "poll_seconds": POLL_SECONDS}  # fmt: skip
        return {"qna": render_template("qna/_room.html", qna=qna)}
