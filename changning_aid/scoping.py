"""Row scoping: the one way views, exports, imports and admin get their rows.

Every model that holds district, street or station data uses a `ScopedQuerySet`
and is read through `Model.objects.visible_to(user)`. A row outside the user's
scope is treated as if it did not exist (404), never as "forbidden", so that its
existence does not leak either.

Who sees what (DOMAIN.md, "Users"):
- system administrator: the network (divisions and stations) of every district, no personal data;
- audit administrator: nothing here (the audit trail has its own scoping);
- bureau staff: everything of their district;
- street manager: everything of their street/town;
- advisor: what belongs to the stations they serve.

Rows meant for several streets (district-wide resources or trainings) are declared
shared by a queryset that overrides `shared_with_street`; nothing is shared by default.
"""

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.choices import Role


class ScopedQuerySet(models.QuerySet):
    """A queryset that knows how to cut itself down to a user's scope.

    Subclasses name the lookups from their model to the district, the street and the
    station it belongs to; a lookup left as None means the role sees none of the model's
    rows through that path. `system_admin_sees_all` is for network data only.
    """

    district_lookup: str | None = None
    street_lookup: str | None = None
    station_lookup: str | None = None
    system_admin_sees_all = False
    # A district's rows as `<street_lookup> IN (the district's street ids)`, the ids read
    # first, for the large tables reached through a person: an index on the person's street
    # then finds them, where the join to the streets read every person of the city (a
    # district's needs counted in 80 ms, 25 ms this way).
    district_by_street_ids = False

    def visible_to(self, user):
        """The rows `user` may see; none for anonymous or deactivated users."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        role = user.role
        if role == Role.SYSTEM_ADMIN or (user.is_superuser and not role):
            return self.all() if self.system_admin_sees_all else self.none()
        if role == Role.BUREAU and user.district_id:
            return self.for_district(user.district_id)
        if role == Role.STREET_MANAGER and user.street_id:
            return self.for_street(user.street_id)
        if role == Role.ADVISOR:
            return self.for_advisor(user)
        return self.none()

    def for_district(self, district_id):
        if self.district_lookup is None:
            return self.none()
        if self.district_by_street_ids:
            from stations.models import Street

            streets = Street.objects.filter(district_id=district_id).values_list("pk", flat=True)
            return self.filter(**{f"{self.street_lookup}__in": list(streets)})
        return self.filter(**{self.district_lookup: district_id})

    def for_street(self, street_id):
        if self.street_lookup is None:
            return self.none()
        return self.filter(
            Q(**{self.street_lookup: street_id}) | self.shared_with_street(street_id)
        )

    def shared_with_street(self, street_id) -> Q:
        """Rows declared shared with every street of their district; none by default."""
        return Q(pk__in=[])

    def for_advisor(self, user):
        if self.station_lookup is None:
            return self.none()
        return self.filter(**{f"{self.station_lookup}__in": advisor_station_ids(user)})


def advisor_station_ids(user):
    """The ids of the stations an advisor login serves, as a subquery."""
    from stations.models import Station

    return Station.objects.filter(advisor_users=user).values("pk")


def scoped_get_or_404(queryset, user, **lookup):
    """The object matching `lookup` within the user's scope, else 404 (same as not existing)."""
    try:
        return queryset.visible_to(user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def ensure_still_visible(obj, user):
    """Refuse a write that left `obj` outside the user's scope.

    Called after the save, inside the write's transaction (a service's atomic block, or
    the request's with ATOMIC_REQUESTS): raising rolls the write back.
    """
    if not type(obj)._default_manager.visible_to(user).filter(pk=obj.pk).exists():
        raise PermissionDenied(_("保存的数据超出了您的管理范围,已撤销。"))


class ScopedQuerysetMixin:
    """For class-based views: the view's rows are the model's rows visible to the user."""

    model = None
    queryset = None

    def get_queryset(self):
        base = self.queryset if self.queryset is not None else self.model._default_manager.all()
        return base.visible_to(self.request.user)
