from django.urls import path

from stepwise.patients import views

app_name = "patients"
urlpatterns = [path("new/", views.patient_new, name="new")]
