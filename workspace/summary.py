"""The therapist's one-page summary of a client for the neurologist (HTML and PDF); the content is portal.summary's.

The client is fetched as every record page fetches it (``client_for_user``: 404, audited, for a client the
therapist does not care for); opening the page is a read and downloading the PDF an export in the audit trail.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from clients.selectors import client_for_user
from portal.summary import client_summary, pdf_response, summary_filename
from practice import audit
from practice.access import clinician_required


@clinician_required
@require_GET
def summary_page(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_for_user(request, pk)
    summary = client_summary(client)
    audit.record(request, audit.READ, object_type="summary", object_id=client.pk, client_id=client.pk)
    context = {
        "summary": summary,
        "pdf_href": reverse("clients:summary_pdf", args=[client.pk]),
        "audience": "clinician",
    }
    return render(request, "summary/page.html", context)


@clinician_required
@require_GET
def summary_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_for_user(request, pk)
    summary = client_summary(client)
    response = pdf_response(summary, summary_filename(client, summary.today))
    audit.record(request, audit.EXPORT, object_type="summary_pdf", object_id=client.pk, client_id=client.pk)
    return response
