"""The campaign's phrase sets in the copy check: frequent runs left out of the band keys,
a new generation taken at thresholds or on demand, and the background rebuild of the keys
of reports indexed before it."""

import random

import pytest

from quantriet.campaigns import services as campaigns
from quantriet.org.models import Person
from quantriet.reports import services as reports
from quantriet.similarity import fingerprint as fp
from quantriet.similarity import services
from quantriet.similarity import synthetic as syn
from quantriet.similarity.models import BandKey, Flag, PhraseSet, Source
from tests.factories import person, position, user

STOCK = ("Trên đây là bài thu hoạch của bản thân tôi sau đợt học tập, kính mong ban tổ chức "
         "xem xét và góp ý để tôi tiếp tục rèn luyện.")
CORPUS = syn.Corpus(seed=11)


@pytest.fixture
def crowd(rep):
    """The rep campaign with 30 participants more (keys 0..29), each with an account."""
    units = (rep.org.cs1, rep.org.cs2, rep.org.cs3)
    people = {}
    for i in range(30):
        people[i] = person(units[i % 3], f"Người Thứ {i}")
        position(people[i], units[i % 3], "can_bo_chuyen_trach", full_time=True)
    campaigns.apply_roster(campaign=rep.campaign, actor=rep.organiser)
    for i, p in people.items():
        account = user(f"dv{i}")
        Person.objects.filter(pk=p.pk).update(user=account)
        rep.authors[i] = account
        rep.part[i] = rep.campaign.participants.select_related(
            "person", "managing_unit", "unit").get(person=p)
    services._refresh_queued.clear()
    return rep


def _text(i):
    return syn.render(CORPUS.report(i)) + "\n\n" + STOCK


def _submit(rep, key, text):
    version = reports.submit(participant=rep.part[key], text=text, actor=rep.authors[key])
    return services.check_version(version.pk)


def _submit_many(rep, keys, *, worker=False):
    """Submit unrelated reports (before the campaign has common phrases, two stock-heavy
    synthetic reports may share enough to be flagged). With `worker`, after each one run
    the refresh and rebuild that are due, as the task worker would."""
    for i in keys:
        _submit(rep, i, _text(i))
        if worker:
            for n in services.REFRESH_AT:
                made = services.refresh(rep.campaign, at_least=n)
                if made:
                    assert services.rebuild(rep.campaign, made.generation)


def _generations(rep):
    """Report id -> the generations of its keys."""
    seen: dict[int, set[int]] = {}
    for report_id, generation in BandKey.objects.filter(
            campaign=rep.campaign, report__isnull=False).values_list("report_id", "generation"):
        seen.setdefault(report_id, set()).add(generation)
    return seen


def _assert_one_set_each(rep, generation):
    state = services.phrases(rep.campaign)
    assert state.generation == generation
    for report in rep.campaign.reports.filter(version_count__gt=0):
        text = report.versions.get(number=report.version_count).text
        keys = list(BandKey.objects.filter(report=report).values_list("key", "generation"))
        expected = services.stored_keys(rep.campaign.pk, generation,
                                        fp.fingerprint(text, ignore=state.ignore).bands)
        assert sorted(k for k, _g in keys) == expected
        assert {g for _k, g in keys} == {generation}


def test_frequent_runs_are_left_out_of_the_keys(crowd, django_capture_on_commit_callbacks):
    rep = crowd
    stock = fp.fingerprint(STOCK).shingles
    _submit_many(rep, range(9))
    assert not PhraseSet.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        _submit(rep, 9, _text(9))  # the 10th submitted report: a phrase set is due
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(task_path__endswith="refresh_phrases").count() == 1
    _submit_many(rep, range(10, 20))
    before = BandKey.objects.filter(campaign=rep.campaign,
                                    key__in=services.stored_keys(rep.campaign.pk, 0, stock))
    assert before.values("report").distinct().count() > 0  # generation 0 keys hold it
    assert services.refresh(rep.campaign, at_least=50) is None  # not due
    made = services.refresh(rep.campaign, at_least=10)
    assert made.generation == 1 and 5 <= made.sample <= 20
    assert made.rebuilt_at is None
    assert services.refresh(rep.campaign, at_least=10) is None  # done once
    state = services.phrases(rep.campaign)
    assert stock <= state.ignore and stock <= state.common
    assert [g for g, _i in state.live] == [1, 0]  # both probed until the rebuild is done
    assert services.rebuild(rep.campaign, 1)
    made.refresh_from_db()
    assert made.rebuilt_at is not None and made.rebuilt_upto > 0
    assert [g for g, _i in services.phrases(rep.campaign).live] == [1]
    assert not BandKey.objects.filter(
        campaign=rep.campaign, key__in=services.stored_keys(rep.campaign.pk, 1, stock)).exists()
    _assert_one_set_each(rep, 1)
    # a report submitted now stores keys of generation 1, without the stock runs
    _submit(rep, 20, _text(20))
    keys = BandKey.objects.filter(report__participant=rep.part[20])
    assert keys.count() > 50 and set(keys.values_list("generation", flat=True)) == {1}
    assert not keys.filter(key__in=services.stored_keys(rep.campaign.pk, 1, stock)).exists()


