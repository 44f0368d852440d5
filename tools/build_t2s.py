"""Build ``src/reformkb/data/t2s.tsv``: traditional → simplified characters, for query normalization.

    pip install --target /tmp/occ opencc-purepy
    python tools/build_t2s.py /tmp/occ/opencc_purepy/dicts/TSCharacters.txt

The source is OpenCC's ``TSCharacters.txt`` (Apache License 2.0, https://github.com/BYVoid/OpenCC).
Only unambiguous entries are kept (one simplified character, different from the traditional one), and
only for characters outside GB 2312: a character that simplified text uses too (著 in 著名, 乾 in 乾隆,
於 as a surname) is left as it is.
"""
from __future__ import annotations

import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "reformkb" / "data" / "t2s.tsv"


def _simplified(ch: str) -> bool:
    """True for a character of GB 2312 (the simplified set): 著 (著名) or 乾 (乾隆) stay as they are."""
    try:
        ch.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False


def main(source: str) -> int:
    pairs = []
    for line in Path(source).read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) != 2:
            continue
        trad, simp = parts[0], parts[1].split()
        if len(trad) == 1 and len(simp) == 1 and len(simp[0]) == 1 and simp[0] != trad and not _simplified(trad):
            pairs.append(f"{trad}\t{simp[0]}")
    OUT.write_text("# traditional\tsimplified: unambiguous characters of OpenCC's TSCharacters.txt "
                   "(Apache License 2.0, https://github.com/BYVoid/OpenCC); built by tools/build_t2s.py\n"
                   + "\n".join(pairs) + "\n", encoding="utf-8")
    print(f"{len(pairs)} characters written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
