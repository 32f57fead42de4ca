"""Load plan files: one file strictly, or a whole directory where a broken file hides nothing.

Messages name each file relative to the plans directory's parent
(``recovery_plans/shop.yaml``), the way a person finds it in the repository.

Rules for a directory:

* Every entry directly in it whose name ends in ``.yaml`` or ``.yml`` and does not start with
  a dot is a plan file. One that cannot be read as a plan (a directory, a FIFO, a broken or
  looping symbolic link, no permission, too large, not UTF-8) is an error naming it; it is
  never skipped in silence.
* A plan name belongs to one file only. When two or more files claim the same name, **no DAG
  is built for that name** and every one of those files gets an error naming the others. A
  file claims the name its ``plan:`` key gives even when the file is broken otherwise, so a
  new file can never take a plan's place, whatever its file name and whether or not the
  plan's own file is valid at the time.
"""

from __future__ import annotations

import errno
import gc
import os
import re
import stat
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, overload

from drs_provider.exceptions import PlanError, PlanIssue
from drs_provider.plans.validation import validate_document
from drs_provider.plans.yaml_source import parse_yaml

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    from drs_provider.plans.model import Plan
    from drs_provider.plans.yaml_source import Document

PLAN_FILE_SUFFIXES = (".yaml", ".yml")

#: Plan files are small (an example plan is under 1 KB, a plan at every cap of the rules about
#: 100 KB); a larger file is a mistake (a log or a dump saved by accident), and reading it
#: would only cost time inside the dag-processor's import timeout.
MAX_PLAN_FILE_BYTES = 256 * 1024

#: ``plan: <name>`` at the start of a line: the name a file claims when it is not valid YAML.
_PLAN_LINE = re.compile(r"""^plan[ \t]*:[ \t]*["']?([^\s"'#,{}\[\]]+)""", re.MULTILINE)

_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


@dataclass(frozen=True)
class PlanSet:
    """Every plan of a directory: the valid ones, and the issues of the rest by file."""

    #: valid plans, sorted by name
    plans: tuple[Plan, ...] = ()
    #: absolute file path -> that file's issues (a file appears only if it has issues)
    errors: Mapping[str, tuple[PlanIssue, ...]] = field(default_factory=lambda: MappingProxyType({}))
    #: absolute file path -> the plan name the file claims, valid or not (see the module docstring)
    claims: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def issues(self) -> tuple[PlanIssue, ...]:
        """Every issue of every file, in file order."""
        return tuple(issue for path in sorted(self.errors) for issue in self.errors[path])

    def plan(self, name: str) -> Plan:
        """The valid plan called ``name``; ``KeyError`` if there is none."""
        for plan in self.plans:
            if plan.name == name:
                return plan
        raise KeyError(name)


def display_name(path: str | Path, display_root: str | Path | None) -> str:
    """``path`` relative to ``display_root`` when it lies below it, else ``path`` as given."""
    if display_root is None:
        return str(path)
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(display_root)).as_posix()
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class _Loaded:
    """One file's outcome: its plan or its issues, and the plan name it claims either way."""

    path: str
    file: str
    claimed: str | None
    plan: Plan | None = None
    issues: tuple[PlanIssue, ...] = ()


def load_plan_file(path: str | Path, *, display_root: str | Path | None = None) -> Plan:
    """Load and validate one plan file.

    :param path: the YAML file
    :param display_root: messages name the file relative to this directory; default: the
        path as given
    :raises PlanError: with every issue in the file, each naming the file and a field path
    """
    loaded = _load(path, display_root)
    if loaded.plan is None:
        raise PlanError(loaded.issues)
    return loaded.plan


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while plan files are read.

    Reading allocates many small objects, and each automatic collection walks every object
    of the process: inside the dag-processor, all of Airflow. Paused, the hostile files of the
    tests load three times faster there. Plan values hold no reference cycles that must go
    at once; whatever a YAML alias loop leaves is collected once the collector runs again.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@overload
def _load(path: str | Path, display_root: str | Path | None) -> _Loaded: ...
@overload
def _load(path: str | Path, display_root: str | Path | None, only_name: str | None) -> _Loaded | None: ...
def _load(path: str | Path, display_root: str | Path | None, only_name: str | None = None) -> _Loaded | None:
    try:
        with _cyclic_gc_paused():
            return _load_unpaused(path, display_root, only_name)
    except BaseException as error:
        # Airflow's import timeout (or a bug) may strike here: the traceback it records as the
        # import error must say which plan file was being read.
        error.add_note(f"while reading the plan file {display_name(path, display_root)}")
        raise


def _load_unpaused(
    path: str | Path, display_root: str | Path | None, only_name: str | None
) -> _Loaded | None:
    """One file's outcome; None when ``only_name`` is given and the file cannot claim it."""
    file = display_name(path, display_root)
    absolute = os.path.abspath(path)
    try:
        text = _read(path, file)
    except PlanError as error:
        return None if only_name is not None else _Loaded(absolute, file, None, issues=error.issues)
    if only_name is not None and not _may_claim(text, only_name):
        return None
    document = parse_yaml(text)
    claimed = _claimed_name(document, text)
    try:
        plan = validate_document(document, file=file, source=absolute)
    except PlanError as error:
        return _Loaded(absolute, file, claimed, issues=error.issues)
    return _Loaded(absolute, file, claimed, plan=plan)


def _may_claim(text: str, name: str) -> bool:
    """Whether a file of this text can claim the plan ``name``, valid or not, without parsing it.

    YAML spells a scalar out (plain, quoted, block, or as an anchor an alias repeats) except
    through a double-quoted string's escapes, and every escape needs a backslash.
    """
    return name in text or "\\" in text


