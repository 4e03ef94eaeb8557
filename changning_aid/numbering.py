"""Stable numbers of the form prefix + zero-padded sequence (顾问编号, 档案号, 需求编号, ...)."""

import re


def next_number(model, field, prefix, digits):
    """`prefix` followed by the next free sequence of `digits` digits among `model.field`."""
    values = model._default_manager.filter(**{f"{field}__startswith": prefix}).values_list(
        field, flat=True
    )
    used = [int(v[len(prefix) :]) for v in values if re.fullmatch(r"\d+", v[len(prefix) :])]
    return f"{prefix}{max(used, default=0) + 1:0{digits}d}"
