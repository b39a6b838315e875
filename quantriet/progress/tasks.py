from django.tasks import task

from quantriet.campaigns.models import Campaign
from quantriet.progress import services


@task()
def build_results(job_id: int) -> str:
    job = services.build_results(job_id)
    return f"results {job.pk}: {job.status}" if job else "gone"


@task()
def take_snapshot(campaign_id: int) -> str:
    campaign = Campaign.objects.select_related("owner_unit").filter(pk=campaign_id).first()
    if campaign is None:
        return "gone"
    return f"{services.take_snapshot(campaign=campaign)} subtrees"
