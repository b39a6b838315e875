"""The one-off reminder from the progress dashboard: the count of the subtree's
non-submitters first, the button for the unit's administrators, the same service as from
the reports page."""

from django.test import Client
from django.urls import reverse

from quantriet.notifications import services
from quantriet.notifications.models import Channel, Kind, Notification
from quantriet.reports import services as reports
from tests.factories import user
from tests.progress.conftest import prog  # noqa: F401 - the shared fixture

TEXT = "Bài thu hoạch: học tập và làm theo Nghị quyết, liên hệ bản thân và đơn vị."


def _client(account):
    c = Client()
    c.force_login(account)
    return c


def test_unit_admin_reminds_from_the_dashboard(prog):  # noqa: F811
    org = prog.org
    reports.submit(participant=prog.part["a"], text=TEXT, actor=prog.authors["a"])
    url = reverse("progress:unit", args=[prog.campaign.slug, org.bd.code])
    admin = _client(user("qt.bd", unit_admin=org.bd))
    page = admin.get(url)
    html = page.content.decode()
    # b, c and the chair of CS1 (on the roster, with neither address nor account); a has
    # submitted: the page's "reports missing" (counters), here the service's count too
    assert page.context["remind"]["owing"] == page.context["totals"].missing == \
        services.owing_in(prog.campaign,
                                                                org.bd).count() == 3
    assert f"3 người tham gia thuộc {org.bd.name} và các đơn vị trực thuộc chưa nộp" in html
    action = reverse("notifications:remind", args=[prog.campaign.slug, org.bd.code])
    assert f'action="{action}"' in html
    # an inspector sees the dashboard, not the button
    inspector = _client(user("ubkt", inspector=org.bd))
    page = inspector.get(url)
    assert page.status_code == 200 and 'id="remind"' not in page.content.decode()
    # the button: back to the dashboard, the reminder queued for the subtree's non-submitters
    response = admin.post(action, {"next": url})
    assert response.status_code == 302 and response["Location"] == url
    told = set(Notification.objects.filter(kind=Kind.REPORT_REMINDER, channel=Channel.IN_APP)
               .values_list("person", flat=True))
    assert told == {prog.people["b"].pk, prog.people["c"].pk}  # the chair has no account
    # a "next" pointing elsewhere is not followed
    response = admin.post(action, {"next": "https://example.com/"})
    assert response["Location"] == action
