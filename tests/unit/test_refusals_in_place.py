"""webapp/refusals.py's refusals said in place (the presenter's controls answer them with
their panel or stage): which they are, and their words in the page's language, the
error page's heading for their status where the table has no words of its own."""

from __future__ import annotations

from core.rules.errors import BadPosition, EventNotFound, NoCurrentQuestion, TooManyFailures
from webapp import create_app
from webapp.errors import said_in_place
from webapp.refusals import SAID_IN_PLACE


def test_the_409s_and_422s_are_said_in_place_with_their_words_or_their_status_heading():
    assert NoCurrentQuestion in SAID_IN_PLACE and BadPosition in SAID_IN_PLACE
    assert EventNotFound not in SAID_IN_PLACE and TooManyFailures not in SAID_IN_PLACE
    app = create_app({"TESTING": True})
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        assert said_in_place(NoCurrentQuestion("e1")) == (
            "Die Veranstaltung steht noch vor ihrer ersten Frage: geh zuerst weiter",
            409,
        )
        # Its own words are English only (the API's): the page says its status instead.
        assert said_in_place(BadPosition("no question 3: the event has 2")) == (
            "Das kollidierte mit einer Änderung",
            409,
        )
