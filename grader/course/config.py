"""The course configuration, ``course.toml`` (SPEC section 6).

Read once with :mod:`tomllib` into frozen dataclasses and validated on load: a missing or unknown
key, or a value of the wrong type, is a :class:`ConfigError` naming the file, the dotted key and the
value received — a typo must never fall back silently to a default while grading a whole class.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..judge.catalog import LANGUAGES  # defined once, with the words of both languages
from ..judge.compare import Tolerance  # defined with the comparison, which the student bundle copies

__all__ = [
    "AssignmentConfig",
    "ConfigError",
    "CourseConfig",
    "FacesConfig",
    "KERNEL_PACKAGES",
    "LatePolicy",
    "Limits",
    "SimilarityPolicy",
    "Tolerance",
    "find_config",
    "load_config",
]

SEED_ENV = "GRADER_SEED"

# What the grading kernel offers whatever course.toml says: the dependencies of pyproject.toml that
# students' notebooks import (tests/test_config.py checks them against it). ``[kernel] packages``
# adds more; a student's ModuleNotFoundError of anything else is "not in the grading environment".
KERNEL_PACKAGES = ("numpy", "scipy", "pandas", "pillow", "matplotlib", "keras")  # keras: tensorflow(-cpu)


class ConfigError(ValueError):
    """``course.toml`` is invalid; the message names the file, the key and the value."""


@dataclass(frozen=True)
class Limits:
    """``[limits]``. ``cpus`` is the CPU quota of one kernel's cgroup in cores; None (the key left
    out) means a fair share, the machine's cores divided by the kernels graded at once (``--jobs``),
    worked out where the jobs are known (:func:`grader.run.sandbox.fair_cpus`). ``scratch_mb`` caps the
    kernel's scratch folder (and its private ``/tmp``); it must stay below ``memory_mb``, since the
    pages of a size-capped tmpfs count in the kernel's memory (left out: 1024, or half of
    ``memory_mb`` when that is less)."""

    cell_timeout: float = 120.0
    notebook_timeout: float = 900.0
    call_timeout: float = 20.0
    memory_mb: int = 4096
    cpu_time: float = 1800.0
    processes: int = 512
    output_kb: int = 1024
    cpus: float | None = None
    scratch_mb: int = 1024


@dataclass(frozen=True)
class FacesConfig:
    """Where the gender notebook's data lives; paths are absolute once loaded."""

    train_dir: Path
    heldout_dir: Path
    synthetic: bool = True
    accuracy_zero: float = 0.60
    accuracy_full: float = 0.85


@dataclass(frozen=True)
class LatePolicy:
    """``[late]``: what a notebook handed in after its assignment's ``due`` loses (README, "Late
    policy"). Every started ``per`` period (``"day"`` or ``"hour"``) after the due date and the grace
    period costs ``deduct``, in ``unit``: ``"percent"`` of the assignment's full marks (Canvas's late
    policy) or ``"points"``; ``cap`` bounds the total in the same unit (percent: at most 100, the
    default). ``grace_minutes`` moves the deadline: a hand-in that much after ``due`` is on time, and
    lateness is counted from the end of the grace period."""

    deduct: float
    per: Literal["day", "hour"] = "day"
    unit: Literal["percent", "points"] = "percent"
    cap: float | None = None
    grace_minutes: float = 0.0

    @property
    def period_seconds(self) -> int:
        return 86_400 if self.per == "day" else 3_600


@dataclass(frozen=True)
class SimilarityPolicy:
    """``[similarity]``: when the class-wide similarity pass (:mod:`grader.classroom.similarity`)
    flags a pair of submissions of one assignment for a person to look at. It never changes a score.
    ``code`` is the code score (shared winnowing fingerprints of the students' own code, the
    released template's subtracted) and ``shared_wrong`` the behaviour score (identical wrong answers
    on the same hidden cases, no declared mistake explaining them) at or above which a pair is
    flagged, each in [0, 1]; ``min_tokens`` is how long (in tokens) both students' own code must be
    before a code score alone may flag them: the course's idiomatic answers are short, and short
    answers written apart agree by necessity. ``common`` is how many submissions may hold a passage
    before it counts as the class's idiom rather than a signal (MOSS's ``-m``; 1 % of a class larger
    than a thousand): a group larger than this sharing one solution is not found by its code, and a
    class whose students write more alike than this raises false alarms (at most 100: the pass's
    cost grows with its square)."""

    code: float = 0.45
    shared_wrong: float = 0.5
    min_tokens: int = 40
    common: int = 10