def _claimed_name(document: Document, text: str) -> str | None:
    """The plan name a file gives, valid or not; from its ``plan:`` line if it is not YAML."""
    if isinstance(document.value, dict):
        name = document.value.get("plan")
        return name if isinstance(name, str) else None
    if document.value is None and document.problems:
        found = _PLAN_LINE.search(text)
        return found[1] if found else None
    return None


def _read(path: str | Path, file: str) -> str:
    """The file's text; never blocks (a FIFO is refused, not opened for a writer to come)."""
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise PlanError([PlanIssue(file, "", _open_problem(path, error))]) from error
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            kind = next((name for test, name in _FILE_KINDS if test(status.st_mode)), "not a regular file")
            raise PlanError([PlanIssue(file, "", f"this is {kind}, not a plan file")])
        if status.st_size > MAX_PLAN_FILE_BYTES:
            raise PlanError([PlanIssue(file, "", _too_large(status.st_size))])
        data = _read_at_most(descriptor, MAX_PLAN_FILE_BYTES + 1)
    except OSError as error:
        raise PlanError([PlanIssue(file, "", f"cannot read the file: {error.strerror or error}")]) from error
    finally:
        os.close(descriptor)
    if len(data) > MAX_PLAN_FILE_BYTES:
        raise PlanError([PlanIssue(file, "", _too_large(None))])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PlanError(
            [PlanIssue(file, "", f"the file is not UTF-8 text (byte {error.start}): save it as UTF-8")]
        ) from error


def _read_at_most(descriptor: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(descriptor, limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _too_large(size: int | None) -> str:
    actual = f" ({size} bytes)" if size is not None else ""
    return f"the file is larger than {MAX_PLAN_FILE_BYTES} bytes{actual}; a plan file is far smaller"


def _open_problem(path: str | Path, error: OSError) -> str:
    reason = error.strerror or str(error)
    if os.path.islink(path):
        target = os.readlink(path)
        if error.errno == errno.ELOOP:
            return f"cannot read the file: it is a symbolic link in a loop (-> {target})"
        if error.errno == errno.ENOENT:
            return f"cannot read the file: it is a symbolic link to {target}, which does not exist"
    return f"cannot read the file: {reason}"


def plan_files(directory: str | Path) -> list[Path]:
    """The plan files directly in ``directory`` (``*.yaml``, ``*.yml``), sorted by name.

    Hidden files are skipped: editors keep their swap and lock files there. Every other entry
    with a plan suffix is listed, whatever it is: loading says why one is not a plan.

    :raises OSError: if the directory cannot be listed
    """
    with os.scandir(directory) as entries:
        names = [
            entry.name
            for entry in entries
            if entry.name.endswith(PLAN_FILE_SUFFIXES) and not entry.name.startswith(".")
        ]
    return [Path(directory) / name for name in sorted(names)]


def load_plans(
    directory: str | Path, *, display_root: str | Path | None = None, only_name: str | None = None
) -> PlanSet:
    """Load every plan file in ``directory``; never raises for bad plan files.

    Valid plans come back in :attr:`PlanSet.plans`; each broken file's issues in
    :attr:`PlanSet.errors`. A plan name claimed by several files builds no plan, and each of
    those files gets an error naming the others (see the module docstring). A missing
    directory is reported under its own path.

    :param display_root: messages name files relative to this directory; default: the
        directory's parent, so files read ``recovery_plans/shop.yaml``
    :param only_name: see :func:`collect_plans`
    """
    root = display_root if display_root is not None else Path(os.path.abspath(directory)).parent
    try:
        files = plan_files(directory)
    except OSError as error:
        issue = PlanIssue(str(directory), "", f"cannot read the plans directory: {error.strerror or error}")
        return PlanSet((), MappingProxyType({os.path.abspath(directory): (issue,)}))
    return collect_plans(files, display_root=root, only_name=only_name)


def collect_plans(
    files: Iterable[str | Path], *, display_root: str | Path | None = None, only_name: str | None = None
) -> PlanSet:
    """Load ``files`` as one set: each file alone, then each plan name claimed by one file only.

    :param only_name: load only the files that may claim this plan name (an Airflow worker running
        one plan's task needs no other): that plan comes back exactly as from the whole set, a
        rival claiming its name included, and the other files are neither parsed nor reported.
    """
    outcomes = (_load(path, display_root, only_name) for path in files)
    loaded = [outcome for outcome in outcomes if outcome is not None]
    claimants: dict[str, list[_Loaded]] = defaultdict(list)
    for outcome in loaded:
        if outcome.claimed is not None:
            claimants[outcome.claimed].append(outcome)
    plans: list[Plan] = []
    errors: dict[str, tuple[PlanIssue, ...]] = {}
    for outcome in loaded:
        rivals = [other.file for other in claimants.get(outcome.claimed or "", ()) if other is not outcome]
        issues = outcome.issues
        if rivals:
            issues = (*issues, _claimed_twice(outcome, rivals))
        if issues:
            errors[outcome.path] = issues
        elif outcome.plan is not None:
            plans.append(outcome.plan)
    claims = {outcome.path: outcome.claimed for outcome in loaded if outcome.claimed is not None}
    return PlanSet(
        tuple(sorted(plans, key=lambda plan: plan.name)), MappingProxyType(errors), MappingProxyType(claims)
    )


def _claimed_twice(outcome: _Loaded, rivals: Sequence[str]) -> PlanIssue:
    name = outcome.claimed
    others = ", ".join(rivals)
    message = (
        f"plan name {name!r} is also claimed by {others}: no DAG drs_plan_{name} is built "
        "until only one file claims it"
    )
    return PlanIssue(outcome.file, "plan", message)
