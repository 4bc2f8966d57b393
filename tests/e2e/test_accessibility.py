"""axe-core (WCAG 2.1 A and AA) on every page, in the light and the dark scheme.

The pages are walked as their users see them: the topic list, a ballot
(open, after a vote, closed; and one topic of each question type with its
present view), the results page, the present view, the embed, the admin
sign-in, topic table and forms, the API docs and the error page, and an
event's pages (the phone's stage, the events console, an event's page and
its presenter view, the console's "Add a question" with a type's rules shown
and with an error, and the page confirming a question's removal; audience questions:
the phone's Ask panel with the room's list and with its own question waiting, the
console's moderation queue, the projector's board), and a quiz's with teams (the phone's
nickname and team page, countdown and outcome with its team's rank; the projector's
countdown, and its podium with the leaderboard and the team board). Any violation fails
the test, with axe's own description of what and where.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.helpers.api import api_vote, make_topic, move
from tests.helpers.browser import DESKTOP, PHONE, in_both_schemes, sign_in_browser
from tests.helpers.quiz import quiz_event


def test_every_page_passes_axe_in_both_schemes(stack, contexts, console, api):
    base = stack.base
    topic = make_topic(api, "Accessible?", ["Yes", "No", "مرحبا"], base=api.base)
    closed = make_topic(api, "Closed?", ["A", "B"], active=False, base=api.base)
    api_vote(api, topic, 0, base=api.base)
    # Its own question: a topic joining an event waits there, closed.
    question = make_topic(api, "In the talk?", ["Yes", "No"], base=api.base)
    made = api.post(f"{api.base}/events", json={"title": "Talk", "questions": [question["id"]],
                                                "qna": "moderated"})  # fmt: skip
    assert made.status_code == 201, made.text
    event = made.json()
    # Audience questions: one waiting for approval, one shown and being answered.
    asked = [api.post(f"{api.base}/events/code/{event['code']}/qna",
                      json={"text": text, "voter_id": "axe", "name": "Ada"}).json()
             for text in ("Waiting?", "Being answered?")]  # fmt: skip
    for decision in ({"state": "approved"}, {"pinned": True}):
        shown = api.post(f"{api.base}/events/{event['id']}/qna/{asked[1]['id']}", json=decision)
        assert shown.status_code == 200, shown.text
    typed = {
        "multiple": make_topic(api, "Pick two", ["A", "B", "C"], base=api.base, type="multiple",
                               max_choices=2),
        "ranking": make_topic(api, "Rank them", ["A", "B", "C"], base=api.base, type="ranking"),
        "rating": make_topic(api, "Rate it", [], base=api.base, type="rating"),
        "rate each": make_topic(api, "Rate each", ["A", "B"], base=api.base, type="rating",
                                rate_each=True),
        "text": make_topic(api, "One word", [], base=api.base, type="text"),
        "game": make_topic(api, "Tug", ["Red", "Blue"], base=api.base, type="game"),
    }  # fmt: skip
    for answer in ({"choice_ids": [typed["multiple"]["choices"][0]["id"]]}, {"text": "great"}):
        kind = "multiple" if "choice_ids" in answer else "text"
        cast = api.post(f"{api.base}/votes", json={"topic_id": typed[kind]["id"], **answer})
        assert cast.status_code == 202, cast.text
    pages = {
        **{f"{kind} ballot": f"/t/{t['id']}" for kind, t in typed.items()},
        **{f"{kind} present": f"/t/{t['id']}/present" for kind, t in typed.items()},
        "topics": "/",
        "ballot": f"/t/{topic['id']}",
        "closed ballot": f"/t/{closed['id']}",
        "results page": f"/t/{topic['id']}/results",
        "present": f"/t/{topic['id']}/present",
        "embed": f"/t/{topic['id']}/embed",
        "not found": "/t/no-such-topic",
        "api docs": "/docs",
        "sign-in": "/admin/login",
        "event stage": f"/{event['code']}",
        "event embed": f"/{event['code']}/embed",
        "wrong code": "/j/ZZZZZZ",
    }
    problems = {}
    # Not watched for console errors: the not-found page is a 404 on purpose.
    phone = contexts(**PHONE).new_page()
    for name, path in pages.items():
        phone.goto(base + path)
        if name == "api docs":
            expect(phone.locator(".opblock").first).to_be_visible()
        problems[name] = in_both_schemes(phone)
    # After a vote: the counted state and the results.
    phone.goto(base + pages["ballot"])
    phone.get_by_role("button", name="Yes").click()
    expect(phone.locator("#vote-status")).to_contain_text("was counted")
    problems["voted"] = in_both_schemes(phone)
    # The Ask panel after a question: the phone's own question and its state.
    phone.goto(base + pages["event stage"])
    phone.get_by_label("Your question").fill("Is this accessible?")
    phone.get_by_role("button", name="Ask", exact=True).click()
    expect(phone.locator(".qna-mine")).to_contain_text("Waiting for approval")
    problems["event stage: my questions"] = in_both_schemes(phone)

    # Reduced motion: the projector's controls fade out as a switch (never half faded).
    admin = console.watch(contexts(**DESKTOP, reduced_motion="reduce").new_page())
    sign_in_browser(admin, base)
    for name, path in {
        "admin topics": "/admin",
        "new topic": "/admin/topics/new",
        "edit topic": f"/admin/topics/{topic['id']}/edit",
        "present (presenter)": f"/t/{topic['id']}/present",
        "text present (presenter)": f"/t/{typed['text']['id']}/present",
        "text results (admin)": f"/t/{typed['text']['id']}",
        "edit rating": f"/admin/topics/{typed['rate each']['id']}/edit",
        "events console": "/admin/events",
        "event": f"/admin/events/{event['id']}",
        "event presenter": f"/admin/events/{event['id']}/present",
        "event presenter: questions": f"/admin/events/{event['id']}/present?show=qna",
        "remove a question": f"/admin/events/{event['id']}/questions/0/remove",
    }.items():
        admin.goto(base + path)
        problems[name] = in_both_schemes(admin)
    # A form with errors next to its fields.
    admin.goto(base + "/admin/topics/new")
    admin.get_by_label("Question").fill("No choices yet")
    admin.get_by_role("button", name="Create topic").click()
    expect(admin.locator(".field-error").first).to_be_visible()
    problems["form errors"] = in_both_schemes(admin)
    # The console's "Add a question": a type with rules chosen, then refused next to its field.
    admin.goto(f"{base}/admin/events/{event['id']}")
    admin.get_by_label("Type").select_option("ranking")
    expect(admin.get_by_label("Rank the top")).to_be_visible()
    problems["event: a ranking being added"] = in_both_schemes(admin)
    admin.get_by_label("Question", exact=True).fill("Rank one?")
    admin.get_by_label("Choices, one per line").fill("Only one")
    admin.get_by_role("button", name="Add new question").click()
    expect(admin.locator(".field-error").first).to_be_visible()
    problems["event: a question refused"] = in_both_schemes(admin)
    problems.update(quiz_pages(api, base, contexts, admin))
    found = {name: found for name, found in problems.items() if found}
    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())


def quiz_pages(api, base, contexts, admin) -> dict[str, list[str]]:
    """A quiz of one question (so its last), with teams: the phone's nickname and team
    page, countdown and outcome (with its team's rank); the projector's countdown, then
    its podium, leaderboard and team board."""
    problems = {}
    quiz = quiz_event(api, questions=(("Capital?", ("*Paris", "Rome")),), base=api.base,
                      teams=["Red", "الأزرق"])  # fmt: skip
    player = contexts(**PHONE).new_page()
    player.goto(f"{base}/{quiz['code']}")
    problems["quiz: nickname"] = in_both_schemes(player)
    player.get_by_label("Nickname").fill("Ann")
    player.get_by_label("Team").select_option("Red")
    player.get_by_role("button", name="Play").click()
    move(api, quiz, base=api.base)
    player.goto(f"{base}/{quiz['code']}")
    expect(player.locator("[data-remaining]")).to_be_visible()
    problems["quiz: countdown (phone)"] = in_both_schemes(player)
    admin.goto(f"{base}/admin/events/{quiz['id']}/present")
    expect(admin.locator("[data-remaining]")).to_be_visible()
    problems["quiz: countdown (projector)"] = in_both_schemes(admin)
    player.get_by_role("button", name="Paris").click()
    expect(player.locator("#vote-status")).to_be_visible()
    revealed = api.post(f"{api.base}/events/{quiz['id']}/results", json={"shown": True})
    assert revealed.status_code == 200, revealed.text
    expect(player.locator("[data-outcome]")).to_contain_text("Correct, +")
    expect(player.locator("[data-outcome]")).to_contain_text("Your team, Red, is number 1")
    problems["quiz: outcome (phone)"] = in_both_schemes(player)
    admin.goto(f"{base}/admin/events/{quiz['id']}/present")
    expect(admin.locator("[data-podium]")).to_contain_text("Ann")
    expect(admin.locator("[data-team-board]")).to_contain_text("Red")
    problems["quiz: leaderboard, team board and podium"] = in_both_schemes(admin)
    return problems
