"""DRS error types as the wire sees them: HTTP status, ``x-amzn-ErrorType`` code and JSON body.

The body carries the members of the error's shape in the botocore model (``message``, ``code``,
``reason``/``fieldList``, ``resourceId``/``resourceType``, ``serviceCode``/``quotaCode``...); members
the model puts in headers (``Retry-After``) go into headers.
"""

from __future__ import annotations

from typing import Any


class DrsError(Exception):
    """An error answered to a DRS call."""

    code: str = "InternalServerException"
    status: int = 500

    def __init__(self, message: str, **members: Any) -> None:
        super().__init__(message)
        self.message = message
        self.members: dict[str, Any] = {k: v for k, v in members.items() if v is not None}
        self.headers: dict[str, str] = {}
        #: DRS jobs the error is about (for the simulator's call log), e.g. the job holding a busy server
        self.job_ids: list[str] = []

    def body(self) -> dict[str, Any]:
        """The JSON body: ``message`` plus the shape's other members (``code`` where the shape has one)."""
        from drs_simulator.service import error_body_members

        allowed = error_body_members(self.code)
        body: dict[str, Any] = {"message": self.message}
        if allowed is None:  # not a modelled DRS error (front-end errors): message only
            return body
        if "code" in allowed:
            body["code"] = self.code
        for key, value in self.members.items():
            if key in allowed:
                body[key] = value
        return body


class ValidationException(DrsError):
    code = "ValidationException"
    status = 400

    def __init__(
        self,
        message: str,
        reason: str = "fieldValidationFailed",
        field_list: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, fieldList=field_list or [])


class ConflictException(DrsError):
    code = "ConflictException"
    status = 409

    def __init__(self, message: str, resource_id: str | None = None, resource_type: str | None = None):
        super().__init__(message, resourceId=resource_id, resourceType=resource_type)


class ResourceNotFoundException(DrsError):
    code = "ResourceNotFoundException"
    status = 404

    def __init__(self, message: str, resource_id: str | None = None, resource_type: str | None = None):
        super().__init__(message, resourceId=resource_id, resourceType=resource_type)


class ServiceQuotaExceededException(DrsError):
    code = "ServiceQuotaExceededException"
    status = 402  # as the model says (ServiceQuotaExceededException.error.httpStatusCode)

    def __init__(
        self,
        message: str,
        quota_code: str,
        resource_id: str | None = None,
        resource_type: str | None = None,
    ) -> None:
        super().__init__(
            message,
            serviceCode="drs",
            quotaCode=quota_code,
            resourceId=resource_id,
            resourceType=resource_type,
        )


class ThrottlingException(DrsError):
    code = "ThrottlingException"
    status = 429

    def __init__(self, message: str = "Rate exceeded", retry_after_seconds: int = 1) -> None:
        super().__init__(message, serviceCode="drs", quotaCode="api-request-rate")
        self.headers["Retry-After"] = str(retry_after_seconds)


class InternalServerException(DrsError):
    code = "InternalServerException"
    status = 500


class UninitializedAccountException(DrsError):
    """DRS has not been initialized in this account and region (InitializeService was never called)."""

    code = "UninitializedAccountException"
    status = 400


class AccessDeniedException(DrsError):
    code = "AccessDeniedException"
    status = 403


# --- errors from the AWS front end (not in the DRS model) ---------------------------------


class MissingAuthenticationTokenException(DrsError):
    """What AWS REST-JSON endpoints answer to a request with no SigV4 ``Authorization`` header."""

    code = "MissingAuthenticationTokenException"
    status = 403

    def __init__(self, message: str = "Missing Authentication Token") -> None:
        super().__init__(message)


class IncompleteSignatureException(DrsError):
    """An ``Authorization`` header that is not a SigV4 one with a credential scope."""

    code = "IncompleteSignatureException"
    status = 403


class ServiceUnavailable(DrsError):
    """What the AWS front end answers when the service behind it is unavailable (a common AWS error)."""

    code = "ServiceUnavailable"
    status = 503

    def __init__(
        self, message: str = "The request has failed due to a temporary failure of the server."
    ) -> None:
        super().__init__(message)


class UnknownOperationException(DrsError):
    """No DRS operation has this method and path."""

    code = "UnknownOperationException"
    status = 404


class NotImplementedOperation(DrsError):
    """A real DRS operation that the simulator does not implement."""

    code = "NotImplementedException"
    status = 501
