"""moto 5.2.5's DynamoDB Query at the cost of what it returns, as on AWS.

Why: moto answers a Query by walking every item of the table, then sorting
and comparing every item of the partition. On DynamoDB a Query seeks in the
partition's sorted keys (or the index's) and reads only what it returns; a
text question's results (docs/data.md) rely on exactly that to stay a flat
read however many answers a room gives. Applied by `local.moto_server.apply()`
beside local/moto_dynamodb.py's fixes; on real AWS none of this is loaded.

9. A Query is handed only its candidates: the partition's items that meet
   the key condition (and its neighbour past each end, which moto looks at to
   tell whether a page ends the partition) or, for the first page of a simple
   index Query (one hash and one range key, no filter), the `Limit + 1` first
   in the index's order (the one past the limit makes moto say there is
   more, as it would). moto's
   own query then filters, sorts, pages and projects those, so its answers
   stay its own.
10. The candidates come from sorted views that last until the next write:
    each index's partitions in index order, and each table partition in sort
    key order, where a key condition is a binary search. Any DynamoDB request
    that is not a read drops every view (moto_dynamodb.writes(), counted under
    its request lock), so a view never outlives the data it was made from;
    while votes are being written the views are rebuilt per Query, which
    costs about what the walk did.
11. What moto does per item it returns, less: its query deep-copies every
    result (each attribute value) before projecting it into yet another item,
    and measures each candidate twice; in the Queries narrowed here the
    results are new items sharing the stored values (nothing changes them on
    the way into the answer), and an item's size, while a read is served, is
    measured once until the next write.
"""

from __future__ import annotations

import bisect
import copy
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from local import moto_dynamodb

# moto's own Table.query, saved as the patch replaces it.
_stock: dict[str, Any] = {}

_KEY_CONDITIONS = ("hash_key_conditions", "range_key_conditions")


def patch() -> None:
    from moto.dynamodb.models import table as table_module
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

    stock_query = Table.query
    _stock["query"] = stock_query

    def query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
              scan_index_forward, projection_expressions, index_name=None, *args,
              **kwargs):  # fmt: skip
        found = _candidates(self, hash_key, range_comparison, range_objs, limit,
                            exclusive_start_key, scan_index_forward, index_name, args,
                            kwargs)  # fmt: skip
        call = (self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                scan_index_forward, projection_expressions, index_name, *args)  # fmt: skip
        if found is None:
            return stock_query(*call, **kwargs)
        # moto's query takes its items from all_items(): for this call, just these;
        # and it copies its results through table.py's `copy`: for this call, the
        # light copies. Requests run one at a time
        # (moto_dynamodb.DYNAMODB_LOCK), so the shadowing is never seen.
        self.all_items = lambda: found
        table_module.copy = _LIGHT_COPY
        try:
            return stock_query(*call, **kwargs)
        finally:
            del self.all_items
            table_module.copy = copy

    stock_size = Item.size
    _stock["size"] = stock_size

    def size(self) -> int:
        if not moto_dynamodb.reading():
            return stock_size(self)
        return _until_next_write(self, "_measured", lambda: stock_size(self))

    Item.size = size

    Table.query = query


def _candidates(table, hash_key, range_comparison, range_objs, limit, start, forward,
                index_name, args, kwargs) -> list | None:  # fmt: skip
    """The items moto's Query may answer with, or None: leave it to moto (shapes
    this does not narrow: filters, multi-attribute keys, tables without a sort key)."""
    from moto.dynamodb.comparisons import OpDefault  # moto's "no filter"

    (condition,) = args[1:2] or (kwargs.get("filter_expression"),)
    filtered = condition is not None and not isinstance(condition, OpDefault)
    extra = set(kwargs) - {*_KEY_CONDITIONS, "filter_expression"}
    multi = any(len(kwargs.get(name) or ()) > 1 for name in _KEY_CONDITIONS)
    if hash_key is None or not table.range_key_attr or filtered or extra or multi:
        return None
    views = _views(table)
    if index_name is None:
        if not range_comparison:
            return list(table.items.get(hash_key, {}).values())
        return _in_range(views, table, hash_key, range_comparison, range_objs)
    index = {i.name: i for i in table.all_indexes()}.get(index_name)
    keys = {k["KeyType"]: k["AttributeName"] for k in index.schema} if index else {}
    if index is None or len(index.schema) != 2 or set(keys) != {"HASH", "RANGE"}:
        return None
    partitions = views.get(("index", index_name))
    if partitions is None:
        partitions = views[("index", index_name)] = _index_partitions(table, keys)
    partition = partitions.get((hash_key.type, hash_key.value), [])
    if range_comparison or start is not None or not limit:
        return list(partition)
    # The first Limit + 1 in the index's order, from whichever end the Query reads.
    return partition[: limit + 1] if forward is not False else partition[-(limit + 1) :]


