from django.tasks import task

from quantriet.notifications import services


@task()
def send_queued() -> str:
    r = services.drain()
    return f"sent {r.sent}, bounced {r.bounced}, failed {r.failed}, given back {r.released}"
