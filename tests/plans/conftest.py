"""A published campaign whose grassroots unions must each produce an action plan; the
head (chair) of one union, its unit administrator, and the administrator of its parent."""

from types import SimpleNamespace

import pytest

from quantriet.campaigns import services as campaigns
from quantriet.org.models import Person, UnitLevel
from quantriet.plans import services
from tests.factories import user


@pytest.fixture
def pl(org):
    organiser = user("tochuc", organiser=org.top)
    campaign = campaigns.create_campaign(slug="nq", title="Học tập Nghị quyết",
                                         owner_unit=org.top, actor=organiser)
    topics = [campaigns.add_topic(campaign=campaign, title=title, actor=organiser)
              for title in ("Chăm lo, bảo vệ đoàn viên", "Phát triển đoàn viên")]
    campaigns.set_status(campaign=campaign, status="published", actor=organiser)
    grassroots = UnitLevel.objects.get(code="grassroots")
    services.save_settings(campaign=campaign, actor=organiser, required="levels",
                           highest_level=grassroots, lowest_level=grassroots)
    head = user("chutich")  # Nguyễn Văn Bình holds the chair of CS1 (factories)
    Person.objects.filter(pk=org.people["binh"].pk).update(user=head)
    return SimpleNamespace(
        org=org, campaign=campaign, organiser=organiser, topics=topics, head=head,
        admin=user("vanphong", unit_admin=org.cs1),
        parent=user("captren", unit_admin=org.bd),
        plan=campaign.plans.get(unit=org.cs1))
