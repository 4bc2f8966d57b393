"""The domain's errors: the refusals a voter or admin can cause, and what the store and
queue report. The web layer maps each to one answer (webapp/refusals.py)."""

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


class TooLate(VotingError):
    """A quiz answer after its question's time limit: it does not count."""


class NotAPlayer(VotingError):
    """A quiz answer from a voter who has not joined the event with a nickname."""


class NameTaken(VotingError):
    """Another player of the event holds that nickname (in any case or look-alike letters)."""


class AnswerScored(VotingError):
    """A deletion of a quiz answer that scored: its points, correct answer and answer are
    in its player's tallies, and a scored answer is final."""


class AlreadyJoined(VotingError):
    """This voter is a player of the event already."""


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


class FieldInvalid(VotingError):
    """A field breaks a rule that depends on the topic: answered 422 naming the field.

    `kind` is the error's type in the 422's detail list (pydantic's names where one fits).
    """

    kind = "invalid"

    def __init__(self, field: str, message: str, kind: str | None = None):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.kind = kind or self.kind


class AnswerInvalid(FieldInvalid):
    """A vote's answer breaks its topic type's rules (wrong or missing field, out of range)."""

    kind = "answer_invalid"


class RulesInvalid(FieldInvalid):
    """A topic's question settings do not fit together (e.g. a scale upside down)."""

    kind = "rules_invalid"


class RulesLocked(VotingError):
    """An update would change a question's type or rules while it has votes."""


class RulesConflict(VotingError):
    """A change the topic's stored settings refuse (an edit leaving `type` out that does
    not fit the stored type; hiding an answer of a question that takes none): a 409."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class EventNotFound(VotingError):
    """No event with that id or join code."""


class EventEnded(EventNotFound):
    """The join code names an event past its `expires_at`: archived, no longer joinable."""


class TooManyCodeLookups(VotingError):
    """This address tried too many join codes that name no event: it waits `retry_after`
    seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class QuestionNotOnScreen(VotingError):
    """A vote names a question of the event that the room is no longer on: the presenter
    moved on while its form was on screen."""


class NoCurrentQuestion(VotingError):
    """The event is before its first question: there is nothing to open, close or reveal."""


class BadPosition(VotingError, ValueError):
    """A question index or position the event does not have."""


# What the store and the queue say, in the domain's terms (core/aws/errors.py translates).


class StoreError(Exception):
    """Base of the DynamoDB adapter's errors."""


class StoreUnavailable(StoreError):
    """DynamoDB could not be reached or refused the request."""


class NotFound(StoreError):
    """No item with that key."""


class AlreadyExists(StoreError):
    """An item with that key exists already."""


class Conflict(StoreError):
    """The item changed since it was read."""


class BadCursor(StoreError):
    """A pagination cursor that this store did not hand out."""


class QueueUnavailable(Exception):
    """SQS could not be reached or refused the request."""


class CodeTaken(StoreError):
    """Another event holds that join code already."""


# Accounts, sign-in and access.


class NotAllowed(VotingError):
    """The actor may not do this (an organiser managing accounts, a co-host deleting the
    event, an admin disabling themselves): a 403 saying why."""


class SignInFailed(VotingError):
    """Wrong email or password, or an unknown or disabled account: one answer for all,
    so a sign-in never tells which accounts exist."""


class TooManyFailures(VotingError):
    """Too many failed sign-ins for this account or address lately: try again after
    `retry_after` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class EmailTaken(VotingError):
    """An account with that email, in any case, exists already."""


class UserNotFound(VotingError):
    """No account with that id."""


class TokenNotFound(VotingError):
    """No API token with that id among those the actor may see."""
# -- audience Q&A (core/rules/formats/qna.py) --------------------------------------------------


class QnaOff(VotingError):
    """The event takes no questions (its `qna` is off)."""


class QuestionNotFound(VotingError):
    """No question with that id in the event, or none the asker may see."""


class UpvoterRequired(VotingError):
    """An upvote names no voter: one upvote per voter needs one."""


class NotUpvoted(VotingError):
    """A withdrawal of an upvote the voter does not have."""


class NotShown(VotingError):
    """A question that is not shown cannot be pinned."""
