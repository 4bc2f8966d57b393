"""Instant-runoff maths (core/rules/instant_runoff.py): textbook elections, exhausted ballots,
and the deterministic tie-breaks (fewest votes, then fewest Borda points, then listed last)."""

from __future__ import annotations

from core.rules.instant_runoff import borda_points, instant_runoff


def ballots(*groups: tuple[int, str]) -> list[list[str]]:
    """(how many, "ABC" best first) groups as a list of ballots."""
    return [list(order) for count, order in groups for _ in range(count)]


def test_tennessee_capital_the_plurality_leader_loses():
    # Wikipedia's Tennessee example (per 100 voters): Memphis leads on first
    # preferences (42) but Knoxville wins once Chattanooga and Nashville are out.
    votes = ballots((42, "MNCK"), (26, "NCKM"), (15, "CKNM"), (17, "KCNM"))
    result = instant_runoff(list("MNCK"), votes)
    assert result["winner"] == "K" and result["ballots"] == 100
    assert result["rounds"] == [
        {"counts": {"M": 42, "N": 26, "C": 15, "K": 17}, "exhausted": 0, "eliminated": ["C"]},
        {"counts": {"M": 42, "N": 26, "K": 32}, "exhausted": 0, "eliminated": ["N"]},
        {"counts": {"M": 42, "K": 58}, "exhausted": 0, "eliminated": []},
    ]


def test_a_first_round_majority_wins_at_once():
    result = instant_runoff(list("ABC"), ballots((3, "ABC"), (1, "BCA"), (1, "CBA")))
    assert result["winner"] == "A"
    assert result["rounds"] == [
        {"counts": {"A": 3, "B": 1, "C": 1}, "exhausted": 0, "eliminated": []}
    ]


def test_exhausted_ballots_leave_the_majority_they_no_longer_count_towards():
    # Top-1 rankings of C run out when C goes: the 4 remaining ballots decide.
    votes = ballots((3, "A"), (1, "B"), (2, "C"))
    result = instant_runoff(list("ABC"), votes)
    assert result["rounds"][0] == {
        "counts": {"A": 3, "B": 1, "C": 2}, "exhausted": 0, "eliminated": ["B"]
    }  # fmt: skip
    # 3 of 6 is not a majority; B's one ballot is then exhausted: 3 of 5 is.
    assert result["rounds"][1] == {"counts": {"A": 3, "C": 2}, "exhausted": 1, "eliminated": []}
    assert result["winner"] == "A"


def test_a_tie_for_last_goes_to_fewer_borda_points_then_to_the_later_listed():
    # B and C both have one first preference; C has more points (ranked second by
    # the A voters), so B goes.
    votes = ballots((2, "ACB"), (1, "BAC"), (1, "CAB"), (2, "DCB"))
    points = borda_points(list("ABCD"), votes)
    assert points["B"] < points["C"]
    first = instant_runoff(list("ABCD"), votes)["rounds"][0]
    assert first["counts"] == {"A": 2, "B": 1, "C": 1, "D": 2}
    assert first["eliminated"] == ["B"]
    # Equal votes and equal points: the one listed last goes.
    mirror = ballots((1, "AB"), (1, "BA"))
    result = instant_runoff(list("AB"), mirror)
    assert [r["eliminated"] for r in result["rounds"]] == [["B"], []]
    assert result["winner"] == "A"


def test_no_ballots_no_winner_and_unknown_choices_are_skipped():
    assert instant_runoff(list("AB"), []) == {"winner": None, "rounds": [], "ballots": 0}
    result = instant_runoff(list("AB"), [["X", "B"], ["B"]])
    assert result["winner"] == "B" and result["rounds"][0]["counts"] == {"A": 0, "B": 2}


def test_the_same_ballots_always_give_the_same_rounds_in_any_order():
    votes = ballots((4, "ABCD"), (4, "BCDA"), (4, "CDAB"), (4, "DABC"), (1, "ACBD"))
    once = instant_runoff(list("ABCD"), votes)
    assert once == instant_runoff(list("ABCD"), list(reversed(votes)))
    assert once["winner"] is not None
    assert all(len(r["eliminated"]) <= 1 for r in once["rounds"])
