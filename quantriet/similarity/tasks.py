from django.tasks import task

from quantriet.similarity import services


@task()
def check_version(version_id: int) -> str:
    flag = services.check_version(version_id)
    return f"flag {flag.pk}" if flag else "no copy"
