"""Who may do what to which topic, event or account.

- Admins and the operator: everything.
- An organiser: the topics and events they own, the events they co-host, and the
  topics that are questions of those events. Co-hosts present and edit an event
  and its questions; only its owner (or an admin) deletes it or changes its hosts.
- Topics and events without an owner were made before accounts: the operator's.

Pure: each rule takes the actor and the items (a topic's events are passed in).
"""

from __future__ import annotations

from collections.abc import Iterable

from core.rules.accounts import OPERATOR, Actor


def owner_of(item: dict) -> str:
    """The id of the item's owner: a user's id, or "operator"."""
    return item.get("owner") or OPERATOR


def hosts_of(event: dict) -> list[str]:
    """The user ids of the event's co-hosts (not its owner)."""
    return list(event.get("hosts") or [])


def owns(actor: Actor, item: dict) -> bool:
    """May the actor do what only an owner does (delete an event, change its hosts)?"""
    return actor.is_admin or owner_of(item) == actor.id


def may_manage_event(actor: Actor, event: dict) -> bool:
    """May the actor see, present and edit the event and its questions?"""
    return owns(actor, event) or actor.id in hosts_of(event)


def may_manage_topic(actor: Actor, topic: dict, events: Iterable[dict] = ()) -> bool:
    """May the actor see and change the topic: theirs, or a question of one of `events`
    that they manage?"""
    if owns(actor, topic):
        return True
    return any(
        may_manage_event(actor, event)
        and any(q["topic_id"] == topic["id"] for q in event["questions"])
        for event in events
    )


def may_manage_accounts(actor: Actor) -> bool:
    """Creating, listing, changing and deleting accounts: admins and the operator."""
    return actor.is_admin


def refusal_for_own_account(actor: Actor, user: dict, change: dict) -> str | None:
    """Why an admin may not make `change` ({role, disabled, delete}) to their own
    account, or None: nobody locks themselves out by accident."""
    if actor.id != user["id"]:
        return None
    if change.get("delete"):
        return "you cannot delete your own account"
    if change.get("disabled"):
        return "you cannot disable your own account"
    if change.get("role") not in (None, user["role"]):
        return "you cannot change your own role"
    return None
