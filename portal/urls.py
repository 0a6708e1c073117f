from django.urls import path

from portal import intake, questionnaires, summary, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("today/", views.self_report, name="self_report"),
    path("today/symptom/", views.self_report_symptom, name="self_report_symptom"),
    path("trends/", views.trends, name="trends"),
    path("questionnaires/", questionnaires.questionnaires, name="questionnaires"),
    path("questionnaires/<slug:code>/start/", questionnaires.questionnaire_begin, name="questionnaire_begin"),
    path("questionnaires/<int:pk>/<int:number>/", questionnaires.questionnaire_item, name="questionnaire_item"),
    path("questionnaires/<int:pk>/review/", questionnaires.questionnaire_review, name="questionnaire_review"),
    path("questionnaires/<int:pk>/done/", questionnaires.questionnaire_done, name="questionnaire_done"),
    path("intake/", intake.overview, name="intake"),
    path("intake/start/", intake.start, name="intake_start"),
    path("intake/step/<slug:slug>/", intake.step, name="intake_step"),
    path("intake/review/", intake.review, name="intake_review"),
    path("intake/consent/", intake.consent, name="intake_consent"),
    path("intake/consent/<int:pk>/withdraw/", intake.withdraw, name="intake_withdraw"),
    path("export/", views.export, name="export"),
    path("export/my-record.zip", views.export_zip, name="export_zip"),
    # Ahead of export/<filename>, which would otherwise take fhir.json for one of its files.
    path("export/fhir.json", views.export_fhir, name="export_fhir"),
    path("summary/", summary.portal_summary, name="summary"),
    path("summary.pdf", summary.portal_summary_pdf, name="summary_pdf"),
    path("export/<str:filename>", views.export_file, name="export_file"),
    path("invite/<int:client_id>/", views.invite, name="invite"),
    path("welcome/<uidb64>/<token>/", views.accept, name="accept"),
]
