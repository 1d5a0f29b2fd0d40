"""The sandbox's developer portal: the page where, as on developer.xero.com or developer.intuit.com, a
developer registers an app (and is shown its client id, secret and webhook key), creates organisations
to connect to, and checks the app's webhook URL and deliveries. Local use only, no login."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import URLValidator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from sandbox import clock, webhooks
from sandbox.choices import SandboxProviderChoices
from sandbox.models import SandboxApp, Tenant

WEBHOOK_FORMATS = [("legacy", "Legacy (eventNotifications)"), ("cloudevents", "CloudEvents")]


class AppRegistrationForm(forms.ModelForm):
    redirect_uris = forms.CharField(
        label="Redirect URIs",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line.",
    )
    # Local receivers are mostly plain http://127.0.0.1 URLs.
    webhook_url = forms.URLField(label="Webhook URL", required=False, max_length=500, assume_scheme="http")
    webhook_format = forms.ChoiceField(
        choices=WEBHOOK_FORMATS, initial="legacy", help_text="QuickBooks Online only."
    )

    class Meta:
        model = SandboxApp
        fields = ["provider", "name", "webhook_url"]

    def clean_redirect_uris(self) -> list[str]:
        uris = [line.strip() for line in self.cleaned_data["redirect_uris"].splitlines() if line.strip()]
        validate = URLValidator(schemes=["http", "https"])
        for uri in uris:
            validate(uri)
        return uris

    def save(self, commit: bool = True) -> SandboxApp:
        app: SandboxApp = super().save(commit=False)
        app.redirect_uris = self.cleaned_data["redirect_uris"]
        app.webhook_format = self.cleaned_data["webhook_format"]
        if commit:
            app.save()
        return app


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = ["provider", "name", "base_currency", "country", "short_code"]
        labels = {"name": "Organisation name"}

    def clean_base_currency(self) -> str:
        return str(self.cleaned_data["base_currency"]).upper()

    def clean_country(self) -> str:
        return str(self.cleaned_data["country"]).upper()


def _index(
    request: HttpRequest,
    app_form: AppRegistrationForm | None = None,
    organisation_form: OrganisationForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "apps": SandboxApp.objects.select_related("custom_connection_tenant").order_by("provider", "name"),
        "tenants": Tenant.objects.order_by("provider", "name"),
        "app_form": app_form or AppRegistrationForm(initial={"provider": SandboxProviderChoices.XERO}),
        "organisation_form": organisation_form or OrganisationForm(),
    }
    return render(request, "sandbox/portal/index.html", context, status=status)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    with clock.db_turn():
        return _index(request)


@require_POST
def app_create(request: HttpRequest) -> HttpResponse:
    form = AppRegistrationForm(request.POST)
    with clock.db_turn():
        if not form.is_valid():
            return _index(request, app_form=form, status=400)
        app = form.save()
    return HttpResponseRedirect(reverse("sandbox-portal-app", args=[app.client_id]) + "?created=1")


@require_POST
def organisation_create(request: HttpRequest) -> HttpResponse:
    form = OrganisationForm(request.POST)
    with clock.db_turn():
        if not form.is_valid():
            return _index(request, organisation_form=form, status=400)
        form.save()
    return HttpResponseRedirect(reverse("sandbox-portal") + "#organisations")


def _app_or_404(client_id: str) -> SandboxApp:
    app = SandboxApp.objects.filter(client_id=client_id).first()
    if app is None:
        raise Http404("No such app")
    return app


def _app_page(request: HttpRequest, app: SandboxApp, *, error: str = "", status: int = 200) -> HttpResponse:
    context = {
        "app": app,
        "created": request.GET.get("created") == "1",
        "error": error,
        "has_itr": webhooks.webhook_format_for(app).intent_to_receive is not None,
        "checks": list(app.webhook_itr_checks.order_by("-id")[:5]),
        "deliveries": list(app.webhook_deliveries.filter(kind=webhooks.EVENTS).order_by("-id")[:20]),
    }
    return render(request, "sandbox/portal/app.html", context, status=status)


@require_GET
def app_detail(request: HttpRequest, client_id: str) -> HttpResponse:
    with clock.db_turn():
        return _app_page(request, _app_or_404(client_id))


@require_POST
def app_intent_to_receive(request: HttpRequest, client_id: str) -> HttpResponse:
    with clock.db_turn():
        app = _app_or_404(client_id)
    try:
        webhooks.itr_check_run(app=app)
    except ValueError as exc:
        with clock.db_turn():
            return _app_page(request, app, error=str(exc), status=400)
    return HttpResponseRedirect(reverse("sandbox-portal-app", args=[app.client_id]) + "#webhooks")
