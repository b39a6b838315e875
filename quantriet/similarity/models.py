"""Near-duplicate detection of reports: the reference texts of a campaign, the LSH band
keys of each report's latest version, and the flags (pairs grouped in clusters) that
reviewers confirm or dismiss. The algorithm is in :mod:`quantriet.similarity.fingerprint`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from quantriet.campaigns.models import Campaign
from quantriet.reports.models import Report, Version


class Source(models.Model):
    """A text that is not copying when quoted (the resolution, topic materials), or a
    template known to circulate, whose copies are flagged even when nobody else used it."""

    class Kind(models.TextChoices):
        REFERENCE = "reference", _("reference text (quoting it is not copying)")
        TEMPLATE = "template", _("circulating template (copying it is flagged)")

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="similarity_sources")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=300)
    text = models.TextField(_("text"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "kind", "id"]
        verbose_name = _("source text")
        verbose_name_plural = _("source texts")

    def __str__(self) -> str:
        return self.title


class BandKey(models.Model):
    """One LSH band key of the latest version of a report (or of a template).

    ``key`` is the band key of :mod:`~quantriet.similarity.fingerprint` mixed with a salt of
    the campaign and the phrase set generation (``services.stored_keys``), so that the
    lookup index needs neither: it is (key, report) alone, a candidate lookup reads the
    index only, and keys of other campaigns or generations never match a probe."""

    campaign_id: int
    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="+", db_index=False)
    report = models.ForeignKey(Report, models.CASCADE, null=True, blank=True, related_name="+")
    source = models.ForeignKey(Source, models.CASCADE, null=True, blank=True, related_name="+",
                               db_index=False)
    key = models.BigIntegerField()
    generation = models.PositiveIntegerField(default=0)
    """The :class:`PhraseSet` generation whose shingles were left out of this key (0: only
    the reference texts, before the campaign's first phrase set)."""

    class Meta:
        verbose_name = _("band key")
        verbose_name_plural = _("band keys")
        indexes = [
            models.Index(fields=["key", "report"], name="similarity_band_probe",
                         condition=models.Q(report__isnull=False)),
            models.Index(fields=["key", "source"], name="similarity_band_template",
                         condition=models.Q(source__isnull=False)),
            models.Index(fields=["source"], name="similarity_band_source",
                         condition=models.Q(source__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.key}"


class PhraseSet(models.Model):
    """One generation of a campaign's shingle sets, taken from a sample of its submissions
    (see ``services.refresh``): the shingles left out of the band keys (the reference
    texts', the *frequent* runs, in >= 0.1 % of the sample, and in a large campaign the
    *crowded* ones, keys of > 0.02 % of its indexed reports) and the *common phrases*
    (>= 1 %) discounted when deciding. Each set is stored as sorted little-endian 64-bit
    integers. A new generation makes the keys of reports indexed before it stale: they are
    fingerprinted again in the background (``tasks.rebuild_keys``); lookups probe every
    generation from the last rebuilt one until the rebuild is done."""

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="+")
    generation = models.PositiveIntegerField()
    reports = models.PositiveIntegerField(default=0)
    """Submitted reports of the campaign when the set was taken (counted up to the last
    automatic refresh threshold)."""
    sample = models.PositiveIntegerField(default=0)
    """Texts in the sample."""
    ignore = models.BinaryField()
    common = models.BinaryField()
    crowded = models.BinaryField(default=b"")
    """The crowded runs among ``ignore``: band keys of too many of the campaign's indexed
    reports when the set was taken (``services.crowded``), carried into later sets."""
    rebuilt_upto = models.BigIntegerField(default=0)
    """Reports with a lower or equal id have keys of this generation (or a later one)."""
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    """When every indexed report and template had keys of this generation."""
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "generation"],
                                    name="similarity_phrase_set_generation"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.generation}"


class Cluster(models.Model):
    """Reports that share one text: shown once, with the earliest submission."""

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="+")
    earliest = models.ForeignKey(Report, models.CASCADE, null=True, blank=True,
                                 related_name="+", verbose_name=_("earliest submission"))
    template = models.ForeignKey(Source, models.CASCADE, null=True, blank=True,
                                 related_name="+", verbose_name=_("circulating template"))
    size = models.PositiveIntegerField(_("reports"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("cluster of copies")
        verbose_name_plural = _("clusters of copies")

    def __str__(self) -> str:
        return f"#{self.pk} ({self.size})"


class Flag(models.Model):
    """A report found too similar to an earlier report or to a circulating template."""

    class Status(models.TextChoices):
        OPEN = "open", _("to check")
        CONFIRMED = "confirmed", _("confirmed copy")
        DISMISSED = "dismissed", _("dismissed")

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="+")
    cluster = models.ForeignKey(Cluster, models.CASCADE, related_name="flags")
    report = models.ForeignKey(Report, models.CASCADE, related_name="copy_flags",
                               verbose_name=_("report"))
    version = models.ForeignKey(Version, models.CASCADE, related_name="+")
    other = models.ForeignKey(Report, models.CASCADE, null=True, blank=True,
                              related_name="+", verbose_name=_("similar to"))
    other_version = models.ForeignKey(Version, models.CASCADE, null=True, blank=True,
                                      related_name="+")
    source = models.ForeignKey(Source, models.CASCADE, null=True, blank=True, related_name="+",
                               verbose_name=_("circulating template"))
    jaccard = models.FloatField(_("similarity (Jaccard)"))
    containment = models.FloatField(_("containment"))
    score = models.FloatField(_("score"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.OPEN)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-score", "id"]
        verbose_name = _("copy flag")
        verbose_name_plural = _("copy flags")
        constraints = [
            models.UniqueConstraint(fields=["version"], name="similarity_flag_version"),
        ]

    def __str__(self) -> str:
        return f"{self.report_id} ~ {self.other_id or self.source_id} ({self.score:.2f})"
