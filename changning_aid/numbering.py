"""Stable numbers of the form prefix + zero-padded sequence (顾问编号, 档案号, 需求编号, ...)."""

import re

# Candidates read from the top of the index: enough to step over the odd value of another
# shape (fewer digits) that sorts among them.
_CANDIDATES = 20


def next_number(model, field, prefix, digits):
    """`prefix` followed by the next free sequence of `digits` digits among `model.field`.

    One indexed query reading a few rows, whatever the number of values with the prefix (a
    street's visits run to hundreds of thousands): the highest value of exactly `digits`
    digits sorts last among the values between prefix+0…0 and prefix+9…9, in any collation,
    as they share the prefix and the length. Only when that sequence is used up (all nines)
    are all the values read, to continue after the longest one.
    """
    shape = re.compile(rf"\d{{{digits}}}")
    manager = model._default_manager
    candidates = (
        manager.filter(
            **{
                f"{field}__startswith": prefix,
                f"{field}__gte": prefix + "0" * digits,
                f"{field}__lte": prefix + "9" * digits,
            }
        )
        .order_by(f"-{field}")
        .values_list(field, flat=True)[:_CANDIDATES]
    )
    highest = 0
    for value in candidates:
        sequence = value[len(prefix) :]
        if shape.fullmatch(sequence):
            highest = int(sequence)
            break
    else:
        if len(candidates) == _CANDIDATES:  # only odd shapes at the top: read them all
            highest = _highest_by_scan(manager, field, prefix)
    if highest >= 10**digits - 1:
        highest = max(highest, _highest_by_scan(manager, field, prefix))
    return f"{prefix}{highest + 1:0{digits}d}"


def _highest_by_scan(manager, field, prefix):
    values = manager.filter(**{f"{field}__startswith": prefix}).values_list(field, flat=True)
    used = [int(v[len(prefix) :]) for v in values if re.fullmatch(r"\d+", v[len(prefix) :])]
    return max(used, default=0)