def test_copy_found_while_and_after_the_keys_are_rebuilt(crowd):
    rep = crowd
    _submit_many(rep, range(22))
    services.refresh(rep.campaign)
    # not rebuilt yet: report 0 has keys of generation 0 only
    assert _generations(rep)[rep.campaign.reports.get(participant=rep.part[0]).pk] == {0}
    rng = random.Random(5)
    copy = syn.render(syn.Report(syn.edit(CORPUS.report(0), 0.15, rng)))
    flag = _submit(rep, 22, copy)
    assert flag is not None and flag.other.participant == rep.part[0]
    assert services.rebuild(rep.campaign, 1)
    _assert_one_set_each(rep, 1)
    flag = _submit(rep, 23, syn.render(syn.Report(syn.edit(CORPUS.report(1), 0.15, rng))))
    assert flag is not None and flag.other.participant == rep.part[1]
    # the copies are left out of the next sample
    services.refresh(rep.campaign)
    first, second = PhraseSet.objects.filter(campaign=rep.campaign).order_by("generation")
    assert second.generation == 2 and second.sample == first.sample


def test_rebuild_interrupted_and_retried_leaves_one_set_of_keys(crowd, monkeypatch):
    rep = crowd
    _submit_many(rep, range(21))
    services.refresh(rep.campaign)
    monkeypatch.setattr(services, "REBUILD_BATCH", 4)
    real = fp.fingerprint
    calls = {"n": 0}

    def failing(text, **kw):
        calls["n"] += 1
        if calls["n"] == 10:  # in the third batch
            raise RuntimeError("worker stopped")
        return real(text, **kw)

    monkeypatch.setattr(fp, "fingerprint", failing)
    with pytest.raises(RuntimeError):
        services.rebuild(rep.campaign, 1)
    monkeypatch.setattr(fp, "fingerprint", real)
    done = PhraseSet.objects.get(campaign=rep.campaign, generation=1)
    assert done.rebuilt_at is None and done.rebuilt_upto > 0
    generations = _generations(rep)
    assert sorted(len(g) for g in generations.values()) == [1] * 21  # never mixed
    assert {min(g) for g in generations.values()} == {0, 1}  # partly rebuilt
    # a copy is found in the middle of the rebuild, wherever the original's keys are
    for key, original in ((21, 0), (22, 20)):
        flag = _submit(rep, key, _text(original))
        assert flag is not None and flag.other.participant == rep.part[original]
    assert not services.rebuild(rep.campaign, 1, batches=1)  # retried, step by step
    assert services.rebuild(rep.campaign, 1)
    assert services.rebuild(rep.campaign, 1)  # and once more: nothing to do
    _assert_one_set_each(rep, 1)
    assert BandKey.objects.filter(campaign=rep.campaign).count() == sum(
        len(set(fp.fingerprint(r.versions.get(number=r.version_count).text,
                               ignore=services.phrases(rep.campaign).ignore).bands))
        for r in rep.campaign.reports.filter(version_count__gt=0))


def test_quoting_the_resolution_with_a_phrase_set(crowd):
    rep = crowd
    services.add_source(campaign=rep.campaign, kind=Source.Kind.REFERENCE,
                        title="Nghị quyết", text=CORPUS.resolution, actor=rep.organiser)
    services.add_source(campaign=rep.campaign, kind=Source.Kind.TEMPLATE,
                        title="Mẫu", text=_text(100), actor=rep.organiser)
    _submit_many(rep, range(20), worker=True)
    made = services.refresh(rep.campaign)  # as `similarity-refresh nq --rebuild`
    assert made.generation == 2
    assert services.rebuild(rep.campaign, 2)
    state = services.phrases(rep.campaign)
    assert services.reference_shingles(rep.campaign) <= state.ignore
    assert set(BandKey.objects.filter(source__isnull=False)
               .values_list("generation", flat=True)) == {2}
    quoted = "\n\n".join("Nghị quyết nêu rõ: " + " ".join(p)
                           for p in CORPUS.resolution_paragraphs[2:9])
    for key in (20, 21, 22):  # own reports quoting the same long passages
        assert _submit(rep, key, _text(key) + "\n\n" + quoted) is None
    assert _submit(rep, 23, CORPUS.resolution) is None
    assert not Flag.objects.filter(report__participant__in=[rep.part[k] for k in range(20, 24)])
    flag = _submit(rep, 24, _text(100))  # the template is still found
    assert flag is not None and flag.source is not None


