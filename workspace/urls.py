from django.urls import path

from workspace import intake_review, questionnaires, summary, views

app_name = "clients"

urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/phases/start/", views.phase_start, name="phase_start"),
    path("<int:pk>/phases/end/", views.phase_end, name="phase_end"),
    path("<int:pk>/fhir.json", views.fhir_export, name="fhir"),
    path("<int:pk>/intake/<int:intake_id>/review/", intake_review.review, name="intake_review"),
    path("<int:pk>/intake/request/", intake_review.request_update, name="intake_request"),
    path("<int:pk>/relapse/not-a-relapse/", intake_review.not_a_relapse, name="relapse_dismiss"),
    path("<int:pk>/summary/", summary.summary_page, name="summary"),
    path("<int:pk>/summary.pdf", summary.summary_pdf, name="summary_pdf"),
    path("<int:pk>/questionnaires/", questionnaires.questionnaire_choose, name="questionnaire_choose"),
    path("<int:pk>/questionnaires/<slug:code>/start/", questionnaires.questionnaire_begin, name="questionnaire_begin"),
    path(
        "<int:pk>/questionnaires/<int:response_pk>/<int:number>/",
        questionnaires.questionnaire_item,
        name="questionnaire_item",
    ),
    path(
        "<int:pk>/questionnaires/<int:response_pk>/review/",
        questionnaires.questionnaire_review,
        name="questionnaire_review",
    ),
    path(
        "<int:pk>/questionnaires/<int:response_pk>/done/", questionnaires.questionnaire_done, name="questionnaire_done"
    ),
    path(
        "<int:pk>/questionnaires/<int:response_pk>/",
        questionnaires.questionnaire_detail,
        name="questionnaire_detail",
    ),
    path(
        "<int:pk>/questionnaires/<int:response_pk>/correct/",
        questionnaires.questionnaire_correct,
        name="questionnaire_amend",
    ),
]