@dataclass(frozen=True)
class AssignmentConfig:
    id: str
    title: str
    points: Mapping[str, float]
    cell_timeout: float | None = None
    notebook_timeout: float | None = None
    aliases: tuple[str, ...] = ()  # other names students give the notebook ("卷积作业"), for intake

    def names(self) -> tuple[str, ...]:
        """The names intake recognises this assignment by, beyond its id: the title, its Chinese
        and its other words apart ("卷积 Convolution" -> 卷积, Convolution), and the aliases."""
        parts = [self.title] if self.title != self.id else []
        parts += [p.strip() for p in re.split(r"([\u3400-\u9fff\uf900-\ufaff]+)", self.title) if p.strip()]
        return tuple(dict.fromkeys(p for p in (*parts, *self.aliases) if p and p != self.id))
    due: dt.datetime | None = None  # always with its UTC offset once loaded; None: no due date
    # Students' own due dates (an extension), by the grader's student key (results/KEY/).
    extensions: Mapping[str, dt.datetime] = dataclasses.field(default_factory=dict)

    def due_for(self, student: str) -> dt.datetime | None:
        """When ``student``'s notebook is due: their extension, else the assignment's due date."""
        return self.extensions.get(student, self.due)


@dataclass(frozen=True)
class CourseConfig:
    path: Path
    name: str
    language: str
    seed: int
    limits: Limits
    tolerance: Tolerance
    faces: FacesConfig
    assignments: Mapping[str, AssignmentConfig]
    show_hidden_inputs: bool = False
    kernel_packages: tuple[str, ...] = ()  # [kernel] packages: pip requirements installed beside the grader
    roster: Path | None = None  # [roster] file: the course roster CSV (grader.intake.roster), absolute
    late: LatePolicy | None = None  # [late]; None: lateness is shown, nothing is deducted
    timezone: dt.tzinfo | None = None  # [course] timezone: the clock of due dates written without an offset
    similarity: SimilarityPolicy = SimilarityPolicy()  # [similarity]: when a pair is flagged for a look

    def offered_packages(self) -> tuple[str, ...]:
        """The distributions a student's notebook may import: the grader's own, then the course's."""
        extra = tuple(_requirement_name(p) for p in self.kernel_packages)
        return KERNEL_PACKAGES + tuple(p for p in extra if p not in KERNEL_PACKAGES)

    @property
    def root(self) -> Path:
        """The course repository: the folder holding ``course.toml``."""
        return self.path.parent

    def limits_for(self, assignment: str) -> Limits:
        """The limits with the assignment's own timeouts (the gender notebook trains a model)."""
        own = self.assignments[assignment]
        changes = {
            name: value
            for name in ("cell_timeout", "notebook_timeout")
            if (value := getattr(own, name)) is not None
        }
        return dataclasses.replace(self.limits, **changes)


_TYPES: dict[type, tuple[type, ...]] = {float: (int, float), int: (int,), bool: (bool,), str: (str,)}


