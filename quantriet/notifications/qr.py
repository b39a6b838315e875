"""The QR code of an invitation as a PNG image, for e-mails: the same symbol as the one
printed on the invitation letter (``conference.documents.qr_matrix`` of the signed token
``conference.services.invitation_token``), which the check-in scanners read."""

from __future__ import annotations

import io

from PIL import Image

SCALE = 6
QUIET = 4
"""Pixels per module, and the quiet zone around the symbol in modules."""


def png(text: str) -> bytes:
    """A black-on-white PNG of the QR code of ``text``."""
    from quantriet.conference.documents import qr_matrix

    matrix = qr_matrix(text)
    n = len(matrix) + 2 * QUIET
    img = Image.new("1", (n, n), 1)
    pixels = img.load()
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                pixels[c + QUIET, r + QUIET] = 0
    img = img.resize((n * SCALE, n * SCALE), Image.Resampling.NEAREST)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def matrix_of_png(data: bytes) -> list[list[bool]]:
    """The modules read back from an image made by :func:`png` (True = dark)."""
    img = Image.open(io.BytesIO(data)).convert("L")
    n = img.width // SCALE - 2 * QUIET
    pixels = img.load()
    return [[pixels[(c + QUIET) * SCALE + SCALE // 2, (r + QUIET) * SCALE + SCALE // 2] < 128
             for c in range(n)] for r in range(n)]
