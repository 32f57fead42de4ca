"""Preflight of what a plan names beyond DRS: its steps' functions and documents, its topic and bucket.

Lambda GetFunction for every function, SSM DescribeDocument for every document (of the type its
step kind runs), SNS GetTopicAttributes for ``notify``'s topic: read-only. ``report``'s bucket is
the one write: a probe object under the report prefix, removed at once
(:func:`~drs_provider.operators.report_store.probe`), since only a write shows that the report
can be stored. What each step names is declared with its kind
(:attr:`drs_provider.steps.registry.StepKind.needs`). A
missing resource of an ``optional`` step is a warning (the step will fail and the wave go on);
anything else missing is a problem that stops the run before it launches anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from drs_provider.hooks.lean_clients import lean_hook
from drs_provider.operators.report_store import (
    MISSING_BUCKET_CODES,
    PROBE_SUFFIX,
    aws_error,
    error_code,
    probe,
)
from drs_provider.recovery.report import s3_location
from drs_provider.steps.registry import LambdaFunction, find_step_kind

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

_MISSING_CODES = {
    "ResourceNotFoundException",
    "InvalidDocument",
    "InvalidDocumentVersion",
    "NotFound",
    "NotFoundException",
    "404",
}


class ResourceChecker:
    """Checks what a run will use beyond DRS, with one lookup per distinct function and document.

    :param aws: the hooks' arguments (``aws_conn_id``, ``region_name``, ``verify``, ``config``).
    """

    def __init__(self, aws: Mapping[str, Any]) -> None:
        self.aws = dict(aws)
        self._functions: dict[str, str | None] = {}
        self._documents: dict[str, tuple[str | None, str | None]] = {}

    def check(
        self,
        waves: Sequence[Mapping[str, Any]],
        chosen: Sequence[str],
        problems: list[str],
        warnings: list[str],
    ) -> None:
        for wave in waves:
            if wave["name"] not in chosen:
                continue
            for step in wave.get("steps") or ():
                problem = self._problem(step)
                if problem is None:
                    continue
                where = f"wave {wave['name']!r}: {step['phase']} step {step['name']!r} ({step['kind']})"
                if step.get("optional"):
                    warnings.append(f"{where}: {problem}; the optional step will fail and the wave go on")
                else:
                    problems.append(f"{where}: {problem}")

    def check_topic(self, topic_arn: str, problems: list[str]) -> None:
        """``notify``'s topic exists: a run that cannot tell anyone is found out now, not at the end."""
        problem = self._lookup(
            lambda: self._client("sns").get_topic_attributes(TopicArn=topic_arn),
            missing=f"notify.sns_topic_arn: SNS topic {topic_arn} does not exist",
        )
        if problem:
            problems.append(problem if problem.startswith("notify") else f"notify.sns_topic_arn: {problem}")

    def check_report(self, s3_uri: str, dag_id: str, run_id: str, problems: list[str]) -> None:
        """The run's report can be written where the plan keeps it, so its evidence has somewhere to go."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        bucket, key = s3_location(s3_uri, dag_id, run_id)
        error = probe(lean_hook(S3Hook)(**self.aws), bucket, key)
        if error is None:
            return
        if error_code(error) in MISSING_BUCKET_CODES:
            problems.append(f"report.s3_uri: S3 bucket {bucket} does not exist")
        else:
            problems.append(
                f"report.s3_uri: the run report cannot be written to S3 bucket {bucket} "
                f"(probe key {key}{PROBE_SUFFIX}): {aws_error(error)}"
            )

    def check_bucket(self, s3_uri: str, problems: list[str]) -> None:
        """``report``'s bucket exists, read only (HeadBucket): readiness changes nothing, so it
        cannot probe a write as preflight does."""
        bucket = s3_uri.removeprefix("s3://").partition("/")[0]
        problem = self._lookup(
            lambda: self._client("s3").head_bucket(Bucket=bucket),
            missing=f"report.s3_uri: S3 bucket {bucket} does not exist",
        )
        if problem:
            problems.append(problem if problem.startswith("report") else f"report.s3_uri: {problem}")

    def _problem(self, step: Mapping[str, Any]) -> str | None:
        kind = find_step_kind(str(step["kind"]))
        for need in kind.needs if kind is not None else ():
            if isinstance(need, LambdaFunction):
                problem = self._function_problem(str(step[need.key]))
            else:
                problem = self._document_problem(str(step[need.key]), need.document_type)
            if problem is not None:
                return problem
        return None

    def _function_problem(self, function: str) -> str | None:
        if function not in self._functions:
            self._functions[function] = self._lookup(
                lambda: self._lambda().get_function(FunctionName=function),
                missing=f"Lambda function {function!r} does not exist in {self._region()}",
            )
        return self._functions[function]

    def _document_problem(self, document: str, expected_type: str) -> str | None:
        if document not in self._documents:
            found: dict[str, Any] = {}

            def describe() -> None:
                found.update(self._ssm().describe_document(Name=document)["Document"])

            problem = self._lookup(
                describe, missing=f"SSM document {document!r} does not exist in {self._region()}"
            )
            self._documents[document] = (problem, found.get("DocumentType"))
        problem, document_type = self._documents[document]
        if problem is None and document_type and document_type != expected_type:
            return f"SSM document {document!r} is of type {document_type}, not {expected_type}"
        return problem

    @staticmethod
    def _lookup(call: Callable[[], Any], *, missing: str) -> str | None:
        try:
            call()
        except ClientError as error:
            if error_code(error) in _MISSING_CODES:
                return missing
            return f"cannot check it: {aws_error(error)}"
        except BotoCoreError as error:
            return f"cannot check it: {error}"
        return None

    def _region(self) -> str:
        return str(
            self.aws.get("region_name") or self._ssm_hook().conn_region_name or "the connection's region"
        )

    def _lambda(self) -> Any:
        from airflow.providers.amazon.aws.hooks.lambda_function import LambdaHook

        return lean_hook(LambdaHook)(**self.aws).conn

    def _ssm_hook(self) -> Any:
        from drs_provider.hooks.ssm import SsmRunbookHook

        return SsmRunbookHook(**self.aws)

    def _ssm(self) -> Any:
        return self._ssm_hook().conn

    def _client(self, service: str) -> Any:
        from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

        return lean_hook(AwsBaseHook)(client_type=service, **self.aws).conn
