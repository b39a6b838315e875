"""Every UI string has a Vietnamese translation, and the compiled catalogue is current."""

import ast
import gettext
from pathlib import Path

import quantriet

LOCALE = Path(quantriet.__file__).parent / "locale"
PO = LOCALE / "vi" / "LC_MESSAGES" / "django.po"


def _entries():
    """(msgid, msgid_plural, [msgstr...], flags) of each entry of the .po file."""
    entry, field, out = None, None, []

    def flush():
        if entry and entry["msgid"]:
            out.append(entry)

    for line in PO.read_text(encoding="utf-8").splitlines():
        if line.startswith("#,"):
            flush()
            entry, field = {"msgid": "", "plural": "", "str": {}, "flags": line}, None
        elif line.startswith("msgctxt "):
            if entry is None or entry["msgid"] or entry["str"]:
                flush()
                entry = {"msgid": "", "plural": "", "str": {}, "flags": ""}
            entry["ctxt"] = ast.literal_eval(line.partition(" ")[2])
            field = None
        elif line.startswith(("msgid ", "msgid_plural ", "msgstr")):
            key, _, rest = line.partition(" ")
            if key == "msgid":
                if entry is None or entry["msgid"] or entry["str"]:
                    flush()
                    entry = {"msgid": "", "plural": "", "str": {}, "flags": ""}
                field = ("msgid",)
            elif key == "msgid_plural":
                field = ("plural",)
            else:
                field = ("str", key)
            value = ast.literal_eval(rest)
            if field[0] == "str":
                entry["str"][field[1]] = value
            else:
                entry[field[0]] = value
        elif line.startswith('"') and entry is not None and field:
            value = ast.literal_eval(line)
            if field[0] == "str":
                entry["str"][field[1]] += value
            else:
                entry[field[0]] += value
        elif not line.strip():
            field = None
    flush()
    return out


def test_no_untranslated_or_fuzzy_entries():
    entries = _entries()
    assert len(entries) > 200
    missing = [e["msgid"] for e in entries if not any(e["str"].values())]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert missing == [] and fuzzy == []


def test_compiled_catalogue_matches_the_po_file():
    catalogue = gettext.translation("django", LOCALE, languages=["vi"])
    for e in _entries():
        if e["plural"]:
            continue
        if "ctxt" in e:
            got = catalogue.pgettext(e["ctxt"], e["msgid"])
        else:
            got = catalogue.gettext(e["msgid"])
        assert got == e["str"]["msgstr"], e["msgid"]
