"""What a scan refusal says, by its code: shared by the scan services, the registration of a
pre-printed label and every other path that reads a scanned code."""

from django.utils.translation import gettext_lazy as _

SCAN_MESSAGES = {
    "code_empty": _("Nothing was read."),
    "code_length": _("A label code has 9 characters."),
    "code_alphabet": _("This text holds characters that no label code uses."),
    "code_check": _("Wrong check character: the code was misread or mistyped. Scan it again."),
    "code_foreign_url": _("This QR code is not a label of this network."),
    "code_unknown": _("No device has this code."),
    "code_unassigned": _("This label is not on a device yet: register the device to bind it."),
}
