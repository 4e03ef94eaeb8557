"""Flood limits for the public evaluation page (服务评议), kept in Django's cache.

A rating from the public page needs no login, so a script could post thousands and bend a
station's satisfaction figure, which feeds the street's assessment. Each rating is counted
in fixed windows against three limits (settings): from one client for one station in an
hour, from one client over all stations in a day, and from everyone for one station in an
hour. The first limit reached refuses the rating with its own Chinese message and nothing
is saved; the limits after it are then not counted, so one client's refused attempts never
use up what the station allows everyone.

A client is its network address as `changning_aid.net.client_ip` reads it (which believes
X-Forwarded-For only from TRUSTED_PROXIES); an IPv6 client is its /64 network, which one
household or phone usually holds whole. The address is kept only as a keyed hash in the
cache key, for at most a day, and never in the rating.

Counting is atomic where the cache is: `cache.add` creates a window's counter only if it
is missing and `cache.incr` adds to it. With several server processes the cache must be
shared by all of them (`CACHE_URL`: the database cache, or Redis, whose `incr` is atomic;
the database cache's `incr` may let a few extra ratings through under a race, which is
acceptable here), else each process counts apart and the limits multiply. The default,
LocMemCache, is per process: right for development, the tests and a single process.
"""

import ipaddress
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from changning_aid.net import client_ip

HOUR = 60 * 60
DAY = 24 * HOUR
KEY_PREFIX = "evaluation-throttle"


@dataclass(frozen=True)
class Refusal:
    """Why a rating was refused, and in how many seconds the limit lifts (Retry-After)."""

    message: str
    retry_after: int


def client_key(request):
    """The client of `request` as a short keyed hash (never the address itself)."""
    address = client_ip(request) or "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        parsed = None
    if parsed is not None and parsed.version == 6:
        address = str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return salted_hmac(KEY_PREFIX, address, algorithm="sha256").hexdigest()[:32]


def count(name, window, *, now=None):
    """Count one event of `name` in the current `window` (seconds); return the count so far.

    Windows are fixed (aligned to the epoch); a counter lives to the end of its window.
    """
    now = time.time() if now is None else now
    key = f"{KEY_PREFIX}:{name}:{window}:{int(now // window)}"
    lifetime = seconds_left(window, now=now)
    cache.add(key, 0, timeout=lifetime)
    try:
        counted = cache.incr(key)
    except ValueError:
        # The counter expired between add and incr: this event opens a new one.
        cache.add(key, 1, timeout=lifetime)
        return 1
    # Backends without their own incr (the database cache) store the sum again with the
    # default timeout: the counter must last to the end of its window all the same.
    cache.touch(key, timeout=lifetime)
    return counted


def seconds_left(window, *, now=None):
    """Seconds until the current fixed `window` ends (at least 1)."""
    now = time.time() if now is None else now
    return max(1, int(window - now % window))


def evaluation_limits(client, station_pk):
    """The limits a public rating of station `station_pk` by `client` is counted against."""
    return (
        (
            f"client-station:{client}:{station_pk}",
            settings.EVALUATION_LIMIT_PER_STATION_HOUR,
            HOUR,
            _("您刚刚已经评议过这个站点,感谢您的参与!请过一段时间再评。"),
        ),
        (
            f"client:{client}",
            settings.EVALUATION_LIMIT_PER_DAY,
            DAY,
            _("您今天提交的评议已达上限,感谢您的参与!请明天再来。"),
        ),
        (
            f"station:{station_pk}",
            settings.EVALUATION_LIMIT_STATION_HOUR,
            HOUR,
            _("这个站点此刻收到的评议过多,请稍后再试。"),
        ),
    )


def check_public_evaluation(request, station_pk, *, now=None):
    """Count a public rating of station `station_pk`; a `Refusal` once a limit is exceeded.

    Returns None when the rating may be saved.
    """
    now = time.time() if now is None else now
    client = client_key(request)
    for name, limit, window, message in evaluation_limits(client, station_pk):
        if count(name, window, now=now) > limit:
            return Refusal(message=message, retry_after=seconds_left(window, now=now))
    return None
