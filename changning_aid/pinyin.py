"""Pinyin initials of people's names, so that a list can be searched by what is quick to type.

A street office types `zxm` to find 张晓明. Many characters have more than one reading
(多音字), and surnames are where it matters most: 曾 is zēng as a surname but céng
elsewhere, 单 is shàn as a surname but dān elsewhere, and people type either. So every
reading of every character counts: `name_initials("曾晓明")` is `"cxm|zxm"`, and both
`cxm` and `zxm` find the name.

How a name becomes its initials:

- each Chinese character gives the distinct first letters of all its readings (pypinyin,
  `heteronym=True`, looked up one character at a time so that a phrase dictionary cannot
  drop a reading);
- a Latin letter (full-width ones too) stands for itself, in lower case; anything else
  (·, spaces, digits, characters pypinyin does not know) is skipped;
- the combinations are listed most likely first: the combination of every character's
  first listed reading, then those that change one character's reading, then two, and
  so on. The list is capped at `MAX_COMBINATIONS` combinations and `MAX_LENGTH`
  characters in all (the column that stores it), so a long name full of 多音字 keeps
  every single-character alternative of its first characters rather than growing
  without bound; a name of up to 3 characters with up to 3 readings each is never cut.

The combinations are stored joined by `SEPARATOR` in a plain text column (`Advisor.name_initials`)
kept up to date on save, and searched with `initials_q`: a query of Latin letters only,
in lower case, contained in the column. Since a query never holds the separator, it
matches within one combination: `zx` and `xm` find 张晓明 like 张晓 and 晓明 do. A plain
`LIKE` on a lower-case column works the same on SQLite and PostgreSQL.
"""

import heapq
import re
import unicodedata
from functools import lru_cache

from django.db.models import Q
from pypinyin import Style, pinyin

SEPARATOR = "|"
MAX_COMBINATIONS = 32
MAX_LENGTH = 400

_LATIN_LETTERS = re.compile(r"[a-z]+")


@lru_cache(maxsize=8192)
def character_initials(character):
    """The distinct lower-case first letters of every reading of one character, most common
    first; `()` for a character that has none (punctuation, digits, unknown characters)."""
    character = unicodedata.normalize("NFKC", character)
    if len(character) != 1:  # NFKC may expand a character (㈱); take its letters
        return tuple(dict.fromkeys(c for c in character.lower() if "a" <= c <= "z"))
    if character.isascii():
        return (character.lower(),) if character.isalpha() else ()
    readings = pinyin(character, style=Style.FIRST_LETTER, heteronym=True, errors="ignore")
    letters = []
    for reading in readings[0] if readings else []:
        letter = reading[:1].lower()
        if "a" <= letter <= "z" and letter not in letters:
            letters.append(letter)
    return tuple(letters)


def name_initials(name):
    """Every combination of the initials of `name`'s characters, most likely first, capped.

    `name_initials("单丽")` is `["dl", "cl", "sl"]`; an empty list for a name without any
    letter to give (empty, or only punctuation).
    """
    choices = [letters for letters in map(character_initials, name or "") if letters]
    if not choices:
        return []
    combinations = []
    length = -len(SEPARATOR)
    # Best first over the tuples of reading indexes: the smaller their sum, the likelier
    # the combination; among equals, the one that changes the earlier characters (the
    # surname) first.
    start = (0,) * len(choices)
    heap, seen = [(0, start, start)], {start}
    while heap and len(combinations) < MAX_COMBINATIONS:
        rank, _order, indexes = heapq.heappop(heap)
        text = "".join(letters[index] for letters, index in zip(choices, indexes, strict=True))
        if length + len(SEPARATOR) + len(text) > MAX_LENGTH:
            break
        combinations.append(text)
        length += len(SEPARATOR) + len(text)
        for position, letters in enumerate(choices):
            if indexes[position] + 1 < len(letters):
                following = indexes[:position] + (indexes[position] + 1,) + indexes[position + 1 :]
                if following not in seen:
                    seen.add(following)
                    order = tuple(-index for index in following)
                    heapq.heappush(heap, (rank + 1, order, following))
    return combinations


def initials_text(name):
    """What the initials column of a person named `name` holds: the combinations, joined."""
    return SEPARATOR.join(name_initials(name))


def initials_query(text):
    """The initials a search text asks for (lower case), or "" when it is not one.

    A search of Latin letters only (spaces and full-width letters allowed) asks for
    initials; Chinese characters, digits or anything else search names and phones.
    """
    letters = unicodedata.normalize("NFKC", text or "").lower().replace(" ", "")
    return letters if _LATIN_LETTERS.fullmatch(letters) else ""


def initials_q(field_name, text):
    """A filter for the rows whose initials column `field_name` matches the search `text`.

    Nothing matches when `text` is not an initials search (see `initials_query`), so the
    filter can be OR-ed with the name and phone filters unconditionally.
    """
    query = initials_query(text)
    if not query:
        return Q(pk__in=[])
    return Q(**{f"{field_name}__contains": query})
