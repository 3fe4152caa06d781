from django.urls import path

from stepwise.instruments import placement_views, views

app_name = "instruments"
urlpatterns = [
    path("<uuid:public_id>/assessments/", views.assessments_index, name="index"),
    path("<uuid:public_id>/assessments/new/<slug:code>/", views.assessment_new, name="new"),
    path(
        "<uuid:public_id>/assessments/new/<slug:code>/score/",
        views.assessment_score,
        name="score",
    ),
    path(
        "<uuid:public_id>/assessments/<uuid:assessment_id>/",
        views.assessment_detail,
        name="detail",
    ),
    path(
        "<uuid:public_id>/assessments/<uuid:assessment_id>/entered-in-error/",
        views.assessment_error,
        name="error",
    ),
    path(
        "<uuid:public_id>/assessments/<uuid:assessment_id>/placement/",
        placement_views.placement_page,
        name="placement",
    ),
    path("<uuid:public_id>/assessments/trend/<slug:code>/", views.trend, name="trend"),
]
