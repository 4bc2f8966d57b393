"""Results maths (core/rules/shares.py): shares rounded like the original, and who leads."""

from __future__ import annotations

import pytest

from core.rules.shares import leaders, percentages, shares_adding_to_100


@pytest.mark.parametrize(
    ("counts", "shares"),
    [
        ([1, 2], [33, 67]),  # the original's own example
        ([1, 1], [50, 50]),
        ([3], [100]),
        ([1, 2, 3], [17, 33, 50]),
        ([1, 7], [13, 88]),  # 12.5 and 87.5: halves go up, so the shares may sum to 101
        ([1, 199], [1, 100]),  # 0.5 and 99.5
        ([1, 399], [0, 100]),  # 0.25 goes down, 99.75 up
        ([2, 1, 0], [67, 33, 0]),
    ],
)
def test_percentages_are_whole_and_rounded_half_up(counts, shares):
    assert percentages(counts) == shares


def test_no_votes_are_all_zero_shares():
    assert percentages([0, 0, 0]) == [0, 0, 0]
    assert percentages([]) == []


def test_the_rounding_is_exact_for_large_counts():
    # 10**18 + 1 of 2 * 10**18 + 2 is exactly one half: float division would blur it.
    big = 10**18
    assert percentages([big + 1, big + 1]) == [50, 50]
    assert percentages([1, 2 * big - 1]) == [0, 100]


def test_the_leader_has_the_most_votes():
    assert leaders({"a": 1, "b": 3, "c": 2}) == ["b"]


def test_a_tie_makes_several_leaders_in_choice_order():
    assert leaders({"c": 2, "a": 2, "b": 1}) == ["c", "a"]


def test_nobody_leads_before_the_first_vote():
    assert leaders({"a": 0, "b": 0}) == []
    assert leaders({}) == []


def test_shares_adding_to_100_always_add_up():
    assert shares_adding_to_100([1, 1, 1]) == [34, 33, 33]
    assert shares_adding_to_100([0, 0]) == [0, 0]
    assert shares_adding_to_100([1, 2]) == [33, 67]
    for counts in ([1, 1, 1, 1, 1, 1, 1, 1, 3], [5, 5, 5, 1], [3, 3, 1], [7, 0, 2, 2]):
        assert sum(shares_adding_to_100(counts)) == 100
    assert sum(percentages([1, 1, 1, 1, 1, 1])) == 102  # why pages need their own shares
