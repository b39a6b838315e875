from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from quantriet.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("org/", include("quantriet.org.urls")),
    path("imports/", include("quantriet.imports.urls")),
    path("campaigns/", include("quantriet.campaigns.urls")),
    path("conference/", include("quantriet.conference.urls")),
    path("reports/", include("quantriet.reports.urls")),
    path("copies/", include("quantriet.similarity.urls")),
    path("progress/", include("quantriet.progress.urls")),
    path("plans/", include("quantriet.plans.urls")),
    path("notifications/", include("quantriet.notifications.urls")),
    path("admin/", admin.site.urls),
]

# Uploaded campaign materials; in production the web server (or a CDN-less static host)
# serves MEDIA_ROOT under /media/.
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
