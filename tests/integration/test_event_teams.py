"""A quiz's teams on the event's page in the console (webapp/admin/events.py set_teams),
with the Flask test client on the moto server: saved teams are what the API reads and
what a phone joining picks from; an empty box means no teams; a list the rules refuse
is said next to the box, as typed, and changes nothing; the route is guarded and
CSRF-protected as the console's other forms."""

from __future__ import annotations

import pytest

from tests.helpers.accounts import make_user, sign_in_as
from tests.helpers.api import ADMIN, make_event, sign_in, token_from

ERROR = '<p id="event-teams-error" class="field-error">{}</p>'


@pytest.fixture
def console(client):
    """A signed-in admin on an event's page: (event, CSRF token)."""
    sign_in(client)
    event = make_event(client, [], title="Pub quiz")
    page = client.get(f"/admin/events/{event['id']}").get_data(as_text=True)
    return event, token_from(page)


def save(client, console, teams: str):
    event, token = console
    return client.post(f"/admin/events/{event['id']}/teams",
                       data={"csrf_token": token, "teams": teams})  # fmt: skip


def api_event(client, event) -> dict:
    return client.get(f"/events/{event['id']}", headers=ADMIN).get_json()


def test_saved_teams_show_on_the_page_in_the_api_and_on_a_joining_phone(app, client, console):
    event, _ = console
    saved = save(client, console, "  Red  \n\nBlue\r\n   \n<b>Gold</b>\n")
    assert saved.status_code == 303
    assert saved.headers["Location"] == f"/admin/events/{event['id']}#teams"
    page = client.get(f"/admin/events/{event['id']}").get_data(as_text=True)
    assert "Quiz teams saved." in page
    assert ">Red\nBlue\n&lt;b&gt;Gold&lt;/b&gt;</textarea>" in page
    assert api_event(client, event)["teams"] == ["Red", "Blue", "<b>Gold</b>"]
    assert api_event(client, event)["title"] == "Pub quiz"
    phone = app.test_client().get(f"/{event['code']}").get_data(as_text=True)
    assert "Pick your team" in phone
    assert '<option value="Red"' in phone and '<option value="&lt;b&gt;Gold&lt;/b&gt;"' in phone


def test_an_empty_box_clears_the_teams(client, console):
    event, _ = console
    assert save(client, console, "Red\nBlue").status_code == 303
    cleared = save(client, console, "\n  \n")
    assert cleared.status_code == 303
    assert "teams" not in api_event(client, event)
    page = client.get(f"/admin/events/{event['id']}").get_data(as_text=True)
    assert "This event has no teams now." in page and "></textarea>" in page


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("Red\nBlue\nRED", "“RED” is listed twice (capitals and look-alike letters count as "
                           "the same name)."),
        ("\n".join(f"Team {n}" for n in range(13)), "Too many teams: 12 at most."),
        ("Red\n" + "x" * 31, f"“{'x' * 30}…”: a team name takes 1 to 30 characters."),
        ("Red\nBl\u202eue", "“Bl\u202eue” is not accepted as a team name."),
    ],
)  # fmt: skip
def test_a_refused_list_is_said_next_to_the_box_as_typed_and_changes_nothing(
    client, console, typed, message
):
    event, _ = console
    assert save(client, console, "Old").status_code == 303
    refused = save(client, console, typed)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert ERROR.format(message) in page
    assert 'aria-invalid="true" aria-describedby="event-teams-error">' in page
    assert f">{typed}</textarea>" in page
    assert api_event(client, event)["teams"] == ["Old"]


def test_the_page_says_it_in_the_organisers_language(client, console):
    client.set_cookie("lang", "de")
    refused = save(client, console, "Rot\nrot")
    assert refused.status_code == 422
    assert "„rot“ kommt doppelt vor" in refused.get_data(as_text=True)


def test_another_organiser_and_a_form_without_its_token_change_nothing(app, client, console):
    event, _ = console
    assert save(client, console, "Red").status_code == 303
    # Without the page's CSRF token: refused as the console's other forms are.
    assert client.post(f"/admin/events/{event['id']}/teams",
                       data={"teams": "Blue"}).status_code == 400  # fmt: skip
    # An organiser who neither owns nor co-hosts the event: as for its other routes.
    make_user(client, "bob@example.org")
    bob = app.test_client()
    assert sign_in_as(bob, "bob@example.org").status_code == 303
    token = token_from(bob.get("/admin").get_data(as_text=True))
    other = bob.post(f"/admin/events/{event['id']}/teams", data={"csrf_token": token,
                                                                  "teams": "Blue"})  # fmt: skip
    edit = bob.get(f"/admin/events/{event['id']}")
    assert other.status_code == edit.status_code == 404
    assert api_event(client, event)["teams"] == ["Red"]
