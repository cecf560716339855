"""Scanning on the API: one scan, or a batch uploaded by a handheld scanner (each scan reported,
replayed by its client id)."""

import uuid

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.serializers.scanning import (
    BatchScanReplySerializer,
    BatchScanSerializer,
    ScanReplySerializer,
    ScanSerializer,
)
from api.views.common import ApiMixin, errors
from inventory import selectors, services
from inventory.models import ScanResult
from inventory.scanning import services as scan_services


def _scan_detail(outcome) -> str:
    return outcome.message or str(ScanResult(outcome.result).label)


@extend_schema_view(
    create=extend_schema(
        summary="Scan a label",
        description="Resolves scanned or typed text (a label URL of this site or a bare code, "
        "any case, with or without separators) to a device in your scope, and records the "
        "scan. Text that gives no device is a result, not an HTTP error: it answers 200 with "
        "`result` invalid (not one of our codes: `code` says why, e.g. code_check for a "
        "misread check character), unknown (no device of yours has this code; another "
        "organisation's device reads the same) or unassigned (a pre-printed label not yet on "
        "a device). Send a `client_id` to make retries safe: the same id replays the first "
        "record (`replayed: true`) instead of recording a second scan.",
        request=ScanSerializer,
        responses={200: ScanReplySerializer, **errors(400, 413)},
    ),
    batch=extend_schema(
        summary="Upload a batch of scans with one move",
        description="Applies `action` to the device of each scan, in order, and reports each "
        "item's result: applied, already_done, refused (with the lifecycle's `code`, e.g. "
        "transition_not_allowed), invalid, unknown or unassigned. Every scan is recorded. "
        "Each `client_id` is yours for good: an item whose id was recorded before is not "
        "applied again but reports its first result with `replayed: true`, so uploading the "
        "same batch again (after a timeout, twice at once) applies nothing twice. Each item "
        "is applied in its own transaction: an upload cut off half-way keeps what it applied, "
        "and uploading it again completes it. A body that is not valid (a missing or repeated "
        "`client_id`, more than 500 scans, an unknown action, no such target) answers 400 and "
        "records nothing; so does a move refused for the whole batch: 400 `target_required`, "
        "`target_wrong_kind`, 409 `target_inactive`, 403 `action_forbidden` when your role "
        "does not make this move.",
        request=BatchScanSerializer,
        responses={200: BatchScanReplySerializer, **errors(400, 403, 409, 413)},
    ),
)
class ScanViewSet(ApiMixin, viewsets.ViewSet):
    def create(self, request):
        data = ScanSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        scan = data.validated_data
        outcome = scan_services.device_scan(
            actor=request.user,
            raw=scan["raw"],
            client_id=scan.get("client_id", ""),
            client_time=scan.get("scanned_at"),
        )
        device = outcome.device
        if outcome.replayed and device is not None:
            # A replayed record names the device scanned then: show it only as it is now, and
            # only if it is still in the user's scope.
            device = selectors.visible_device(request.user, pk=device.pk)
        body = {
            "result": outcome.result,
            "code": outcome.error_code or None,
            "detail": _scan_detail(outcome),
            "replayed": outcome.replayed,
            "device": device,
        }
        return Response(ScanReplySerializer(body, context={"request": request}).data)

    @action(detail=False, methods=["post"])
    def batch(self, request):
        data = BatchScanSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data
        batch = upload.get("batch") or str(uuid.uuid4())
        services.scan_move_check(
            actor=request.user, action=upload["action"], target=upload.get("target")
        )
        results = []
        for scan in upload["scans"]:
            outcome = scan_services.scan_apply(
                actor=request.user,
                raw=scan["raw"],
                action=upload["action"],
                target=upload.get("target"),
                note=upload.get("note", ""),
                client_id=scan["client_id"],
                client_time=scan.get("scanned_at"),
                batch=batch,
            )
            results.append(
                {
                    "client_id": scan["client_id"],
                    "result": outcome.result,
                    "code": outcome.error_code or None,
                    "detail": _scan_detail(outcome),
                    "device_id": outcome.event.device_id,
                    "replayed": outcome.replayed,
                }
            )
        summary = dict.fromkeys(ScanResult.values, 0)
        for result in results:
            summary[result["result"]] += 1
        body = {"batch": batch, "results": results, "summary": summary}
        return Response(BatchScanReplySerializer(body).data)
