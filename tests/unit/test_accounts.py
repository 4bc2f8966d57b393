"""The rules of accounts and access (core/rules/accounts.py, core/rules/access.py):
emails, the password policy, the tokens' shape, the failed sign-ins' window, and
who may manage which topic, event or account. Pure: no server."""

from __future__ import annotations

import pytest

from core.rules.access import (
    may_manage_accounts,
    may_manage_event,
    may_manage_topic,
    owner_of,
    owns,
    refusal_for_own_account,
)
from core.rules.accounts import (
    FAILURE_WINDOW_SECONDS,
    MAX_FAILURES,
    THE_OPERATOR,
    Actor,
    check_email,
    common_passwords,
    email_key,
    password_problem,
    recent_failures,
    retry_after,
    token_hash,
    token_id_of,
    token_text,
)
from core.rules.errors import FieldInvalid

ADA = Actor("u-ada", "organiser", "ada@example.org")
BOB = Actor("u-bob", "organiser", "bob@example.org")
ADMIN = Actor("u-root", "admin", "root@example.org")
TOKEN_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"


# -- emails --------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["ada@example.org", "  Ada.Lovelace+polls@Example.ORG ",
                                   "x@a.b.c"])  # fmt: skip
def test_an_email_is_taken_as_typed_and_trimmed(email):
    assert check_email(email) == email.strip()


@pytest.mark.parametrize("email", ["", "ada", "ada@", "@example.org", "ada@example",
                                   "a da@example.org", "ada@@example.org", None, 7,
                                   "a@" + "b" * 250 + ".org", "ada@example..org"])  # fmt: skip
def test_what_is_not_an_email_is_refused_on_the_email_field(email):
    with pytest.raises(FieldInvalid) as refused:
        check_email(email)
    assert refused.value.field == "email"


def test_two_emails_differing_in_case_are_one_account():
    assert email_key(" Ada@Example.ORG") == email_key("ada@example.org")
    assert email_key("STRASSE@x.de") == email_key("straße@x.de".upper())


# -- passwords -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 10"),
        ("123456789", "at least 10"),
        ("1234567890", "common passwords"),
        ("QwertyUiop", "common passwords"),  # in any case
        ("password123", "common passwords"),
        ("zzzzzzzzzzzz", "repeated"),
        ("ada@example.org", "email"),
        ("ADA@example.org", "email"),
        ("x" * 1025, "at most"),
        (None, "required"),
    ],
)
def test_weak_passwords_are_refused_saying_why(password, problem):
    assert problem in password_problem(password, "ada@example.org")


@pytest.mark.parametrize("password", ["correct horse battery staple", "kW9#tq!2-Lm", "xy" * 512])
def test_a_good_password_passes(password):
    assert password_problem(password, "ada@example.org") is None


def test_the_shipped_common_list_is_long_lowercase_and_only_what_length_alone_lets_through():
    common = common_passwords()
    assert len(common) > 1000
    assert all(p == p.lower() and len(p) >= 10 for p in common)
    assert {"1234567890", "qwertyuiop", "password123"} <= common


# -- tokens --------------------------------------------------------------------------


def test_a_token_names_its_id_and_anything_else_names_none():
    text = token_text(TOKEN_ID, "s" * 43)
    assert text.startswith("vg_") and token_id_of(text) == TOKEN_ID
    for other in ("", "vg_", "vg_x_" + "s" * 43, "Bearer " + text, text + " ", "test-key",
                  token_text(TOKEN_ID, "short")):  # fmt: skip
        assert token_id_of(other) is None, other


def test_a_token_is_stored_as_its_sha256_only():
    text = token_text(TOKEN_ID, "s" * 43)
    digest = token_hash(text)
    assert len(digest) == 64 and "s" * 43 not in digest and digest == token_hash(text)
    assert token_hash(text + "x") != digest


# -- failed sign-ins -------------------------------------------------------------------


def test_ten_failures_inside_fifteen_minutes_block_until_the_oldest_leaves_the_window():
    start = 1_000_000.0
    times = [start + i for i in range(MAX_FAILURES - 1)]
    assert retry_after(times, start + 60) is None  # nine: one more attempt allowed
    times.append(start + 60)
    wait = retry_after(times, start + 61)
    assert wait is not None and 0 < wait <= FAILURE_WINDOW_SECONDS
    # Just after the oldest leaves the window, one attempt is allowed again.
    assert retry_after(times, start + FAILURE_WINDOW_SECONDS + 0.5) is None
    assert recent_failures(times, start + FAILURE_WINDOW_SECONDS + 0.5) == times[1:]


def test_failures_long_ago_or_in_the_future_do_not_count():
    now = 5_000_000.0
    stale = [now - FAILURE_WINDOW_SECONDS - 1] * 50
    assert retry_after(stale, now) is None
    assert recent_failures([now + 10], now) == []


# -- who may do what -------------------------------------------------------------------


def event(owner=None, hosts=(), topics=()):
    found = {"id": "e1", "questions": [{"topic_id": t} for t in topics], "hosts": list(hosts)}
    return {**found, "owner": owner} if owner else found


def topic(owner=None, topic_id="t1"):
    return {"id": topic_id, "owner": owner} if owner else {"id": topic_id}


def test_items_made_before_accounts_belong_to_the_operator_and_admins_see_them():
    legacy_topic, legacy_event = topic(), event()
    assert owner_of(legacy_topic) == owner_of(legacy_event) == "operator"
    for who in (ADMIN, THE_OPERATOR):
        assert may_manage_topic(who, legacy_topic) and may_manage_event(who, legacy_event)
    assert not may_manage_topic(ADA, legacy_topic) and not may_manage_event(ADA, legacy_event)


def test_an_organiser_manages_their_own_and_nobody_elses():
    assert may_manage_topic(ADA, topic("u-ada")) and may_manage_event(ADA, event("u-ada"))
    assert not may_manage_topic(BOB, topic("u-ada"))
    assert not may_manage_event(BOB, event("u-ada"))
    assert owns(ADA, event("u-ada")) and not owns(BOB, event("u-ada"))


def test_a_co_host_manages_the_event_and_its_questions_but_does_not_own_it():
    shared = event("u-ada", hosts=["u-bob"], topics=["t1"])
    assert may_manage_event(BOB, shared) and not owns(BOB, shared)
    assert may_manage_topic(BOB, topic("u-ada", "t1"), [shared])
    # Not a topic outside that event, nor through an event Bob does not host.
    assert not may_manage_topic(BOB, topic("u-ada", "t2"), [shared])
    assert not may_manage_topic(BOB, topic("u-ada", "t1"), [event("u-ada", topics=["t1"])])
    assert owns(ADMIN, shared)


def test_only_admins_manage_accounts_and_no_admin_locks_themselves_out():
    assert may_manage_accounts(ADMIN) and may_manage_accounts(THE_OPERATOR)
    assert not may_manage_accounts(ADA)
    me = {"id": ADMIN.id, "role": "admin"}
    assert refusal_for_own_account(ADMIN, me, {"disabled": True})
    assert refusal_for_own_account(ADMIN, me, {"role": "organiser"})
    assert refusal_for_own_account(ADMIN, me, {"delete": True})
    assert refusal_for_own_account(ADMIN, me, {"role": "admin", "disabled": False}) is None
    assert refusal_for_own_account(ADMIN, {"id": "u-other", "role": "admin"},
                                   {"disabled": True}) is None  # fmt: skip
