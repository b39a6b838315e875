"""The sender's queue: a review's e-mail goes out through the task queue once the review
commits; two senders never take the same e-mails."""

import threading

import pytest
from django.db import connection, transaction

from quantriet.notifications import services
from quantriet.notifications.models import Channel, Kind, Notification
from quantriet.reports import services as reports
from tests.factories import user

TEXT = "Bài thu hoạch: học tập và làm theo Nghị quyết, liên hệ bản thân và đơn vị."


def test_the_review_commits_then_the_task_sends(rep, smtp, settings,
                                                django_capture_on_commit_callbacks):
    reviewer = user("chambai", reviewer=rep.org.bd)
    version = reports.submit(participant=rep.part["a"], text=TEXT, actor=rep.authors["a"])
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reports.review(report=version.report, actor=reviewer, outcome="returned",
                       comments="Bổ sung phần liên hệ bản thân.")
    # the notice is written with the review; nothing is sent before it commits
    assert Notification.objects.filter(channel=Channel.EMAIL, status="queued").count() == 1
    assert smtp.messages == []
    for callback in callbacks:
        callback()
    assert len(smtp.messages) == 1
    assert Notification.objects.get(channel=Channel.EMAIL).status == "sent"


def _queue(n):
    people = [user(f"nhan{i}") for i in range(n)]
    services.enqueue(kind=Kind.REVIEWER_ASSIGNED, event="e",
                     recipients=[services.recipient_of_user(u) for u in people],
                     context={"campaign": "X"}, channels=[Channel.EMAIL], schedule=False)
    return list(Notification.objects.order_by("pk").values_list("pk", flat=True))


@pytest.mark.django_db(transaction=True)
def test_two_senders_take_different_emails():
    ids = _queue(10)
    if not connection.features.has_select_for_update_skip_locked:
        # SQLite: claims are serialised by the write lock; a claimed batch is leased
        first = services.claim(size=6)
        second = services.claim(size=6)
        assert first == ids[:6] and second == ids[6:]
        return
    # PostgreSQL: a sender still inside its claiming transaction holds its rows; a second
    # sender skips them instead of waiting or taking them too
    locked, release = threading.Event(), threading.Event()
    held = []

    def first_sender():
        try:
            with transaction.atomic():
                held.extend(Notification.objects.select_for_update(skip_locked=True)
                            .order_by("pk").values_list("pk", flat=True)[:4])
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=first_sender)
    thread.start()
    assert locked.wait(10)
    try:
        second = services.claim(size=10)
    finally:
        release.set()
        thread.join()
    assert held == ids[:4] and second == ids[4:]
