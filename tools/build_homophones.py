"""Build ``src/reformkb/data/homophones.tsv``: the characters of GB 2312 grouped by their readings.

    pip install --target /tmp/pyp pypinyin==0.55.0
    PYTHONPATH=/tmp/pyp python tools/build_homophones.py

The readings are pypinyin's (MIT License, https://github.com/mozillazg/python-pinyin; its character
data comes from pinyin-data), each character's most common reading (the one a pinyin input method
offers it under first; 长 is chang, not zhang), without tones. One line a reading: the syllable, a
tab, then its characters. Only the 6,763 characters of GB 2312 (the simplified set the records are
written in) are listed. ``reformkb.search.homophones`` reads the file
to correct homophone typos in queries (企业住销 → 企业注销); the package does not depend on pypinyin.
"""
from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from pypinyin import Style, pinyin

OUT = Path(__file__).resolve().parents[1] / "src" / "reformkb" / "data" / "homophones.tsv"


def gb2312() -> list[str]:
    """The 6,763 characters of GB 2312 (rows 16–87), in code order."""
    chars = []
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def main() -> int:
    groups: dict[str, list[str]] = defaultdict(list)
    for ch in gb2312():
        reading = pinyin(ch, style=Style.NORMAL)[0][0]
        if reading.isascii() and reading.isalpha():
            groups[reading].append(ch)
    lines = [f"{reading}\t{''.join(chars)}" for reading, chars in sorted(groups.items()) if len(chars) > 1]
    OUT.write_text("# reading\tcharacters of GB 2312 with that reading (pypinyin 0.55.0, MIT License, "
                   "https://github.com/mozillazg/python-pinyin; most common reading, tones dropped); built by "
                   "tools/build_homophones.py\n" + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} readings, {sum(len(c) for c in groups.values())} characters written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
