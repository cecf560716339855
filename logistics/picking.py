"""The devices a batch asks for (a shipment, a WEEE disposal): ids ticked in a list or label
codes scanned, resolved to the rows the user may see and locked, with a problem named for each
request that designates no such device."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from inventory.codes import InvalidCode, code_from_scan, group_label_code
from inventory.models import Device
from inventory.scanning.messages import SCAN_MESSAGES
from inventory.selectors import devices_visible_to


@dataclass(frozen=True)
class DeviceProblem:
    """Why one requested device cannot travel: `device` is the label code as the user knows it
    (grouped) or the text they typed when it names no device."""

    device: str
    code: str
    message: str


def problems_text(problems: Iterable[DeviceProblem]) -> str:
    """The problems as sentences, each naming its device: "ABC-DEF-GHJ: it already left."."""
    sentences = []
    for problem in problems:
        sentence = str(
            _("%(device)s: %(message)s") % {"device": problem.device, "message": problem.message}
        )
        sentences.append(sentence if sentence.endswith((".", "!", "?")) else sentence + ".")
    return " ".join(sentences)


def device_problem(device: Device, code: str, message) -> DeviceProblem:
    return DeviceProblem(group_label_code(device.label_code_id), code, str(message))


def requested_split(devices: Iterable) -> tuple[list[int], list[str], list[DeviceProblem]]:
    """Split the request into device ids and label codes, and the lines that are no code."""
    ids: list[int] = []
    codes: list[str] = []
    problems: list[DeviceProblem] = []
    for value in devices:
        if isinstance(value, int | Device):
            ids.append(value.pk if isinstance(value, Device) else value)
            continue
        text = str(value).strip()
        if not text:
            continue
        try:
            codes.append(code_from_scan(text, settings.SITE_URL))
        except InvalidCode as exc:
            problems.append(
                DeviceProblem(
                    text[:40],
                    f"code_{exc.reason}",
                    str(SCAN_MESSAGES.get(f"code_{exc.reason}", _("This code is not valid."))),
                )
            )
    return ids, list(dict.fromkeys(codes)), problems


def requested_lock(
    actor, ids: list[int], codes: list[str]
) -> tuple[list[Device], list[DeviceProblem]]:
    """Inside the caller's transaction: the requested devices the actor may see, row-locked in
    primary-key order (two batches sharing devices wait for each other instead of
    deadlocking; the later one then sees what the first did), and the requests naming none."""
    visible = devices_visible_to(actor)
    by_code = dict(visible.filter(label_code_id__in=codes).values_list("label_code_id", "pk"))
    problems = [
        DeviceProblem(group_label_code(code), "not_found", str(SCAN_MESSAGES["code_unknown"]))
        for code in codes
        if code not in by_code
    ]
    wanted = set(ids) | set(by_code.values())
    locked = list(visible.select_for_update().filter(pk__in=wanted).order_by("pk"))
    found = {device.pk for device in locked}
    problems += [
        DeviceProblem(str(pk), "not_found", str(_("No such device.")))
        for pk in sorted(set(ids) - found)
    ]
    return locked, problems


def ids_of(values) -> list[int] | None:
    """Ids sent as a list (a form's repeated field, a JSON array), sorted and once each; None
    when it is no list of whole numbers (a string, a mapping, a boolean, a number alone)."""
    if isinstance(values, (str, bytes, dict)):
        return None
    try:
        items = list(values)
    except TypeError:
        return None
    ids = []
    for value in items:
        if isinstance(value, bool):
            return None
        try:
            ids.append(int(value))
        except (TypeError, ValueError, OverflowError):
            return None
    return sorted(set(ids))
