"""DynamoDB reads and writes of a quiz's players: who joined, their scores, the board.

Table (name takes `TABLE_PREFIX`; schema in ddl/players.json):
- players  PK event_id, SK player. Two kinds of item per event:
           "player#<voter_id>": name (as typed), team, joined, and the tallies
             score, correct, answered (ADDed by the answers' batch transactions,
             aws/batch.py), plus `board` = event_id, which puts it in the index;
           "name#<nickname key>": voter_id. Its conditional Put, in the same
             transaction as the player's, keeps nicknames unique in an event
             (quiz.nickname_key: any case, look-alike letters).
           GSI players-by-score (PK board, SK score; name, correct, team projected):
           an event's players, highest score first. Only player items carry
           `board` (a sparse index), so its top N is one Query of N items.

Voter ids never hold "#", so the two prefixes never meet.
"""

from __future__ import annotations

from core.aws.codec import from_item, to_item
from core.aws.errors import translated
from core.aws.tables import TableNames, pages
from core.rules.errors import AlreadyJoined, Conflict, NameTaken
from core.rules.formats.quiz import player_deltas

PLAYERS_BY_SCORE = "players-by-score"
PLAYER, NAME = "player#", "name#"
# What a board row shows, besides the index's keys (event_id, player, board, score).
BOARD_FIELDS = ("name", "correct", "team")


def player_key(event_id: str, voter_id: str) -> dict:
    return {"event_id": {"S": event_id}, "player": {"S": PLAYER + voter_id}}


def score_updates(table: str, writes: list) -> list[tuple[dict, tuple]]:
    """The batch transaction's Updates of players PK event_id SK "player#<voter_id>": per
    player, ADD what the batch's counted quiz answers scored (quiz.player_deltas), with the
    owner ("player", (event_id, voter_id)) of each. One Update per player, as a transaction
    writes an item once; the answers' conditional record Puts in the same transaction make
    a redelivered answer add nothing."""
    scored: dict[tuple[str, str], list[dict]] = {}
    for write in writes:
        if write.counted and write.score is not None:
            key = (write.score["event_id"], write.vote.voter_id)
            scored.setdefault(key, []).append(write.score)
    items = []
    for (event_id, voter_id), scores in sorted(scored.items()):
        deltas = player_deltas(scores)
        update = {
            "TableName": table,
            "Key": player_key(event_id, voter_id),
            "UpdateExpression": "ADD #s :s, #c :c, #a :a",
            "ExpressionAttributeNames": {"#s": "score", "#c": "correct", "#a": "answered"},
            "ExpressionAttributeValues": {
                ":s": {"N": str(deltas["score"])},
                ":c": {"N": str(deltas["correct"])},
                ":a": {"N": str(deltas["answered"])},
            },
        }
        items.append(({"Update": update}, ("player", (event_id, voter_id))))
    return items


def player_of(item: dict) -> dict:
    """A players item (or index entry) as a plain player: voter_id, name, team, score..."""
    player = from_item(item)
    player["voter_id"] = player.pop("player").removeprefix(PLAYER)
    player.pop("board", None)
    for tally in ("score", "correct", "answered"):
        player.setdefault(tally, 0)
    return player


