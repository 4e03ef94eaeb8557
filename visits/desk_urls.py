"""The advisor's desk (走访工作台), under /visits/desk/: the page, its live search and the
quick visit form's POST (no URL of these takes an object: the person is picked in the query
or form), and the 已核实 button of a 情况变化 (政策找人), used from the desk and the file."""

from django.urls import path

from visits import desk_views

urlpatterns = [
    path("", desk_views.desk, name="desk"),
    path("search/", desk_views.desk_search, name="desk_search"),
    path("record/", desk_views.desk_record, name="desk_record"),
    path("facts/<int:pk>/acknowledge/", desk_views.fact_acknowledge, name="fact_acknowledge"),
]
