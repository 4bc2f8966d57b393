"""Ownership, checked in one place: may this actor reach this topic, event, vote or
account, and which of them does it see; and an event's co-hosts.

The web layer's guard (webapp/access.py) calls `check` for every id a request to
an admin route names, before the view runs; the lists call `topics_for` and
`events_for`. A topic or event the actor may not manage answers exactly as one
that does not exist (TopicNotFound, EventNotFound: a 404), so ids are not an
oracle; what only an owner may do (delete an event, change its hosts) is
NotAllowed (a 403) for its co-hosts. The rules themselves are core/rules/access.py.
"""

from __future__ import annotations

from core.rules.access import (
    hosts_of,
    may_manage_accounts,
    may_manage_event,
    may_manage_topic,
    owner_of,
    owns,
)
from core.rules.accounts import Actor
from core.rules.errors import (
    EventNotFound,
    NotAllowed,
    NotFound,
    TopicNotFound,
    UserNotFound,
)
from core.services import audit
from core.services.accounts import Accounts
from core.services.events import Events
from core.services.topics import Topics
from core.services.voting import Voting

# What a route may ask of the actor: manage (owner, co-host, admin), own (owner, admin).
MANAGE, OWN = "manage", "own"


class Access:
    """Who may reach what, over the topics, events, voting and accounts services."""

    def __init__(self, topics: Topics, events: Events, voting: Voting, accounts: Accounts):
        self.topics = topics
        self.events = events
        self.voting = voting
        self.accounts = accounts

    # -- one id at a time ------------------------------------------------------------

    def check(self, actor: Actor, kind: str, item_id: str, level: str = MANAGE) -> None:
        """Raise unless `actor` may reach the `kind` ("topic", "event", "vote", "user")
        named `item_id` at `level`."""
        if kind == "topic":
            self.topic(actor, item_id)
        elif kind == "event":
            self.event(actor, item_id, level)
        elif kind == "vote":
            record = self.voting.vote(item_id)
            if record is None:
                raise NotFound(item_id)
            self.topic(actor, record["topic_id"])
        elif kind == "user":
            if not may_manage_accounts(actor):
                raise NotAllowed("only admins manage accounts")
        else:
            raise ValueError(f"no rule for {kind!r} ids")

    def topic(self, actor: Actor, topic_id: str) -> dict:
        """The topic, if the actor may manage it; TopicNotFound else."""
        topic = self.topics.get(topic_id)
        if actor.is_admin or may_manage_topic(actor, topic, self._events_of(actor)):
            return topic
        raise TopicNotFound(topic_id)

    def event(self, actor: Actor, event_id: str, level: str = MANAGE) -> dict:
        """The event, if the actor may manage it (own it, with `level` OWN)."""
        event = self.events.event(event_id)
        if not may_manage_event(actor, event):
            raise EventNotFound(event_id)
        if level == OWN and not owns(actor, event):
            raise NotAllowed("only the event's owner (or an admin) may do this")
        return event

    def manages_topic(self, actor: Actor | None, topic: dict) -> bool:
        """For the public reads: does `actor` see this topic as its manager does?"""
        return self.topic_manager(actor)(topic)

    def topic_manager(self, actor: Actor | None):
        """`manages_topic` for many topics: the actor's events are read once."""
        if actor is None:
            return lambda topic: False
        if actor.is_admin:
            return lambda topic: True
        events = self._events_of(actor)
        return lambda topic: may_manage_topic(actor, topic, events)

    def manages_event(self, actor: Actor | None, event: dict) -> bool:
        return actor is not None and may_manage_event(actor, event)

    # -- lists -----------------------------------------------------------------------

    def topics_for(self, actor: Actor) -> list[dict]:
        """The topics the actor manages, open first, newest first."""
        topics = self.topics.all()
        if actor.is_admin:
            return topics
        events = self._events_of(actor)
        return [t for t in topics if may_manage_topic(actor, t, events)]

    def events_for(self, actor: Actor) -> list[dict]:
        """The events the actor manages, newest first."""
        return [e for e in self.events.events() if may_manage_event(actor, e)]

    def _events_of(self, actor: Actor) -> list[dict]:
        """The events an organiser manages (their questions give access to topics)."""
        if actor.is_admin:
            return []
        return self.events_for(actor)

    # -- owners and co-hosts -----------------------------------------------------------

    def people(self, event: dict) -> dict:
        """The event's owner and co-hosts, each {id, email} (email None for the operator
        or a deleted account)."""
        ids = [owner_of(event), *hosts_of(event)]
        emails = self.accounts.emails_of(ids)

        def person(user_id: str) -> dict:
            return {"id": user_id, "email": emails.get(user_id)}

        return {"event_id": event["id"], "owner": person(ids[0]),
                "hosts": [person(h) for h in ids[1:]]}  # fmt: skip

    def add_host(self, event_id: str, email: str) -> dict:
        """Make the account with `email` a co-host (UserNotFound when there is none)."""
        user = self.accounts.by_email(email)
        if user is None:
            raise UserNotFound(email)

        def add(event):
            if user["id"] != owner_of(event) and user["id"] not in hosts_of(event):
                event["hosts"] = [*hosts_of(event), user["id"]]

        event = self.events.change(event_id, add)
        audit.record("event.hosts.add", event_id, user=user["id"])
        return self.people(event)

    def remove_host(self, event_id: str, user_id: str) -> dict:
        """The account is no longer a co-host (NotFound when it was not one)."""
        if user_id not in hosts_of(self.events.event(event_id, fresh=True)):
            raise NotFound(user_id)
        event = self.events.change(
            event_id, lambda e: e.update(hosts=[h for h in hosts_of(e) if h != user_id])
        )
        audit.record("event.hosts.remove", event_id, user=user_id)
        return self.people(event)
