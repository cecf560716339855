"""Page-number pagination with a client-chosen page size, capped.

A page size that is not a whole number from 1 answers 400, as the schema says, instead of DRF's
silent fallback to the default; above the cap it is capped.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise ValidationError({self.page_size_query_param: [_("A whole number from 1.")]})
        return min(int(raw), self.max_page_size)

    def get_page_number(self, request, paginator):
        # DRF reads an empty ?page= as page 1; the schema says an integer.
        if request.query_params.get(self.page_query_param) == "":
            raise ValidationError({self.page_query_param: [_("A whole number from 1.")]})
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
        return parameters
