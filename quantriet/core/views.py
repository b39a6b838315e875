from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from quantriet.org.models import Grant, Unit


@login_required
def home(request):
    grants = (
        Grant.objects.filter(user=request.user).select_related("unit", "unit__level")
        .order_by("unit__path", "role")
    )
    person = getattr(request.user, "person", None)
    top = None
    if request.user.is_superuser:
        top = Unit.objects.filter(parent__isnull=True).first()
    points = (request.user.bridge_points.filter(locked=False)
              .select_related("campaign").order_by("campaign__title", "name")[:50])
    from quantriet.plans.nav import my_plans

    return render(request, "core/home.html", {"grants": grants, "person": person, "top": top,
                                              "points": points,
                                              "plans": my_plans(request.user)})
