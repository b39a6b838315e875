import pytest
from django.db import connection

from quantriet.org import tree
from quantriet.org.models import Unit


def test_encode_is_fixed_width_and_ordered():
    codes = [tree.encode(n) for n in (0, 1, 35, 36, 1295, 10**6, tree.MAX_ID)]
    assert all(len(c) == tree.SEGMENT for c in codes)
    assert codes == sorted(codes)
    assert [tree.decode(c) for c in codes] == [0, 1, 35, 36, 1295, 10**6, tree.MAX_ID]
    with pytest.raises(ValueError):
        tree.encode(tree.MAX_ID + 1)


def test_ancestor_paths_and_minimal_roots():
    p = tree.encode(1) + tree.encode(2) + tree.encode(3)
    assert tree.ancestor_paths(p) == [tree.encode(1), tree.encode(1) + tree.encode(2)]
    assert tree.ancestor_ids(p) == [1, 2]
    a, b = tree.encode(1), tree.encode(1) + tree.encode(5)
    assert tree.minimal_roots([b, a, tree.encode(7)]) == [a, tree.encode(7)]


def test_paths_follow_parents(org):
    for u in Unit.objects.all():
        expected = (u.parent.path if u.parent else "") + tree.encode(u.pk)
        assert u.path == expected
        assert u.depth == tree.depth_of(u.path)


def test_subtree_and_ancestors(org):
    codes = set(org.hn.descendants(include_self=True).values_list("code", flat=True))
    assert codes == {"LDLD-01", "HN-BD", "HN-BD-CS1", "HN-BD-CS2", "HN-CS"}
    assert [u.code for u in org.cs1.ancestors()] == ["TLD", "LDLD-01", "HN-BD"]
    assert org.cs1.is_within(org.hn) and not org.cs3.is_within(org.hn)


def test_subtree_query_uses_an_index(org):
    """The subtree filter must be answerable from the path index, not a full scan."""
    sql, params = Unit.objects.subtree(org.hn.path).values("id").query.sql_with_params()
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " ".join(str(r) for r in cur.fetchall())
            assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
        else:
            cur.execute("SET enable_seqscan = off")
            cur.execute("EXPLAIN " + sql, params)
            plan = " ".join(r[0] for r in cur.fetchall())
            cur.execute("SET enable_seqscan = on")
            assert "Index" in plan and "path" in plan, plan