def test_refresh_command(rep):
    from io import StringIO

    from django.core.management import call_command

    for key in ("a", "b", "c"):
        _submit(rep, key, _text(ord(key)))
    out = StringIO()
    call_command("similarity-refresh", "nq", "--rebuild", stdout=out)
    assert "generation 1 from 3 report(s)" in out.getvalue()
    assert set(BandKey.objects.filter(campaign=rep.campaign)
               .values_list("generation", flat=True)) == {1}
    call_command("similarity-refresh", "nq", "--resume", stdout=out)
    assert PhraseSet.objects.get().rebuilt_at is not None


SHARED = ("Công đoàn cơ sở phối hợp với chuyên môn tổ chức hội thao truyền thống, khám sức khỏe "
          "định kỳ cho công nhân ca đêm, xây dựng phòng đọc sách và góc thư viện tại xưởng may "
          "số ba, vận động nữ công nhân tham gia câu lạc bộ gia đình hạnh phúc.")


def test_crowded_keys_are_left_out_of_the_next_generation(crowd, monkeypatch):
    """In a large campaign a refresh also leaves out the runs whose keys too many of its
    reports hold (counted on the index), but not those held by copies flagged as such; the
    crowded runs are carried into later sets."""
    rep = crowd
    monkeypatch.setattr(services, "CROWDED_FROM", 1)
    monkeypatch.setattr(services, "CROWDED_MIN", 3)
    _submit_many(rep, range(10), worker=True)  # generation 1, from these ten
    assert services.phrases(rep.campaign).generation == 1
    for i in range(10, 20):  # own reports sharing one paragraph, after the sample
        _submit(rep, i, _text(i) + "\n\n" + SHARED)
    for key in (20, 21, 22, 23):  # copies of report 0, flagged
        assert _submit(rep, key, _text(0)).other.participant == rep.part[0]
    campaign = rep.campaign
    crowded = services.crowded(campaign, 24)
    shared_runs = fp.fingerprint(SHARED).shingles
    assert crowded and crowded <= shared_runs  # the shared paragraph's keys, nothing else
    original = set(fp.fingerprint(_text(0), ignore=services.phrases(campaign).ignore).bands)
    Flag.objects.filter(campaign=campaign).update(status=Flag.Status.DISMISSED)
    # with the flags dismissed the copies count, and the original's keys are crowded too
    widened = services.crowded(campaign, 24)
    assert widened - crowded and not original.isdisjoint(widened)
    Flag.objects.filter(campaign=campaign).update(status=Flag.Status.OPEN)
    made = services.refresh(campaign)
    assert made.generation == 2 and services.unpack(made.crowded) == crowded
    assert crowded <= services.unpack(made.ignore)
    assert services.rebuild(campaign, 2)
    _assert_one_set_each(rep, 2)
    assert not BandKey.objects.filter(
        campaign=campaign, key__in=services.stored_keys(campaign.pk, 2, crowded)).exists()
    # a later set keeps them left out, crowded or not by then
    monkeypatch.setattr(services, "CROWDED_FROM", 10**6)
    later = services.refresh(campaign)
    assert crowded <= services.unpack(later.crowded) <= services.unpack(later.ignore)


def test_large_thresholds_are_looked_for_every_so_many_reports(crowd, monkeypatch,
                                                                django_capture_on_commit_callbacks):
    rep = crowd
    monkeypatch.setattr(services, "REFRESH_AT", (2, 3))
    monkeypatch.setattr(services, "SAMPLE", 2)
    monkeypatch.setattr(services, "REFRESH_LOOK_EVERY", 7)
    _submit_many(rep, range(3))
    state = services.Phrases(generation=0, live=(), common=frozenset(), reports=2)
    with django_capture_on_commit_callbacks() as queued:
        services._refresh_if_due(rep.campaign.pk, 7 * 5 + 1, state)  # not looked for
    assert not queued
    with django_capture_on_commit_callbacks() as queued:
        services._refresh_if_due(rep.campaign.pk, 7 * 5, state)
    assert len(queued) == 1
