from django.urls import path

from onaboard.web.clinic import views

app_name = "clinic"
urlpatterns = [
    path("", views.home, name="home"),
    path("worklist/", views.worklist, name="worklist"),
]
