"""The copy check running at the same time as a rebuild of the band keys, each in its own
thread with its own database connection (PostgreSQL: row locks, READ COMMITTED).

What ``services`` promises: the rebuild batch locks its reports, the check locks its own
report before it stores keys and reads the latest generation only then. So a check that
meets a batch holding its report waits for it (no deadlock: it takes one lock), and a
check whose lookup began before a new phrase set was stored keeps keys of the new set.
Each test asserts that the copy is flagged once, that every report holds exactly one set
of keys of one generation (no duplicated key row) and that the keys stay findable.
"""

import random
import threading
import time

import pytest
from django.db import connection, connections, transaction

from quantriet.reports import services as reports
from quantriet.similarity import fingerprint as fp
from quantriet.similarity import services
from quantriet.similarity import synthetic as syn
from quantriet.similarity.models import BandKey, Flag, PhraseSet
from tests.similarity.test_phrases import (  # noqa: F401
    CORPUS,
    _assert_one_set_each,
    _submit,
    _submit_many,
    _text,
    crowd,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite has one writer for the whole database, so a "
               "check can never run while a rebuild batch holds its report's row lock"),
]

WAIT = 20  # seconds before a thread that does not finish counts as a deadlock


class _Thread(threading.Thread):
    """Runs `work` with its own connection; keeps the result or the exception."""

    def __init__(self, work):
        super().__init__(daemon=True)
        self.work, self.result, self.error = work, None, None

    def run(self):
        try:
            self.result = self.work()
        except BaseException as exc:  # noqa: BLE001 -- re-raised by finish()
            self.error = exc
        finally:
            connections.close_all()

    def finish(self):
        self.join(WAIT)
        assert not self.is_alive(), "deadlock: the thread did not finish"
        if self.error is not None:
            raise self.error
        return self.result


def _waiting_for_a_lock(pid: int) -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cur.fetchone()
    return bool(row) and row[0] == "Lock"


def _one_set_of_keys_each(rep):
    """No report (or template) has a key row twice or keys of two generations."""
    rows = list(BandKey.objects.filter(campaign=rep.campaign).values_list(
        "report_id", "source_id", "key", "generation"))
    owners = {}
    for report_id, source_id, key, generation in rows:
        owners.setdefault((report_id, source_id), []).append((key, generation))
    for owner, keys in owners.items():
        assert len(keys) == len({k for k, _g in keys}), f"duplicated key rows of {owner}"
        assert len({g for _k, g in keys}) == 1, f"keys of two generations for {owner}"


def _copy_of(i, rate=0.1, seed=5):
    return syn.render(syn.Report(syn.edit(CORPUS.report(i), rate, random.Random(seed))))


def test_check_waits_for_the_rebuild_batch_that_holds_its_report(crowd, monkeypatch):  # noqa: F811
    """A rebuild batch has locked the reports (the one being checked among them) and is
    fingerprinting; the check's lookup runs meanwhile, then it waits for the lock, and
    stores its keys after the batch committed."""
    rep = crowd
    _submit_many(rep, range(21))
    made = services.refresh(rep.campaign)  # generation 1, not rebuilt: lookups probe 1 and 0
    assert made.generation == 1
    version = reports.submit(participant=rep.part[21], text=_copy_of(3),
                             actor=rep.authors[21])
    monkeypatch.setattr(services, "REBUILD_BATCH", 100)  # one batch: every report, 21's too
    in_batch, release = threading.Event(), threading.Event()
    real = fp.fingerprint

    def slow(text, **kw):  # the rebuild's fingerprinting, inside the batch's transaction
        in_batch.set()
        assert release.wait(WAIT)
        return real(text, **kw)

    monkeypatch.setattr(fp, "fingerprint", slow)
    pids = {}

    def check():
        connection.ensure_connection()
        pids["check"] = connection.connection.info.backend_pid
        return services.check_version(version.pk)

    rebuild = _Thread(lambda: services.rebuild(rep.campaign, 1, batches=1))
    rebuild.start()
    assert in_batch.wait(WAIT)
    checker = _Thread(check)
    checker.start()
    deadline = time.monotonic() + WAIT
    while not (pids.get("check") and _waiting_for_a_lock(pids["check"])):
        assert checker.is_alive() and time.monotonic() < deadline, "the check did not wait"
        time.sleep(0.02)
    release.set()
    assert rebuild.finish() is False  # one batch run: all the reports, 21 among them
    flag = checker.finish()
    monkeypatch.setattr(fp, "fingerprint", real)
    assert services.rebuild(rep.campaign, 1)  # nothing left but marking it done
    assert flag is not None and flag.other.participant == rep.part[3]
    assert Flag.objects.filter(version=version).count() == 1
    _one_set_of_keys_each(rep)
    _assert_one_set_each(rep, 1)  # 21's keys too: generation 1, of its text
    # the task run again (a retry) changes nothing
    flags, size = Flag.objects.count(), flag.cluster.size
    again = services.check_version(version.pk)
    assert again.pk == flag.pk and Flag.objects.count() == flags
    flag.cluster.refresh_from_db()
    assert flag.cluster.size == size
    _one_set_of_keys_each(rep)


