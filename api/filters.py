"""Query-string filters of the API's lists; django-filter documents them in the schema."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend

from inventory.models import Device, Organisation
from inventory.selectors import device_search_filter
from inventory.states import OrgKind, Status

ID_MAX = 2**63 - 1  # beyond it SQLite overflows instead of finding nothing


class KeptFilterBackend(DjangoFilterBackend):
    """django-filter's backend, which also leaves the filter set it validated on the view
    (`view.filterset`), for a view that reads the filters' values again (DeviceViewSet's total
    from the device counters) without validating them a second time."""

    def get_filterset(self, request, queryset, view):
        view.filterset = super().get_filterset(request, queryset, view)
        return view.filterset


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField  # an id: "1.5" is refused, not rounded


class TypedFilterSet(django_filters.FilterSet):
    """A filter whose schema type is a number or an enum, given empty, is refused (400) rather
    than ignored: `?status=` is no status, as the schema says."""

    non_empty: tuple[str, ...] = ()

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name in self.non_empty:
            if name in self.data and not str(self.data.get(name, "")).strip():
                self.form.add_error(name, _("Give a value or leave the parameter out."))
                valid = False
        return valid


class DeviceFilter(TypedFilterSet):
    non_empty = ("status", "custodian")

    status = django_filters.ChoiceFilter(choices=Status.choices)
    category = django_filters.CharFilter(
        field_name="category_id", max_length=30, help_text="Category code, e.g. laptop."
    )
    custodian = IntegerFilter(
        field_name="custodian_id",
        min_value=1,
        max_value=ID_MAX,
        help_text="Id of the organisation that has custody.",
    )
    q = django_filters.CharFilter(
        method="search",
        max_length=200,
        help_text="Label code, serial number, IMEI (4 digits or more), asset tag or model.",
    )

    class Meta:
        model = Device
        fields = ["status", "category", "custodian", "q"]

    def search(self, queryset, name, value):
        return queryset.filter(device_search_filter(value)) if value.strip() else queryset


class OrganisationFilter(TypedFilterSet):
    non_empty = ("kind",)

    kind = django_filters.ChoiceFilter(choices=OrgKind.choices)

    class Meta:
        model = Organisation
        fields = ["kind"]
