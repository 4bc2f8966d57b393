"""The refusals a voter or admin can cause: what the views map to 4xx answers."""

from __future__ import annotations


class VotingError(Exception):
    """Base of the refusals a voter or admin can cause."""


class TopicNotFound(VotingError):
    """No topic with that id."""


class ChoiceNotInTopic(VotingError):
    """The choice id is not one of the topic's choices."""


class TopicClosed(VotingError):
    """The topic does not take votes now."""


class VoterRequired(VotingError):
    """The topic allows one vote per voter, and the vote names no voter."""


class AlreadyVoted(VotingError):
    """This voter's vote on a one-per-voter topic is already recorded."""


class UnknownChoice(VotingError, ValueError):
    """A choice id that the topic does not have (an update naming a stranger)."""


class DuplicateChoice(VotingError, ValueError):
    """The same choice id listed twice in one update."""


class VotesWouldBeDropped(VotingError):
    """An update removes choices that have votes, and the caller did not confirm it.

    `dropped` lists (choice, vote count) for each removed choice with votes.
    """

    def __init__(self, dropped: list[tuple[dict, int]]):
        super().__init__(", ".join(c["id"] for c, _ in dropped))
        self.dropped = dropped