def test_new_phrase_set_rebuilt_during_the_check(crowd, monkeypatch):  # noqa: F811
    """The check looked up its candidates with generation 1; before it stores its keys a
    new set (generation 2) is taken and its rebuild runs to the end -- past the report,
    which had no keys yet. The check then stores keys of generation 2, so the report is
    found by later lookups, which probe generation 2 only."""
    rep = crowd
    _submit_many(rep, range(21), worker=True)
    generation = services.phrases(rep.campaign).generation
    assert generation >= 1 and len(services.phrases(rep.campaign).live) == 1
    text = _copy_of(4)
    version = reports.submit(participant=rep.part[21], text=text, actor=rep.authors[21])
    looked_up, release = threading.Event(), threading.Event()
    real = services._candidates

    def paused(*args):
        found = real(*args)
        looked_up.set()
        assert release.wait(WAIT)
        return found

    monkeypatch.setattr(services, "_candidates", paused)
    checker = _Thread(lambda: services.check_version(version.pk))
    checker.start()
    assert looked_up.wait(WAIT)
    newer = services.refresh(rep.campaign)
    assert newer.generation == generation + 1
    assert services.rebuild(rep.campaign, newer.generation)  # done while the check waits
    release.set()
    flag = checker.finish()
    monkeypatch.setattr(services, "_candidates", real)
    assert flag is not None and flag.other.participant == rep.part[4]
    assert Flag.objects.filter(version=version).count() == 1
    assert PhraseSet.objects.get(campaign=rep.campaign,
                                 generation=newer.generation).rebuilt_at is not None
    _one_set_of_keys_each(rep)
    _assert_one_set_each(rep, newer.generation)
    # the checked report's keys are probed: an exact copy of it is flagged against it
    flag = _submit(rep, 22, text)
    assert flag is not None and flag.other.participant == rep.part[21]


def test_new_phrase_set_stored_while_the_check_waits_for_the_lock(crowd):  # noqa: F811
    """Another transaction holds the checked report's row; while the check waits for it a
    new phrase set is stored. The check reads the latest generation after it got the lock,
    so it stores keys of the new set (read in the statement that took the lock, it saw the
    older one: the snapshot of that statement predates the new set)."""
    rep = crowd
    _submit_many(rep, range(21), worker=True)
    generation = services.phrases(rep.campaign).generation
    version = reports.submit(participant=rep.part[21], text=_copy_of(4),
                             actor=rep.authors[21])
    locked, release = threading.Event(), threading.Event()
    pids = {}

    def hold():
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SELECT 1 FROM reports_report WHERE id = %s FOR UPDATE",
                        [version.report_id])
            locked.set()
            assert release.wait(WAIT)

    def check():
        connection.ensure_connection()
        pids["check"] = connection.connection.info.backend_pid
        return services.check_version(version.pk)

    holder = _Thread(hold)
    holder.start()
    assert locked.wait(WAIT)
    checker = _Thread(check)
    checker.start()
    deadline = time.monotonic() + WAIT
    while not (pids.get("check") and _waiting_for_a_lock(pids["check"])):
        assert checker.is_alive() and time.monotonic() < deadline, "the check did not wait"
        time.sleep(0.02)
    newer = services.refresh(rep.campaign)
    assert newer is not None and newer.generation == generation + 1
    release.set()
    holder.finish()
    flag = checker.finish()
    assert flag is not None and flag.other.participant == rep.part[4]
    stored = set(BandKey.objects.filter(report_id=version.report_id)
                 .values_list("generation", flat=True))
    assert stored == {newer.generation}
    _one_set_of_keys_each(rep)
