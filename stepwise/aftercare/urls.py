from django.urls import URLPattern

app_name = "aftercare"
urlpatterns: list[URLPattern] = []
