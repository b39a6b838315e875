"""Progress pages: scope, drill-down, figures, charts, results reports, links."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from quantriet.conference import services as conference
from quantriet.progress import charts, counters, queries, services
from quantriet.progress.models import ResultsReport, UnitProgress
from quantriet.reports import services as reports
from quantriet.reports.models import GradeLevel, Report
from tests.factories import person, user
from tests.permissions import check_matrix
from tests.similarity.test_flags import ORIGINAL, OTHER


def _client(account):
    c = Client()
    c.force_login(account)
    return c


@pytest.fixture
def busy(prog):
    """Some attendance, reports and grades."""
    for key in ("a", "b", "d"):
        conference.check_in(point=prog.hn, participant=prog.part[key], actor=prog.organiser)
    conference.excuse(attendance=prog.part["c"].attendance, reason="ốm", actor=prog.organiser)
    for key, text in (("a", ORIGINAL), ("d", OTHER), ("h", OTHER + " Thêm.")):
        reports.submit(participant=prog.part[key], text=text, actor=prog.authors[key])
    top = GradeLevel.objects.get(campaign=prog.campaign, order=0)
    reports.review(report=Report.objects.get(participant=prog.part["a"]), actor=prog.reviewer,
                   outcome="graded", grade=top)
    return prog


def _url(prog, unit):
    return reverse("progress:unit", args=[prog.campaign.slug, unit.code])


def test_scope_matrix(busy):
    org = busy.org
    check_matrix(_url(busy, org.bd), unit=org.bd, ancestor=org.hn, elsewhere=org.hp)
    check_matrix(_url(busy, org.cs1), unit=org.cs1, ancestor=org.bd, elsewhere=org.cs3,
                 role="inspector")
    for fmt in ("xlsx", "pdf"):
        check_matrix(reverse("progress:results", args=[busy.campaign.slug, org.bd.code, fmt]),
                     unit=org.bd, ancestor=org.hn, elsewhere=org.hp)
    # a reviewer or a coordinator sees units, not the progress of their people
    assert _client(user(reviewer=org.hn)).get(_url(busy, org.bd)).status_code == 404


def test_campaign_page_goes_to_the_top_the_user_may_see(busy):
    org = busy.org
    url = reverse("progress:campaign", args=[busy.campaign.slug])
    assert _client(busy.organiser).get(url)["Location"] == _url(busy, org.top)
    assert _client(user(unit_admin=org.hp)).get(url)["Location"] == _url(busy, org.hp)
    many = _client(user(unit_admin=[org.bd, org.lc])).get(url)
    assert many.status_code == 200 and org.bd.name in many.content.decode()
    assert _client(user()).get(url).status_code == 404


def test_drill_down_from_the_nation_to_a_person(busy):
    org = busy.org
    c = _client(busy.organiser)
    html = c.get(_url(busy, org.top)).content.decode()
    assert _url(busy, org.hn) in html and _url(busy, org.hp) in html
    roll = queries.rollup(busy.campaign, org.top)
    by_unit = {line.unit.code: line.totals for line in roll.lines}
    assert roll.totals.invited == sum(t.invited for t in by_unit.values()) == \
        busy.campaign.participants.filter(active=True).count()
    assert roll.totals.attended == 3 and roll.totals.excused == 1
    assert roll.totals.submitted == 3 and roll.totals.graded == 1 and roll.totals.grades[0] == 1
    assert by_unit[org.hn.code].submitted == 2 and by_unit[org.hp.code].submitted == 1
    html = c.get(_url(busy, org.hn)).content.decode()
    assert _url(busy, org.bd) in html and _url(busy, org.cshn) in html
    html = c.get(_url(busy, org.cs1)).content.decode()
    assert "Lê Văn An" in html and "Trần Thị Bình" in html  # the participants, with status
    assert 'id="participants"' in html


def test_a_units_participants_in_name_order_from_the_roster_row(busy):
    """The order key is frozen on the roster row (by apply_roster and add_participant),
    so the list needs neither the people nor a sort of the whole unit."""
    from django.db import connection

    from quantriet.campaigns import services as campaigns

    org, campaign = busy.org, busy.campaign
    extra = person(org.cs1, "Nguyễn Thị Ánh")  # not a cadre: added by hand
    campaigns.add_participant(campaign=campaign, person=extra, reason="Bổ sung",
                              actor=busy.organiser)
    rows = list(campaign.participants.filter(unit=org.cs1, active=True)
                .select_related("person"))
    assert extra.pk in {p.person_id for p in rows}
    assert all(p.sort_key == p.person.sort_key != "" for p in rows)
    ids = list(queries.participant_ids(campaign, org.cs1))
    names = [p.person.full_name for p in queries.participants_by_id(ids)]
    assert len(names) == len(rows) >= 3
    assert names == [p.person.full_name for p in sorted(rows, key=lambda p: p.person.sort_key)]
    assert names.index("Lê Văn An") < names.index("Nguyễn Thị Ánh") \
        < names.index("Trần Thị Bình")  # given names first: An, Ánh, Bình
    sql, params = queries.participant_ids(campaign, org.cs1)[:50].query.sql_with_params()
    assert "org_person" not in sql
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET enable_seqscan = off")
            cur.execute("EXPLAIN " + sql, params)
            plan = " ".join(r[0] for r in cur.fetchall())
        assert "campaigns_part_unit_sort" in plan


def test_own_participants_of_an_upper_unit_are_a_line(busy):
    org = busy.org
    counters.bump(busy.campaign.pk, org.hn.pk, invited=2)  # two cadres of the federation
    roll = queries.rollup(busy.campaign, org.hn)
    own = [line for line in roll.lines if line.own]
    assert len(own) == 1 and own[0].totals.invited == 2
    assert roll.totals.invited == sum(line.totals.invited for line in roll.lines)


def test_completion_chart_lists_the_worst_first(busy):
    html = _client(busy.organiser).get(_url(busy, busy.org.top)).content.decode()
    svg = html[html.index("<svg"):html.index("</svg>")]
    # Hải Phòng: 1 of 2 submitted; Hà Nội: 2 of 4
    assert "<title>" in svg and "%" in svg
    bars = [charts.Bar("B", 0.9), charts.Bar("A", 0.1)]
    out = charts.completion(bars, "t")
    assert out.index(">B<") < out.index(">A<")  # keeps the order it is given
    assert "<script" not in html.split("</header>", 1)[1]


def test_charts_escape_names():
    out = charts.completion([charts.Bar('<b>"x"</b>', 0.5)], "t")
    assert "<b>" not in out and "&lt;b&gt;" in out


def test_timeline_from_timestamps(busy):
    roll = queries.rollup(busy.campaign, busy.org.top)
    series = queries.timeline(busy.campaign, busy.org.top, roll.totals, None)
    assert series[-1].submitted == 3 and series[-1].attended == 3 and series[-1].graded == 1


def test_snapshots_for_large_subtrees(busy, monkeypatch):
    import datetime as dt

    from django.utils import timezone

    today = timezone.localdate()
    busy.campaign.conference_date = today - dt.timedelta(days=3)
    busy.campaign.save()
    two_days_ago = timezone.now() - dt.timedelta(days=2)
    Report.objects.filter(participant=busy.part["a"]).update(first_submitted_at=two_days_ago)
    monkeypatch.setattr(queries, "LIVE_LIMIT", 1)
    assert services.take_snapshot(campaign=busy.campaign) >= 2  # nation, Hà Nội, …
    roll = queries.rollup(busy.campaign, busy.org.top)
    series = queries.timeline(busy.campaign, busy.org.top, roll.totals, None)
    # the days before come from the first snapshot's backfill, today from the counters
    assert [p.day for p in series] == [today - dt.timedelta(days=n) for n in (3, 2, 1, 0)]
    assert [p.submitted for p in series] == [0, 1, 1, 3]


def _xlsx_rows(data):
    ws = load_workbook(io.BytesIO(data)).active
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_results_xlsx_totals_equal_the_dashboard(busy):
    c = _client(user(unit_admin=busy.org.hn))
    res = c.get(reverse("progress:results", args=[busy.campaign.slug, busy.org.hn.code, "xlsx"]))
    assert res.status_code == 200 and "bao-cao-ket-qua" in res["Content-Disposition"]
    rows = _xlsx_rows(res.content)
    flat = [str(v) for row in rows for v in row if v is not None]
    assert "BÁO CÁO KẾT QUẢ HỌC TẬP, QUÁN TRIỆT" in flat
    assert any("ngày" in v and "tháng" in v and "năm" in v for v in flat)
    assert "CHỦ TỊCH" in flat
    header = next(r for r in rows if r[0] == "STT")
    total = next(r for r in rows if r[1] == "Tổng cộng")
    roll = queries.rollup(busy.campaign, busy.org.hn)
    assert total[header.index("Triệu tập")] == roll.totals.invited
    assert total[header.index("Đã nộp")] == roll.totals.submitted == 2
    assert total[header.index("Có mặt")] == roll.totals.attended
    body = rows[rows.index(header) + 1:rows.index(total)]
    assert sum(r[header.index("Triệu tập")] for r in body) == roll.totals.invited


def test_results_xlsx_opens_in_libreoffice_with_the_dashboards_totals(busy, tmp_path):
    """LibreOffice Calc (installed by ``make test``) reads the file as a user would: its
    text in Vietnamese and the totals row equal to the dashboard's."""
    import csv
    import subprocess

    c = _client(user(unit_admin=busy.org.hn))
    res = c.get(reverse("progress:results", args=[busy.campaign.slug, busy.org.hn.code, "xlsx"]))
    (tmp_path / "report.xlsx").write_bytes(res.content)
    subprocess.run(  # UTF-8 CSV of the first sheet, after Calc has computed it
        ["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
         "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir",
         str(tmp_path), str(tmp_path / "report.xlsx")],
        check=True, capture_output=True, timeout=120)
    with open(tmp_path / "report.csv", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    flat = [v for row in rows for v in row]
    assert "BÁO CÁO KẾT QUẢ HỌC TẬP, QUÁN TRIỆT" in flat and "CHỦ TỊCH" in flat
    header = next(r for r in rows if r and r[0] == "STT")
    total = next(r for r in rows if len(r) > 1 and r[1] == "Tổng cộng")
    roll = queries.rollup(busy.campaign, busy.org.hn)
    for column, value in (("Triệu tập", roll.totals.invited), ("Có mặt", roll.totals.attended),
                          ("Đã nộp", roll.totals.submitted), ("Đã chấm", roll.totals.graded)):
        assert int(total[header.index(column)]) == value, column


def test_results_pdf_reads_in_vietnamese(busy):
    c = _client(busy.organiser)
    res = c.get(reverse("progress:results", args=[busy.campaign.slug, busy.org.top.code, "pdf"]))
    assert res.status_code == 200 and res.content.startswith(b"%PDF")
    text = PdfReader(io.BytesIO(res.content)).pages[0].extract_text()
    assert "BÁO CÁO KẾT QUẢ" in text and "Tổng cộng" in text and "Hải Phòng" in text


def test_big_subtree_goes_through_the_task_worker(busy, monkeypatch,
                                                  django_capture_on_commit_callbacks):
    monkeypatch.setattr(services, "DIRECT_LIMIT_LINES", 0)
    c = _client(busy.organiser)
    url = reverse("progress:results", args=[busy.campaign.slug, busy.org.top.code, "xlsx"])
    page = c.get(url)
    assert page.status_code == 200 and b"<form" in page.content
    with django_capture_on_commit_callbacks(execute=False):
        res = c.post(reverse("progress:results_queue",
                             args=[busy.campaign.slug, busy.org.top.code, "xlsx"]))
    job = ResultsReport.objects.get()
    assert res["Location"] == reverse("progress:job", args=[job.pk])
    assert c.get(reverse("progress:job", args=[job.pk])).status_code == 200
    assert c.get(reverse("progress:job_download", args=[job.pk])).status_code == 404
    services.build_results(job.pk)
    job.refresh_from_db()
    assert job.status == "done" and job.progress == 100
    data = b"".join(c.get(reverse("progress:job_download", args=[job.pk])).streaming_content)
    assert any(r[1] == "Tổng cộng" for r in _xlsx_rows(data))
    # someone else's scope does not reach it
    other = _client(user(unit_admin=busy.org.hp))
    assert other.get(reverse("progress:job", args=[job.pk])).status_code == 404


def test_links_from_the_campaign_and_the_unit_pages(busy):
    c = _client(user(unit_admin=busy.org.hn))
    html = c.get(reverse("campaigns:detail", args=[busy.campaign.slug])).content.decode()
    assert reverse("progress:campaign", args=[busy.campaign.slug]) in html
    html = c.get(reverse("org:unit", args=[busy.org.bd.code])).content.decode()
    assert _url(busy, busy.org.bd) in html


def test_verify_command(busy, capsys):
    call_command("progress-verify", "--campaign", busy.campaign.slug)
    UnitProgress.objects.filter(campaign=busy.campaign, unit=busy.org.cs1).update(attended=0)
    with pytest.raises(CommandError):
        call_command("progress-verify")
    out = capsys.readouterr().out
    assert "HN-BD-CS1 attended: stored 0, recomputed 2" in out
    call_command("progress-verify", "--fix")
    call_command("progress-verify")
    assert services.verify(busy.campaign) == []


def test_admin_shows_the_rows_to_superusers_only(busy):
    admin_url = reverse("admin:progress_unitprogress_changelist")
    assert _client(user(superuser=True)).get(admin_url).status_code == 200
    staff = user(staff=True, organiser=busy.org.top)
    assert _client(staff).get(admin_url).status_code == 403
