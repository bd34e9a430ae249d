"""Fill locale/<lang>/LC_MESSAGES/django.po from translations.py (after makemessages), for `make messages`.

Usage: python locale/build.py   (prints the texts that have no translation yet)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from translations import LANGUAGES, TRANSLATIONS  # noqa: E402

HERE = Path(__file__).resolve().parent


def _unquote(lines: list[str]) -> str:
    text = "".join(re.fullmatch(r'\s*"(.*)"\s*', line).group(1) for line in lines)  # type: ignore[union-attr]
    return text.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def fill(path: Path, column: int) -> list[str]:
    out: list[str] = []
    missing: list[str] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("msgid "):
            # msgmerge's guesses ("#, fuzzy" with the "#|" text it started from) are replaced by ours:
            # msgfmt would leave a fuzzy entry out of the compiled catalogue.
            while out and (out[-1].startswith("#|") or out[-1] == "#, fuzzy"):
                out.pop()
            if out and out[-1].startswith("#,") and "fuzzy" in out[-1]:
                flags = [f.strip() for f in out[-1][2:].split(",") if f.strip() != "fuzzy"]
                out[-1] = "#, " + ", ".join(flags)
            msgid = [line[len("msgid ") :]]
            i += 1
            while i < len(lines) and lines[i].startswith('"'):
                msgid.append(lines[i])
                i += 1
            assert lines[i].startswith("msgstr "), path
            msgstr = [lines[i][len("msgstr ") :]]
            i += 1
            while i < len(lines) and lines[i].startswith('"'):
                msgstr.append(lines[i])
                i += 1
            english = _unquote(msgid)
            out.append("msgid " + "\n".join(msgid))
            if not english:  # the header
                out.append("msgstr " + "\n".join(msgstr))
                continue
            translated = TRANSLATIONS.get(english)
            if translated is None:
                missing.append(english)
                out.append('msgstr ""')
            else:
                out.append("msgstr " + _quote(translated[column]))
            continue
        if line == "#, fuzzy" and i + 1 < len(lines) and lines[i + 1] == 'msgid ""':
            i += 1  # the header is complete: not fuzzy
            continue
        out.append(line)
        i += 1
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return missing


def main() -> int:
    missing: set[str] = set()
    for column, language in enumerate(LANGUAGES):
        missing |= set(fill(HERE / language / "LC_MESSAGES" / "django.po", column))
    for text in sorted(missing):
        print(f"untranslated: {text!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
