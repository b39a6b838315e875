"""The permission matrix every scoped page is tested with.

For a URL that shows something at ``unit``:
  anonymous                         → redirected to the login page
  an account with no right          → 404
  a right at a unit in another tree → 404 (the same answer as a missing object)
  a right at an ancestor of unit    → allowed
  a right at the unit itself        → allowed (or ``unit_itself_status`` for actions that
                                      need a right above the unit, such as restructuring)
"""

from __future__ import annotations

from django.test import Client

from tests.factories import user


def check_matrix(
    url: str,
    *,
    unit,
    ancestor,
    elsewhere,
    role: str = "unit_admin",
    staff: bool = False,
    allowed_status: int = 200,
    denied_status: int = 404,
    login_prefix: str = "/login/",
    unit_itself_status: int | None = None,
) -> None:
    anonymous = Client().get(url)
    assert anonymous.status_code == 302, (url, "anonymous", anonymous.status_code)
    assert login_prefix in anonymous["Location"], anonymous["Location"]

    cases = [
        ("no right", user(staff=staff), denied_status),
        ("right elsewhere", user(staff=staff, **{role: elsewhere}), denied_status),
        ("right at ancestor", user(staff=staff, **{role: ancestor}), allowed_status),
        ("right at the unit", user(staff=staff, **{role: unit}),
         allowed_status if unit_itself_status is None else unit_itself_status),
    ]
    for label, account, expected in cases:
        client = Client()
        client.force_login(account)
        got = client.get(url).status_code
        assert got == expected, f"{url}: {label}: expected {expected}, got {got}"
