"""A national campaign with a roster, bridge points, accounts for the participants and
reviewers, for the progress tests."""

from types import SimpleNamespace

import pytest

from quantriet.campaigns import services as campaigns
from quantriet.conference import services as conference
from quantriet.conference.models import BridgePoint
from quantriet.org.models import Person
from tests.factories import person, position, user


@pytest.fixture
def prog(org):
    people = {}
    for key, unit_, name in (("a", org.cs1, "Lê Văn An"), ("b", org.cs1, "Trần Thị Bình"),
                             ("c", org.cs2, "Phạm Văn Cường"), ("d", org.cshn, "Đỗ Thị Dung"),
                             ("h", org.cs3, "Vũ Thị Hoa"), ("k", org.cs3, "Ngô Văn Khánh")):
        people[key] = person(unit_, name)
        position(people[key], unit_, "can_bo_chuyen_trach", full_time=True)
    organiser = user("tochuc", organiser=org.top)
    campaign = campaigns.create_campaign(slug="nq", title="Học tập Nghị quyết",
                                         owner_unit=org.top, actor=organiser)
    campaigns.add_preset_rules(campaign=campaign, actor=organiser)
    campaigns.apply_roster(campaign=campaign, actor=organiser)
    conference.generate_points(campaign=campaign, level_codes=["province"], actor=organiser)
    conference.assign_default(campaign=campaign, actor=organiser)
    campaigns.set_status(campaign=campaign, status="published", actor=organiser)
    authors = {}
    for key, p in people.items():
        authors[key] = user(f"dv{key}")
        Person.objects.filter(pk=p.pk).update(user=authors[key])
    reviewer = user("chambai", reviewer=org.top)
    part = {k: campaign.participants.select_related("person", "unit").get(person=v)
            for k, v in people.items()}
    points = {p.code: p for p in BridgePoint.objects.filter(campaign=campaign)}
    return SimpleNamespace(org=org, campaign=campaign, organiser=organiser, people=people,
                           authors=authors, part=part, reviewer=reviewer, points=points,
                           hn=points[org.hn.code], hp=points[org.hp.code])
