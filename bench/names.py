"""Cost of a name the roster import has not seen yet: split, fold and sort key.

The import caches the name fields of each distinct full name (``engine._name_fields``), so
a roster pays this once per distinct name: a few thousand in bench/import.py's synthetic
roster, hundreds of thousands in a real one. Prints one JSON line.

    .venv/bin/python bench/names.py [--names 20000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Tôn Thất", "Âu Dương"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Hữu", "Thị Thu", "Ngọc", "Quang", "Thanh", "Xuân"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Nam", "Phong", "Quân",
         "Sơn", "Thắng", "Toàn", "Trung", "Tuấn", "Việt", "Vinh", "Anh", "Chi", "Dung", "Giang",
         "Hà", "Hạnh", "Hoà", "Hương", "Lan", "Linh", "Mai", "Nga", "Nhung", "Phương", "Thảo",
         "Thuỷ", "Trang", "Vân", "Yến"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--names", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quantriet.settings")
    import django

    django.setup()
    from quantriet.imports.engine import _name_fields

    rnd = random.Random(args.seed)
    names: set[str] = set()
    while len(names) < args.names:  # two given-name syllables give enough distinct names
        names.add(f"{rnd.choice(FAMILY)} {rnd.choice(MIDDLE)} {rnd.choice(GIVEN)} "
                  f"{rnd.choice(GIVEN)}")
        if len(names) >= len(FAMILY) * len(MIDDLE) * len(GIVEN) ** 2:
            break
    start = time.perf_counter()
    for name in names:
        _name_fields(name)
    seconds = time.perf_counter() - start
    print(json.dumps({"distinct_names": len(names), "seconds": round(seconds, 3),
                      "us_per_name": round(seconds / len(names) * 1e6, 1)}))


if __name__ == "__main__":
    main()
