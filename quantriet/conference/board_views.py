"""Live attendance board of a campaign's conference.

Everything comes from the counters the services keep on each bridge point (expected,
present, excused, substitutes): one query reads the points with their host unit's path,
the totals and the roll-up by province (the first level below the organising unit) are
added up in Python, and one more query names the provinces. No attendance row is read,
so the board costs the same few queries for 20 points or 15,000, and the page polls its
data fragment every 2 seconds.

Who sees it: accounts with a grant that lets them see the campaign. Those with a right at
the organising unit (organisers, unit administrators, inspectors above it) see every
point; those whose grant is inside the organising unit's subtree (a province's staff for a
national campaign) see the points hosted in their part of the tree only. Participants
without a grant and bridge-point coordinators without one get 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from quantriet.campaigns.models import Campaign
from quantriet.conference.models import BridgePoint
from quantriet.org import tree
from quantriet.org.managers import can, scope_paths
from quantriet.org.models import Unit
from quantriet.text import fold

PAGE_SIZE = 50
SCREEN_ROWS = 15
SORTS = ("worst", "best", "missing", "expected", "code", "name")

# columns of the one query over the points
_COLUMNS = ("code", "name", "is_central", "locked", "host_unit__path",
            "expected", "present", "excused", "substitutes")
CODE, NAME, CENTRAL, LOCKED, PATH, EXPECTED, PRESENT, EXCUSED, SUBSTITUTES = range(9)

# accent-free sort key of a point's name; names rarely change and the board polls every
# 2 seconds, so each process folds a name once
_name_key = lru_cache(maxsize=65_536)(fold)


@dataclass
class Stat:
    """Counters of one point, one province or the whole board."""

    label: str
    code: str = ""
    expected: int = 0
    present: int = 0
    excused: int = 0
    substitutes: int = 0
    points: int = 1
    locked: bool = False
    central: bool = False

    @property
    def missing(self) -> int:
        """Expected, neither present nor absent with leave (yet)."""
        return max(self.expected - self.present - self.excused, 0)

    @property
    def rate(self) -> float | None:
        """Present, in per cent of the expected."""
        return self.present * 100 / self.expected if self.expected else None

    @property
    def bar(self) -> int:
        """Width of the progress bar, a whole per cent (CSS needs no locale's comma)."""
        return min(100, round(self.rate or 0))


def _order(sort: str) -> Callable[[str, str, int, int, int], tuple]:
    """Sort key over (code, name, expected, present, excused); "worst" puts the lowest
    share present first, the biggest point first among equals, empty points last."""
    if sort == "best":
        return lambda c, n, e, p, x: (e == 0, -(p / e if e else 0), -e, c)
    if sort == "missing":
        return lambda c, n, e, p, x: (-max(e - p - x, 0), c)
    if sort == "expected":
        return lambda c, n, e, p, x: (-e, c)
    if sort == "code":
        return lambda c, n, e, p, x: (c,)
    if sort == "name":
        return lambda c, n, e, p, x: (_name_key(n), c)
    return lambda c, n, e, p, x: (e == 0, p / e if e else 0, -e, c)


def _scope(user: Any, slug: str) -> tuple[Campaign, list[str] | None]:
    """The campaign and the subtrees whose points the user sees (None: all of them)."""
    paths = scope_paths(user, "view")
    if paths is not None and not paths:  # no grant at all: participants, coordinators
        raise Http404
    campaign = get_object_or_404(
        Campaign.objects.visible_to(user, "view").select_related("owner_unit"), slug=slug)
    if can(user, "view", campaign.owner_unit):
        return campaign, None
    owner = campaign.owner_unit.path
    inside = [p for p in paths or [] if p.startswith(owner)]
    if not inside:  # visible to them as a participant only
        raise Http404
    return campaign, inside


def numbers(campaign: Campaign, inside: list[str] | None, sort: str = "worst",
            page: Any = 1, per_page: int = PAGE_SIZE) -> dict[str, Any]:
    """Totals, provinces and one page of points, from the points' counters."""
    points = BridgePoint.objects.filter(campaign=campaign)
    if inside is not None:
        points = points.filter(tree.any_subtree_q(inside, "host_unit__path"))
    rows = list(points.values_list(*_COLUMNS))

    owner = campaign.owner_unit
    cut = len(owner.path) + tree.SEGMENT
    total = Stat(label="", points=len(rows))
    groups: dict[str, list[int]] = {}
    for r in rows:
        key = r[PATH][:cut]  # the host's ancestor just below the organising unit
        g = groups.get(key)
        if g is None:
            g = groups[key] = [0, 0, 0, 0, 0]
        g[0] += r[EXPECTED]
        g[1] += r[PRESENT]
        g[2] += r[EXCUSED]
        g[3] += r[SUBSTITUTES]
        g[4] += 1
    total.expected = sum(g[0] for g in groups.values())
    total.present = sum(g[1] for g in groups.values())
    total.excused = sum(g[2] for g in groups.values())
    total.substitutes = sum(g[3] for g in groups.values())

    units = {path: (name, level) for path, name, level in Unit.objects.filter(
        path__in=list(groups)).values_list("path", "name", "level__code")} if groups else {}
    by_province = any(level == "province" for _name, level in units.values())
    key = _order(sort)
    provinces = sorted(
        (Stat(label=(units.get(path, (path, ""))[0] if path != owner.path
                     else _("%(unit)s (its own points)") % {"unit": owner.name}),
              code=path, expected=g[0], present=g[1], excused=g[2], substitutes=g[3],
              points=g[4])
         for path, g in groups.items()),
        key=lambda s: key(s.label if sort in ("code", "name") else s.code, s.label,
                          s.expected, s.present, s.excused))

    rows.sort(key=lambda r: key(r[CODE], r[NAME], r[EXPECTED], r[PRESENT], r[EXCUSED]))
    paginated = Paginator(rows, per_page).get_page(page)
    paginated.object_list = [
        Stat(label=r[NAME], code=r[CODE], expected=r[EXPECTED], present=r[PRESENT],
             excused=r[EXCUSED], substitutes=r[SUBSTITUTES], locked=r[LOCKED],
             central=r[CENTRAL])
        for r in paginated.object_list]
    return {
        "total": total, "provinces": provinces, "page": paginated,
        "group_title": (_("By province") if by_province
                        else _("By unit under %(unit)s") % {"unit": owner.name}),
    }


def _context(request, slug: str) -> dict[str, Any]:
    campaign, inside = _scope(request.user, slug)
    screen = request.GET.get("screen") == "1"
    sort = request.GET.get("sort", "worst")
    if sort not in SORTS:
        sort = "worst"
    params = request.GET.copy()
    params.pop("screen", None)
    screen_params = params.copy()
    screen_params["screen"] = "1"
    context = numbers(campaign, inside, sort, 1 if screen else request.GET.get("page"),
                      SCREEN_ROWS if screen else PAGE_SIZE)
    context.update(
        campaign=campaign, restricted=inside is not None, screen=screen, sort=sort,
        sorts=[(s, _sort_label(s)) for s in SORTS],
        nationwide=campaign.owner_unit.parent_id is None, now=timezone.now(),
        query=request.GET.urlencode(), normal_query=params.urlencode(),
        screen_query=screen_params.urlencode(),
    )
    return context


def _sort_label(sort: str) -> str:
    return {
        "worst": _("lowest share present first"),
        "best": _("highest share present first"),
        "missing": _("most not yet arrived first"),
        "expected": _("largest first"),
        "code": _("by code"),
        "name": _("by name"),
    }[sort]


@require_GET
def board(request, slug):
    """The board page; ``?screen=1`` is the big-screen mode (large numbers, no
    navigation) for the hall's projector."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    context = _context(request, slug)
    template = "conference/board_screen.html" if context["screen"] else "conference/board.html"
    return render(request, template, context)


@require_GET
def board_data(request, slug):
    """The fragment the board polls every 2 seconds."""
    if not request.user.is_authenticated:
        if request.headers.get("HX-Request") == "true":
            # the session ended while the board was on screen: reload the whole page,
            # which then asks to log in, instead of swapping the login form into the board
            return HttpResponse(status=401, headers={"HX-Refresh": "true"})
        return redirect_to_login(request.get_full_path())
    return render(request, "conference/board_data.html", _context(request, slug))
