"""Render registered devices' labels to a file: PDF for any format, ZPL for Zebra formats.

Every code is checked (check symbol, then existence) before anything is rendered, and the
file is written only once the whole document is ready, so an error leaves no file behind.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from inventory.codes import InvalidCode, group_label_code, normalize_label_code
from inventory.models import Device
from labels import stock
from labels.formats import UnknownFormat, format_names, get_format
from labels.render import item_from_device, render_pdf
from labels.zpl import render_zpl

_REASONS = {
    "length": gettext_lazy("a label code has 9 symbols"),
    "alphabet": gettext_lazy("a label code uses digits and the letters A-Z without I, L, O, U"),
    "check": gettext_lazy("the check symbol does not match: a symbol was misread or mistyped"),
}


class Command(BaseCommand):
    help = "Render the labels of registered devices to a PDF file, or ZPL for Zebra printers."

    def add_arguments(self, parser):
        parser.add_argument("codes", nargs="*", help="label codes, in any case, with or without -")
        parser.add_argument(
            "--format", required=True, help=f"label stock: {', '.join(format_names())}"
        )
        parser.add_argument("--output", required=True, help="file to write (.pdf or .zpl)")
        parser.add_argument(
            "--start",
            type=int,
            default=stock.START_MIN,
            help="sheets: first free position on the first sheet, 1 = top left, counted "
            "across then down (to use up a half-used sheet)",
        )
        parser.add_argument(
            "--zpl", action="store_true", help="write ZPL (Zebra formats); implied by .zpl"
        )

    def handle(self, *args, **options):
        codes = options["codes"]
        try:
            fmt = get_format(options["format"])
        except UnknownFormat as error:
            raise CommandError(str(error)) from None
        if not codes:
            raise CommandError(_("Give at least one label code."))
        wanted = [self._normalize(raw) for raw in codes]
        output = Path(options["output"])
        as_zpl = options["zpl"] or output.suffix.lower() == ".zpl"
        if as_zpl and not fmt.supports_zpl:
            raise CommandError(_("%(format)s is not a Zebra (ZPL) format.") % {"format": fmt.name})
        start = options["start"]
        if not stock.start_allowed(fmt, start):
            raise CommandError(
                _("--start must be between 1 and %(count)d for %(format)s.")
                % {"count": stock.start_max(fmt), "format": fmt.name}
            )

        devices = {
            device.label_code_id: device
            for device in Device.objects.select_related("category").filter(
                label_code_id__in=set(wanted)
            )
        }
        unknown = [group_label_code(code) for code in dict.fromkeys(wanted) if code not in devices]
        if unknown:
            raise CommandError(
                ngettext(
                    "No device carries the label code %(codes)s.",
                    "No device carries these label codes: %(codes)s.",
                    len(unknown),
                )
                % {"codes": ", ".join(unknown)}
            )
        items = [item_from_device(devices[code]) for code in wanted]
        options = {"site_url": settings.SITE_URL, "network_name": settings.NETWORK_NAME}
        if as_zpl:
            document = render_zpl(items, fmt, **options).encode()
        else:
            document = render_pdf(items, fmt, start_position=start - stock.START_MIN, **options)
        output.write_bytes(document)
        self.stdout.write(
            ngettext(
                "%(count)d label in %(format)s written to %(output)s",
                "%(count)d labels in %(format)s written to %(output)s",
                len(items),
            )
            % {"count": len(items), "format": fmt.name, "output": output}
        )

    def _normalize(self, raw: str) -> str:
        try:
            return normalize_label_code(raw)
        except InvalidCode as error:
            reason = _REASONS.get(error.reason, error.reason)
            raise CommandError(
                _("Invalid label code %(raw)r: %(reason)s.") % {"raw": raw, "reason": reason}
            ) from None
