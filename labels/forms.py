"""Forms of the label screens: which stock, where to start on a half-used sheet."""

from django import forms
from django.utils.translation import gettext_lazy as _

from inventory.web.forms import CleanTextMixin
from labels import stock
from labels.formats import all_formats, get_format


def format_choices():
    choices = []
    for name, fmt in all_formats().items():
        if fmt.is_sheet:
            description = _("%(name)s — A4 sheet, %(count)s labels of %(w)s × %(h)s mm") % {
                "name": name,
                "count": fmt.per_page,
                "w": fmt.label_w_mm,
                "h": fmt.label_h_mm,
            }
        else:
            description = _("%(name)s — printer roll, %(w)s × %(h)s mm, %(dpi)s dpi") % {
                "name": name,
                "w": fmt.label_w_mm,
                "h": fmt.label_h_mm,
                "dpi": fmt.dpi,
            }
        choices.append((name, description))
    return choices


class LabelStockForm(CleanTextMixin, forms.Form):
    label_format = forms.ChoiceField(label=_("Label stock"), choices=format_choices)
    start = forms.IntegerField(
        label=_("First free position on the sheet"),
        min_value=stock.START_MIN,
        initial=stock.START_MIN,
        help_text=_("1 is the top-left label, counted across then down: use up a half-used sheet."),
    )
    output = forms.ChoiceField(
        label=_("File"),
        choices=[("pdf", _("PDF, for any printer")), ("zpl", _("ZPL, for a Zebra printer"))],
        initial="pdf",
        widget=forms.RadioSelect,
    )

    def clean(self):
        data = super().clean()
        name = data.get("label_format")
        if not name:
            return data
        fmt = get_format(name)
        data["fmt"] = fmt
        start = data.get("start") or stock.START_MIN
        if not stock.start_allowed(fmt, start):
            self.add_error(
                "start",
                _("This stock has %(count)s positions per page.") % {"count": stock.start_max(fmt)},
            )
        if data.get("output") == "zpl" and not fmt.supports_zpl:
            self.add_error("output", _("ZPL is for Zebra label stock only."))
        return data


class PreprintForm(LabelStockForm):
    quantity = forms.IntegerField(
        label=_("How many"),
        min_value=1,
        max_value=stock.MAX_PREPRINT_SHEETS,
        initial=1,
        help_text=_("Sheets for A4 stock; labels ×50 for printer rolls (at most 20)."),
    )

    def count(self) -> int:
        return stock.codes_for_quantity(self.cleaned_data["fmt"], self.cleaned_data["quantity"])
