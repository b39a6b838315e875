"""Bulk loads into a nearly empty table: indexes and constraints dropped, then built again."""


import pytest
from django.db import connection, transaction

from quantriet.imports import bulk
from quantriet.org import services
from quantriet.org.models import Person
from tests.imports.test_engine import MEMBERS, POSITIONS, UNITS, run, write_csvs

POSTGRES = connection.vendor == "postgresql"


def definitions(table="org_person"):
    """The table's indexes and constraints, as Django's introspection sees them."""
    with connection.cursor() as cur:
        return connection.introspection.get_constraints(cur, table)


TABLES = ("org_person", "org_unit", "org_unitevent")


def test_an_import_through_the_bulk_path_leaves_the_same_indexes(org, tmp_path, monkeypatch):
    before = {table: definitions(table) for table in TABLES}
    for constraints in before.values():
        assert len(constraints) >= 3
        assert any(c["foreign_key"] for c in constraints.values())
    taken = []
    real = bulk.indexes_rebuilt_after

    def spy(table, enabled=True):
        taken.append(table)
        return real(table, enabled)

    monkeypatch.setattr(bulk, "worth_it", lambda table, rows: True)
    monkeypatch.setattr(bulk, "indexes_rebuilt_after", spy)
    # the units are written in the same transaction first: their deferred foreign-key
    # checks are pending when the person table is altered
    assert run(write_csvs(tmp_path / "a", UNITS, MEMBERS[:1], None)).ok
    members = [r[:] for r in MEMBERS]
    members[0][8] = "HN-BD-CS6"  # an update as well as two new rows
    result = run(write_csvs(tmp_path / "b", None, members, POSITIONS))
    assert result.ok, [i.text("en") for i in result.issues]
    assert (result.tables["members"].new, result.tables["members"].updated) == (2, 1)
    # the first file's new units and their events, then the members of each file
    assert taken == ["org_unit", "org_unitevent", "org_person", "org_person"]
    assert {table: definitions(table) for table in TABLES} == before
    assert Person.objects.get(member_code="DV001").unit.code == "HN-BD-CS6"
    assert services.verify_member_counters() == []
    # the constraints work again: a second person with DV001's national ID is refused
    with pytest.raises(Exception, match="national_id"), transaction.atomic():
        Person.objects.create(given_name="X", full_name="X", unit=org.bd,
                              national_id="001190000111")


def test_a_failure_inside_the_load_restores_everything(org):
    before = definitions()
    count = Person.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        with bulk.indexes_rebuilt_after("org_person"):
            # PostgreSQL keeps only the primary key (and checks); SQLite drops nothing
            kept = {name: c for name, c in before.items()
                    if not POSTGRES or c["primary_key"] or c["check"]}
            assert definitions() == kept
            Person.objects.create(given_name="Y", full_name="Y", unit=org.bd)
            raise RuntimeError("the worker dies")
    assert definitions() == before
    assert Person.objects.count() == count


def test_worth_it_only_when_the_table_holds_fewer_rows(org, monkeypatch):
    monkeypatch.setattr(bulk, "MIN_ROWS", 1)
    existing = Person.objects.count()
    assert existing > 1
    # on SQLite never: it has no indexes to drop
    assert bulk.worth_it("org_person", existing + 1) is POSTGRES
    assert not bulk.worth_it("org_person", existing)
    monkeypatch.setattr(bulk, "MIN_ROWS", existing + 100)
    assert not bulk.worth_it("org_person", existing + 1)


