"""Pages of the organisation: tree browser, unit page, person page.

Every object is fetched through ``visible_to(request.user)``: a unit or person outside
the user's scope is a 404, the same answer as one that does not exist.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from quantriet.org import queries, services, tree
from quantriet.org.forms import RestructureForm
from quantriet.org.managers import can, scope_paths
from quantriet.org.models import Person, Position, Unit


def _page(request, qs, size=None):
    return Paginator(qs, size or settings.PAGE_SIZE).get_page(request.GET.get("page"))


@login_required
def tree_view(request):
    """Top units of the user's scope, expandable; or search results over the scope."""
    visible = Unit.objects.visible_to(request.user).select_related("level")
    q = request.GET.get("q", "").strip()
    context = {"q": q}
    if q:
        context["page"] = _page(request, visible.search(q).order_by("depth", "name"))
    else:
        roots = scope_paths(request.user, "view")
        tops = (
            visible.filter(parent__isnull=True) if roots is None
            else visible.filter(path__in=roots)
        )
        context["roots"] = list(tops.order_by("path"))
    template = "org/_search_results.html" if request.headers.get("HX-Request") else "org/tree.html"
    return render(request, template, context)


@login_required
def unit_children(request, code):
    unit = get_object_or_404(Unit.objects.visible_to(request.user), code=code)
    children = unit.children.select_related("level").order_by("valid_to", "name")
    if not request.GET.get("closed"):
        children = children.filter(valid_to__isnull=True)
    return render(request, "org/_children.html", {"unit": unit, "children": children[:500]})


@login_required
def unit_detail(request, code):
    unit = get_object_or_404(
        Unit.objects.visible_to(request.user).select_related("level", "parent", "successor"),
        code=code,
    )
    user = request.user
    ancestors = list(
        Unit.objects.visible_to(user).filter(path__in=tree.ancestor_paths(unit.path))
        .order_by("path")
    )
    tab = request.GET.get("tab", "children")
    from quantriet.plans.nav import unit_plan_links
    from quantriet.progress.nav import unit_progress_links

    context = {
        "progress_links": unit_progress_links(user, unit),
        "plan_links": unit_plan_links(user, unit),
        "unit": unit,
        "ancestors": ancestors,
        "tab": tab,
        "subtree_members": queries.subtree_member_total(unit),
        "can_see_people": can(user, "view_people", unit),
        "can_change": unit.parent is not None and can(user, "change", unit.parent),
    }
    if tab == "members":
        if not context["can_see_people"]:
            raise Http404
        q = request.GET.get("q", "").strip()
        whole = request.GET.get("all") == "1" or not unit.level.accepts_members
        people = Person.objects.visible_to(user)
        people = people.in_subtree(unit.path) if whole else people.filter(unit=unit)
        if q:
            people = people.search(q)
        context.update(
            page=_page(request, people.select_related("unit").order_by("sort_key", "id")),
            q=q,
            whole=whole,
        )
    elif tab == "positions":
        if not context["can_see_people"]:
            raise Http404
        positions = (
            Position.objects.visible_to(user).filter(unit=unit)
            .select_related("person", "type", "managing_unit")
            .order_by("end_date", "type__order", "person__sort_key")
        )
        context["page"] = _page(request, positions)
    elif tab == "history":
        context["events"] = unit.events.select_related(
            "other_unit", "old_parent", "new_parent"
        )[:200]
    else:
        context["tab"] = "children"
        children = unit.children.select_related("level").order_by("valid_to", "name")
        page = _page(request, children)
        totals = queries.child_totals(unit) if page.object_list else {}
        for child in page.object_list:
            t = totals.get(child.pk, {"members": child.direct_members, "units": 0})
            child.subtree_members = t["members"]
            child.subtree_units = t["units"]
        context["page"] = page
    return render(request, "org/unit.html", context)


@login_required
def person_detail(request, pk):
    person = get_object_or_404(
        Person.objects.visible_to(request.user).select_related("unit", "unit__level"), pk=pk
    )
    positions = person.positions.select_related("unit", "type", "managing_unit").order_by(
        "end_date", "type__order"
    )
    return render(request, "org/person.html", {"person": person, "positions": positions})


@login_required
@require_http_methods(["GET", "POST"])
def unit_restructure(request, code):
    """Move, merge or dissolve a unit (organisers and unit administrators of an ancestor)."""
    unit = get_object_or_404(
        Unit.objects.visible_to(request.user, "change").select_related("level", "parent"),
        code=code,
    )
    if unit.parent_id is None or not can(request.user, "change", unit.parent):
        # Restructuring changes the parent's subtree too: the right must cover it.
        raise Http404
    form = RestructureForm(request.POST or None, user=request.user, unit=unit)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["action"] == "move":
                services.move_unit(unit=unit, new_parent=data["target"], date=data["date"],
                                   note=data["note"], actor=request.user)
                messages.success(request, _("“%(unit)s” now sits under “%(parent)s”.")
                                 % {"unit": unit.name, "parent": data["target"].name})
            elif data["action"] == "merge":
                target = services.merge_units(sources=[unit], target=data["target"],
                                              date=data["date"], note=data["note"],
                                              actor=request.user)
                messages.success(request, _("“%(unit)s” was merged into “%(target)s”.")
                                 % {"unit": unit.name, "target": target.name})
                return redirect("org:unit", target.code)
            else:
                services.dissolve_unit(unit=unit, date=data["date"], note=data["note"],
                                       actor=request.user)
                messages.success(request, _("“%(unit)s” was dissolved.") % {"unit": unit.name})
            return redirect("org:unit", unit.code)
        except ValidationError as exc:
            for msg in exc.messages:
                form.add_error(None, msg)
    return render(request, "org/restructure.html", {"unit": unit, "form": form})
