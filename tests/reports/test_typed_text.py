"""Typed reports, drafts and review comments keep their paragraphs and line breaks (they
are NFC-normalised line by line, not run into one line)."""

import hashlib

from quantriet.reports import services
from quantriet.reports.models import Report
from tests.factories import user

TYPED = ("Bài thu hoạch Nghị quyết.\r\n\r\n\r\n  Phần  một:\tnhận thức (ho\u0300a). \r\n"
         "Phần hai: hành động.\r\n")
STORED = "Bài thu hoạch Nghị quyết.\n\nPhần một: nhận thức (hòa).\nPhần hai: hành động."


def test_tidy_text():
    assert services.tidy_text(TYPED) == STORED
    assert services.tidy_text(" \r\n \n\t") == ""
    assert services.tidy_text(STORED) == STORED  # stable


def test_paragraphs_survive_draft_submit_and_review(rep):
    reviewer = user("cham", reviewer=rep.org.bd)
    part, author = rep.part["a"], rep.authors["a"]
    services.save_draft(participant=part, text=TYPED, actor=author)
    assert Report.objects.get(participant=part).draft == STORED
    version = services.submit(participant=part, text=TYPED, actor=author, client_ref="x")
    assert version.text == STORED and version.words == 14
    assert version.sha256 == hashlib.sha256(STORED.encode()).hexdigest()
    review = services.review(report=version.report, actor=reviewer, outcome="returned",
                             comments="Ý 1: rõ hơn.\r\nÝ 2: thêm ví dụ.")
    assert review.comments == "Ý 1: rõ hơn.\nÝ 2: thêm ví dụ."
    assert Report.objects.get(participant=part).draft == STORED
