"""A matching run in words: the constraints a proposed device meets, the terms of its cost and
why a need line was left unserved, for the coordination that reviews the run (the web page and
the API say the same). It reads what the run stored (lines, terms, weights) and writes nothing."""

from django.template.defaultfilters import floatformat
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from logistics.models import OsFamily

TERM_LABELS = {
    "distance": _("Distance"),
    "slack": _("Spec slack"),
    "waiting": _("Waiting"),
    "priority": _("Priority"),
}
SLACK_PARTS = {
    "slack_ram": _("RAM"),
    "slack_storage": _("storage"),
    "slack_screen": _("screen"),
    "slack_grade": _("grade"),
}
REASON_LABELS = {
    "out_of_scope": _("Outside the run's scope"),
    "no_stock": _("No device of this category in stock"),
    "spec_above_stock": _("No device in stock meets the line's requirements"),
    "fairness_cap": _("Fair share reached: the stock went to other structures"),
    "taken_by_others": _("The suitable devices went to other lines"),
}
CONSTRAINT_LABELS = {
    "category": _("category"),
    "ram": _("RAM"),
    "storage": _("storage"),
    "screen": _("screen"),
    "os": _("operating system"),
    "grade": _("grade"),
}
# Weights' names as the policy form and the run's page show them.
WEIGHT_LABELS = {
    "ram_per_gb": _("Spec slack: points per GB of RAM beyond the need"),
    "storage_per_32gb": _("Spec slack: points per 32 GB of storage beyond the need"),
    "screen_per_inch": _("Spec slack: points per inch of screen beyond the need"),
    "grade_per_step": _("Spec slack: points per grade better than the need"),
    "distance_same_territory": _("Distance: device in the structure's territory"),
    "distance_same_side": _("Distance: device on the same side of the département"),
    "distance_other_side": _("Distance: device on the other side of the département"),
    "distance_unknown": _("Distance: a territory is unknown"),
    "waiting_per_day": _("Waiting: points per day a need has not yet waited"),
    "waiting_cap_days": _("Waiting: days after which a need counts no more"),
    "structure_fairness": _("Share the stock fairly between structures"),
    "territory_tolerance_percent": _("Territories may exceed their share by (%)"),
    "public_bonus": _("Bonus per public served"),
    "structure_type_bonus": _("Bonus per structure type"),
    "purpose_bonus": _("Bonus per purpose"),
}


def met_texts(met, need_line) -> list[str]:
    """What the device meets, in words, with the line's own minimums."""
    texts = []
    for code in met:
        if code == "category":
            texts.append(_("Category: %(category)s") % {"category": need_line.category.name})
        elif code == "ram":
            texts.append(_("RAM: %(ram)s GB or more") % {"ram": need_line.min_ram_gb})
        elif code == "storage":
            texts.append(
                _("Storage: %(storage)s GB or more") % {"storage": need_line.min_storage_gb}
            )
        elif code == "screen":
            texts.append(
                _("Screen: %(screen)s inches or more")
                % {"screen": floatformat(need_line.min_screen_inches, -1)}
            )
        elif code == "os":
            texts.append(_("System: %(os)s") % {"os": OsFamily(need_line.os_family).label})
        elif code == "grade":
            texts.append(_("Grade %(grade)s or better") % {"grade": need_line.min_grade})
        elif code == "same_territory":
            texts.append(str(_("Stocked in the structure's territory")))
        elif code == "same_side":
            texts.append(str(_("Stocked on the same side of the département")))
    return texts


def _distance_text(met, points: int, weights: dict) -> str:
    if "same_territory" in met:
        return str(_("In the structure's territory"))
    if "same_side" in met:
        return str(_("Same side of the département (north or south)"))
    if points == weights.get("distance_other_side") or "distance_unknown" not in weights:
        return str(_("Other side of the département"))
    return str(_("The device's or the structure's territory is unknown"))


def _slack_text(terms: dict) -> str:
    parts = [
        _("%(part)s %(points)s") % {"part": label, "points": terms[code]}
        for code, label in SLACK_PARTS.items()
        if terms.get(code)
    ]
    if not parts:
        return str(_("None: the device is as close to the need as the stock allows"))
    return _("More than the line needs: %(parts)s") % {"parts": ", ".join(parts)}


