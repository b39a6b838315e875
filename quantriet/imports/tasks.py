from django.tasks import task

from quantriet.imports import services


@task()
def run_import_job(job_id: str) -> str:
    return services.run_job(job_id).status
