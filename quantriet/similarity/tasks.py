from django.tasks import task

from quantriet.campaigns.models import Campaign
from quantriet.similarity import services

REBUILD_BATCHES_PER_TASK = 20
"""Batches of services.REBUILD_BATCH reports per task run: a rebuild is a chain of short
tasks, so the copy checks queued meanwhile are not held up behind it."""


@task()
def check_version(version_id: int) -> str:
    flag = services.check_version(version_id)
    return f"flag {flag.pk}" if flag else "no copy"


@task()
def refresh_phrases(campaign_id: int, at_least: int | None = None) -> str:
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        return "gone"
    made = services.refresh(campaign, at_least=at_least)
    return f"generation {made.generation}" if made else "not due"


@task()
def rebuild_keys(campaign_id: int, generation: int) -> str:
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        return "gone"
    if services.rebuild(campaign, generation, batches=REBUILD_BATCHES_PER_TASK):
        return f"generation {generation}: done"
    rebuild_keys.enqueue(campaign_id, generation)
    return f"generation {generation}: continued"