def cost_terms(terms: dict, met, weights: dict, waited_days: int) -> list[dict]:
    """The terms of a line's cost in words: distance, spec slack, waiting, priority; each
    {"term", "label", "points", "text"}. Lower costs are proposed first."""
    slack = sum(terms.get(code, 0) for code in SLACK_PARTS)
    distance = terms.get("distance", 0)
    waiting_text = ngettext(
        "Waited %(days)s day: the longer a need waits, the fewer points",
        "Waited %(days)s days: the longer a need waits, the fewer points",
        waited_days,
    ) % {"days": waited_days}
    priority = terms.get("priority", 0)
    if priority:
        priority_text = _("Fewer points with a bonus for its public, structure type or purpose")
    else:
        priority_text = _("The highest priority the bonuses give")
    return [
        {
            "term": "distance",
            "label": str(TERM_LABELS["distance"]),
            "points": distance,
            "text": _distance_text(met, distance, weights),
        },
        {
            "term": "slack",
            "label": str(TERM_LABELS["slack"]),
            "points": slack,
            "text": _slack_text(terms),
        },
        {
            "term": "waiting",
            "label": str(TERM_LABELS["waiting"]),
            "points": terms.get("waiting", 0),
            "text": waiting_text,
        },
        {
            "term": "priority",
            "label": str(TERM_LABELS["priority"]),
            "points": priority,
            "text": str(priority_text),
        },
    ]


def reason_text(reason: str, detail: dict) -> str:
    """Why a need line was left (partly) unserved, with the figures the optimiser gave."""
    detail = detail or {}
    if reason == "spec_above_stock":
        meeting = detail.get("devices_meeting") or {}
        counts = ", ".join(
            _("%(constraint)s %(count)s") % {"constraint": CONSTRAINT_LABELS[code], "count": n}
            for code, n in meeting.items()
            if code in CONSTRAINT_LABELS
        )
        total = detail.get("category_devices", 0)
        text = ngettext(
            "%(count)s device of the category is in stock, and none meets every requirement.",
            "%(count)s devices of the category are in stock, and none meets every requirement.",
            total,
        ) % {"count": total}
        if counts:
            text += " " + _("Devices meeting each one: %(counts)s.") % {"counts": counts}
        return text
    if reason == "fairness_cap":
        texts = []
        if "structure" in detail.get("limits", []):
            texts.append(
                _(
                    "The structure reached its fair share: %(cap)s of the %(demand)s units it "
                    "asks, while other structures had less."
                )
                % {"cap": detail.get("structure_cap"), "demand": detail.get("structure_demand")}
            )
        if "territory" in detail.get("limits", []):
            texts.append(
                _(
                    "Its territory reached its share: %(cap)s of the %(demand)s units its "
                    "structures ask."
                )
                % {"cap": detail.get("territory_cap"), "demand": detail.get("territory_demand")}
            )
        return " ".join(str(text) for text in texts) or str(REASON_LABELS[reason])
    if reason == "taken_by_others":
        count = detail.get("compatible_devices", 0)
        return ngettext(
            "%(count)s suitable device is in stock; other lines used it at a lower cost.",
            "%(count)s suitable devices are in stock; other lines used them at a lower cost.",
            count,
        ) % {"count": count}
    if reason == "no_stock":
        return str(_("The line waits for a run after devices of its category are ready."))
    if reason == "out_of_scope":
        return str(_("This run was limited to another territory or category."))
    return str(REASON_LABELS.get(reason, reason))


def reason_label(reason: str) -> str:
    return str(REASON_LABELS.get(reason, reason))


def waited_days(run, need) -> int:
    """How long the need had waited when the run was made, as the matching counted it."""
    since = need.decided_at or need.created_at
    return max((run.created_at - since).days, 0)


def explain_run(run, grades: dict[int, str]) -> None:
    """Set the words on a run read by selectors.run_detail: on each of its `line_rows`
    `met_texts`, `waited_days`, `costs` and its device's `grade` (from `grades`, by device id);
    on each of its `unserved_rows` `reason_label`, `reason_text` and `waited_days`."""
    for line in run.line_rows:
        need_line = line.need_line
        line.device.grade = grades.get(line.device_id, "")
        line.met_texts = met_texts(line.met, need_line)
        line.waited_days = waited_days(run, need_line.need)
        line.costs = cost_terms(line.terms, line.met, run.weights, line.waited_days)
    for row in run.unserved_rows:
        row.reason_label = reason_label(row.reason)
        row.reason_text = reason_text(row.reason, row.detail)
        row.waited_days = waited_days(run, row.need_line.need)
