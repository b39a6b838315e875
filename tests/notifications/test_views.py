"""The notification centre: one's own notices only, newest first, paginated, marked read;
the unread count in the navigation; the settings page."""

import pytest
from django.urls import reverse

from quantriet.notifications import services
from quantriet.notifications.models import Channel, Kind, Notification, Preference
from tests.factories import user


def _notice(u, event, kind=Kind.REVIEWER_ASSIGNED, url="/campaigns/"):
    services.enqueue(kind=kind, event=event, recipients=[services.recipient_of_user(u)],
                     context={"campaign": "Học tập Nghị quyết"}, url=url,
                     channels=[Channel.IN_APP])
    return Notification.objects.filter(user=u).latest("id")


@pytest.fixture
def people(db):
    return user("nguoinhan"), user("nguoikhac")


def test_anonymous_goes_to_login(client, people):
    note = _notice(people[0], "1")
    for url in (reverse("notifications:centre"), reverse("notifications:settings")):
        assert client.get(url).status_code == 302
    assert client.post(reverse("notifications:open", args=[note.pk])).status_code == 302
    assert Notification.objects.get(pk=note.pk).read_at is None


def test_own_notices_only_newest_first_in_vietnamese(client, people):
    me, other = people
    _notice(me, "1")
    _notice(me, "2", kind=Kind.REPORT_GRADED)
    theirs = _notice(other, "3")
    client.force_login(me)
    page = client.get(reverse("notifications:centre")).content.decode()
    assert page.count("Học tập Nghị quyết") == 2
    assert page.index("đã được chấm") < page.index("được giao cho đồng chí chấm")
    assert "Thông báo <span class=\"badge\"" in page  # the unread count in the navigation
    # someone else's notice is a 404, the same answer as one that does not exist
    assert client.post(reverse("notifications:open", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notifications:open", args=[999999])).status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_opening_marks_read_and_follows_the_link(client, people):
    me, _other = people
    note = _notice(me, "1", url="/campaigns/")
    external = _notice(me, "2", url="https://elsewhere.example/")
    client.force_login(me)
    response = client.post(reverse("notifications:open", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == "/campaigns/"
    assert Notification.objects.get(pk=note.pk).read_at is not None
    response = client.post(reverse("notifications:open", args=[external.pk]))
    assert response["Location"] == reverse("notifications:centre")
    client.post(reverse("notifications:read_all"))
    assert not Notification.objects.visible_to(me).unread().exists()
    page = client.get(reverse("notifications:centre")).content.decode()
    assert "class=\"badge\"" not in page.split("</nav>")[0]


def test_pagination(client, people, settings):
    settings.PAGE_SIZE = 3
    me = people[0]
    for i in range(7):
        _notice(me, str(i))
    client.force_login(me)
    first = client.get(reverse("notifications:centre"))
    assert len(first.context["page"].object_list) == 3
    assert first.context["page"].paginator.num_pages == 3
    ids = [n.pk for n in first.context["page"].object_list]
    assert ids == sorted(ids, reverse=True)
    last = client.get(reverse("notifications:centre") + "?page=3")
    assert len(last.context["page"].object_list) == 1


def test_english_page(client, people):
    me = people[0]
    _notice(me, "1")
    client.force_login(me)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("notifications:centre")).content.decode()
    assert "A report for “Học tập Nghị quyết” was assigned to you for review" in page


def test_settings_keep_mandatory_kinds_on(client, people):
    me = people[0]
    client.force_login(me)
    assert client.get(reverse("notifications:settings")).status_code == 200
    response = client.post(reverse("notifications:settings"),
                           {"language": "en", "opted_out": [Kind.DEADLINE_SOON]})
    assert response.status_code == 302
    pref = Preference.objects.get(recipient_key=f"u{me.pk}")
    assert (pref.language, pref.opted_out) == ("en", [Kind.DEADLINE_SOON])
    # a mandatory kind is not offered, and refused if posted
    response = client.post(reverse("notifications:settings"),
                           {"language": "", "opted_out": [Kind.REPORT_GRADED]})
    assert response.status_code == 200
    assert Preference.objects.get(recipient_key=f"u{me.pk}").opted_out == [Kind.DEADLINE_SOON]


def test_invalid_addresses_for_the_units_admins(client, org):
    from quantriet.notifications.models import BadAddress

    BadAddress.objects.create(address="sai-dia-chi", reason="Not a valid e-mail address.",
                              person=org.people["an"])  # in CS1, under BD and HN
    BadAddress.objects.create(address="nobody@example.org", reason="SMTP: 550",
                              person=org.people["hai"])  # in CS3, under HP
    url = reverse("notifications:addresses", args=[org.bd.code])
    admin = user("qt.bd", unit_admin=org.bd)
    client.force_login(admin)
    page = client.get(url).content.decode()
    assert "sai-dia-chi" in page and "Trần Thị An" in page and "nobody@" not in page
    unit_page = client.get(reverse("org:unit", args=[org.bd.code])).content.decode()
    assert url in unit_page
    # the province above: not in the district admin's scope (404, as if it did not exist)
    assert client.get(reverse("notifications:addresses", args=[org.hn.code])).status_code == 404
    assert client.get(reverse("notifications:addresses", args=["NO-SUCH"])).status_code == 404
    # an admin elsewhere, and someone without a right to see people
    client.force_login(user("qt.hp", unit_admin=org.hp))
    assert client.get(url).status_code == 404
    client.force_login(user("cham", reviewer=org.bd))
    assert client.get(url).status_code == 404
    # an admin above sees the subtree, but nothing of the other province
    client.force_login(user("qt.hn", unit_admin=org.hn))
    page = client.get(reverse("notifications:addresses", args=[org.hn.code])).content.decode()
    assert "sai-dia-chi" in page and "nobody@" not in page
    client.logout()
    assert client.get(url).status_code == 302


def test_unit_admin_reminds_the_non_submitters_of_their_subtree(client, rep):
    from quantriet.reports import services as reports

    reports.submit(participant=rep.part["a"], text="Bài thu hoạch: liên hệ bản thân.",
                   actor=rep.authors["a"])
    url = reverse("notifications:remind", args=["nq", rep.org.bd.code])
    admin = user("qt.bd", unit_admin=rep.org.bd)
    client.force_login(admin)
    page = client.get(url)
    # b in CS1, c in CS2 and the chair of CS1 (on the roster by rule, no address, no
    # account: counted, but nothing can reach him); a has submitted
    assert page.context["owing"] == 3
    assert url in client.get(reverse("reports:unit", args=["nq", rep.org.bd.code])).content.decode()
    client.post(url)
    notes = Notification.objects.filter(kind=Kind.REPORT_REMINDER, channel=Channel.EMAIL)
    assert sorted(notes.values_list("address", flat=True)) == [
        "dvb@example.org", "dvc@example.org"]
    assert notes.first().context["unit"] == rep.org.bd.name
    # pressed again the same day, or by an admin above: nobody is reminded twice
    client.post(url)
    client.force_login(user("qt.hn", unit_admin=rep.org.hn))
    client.post(reverse("notifications:remind", args=["nq", rep.org.hn.code]))
    assert notes.count() == 2
    # outside one's subtree, or without the right to change it: 404, nothing sent
    client.force_login(user("qt.hp", unit_admin=rep.org.hp))
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    client.force_login(user("cham", reviewer=rep.org.bd))
    assert client.post(url).status_code == 404
    client.force_login(user("thanhtra", inspector=rep.org.bd))
    assert client.post(url).status_code == 404
    assert notes.count() == 2
