from django.http import HttpResponse


def overview(request):
    return HttpResponse("TODO")


street_detail = station_detail = station_edit = my_stations = overview