class PlayerStore:
    """Plain boto3 access to players. The client is injected."""

    def __init__(self, client, table_prefix: str = ""):
        self.client = client
        self.names = TableNames(table_prefix)

    def join(self, player: dict, name_key: str) -> None:
        """Put players PK event_id SK "player#<voter_id>" and SK "name#<name_key>" together,
        each only if new: NameTaken when another player holds the nickname, AlreadyJoined
        when this voter is a player of the event already (nothing written either way)."""
        event_id, voter_id = player["event_id"], player["voter_id"]
        item = {**player, "player": PLAYER + voter_id, "board": event_id}
        del item["voter_id"]
        item |= {"score": 0, "correct": 0, "answered": 0}
        name = {"event_id": event_id, "player": NAME + name_key, "voter_id": voter_id}
        new = "attribute_not_exists(player)"
        items = [
            {"Put": {"TableName": self.names.players, "Item": to_item(item),
                     "ConditionExpression": new}},
            {"Put": {"TableName": self.names.players, "Item": to_item(name),
                     "ConditionExpression": new}},
        ]  # fmt: skip

        def refused(exc) -> Exception:
            reasons = exc.response.get("CancellationReasons", [])
            failed = [i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"]
            if 0 in failed:
                return AlreadyJoined(voter_id)
            if 1 in failed:
                return NameTaken(player["name"])
            return Conflict(event_id)  # cancelled by a conflict: try again

        with translated(on_code={"TransactionCanceledException": refused}):
            self.client.transact_write_items(TransactItems=items)

    def get_player(self, event_id: str, voter_id: str) -> dict | None:
        """GetItem players PK event_id SK "player#<voter_id>" (consistent), or None."""
        with translated():
            answer = self.client.get_item(
                TableName=self.names.players, Key=player_key(event_id, voter_id),
                ConsistentRead=True,
            )  # fmt: skip
        return player_of(answer["Item"]) if "Item" in answer else None

    def top(self, event_id: str, limit: int) -> list[dict]:
        """Query GSI players-by-score PK board = event_id, highest score first, Limit
        `limit`: the board's top, one Query of `limit` items however many play."""
        with translated():
            page = self.client.query(**self._board(event_id), Limit=limit)
        return [player_of(item) for item in page.get("Items", [])]

    def standings(self, event_id: str) -> list[dict]:
        """Query GSI players-by-score PK board = event_id, every page: all the event's
        players, highest score first (ranks and the team board)."""
        return [player_of(item) for item in pages(self.client, "query", self._board(event_id))]

    def _board(self, event_id: str) -> dict:
        names = {"#b": "board", **{f"#f{i}": f for i, f in enumerate(BOARD_FIELDS)},
                 "#p": "player", "#s": "score"}  # fmt: skip
        return {
            "TableName": self.names.players,
            "IndexName": PLAYERS_BY_SCORE,
            "KeyConditionExpression": "#b = :e",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {":e": {"S": event_id}},
            "ProjectionExpression": ", ".join(n for n in names if n != "#b"),
            "ScanIndexForward": False,
        }

    def players(self, event_id: str) -> list[dict]:
        """Query players PK event_id, SK begins_with "player#" (consistent): every player
        of the event with their tallies, in voter id order (exports, recount)."""
        kwargs = {
            "TableName": self.names.players,
            "KeyConditionExpression": "event_id = :e AND begins_with(player, :p)",
            "ExpressionAttributeValues": {":e": {"S": event_id}, ":p": {"S": PLAYER}},
            "ConsistentRead": True,
        }
        return [player_of(item) for item in pages(self.client, "query", kwargs)]

    def set_tallies(self, event_id: str, voter_id: str, seen: dict, proven: dict) -> None:
        """UpdateItem players PK event_id SK "player#<voter_id>": SET score, correct and
        answered to `proven`, only while they still hold `seen` (an answer scored meanwhile
        makes it Conflict: recount again)."""
        names = {"#s": "score", "#c": "correct", "#a": "answered"}
        values, checks = {}, []
        for short, field in (("s", "score"), ("c", "correct"), ("a", "answered")):
            values[f":{short}"] = {"N": str(proven[field])}
            values[f":seen_{short}"] = {"N": str(seen[field])}
            checks.append(f"#{short} = :seen_{short}")
        moved = {"ConditionalCheckFailedException": lambda _: Conflict(voter_id)}
        with translated(on_code=moved):
            self.client.update_item(
                TableName=self.names.players,
                Key=player_key(event_id, voter_id),
                UpdateExpression="SET #s = :s, #c = :c, #a = :a",
                ConditionExpression=" AND ".join(checks),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
