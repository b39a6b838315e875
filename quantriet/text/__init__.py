"""Vietnamese text toolkit: normalisation, search folding, name sorting and dates."""

from quantriet.text.collation import ALPHABET, MAX_SORT_KEY_LENGTH, person_sort_key, sort_key
from quantriet.text.dates import formal_date, format_date, parse_date
from quantriet.text.names import COMPOUND_FAMILY_NAMES, split_full_name
from quantriet.text.normalize import fold, nfc, search_terms, unify_tones

__all__ = [
    "ALPHABET",
    "COMPOUND_FAMILY_NAMES",
    "MAX_SORT_KEY_LENGTH",
    "fold",
    "formal_date",
    "format_date",
    "nfc",
    "parse_date",
    "person_sort_key",
    "search_terms",
    "sort_key",
    "split_full_name",
    "unify_tones",
]
