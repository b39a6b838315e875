"""Import jobs: one uploaded file, its column mapping, its preview and its application."""

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from quantriet.imports.columns import TABLE_TITLES


class ImportJobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """An import is seen by the account that uploaded it (and superusers)."""
        if getattr(user, "is_superuser", False):
            return self.all()
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(created_by=user)


class ImportJob(models.Model):
    class Status(models.TextChoices):
        MAPPING = "mapping", _("waiting for the column mapping")
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        PREVIEWED = "previewed", _("checked, not yet applied")
        INVALID = "invalid", _("has errors, nothing written")
        APPLIED = "applied", _("applied")
        FAILED = "failed", _("failed, nothing written")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file"), max_length=255)
    apply_requested = models.BooleanField(default=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices,
                              default=Status.QUEUED)
    mapping = models.JSONField(default=dict, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    issue_count = models.PositiveIntegerField(default=0)
    progress_phase = models.CharField(max_length=20, blank=True)
    progress_rows = models.PositiveIntegerField(default=0)
    total_rows = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    def progress_path(self) -> Path:
        """Where a running import reports how far it got: beside the upload, outside the
        database (``services.live_progress`` reads it)."""
        return Path(self.file.path + ".progress")

    @property
    def progress_title(self) -> str:
        """The table being read, in the page's language ("Đoàn viên" / "Members")."""
        titles = TABLE_TITLES.get(self.progress_phase)
        if titles is None:
            return self.progress_phase
        return titles[1 if (translation.get_language() or "vi").startswith("en") else 0]

    @property
    def is_busy(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def percent(self) -> int:
        if self.status in (self.Status.PREVIEWED, self.Status.APPLIED, self.Status.INVALID):
            return 100
        if not self.total_rows:
            return 0
        return min(99, int(100 * self.progress_rows / self.total_rows))


class ImportIssue(models.Model):
    """One error of one cell (or row) of an import, in both languages."""

    job = models.ForeignKey(ImportJob, models.CASCADE, related_name="issues")
    table = models.CharField(max_length=20)
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=40, blank=True)
    message_vi = models.TextField()
    message_en = models.TextField()

    class Meta:
        ordering = ["table", "row", "id"]

    def __str__(self) -> str:
        return f"{self.table} {self.row}: {self.message_vi}"

    def message(self, language: str = "vi") -> str:
        return self.message_en if language.startswith("en") else self.message_vi

