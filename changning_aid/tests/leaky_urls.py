"""The project's URLs plus views that forget scoping: the scope-leak test's self-check."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import path

from changning_aid.urls import urlpatterns as project_urlpatterns
from stations.models import Station


def leaky_station_names(request):
    """Lists every station, forgetting `visible_to`."""
    return HttpResponse(", ".join(Station.objects.values_list("name", flat=True)))


def leaky_station_detail(request, pk):
    """Opens any station by id, forgetting `visible_to`."""
    return HttpResponse(Station.objects.get(pk=pk).name)


@login_not_required
def leaky_public_names(request):
    """Open without login, but never declared public."""
    return HttpResponse("")


urlpatterns = [
    *project_urlpatterns,
    path("leaky/stations/", leaky_station_names, name="leaky_station_names"),
    path("leaky/stations/<int:pk>/", leaky_station_detail, name="leaky_station_detail"),
    path("leaky/public/", leaky_public_names, name="leaky_public_names"),
]