class _Reader:
    """Takes typed values out of one TOML table, remembering where it is for error messages."""

    def __init__(self, path: Path, table: Mapping[str, Any], where: str) -> None:
        self.path, self.table, self.where = path, table, where
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def fail(self, name: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: [{self.key(name)}] {problem}")

    def get(self, name: str, kind: type, default: Any = ...) -> Any:
        self.seen.add(name)
        if name not in self.table:
            if default is ...:
                raise self.fail(name, "is required but missing")
            return default
        value = self.table[name]
        if not isinstance(value, _TYPES[kind]) or (kind is not bool and isinstance(value, bool)):
            raise self.fail(name, f"must be {kind.__name__}, received {value!r}")
        return kind(value)

    def positive(self, name: str, kind: type, default: Any = ...) -> Any:
        value = self.get(name, kind, default)
        if value is not None and value <= 0:
            raise self.fail(name, f"must be > 0, received {value!r}")
        return value

    def sub(self, name: str, required: bool = True) -> _Reader:
        self.seen.add(name)
        table = self.table.get(name, {} if not required else None)
        if table is None:
            raise self.fail(name, "table is required but missing")
        if not isinstance(table, Mapping):
            raise self.fail(name, f"must be a table, received {table!r}")
        return _Reader(self.path, table, self.key(name))

    def done(self) -> None:
        unknown = sorted(set(self.table) - self.seen)
        if unknown:
            known = ", ".join(sorted(self.seen))
            raise self.fail(unknown[0], f"unknown key (known keys here: {known})")


def find_config(start: Path | None = None) -> Path:
    """The nearest ``course.toml`` in ``start`` (default: the working folder) or a parent."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "course.toml").is_file():
            return folder / "course.toml"
    raise ConfigError(f"no course.toml in {start} or any parent folder (pass --course PATH)")


def load_config(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> CourseConfig:
    """Read and validate ``course.toml``; ``GRADER_SEED`` in ``environ`` replaces the seed."""
    path = Path(path).resolve()
    environ = os.environ if environ is None else environ
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: course configuration not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None

    top = _Reader(path, raw, "")
    course = top.sub("course")
    name = course.get("name", str)
    language = course.get("language", str, "zh")
    if language not in LANGUAGES:
        raise course.fail("language", f"must be one of {LANGUAGES}, received {language!r}")
    seed = course.get("seed", int)
    if SEED_ENV in environ:
        try:
            seed = int(environ[SEED_ENV])
        except ValueError:
            raise ConfigError(f"{SEED_ENV}={environ[SEED_ENV]!r} is not an integer") from None
    show_hidden_inputs = course.get("show_hidden_inputs", bool, False)
    timezone = _read_timezone(course)
    course.done()

    config = CourseConfig(
        path=path,
        name=name,
        language=language,
        seed=seed,
        limits=_read_limits(top.sub("limits", required=False)),
        tolerance=_read_tolerance(top.sub("tolerance", required=False)),
        faces=_read_faces(top.sub("faces"), path.parent),
        assignments=_read_assignments(top.sub("assignments"), timezone),
        show_hidden_inputs=show_hidden_inputs,
        kernel_packages=_read_kernel(top.sub("kernel", required=False)),
        roster=_read_roster(top.sub("roster", required=False), path.parent),
        late=_read_late(top.sub("late", required=False)) if "late" in raw else None,
        timezone=timezone,
        similarity=_read_similarity(top.sub("similarity", required=False)),
    )
    top.done()
    return config


def _read_limits(table: _Reader) -> Limits:
    d = Limits()
    limits = Limits(
        cell_timeout=table.positive("cell_timeout", float, d.cell_timeout),
        notebook_timeout=table.positive("notebook_timeout", float, d.notebook_timeout),
        call_timeout=table.positive("call_timeout", float, d.call_timeout),
        memory_mb=table.positive("memory_mb", int, d.memory_mb),
        cpu_time=table.positive("cpu_time", float, d.cpu_time),
        processes=table.positive("processes", int, d.processes),
        output_kb=table.positive("output_kb", int, d.output_kb),
        cpus=table.positive("cpus", float, d.cpus),
        scratch_mb=table.positive("scratch_mb", int, None) or 0,
    )
    if limits.scratch_mb == 0:  # left out: the default, or half the memory when that is smaller
        limits = dataclasses.replace(limits, scratch_mb=min(d.scratch_mb, limits.memory_mb // 2))
    if limits.scratch_mb >= limits.memory_mb:
        raise table.fail("scratch_mb", f"must be below memory_mb ({limits.memory_mb}): the scratch folder's "
                                       f"files are kept in the kernel's memory, received {limits.scratch_mb}")
    table.done()
    return limits


_VERSION = r"[<>=!~]=?[^;,\s]+"
_REQUIREMENT = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?\s*({_VERSION}(\s*,\s*{_VERSION})*)?$")


def _requirement_name(requirement: str) -> str:
    """``opencv-python-headless>=4.8`` -> ``opencv-python-headless``."""
    return re.split(r"[\[<>=!~\s]", requirement, maxsplit=1)[0]


def _read_kernel(table: _Reader) -> tuple[str, ...]:
    """``[kernel] packages``: pip requirements (``"scikit-image>=0.22"``), no options, URLs or paths,
    since `grader packages --install` hands them to pip as they are."""
    table.seen.add("packages")
    packages = table.table.get("packages", [])
    if not isinstance(packages, list) or not all(isinstance(p, str) for p in packages):
        raise table.fail("packages", f"must be a list of pip requirements (strings), received {packages!r}")
    for requirement in packages:
        if not _REQUIREMENT.match(requirement.strip()):
            raise table.fail("packages", f"must hold pip requirements like \"scikit-image>=0.22\", "
                                         f"received {requirement!r}")
    table.done()
    return tuple(p.strip() for p in packages)


def _read_roster(table: _Reader, root: Path) -> Path | None:
    """``[roster] file``: the roster CSV, relative to the course folder; left out, no roster."""
    name = table.get("file", str, None)
    table.done()
    if name is not None and not name.strip():
        raise table.fail("file", "must name the roster CSV, received an empty string")
    return (root / name).resolve() if name is not None else None


def _read_tolerance(table: _Reader) -> Tolerance:
    d = Tolerance()
    tolerance = Tolerance(rtol=table.get("rtol", float, d.rtol), atol=table.get("atol", float, d.atol))
    for name in ("rtol", "atol"):
        if getattr(tolerance, name) < 0:
            raise table.fail(name, f"must be >= 0, received {getattr(tolerance, name)!r}")
    table.done()
    return tolerance


def _read_faces(table: _Reader, root: Path) -> FacesConfig:
    faces = FacesConfig(
        train_dir=(root / table.get("train_dir", str)).resolve(),
        heldout_dir=(root / table.get("heldout_dir", str)).resolve(),
        synthetic=table.get("synthetic", bool, True),
        accuracy_zero=table.get("accuracy_zero", float, 0.60),
        accuracy_full=table.get("accuracy_full", float, 0.85),
    )
    if not 0 <= faces.accuracy_zero < faces.accuracy_full <= 1:
        raise table.fail(
            "accuracy_full",
            "needs 0 <= accuracy_zero < accuracy_full <= 1, received "
            f"accuracy_zero={faces.accuracy_zero}, accuracy_full={faces.accuracy_full}",
        )
    table.done()
    return faces


def _read_aliases(entry: _Reader) -> tuple[str, ...]:
    """An assignment's ``aliases``: a list of names (``["卷积作业", "conv"]``)."""
    entry.seen.add("aliases")
    aliases = entry.table.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise entry.fail("aliases", f"must be a list of names (non-empty strings), received {aliases!r}")
    return tuple(a.strip() for a in aliases)


_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


def _read_timezone(course: _Reader) -> dt.tzinfo | None:
    """``[course] timezone``: a UTC offset (``"+08:00"``) or an IANA zone (``"Asia/Shanghai"``, whose
    summer time is then followed), the clock of due dates written without an offset. Left out, every
    due date must carry its own offset: a grader on a machine in another zone never guesses."""
    name = course.get("timezone", str, None)
    if name is None:
        return None
    if match := _OFFSET.match(name):
        sign, hours, minutes = match.groups()
        if int(hours) <= 23 and int(minutes) <= 59:
            delta = dt.timedelta(hours=int(hours), minutes=int(minutes))
            return dt.timezone(-delta if sign == "-" else delta)
    else:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    raise course.fail("timezone", f'must be a UTC offset like "+08:00" or a time zone like "Asia/Shanghai", '
                                  f"received {name!r}")


_DUE_EXAMPLE = "2026-10-01T23:59:00+08:00"


def _read_due(entry: _Reader, timezone: dt.tzinfo | None, name: str = "due") -> dt.datetime | None:
    """An assignment's ``due`` (or one student's extension): a TOML date-time (unquoted), with its
    offset or in ``[course] timezone``. A bare date is refused: which minute of the day is due is the
    instructor's to say."""
    entry.seen.add(name)
    due = entry.table.get(name)
    if due is None:
        return None
    if not isinstance(due, dt.datetime):
        raise entry.fail(name, f"must be a TOML date and time with its UTC offset, unquoted, like {_DUE_EXAMPLE}; "
                               f"received {due!r}")
    if due.tzinfo is None:
        if timezone is None:
            raise entry.fail(name, f"has no UTC offset ({due.isoformat()}): write it ({_DUE_EXAMPLE}) "
                                   'or set [course] timezone = "+08:00"')
        due = due.replace(tzinfo=timezone)
    return due


def _read_extensions(entry: _Reader, timezone: dt.tzinfo | None, due: dt.datetime | None) -> dict[str, dt.datetime]:
    """``extensions = { alice = 2026-10-03T23:59:00+08:00 }``: students' own due dates, by the key
    the grader names them with. Only beside a ``due``: an extension of nothing is a typo."""
    table = entry.sub("extensions", required=False)
    extensions = {student: _read_due(table, timezone, student) for student in table.table}
    if extensions and due is None:
        raise entry.fail("extensions", "extends a due date, but this assignment has no due")
    for student, when in extensions.items():  # a typo'd year would make the student's own date the earlier one
        if when is not None and due is not None and when < due:
            raise table.fail(student, f"is before the assignment's due ({due.isoformat()}): an extension "
                                      f"gives more time, received {when.isoformat()}")
    table.done()
    return {student: when for student, when in extensions.items() if when is not None}


_MAX_GRACE_MINUTES = 366 * 24 * 60


def _read_late(table: _Reader) -> LatePolicy:
    """``[late]``, checked so that no rule can take off less than nothing or more than everything."""
    d = LatePolicy(deduct=0.0)
    per = table.get("per", str, d.per)
    if per not in ("day", "hour"):
        raise table.fail("per", f'must be "day" or "hour", received {per!r}')
    unit = table.get("unit", str, d.unit)
    if unit not in ("percent", "points"):
        raise table.fail("unit", f'must be "percent" (of the full marks) or "points", received {unit!r}')
    policy = LatePolicy(
        deduct=table.get("deduct", float),
        per=per,
        unit=unit,
        cap=table.get("cap", float, None),
        grace_minutes=table.get("grace_minutes", float, d.grace_minutes),
    )
    for name in ("deduct", "cap", "grace_minutes"):
        value = getattr(policy, name)
        if value is not None and not 0 <= value < float("inf"):
            raise table.fail(name, f"must be a number >= 0, received {value!r}")
    if policy.grace_minutes > _MAX_GRACE_MINUTES:  # a typo (1e12): no time would be late, and no date could hold it
        raise table.fail("grace_minutes", f"must be at most {_MAX_GRACE_MINUTES} (a year), "
                                          f"received {policy.grace_minutes!r}")
    for name in ("deduct", "cap"):
        value = getattr(policy, name)
        if unit == "percent" and value is not None and value > 100:
            raise table.fail(name, f"is a percentage of the full marks (unit = \"percent\"): at most 100, "
                                   f"received {value!r}")
    table.done()
    return policy


def _read_similarity(table: _Reader) -> SimilarityPolicy:
    """``[similarity]``: two thresholds in [0, 1], a positive token count and the idiom limit; left
    out, the defaults."""
    d = SimilarityPolicy()
    policy = SimilarityPolicy(
        code=table.get("code", float, d.code),
        shared_wrong=table.get("shared_wrong", float, d.shared_wrong),
        min_tokens=table.positive("min_tokens", int, d.min_tokens),
        common=table.get("common", int, d.common),
    )
    if not 2 <= policy.common <= 100:
        raise table.fail("common", f"is a number of submissions: between 2 and 100, received {policy.common!r}")
    for name in ("code", "shared_wrong"):
        value = getattr(policy, name)
        if not 0 <= value <= 1:
            raise table.fail(name, f"is a score threshold: between 0 and 1, received {value!r}")
    table.done()
    return policy


def _read_assignments(table: _Reader, timezone: dt.tzinfo | None = None) -> dict[str, AssignmentConfig]:
    assignments = {}
    for assignment_id in table.table:
        entry = table.sub(assignment_id)
        points_table = entry.sub("points")
        points = {q: points_table.get(q, float) for q in points_table.table}
        for question, value in points.items():
            if value < 0:
                raise points_table.fail(question, f"must be >= 0, received {value!r}")
        points_table.done()
        due = _read_due(entry, timezone)
        assignments[assignment_id] = AssignmentConfig(
            id=assignment_id,
            title=entry.get("title", str, assignment_id),
            points=points,
            cell_timeout=entry.positive("cell_timeout", float, None),
            notebook_timeout=entry.positive("notebook_timeout", float, None),
            aliases=_read_aliases(entry),
            due=due,
            extensions=_read_extensions(entry, timezone, due),
        )
        entry.done()
    if not assignments:
        raise table.fail("", "declares no assignment")
    table.done()
    return assignments