def _light_copies(items: list) -> list:
    """New items holding the same attribute values: what moto's query needs of its
    copies (it projects them into new items or serialises them; nothing changes them)."""
    from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict

    copies = []
    for item in items:
        light = Item.__new__(Item)
        light.hash_key, light.range_key = item.hash_key, item.range_key
        light.attrs = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.update(light.attrs, item.attrs)  # no size check: the item passed it
        copies.append(light)
    return copies


_LIGHT_COPY = SimpleNamespace(deepcopy=_light_copies)


def _until_next_write(owner, name: str, make: Callable[[], Any]) -> Any:
    """`owner`'s value kept under `name`, made again when a write has happened since."""
    made_at, value = owner.__dict__.get(name, (None, None))
    if made_at != moto_dynamodb.writes():
        value = make()
        owner.__dict__[name] = (moto_dynamodb.writes(), value)
    return value


def _views(table) -> dict:
    """This table's sorted views (filled as Queries need them) until the next write."""
    return _until_next_write(table, "_sorted_views", dict)


def _index_partitions(table, keys: dict[str, str]) -> dict[tuple, list]:
    """Every partition of an index (items holding both its keys), in the index's order:
    its range key, then the table's keys (moto's own order for ties)."""
    hash_name, range_name = keys["HASH"], keys["RANGE"]
    order = (hash_name, range_name, table.hash_key_attr, table.range_key_attr)
    partitions: dict[tuple, list] = {}
    for partition in table.items.values():
        for item in partition.values():
            value = item.attrs.get(hash_name)
            if value is not None and range_name in item.attrs:
                partitions.setdefault((value.type, value.value), []).append(item)
    for items in partitions.values():
        items.sort(key=lambda i: tuple(i.attrs[a].cast_value for a in order))
    return partitions


# Key conditions as moto passes them (expressions upper-cased, or the legacy
# KeyConditions' names) -> how the sorted keys are cut: (start side, end side).
_CUTS = {
    "=": ("left", "right"), "EQ": ("left", "right"),
    "<": (None, "left"), "LT": (None, "left"),
    "<=": (None, "right"), "LE": (None, "right"),
    ">": ("right", None), "GT": ("right", None),
    ">=": ("left", None), "GE": ("left", None),
    "BETWEEN": ("left", "right"),
}  # fmt: skip


def _in_range(views: dict, table, hash_key, comparison: str, range_objs: list) -> list:
    """The partition's items whose sort key meets the condition: a binary search in the
    partition sorted by sort key, or moto's own comparison where that cannot apply."""
    partition = table.items.get(hash_key, {})
    try:
        keys, items = views[("partition", hash_key)]
    except KeyError:
        items = sorted(partition.values(), key=lambda item: item.range_key.cast_value)
        keys = [item.range_key.cast_value for item in items]
        views[("partition", hash_key)] = keys, items
    bounds = [obj.cast_value for obj in range_objs]
    try:
        if comparison == "BEGINS_WITH":
            low = bisect.bisect_left(keys, bounds[0])
            high = low
            while high < len(keys) and keys[high].startswith(bounds[0]):
                high += 1
            return _with_neighbours(items, low, high)
        if comparison in _CUTS:
            start, end = _CUTS[comparison]
            low = _cut(keys, bounds[0], start) if start else 0
            high = _cut(keys, bounds[-1], end) if end else len(keys)
            return _with_neighbours(items, low, high)
    except (TypeError, AttributeError):
        pass  # a key of another type than the condition's: moto's comparison decides
    return [item for item in partition.values() if item.range_key.compare(comparison, range_objs)]


def _with_neighbours(items: list, low: int, high: int) -> list:
    """items[low:high] and the item just outside each end: moto (as DynamoDB) reports
    more to read when a Limit ends the page and any item of the partition follows."""
    return items[max(low - 1, 0) : high + 1]


def _cut(keys: list, bound, side: str) -> int:
    return (bisect.bisect_left if side == "left" else bisect.bisect_right)(keys, bound)
