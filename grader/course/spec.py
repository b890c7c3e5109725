"""How an assignment is declared: questions, test groups, input generators, references, mistakes.

The engine is generic over these records; each assignment is declared once, as data, in
:mod:`grader.course.assignments`. A question is graded by calling the student's function of the same name
on every case of every group; its points are split equally across its groups, and a group scores
only when all its cases pass (a group is one idea: "even kernels", "stride > kernel", so passing
most of its cases is not yet understanding it).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..judge.results import Diagnosis

__all__ = [
    "Assess",
    "AssessContext",
    "Assignment",
    "Case",
    "FileArg",
    "Group",
    "Mistake",
    "Question",
    "SpecError",
    "VALUE",
    "Var",
    "Verdict",
    "group_rng",
]

PUBLIC_SEED = 2024
VALUE = "__value__"  # the pseudo-function that returns its argument: a Case((Var("model"),)) fetches a variable


class SpecError(ValueError):
    """An assignment declaration is inconsistent; the message names the assignment and question."""


@dataclass(frozen=True)
class Var:
    """An argument that is a variable of the student's own notebook (e.g. their trained ``model``)."""

    name: str


@dataclass(frozen=True)
class FileArg:
    """A path argument inside the case's ``files`` folder (copied into the scratch folder per call)."""

    path: str


@dataclass(frozen=True)
class Case:
    """One call: positional and keyword arguments (arrays, numbers, strings, tuples, :class:`Var`,
    :class:`FileArg` naming a file of ``files``)."""

    args: tuple[Any, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    files: Path | None = None

    def resolved(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The arguments as the reference sees them: file arguments as real paths."""
        def resolve(value: Any) -> Any:
            if isinstance(value, FileArg):
                assert self.files is not None, "a FileArg needs the case's files folder"
                return self.files / value.path
            return value
        return tuple(resolve(a) for a in self.args), {k: resolve(v) for k, v in self.kwargs.items()}


CaseMaker = Callable[[np.random.Generator], Sequence[Case]]


@dataclass(frozen=True)
class Group:
    """A set of cases testing one idea; ``public`` groups are the self-check's, with a fixed seed.
    ``name`` is the group's identity in stored results, the gradebook and the exports (never
    translated, never renamed); ``zh`` is its title on a Chinese page or summary."""

    name: str
    cases: CaseMaker
    public: bool = False
    zh: str = ""


@dataclass(frozen=True)
class Mistake:
    """A known wrong way to answer: ``variant`` is the reference with that mistake made."""

    id: str
    variant: Callable[..., Any]
    zh: str
    en: str


@dataclass(frozen=True)
class Verdict:
    """An assessment's outcome for one case: the fraction of the group's points it earns. ``code``
    and ``params``, when given, say what is wrong as a message of :mod:`grader.judge.catalog` (a
    failure is shown in the reader's language); ``message`` is the English words otherwise."""

    fraction: float
    message: str = ""
    diagnosis: Diagnosis | None = None
    kind: str = "wrong"
    code: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AssessContext:
    """What an ``assess`` function may use, handed to it per submission instead of being module
    state: ``fetch(function, case)`` calls into the student's kernel and returns a harness
    ``Answer``; ``inspect(path, evaluate=False)`` is the submission's model inspector
    (:class:`grader.run.inspect_model.Inspector`), giving a report dict or ``{"error": ...}``."""

    fetch: Callable[[str, Case], Any]
    inspect: Callable[..., dict[str, Any]]


# (context, case, config) -> Verdict. For questions whose answer is a Keras model rather than data.
Assess = Callable[[AssessContext, Case, Any], Verdict]


@dataclass(frozen=True)
class Question:
    """A graded function. ``reference`` computes the expected answer from the same arguments;
    a question whose answer cannot be compared as data (a Keras model) declares ``assess`` instead,
    which may give partial credit (e.g. held-out accuracy between two thresholds)."""

    id: str
    reference: Callable[..., Any] | None
    groups: tuple[Group, ...]
    mistakes: tuple[Mistake, ...] = ()
    optional: bool = False
    assess: Assess | None = None


@dataclass(frozen=True)
class Assignment:
    """One assignment's questions. Its title and points live in ``course.toml``; ``aliases`` are the
    other names students give its file (卷积, 池化, …). ``needs`` names what must exist before its
    notebooks run (``"faces"``: the face data set of ``[faces]``, generated when synthetic), so the
    class run, the cluster workers and ``grader validate`` ask the declaration, never the id."""

    id: str
    aliases: tuple[str, ...]
    questions: tuple[Question, ...]
    preload: tuple[str, ...] = ("numpy",)  # imported while the kernel starts (see grader.run.pool)
    needs: tuple[Literal["faces"], ...] = ()
    # What the unit's instructor looks at beyond the score (training curves, per-class accuracy,
    # the layer table): asked once per submission after its questions, with the questions' own
    # context, and kept through grader.course.facts.checked in the result's extras["facts"].
    facts: Callable[[AssessContext, Any], Mapping[str, Any]] | None = None

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def validate(self, points: Mapping[str, float]) -> None:
        """Check the declaration against the course's points table, naming what is wrong."""
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise SpecError(f"{self.id}: question ids repeat: {ids}")
        for question in self.questions:
            if not question.groups:
                raise SpecError(f"{self.id}.{question.id}: declares no test group")
            names = [g.name for g in question.groups]
            if len(set(names)) != len(names):
                raise SpecError(f"{self.id}.{question.id}: group names repeat: {names}")
            untitled = [g.name for g in question.groups if not g.zh.strip()]
            if untitled:
                raise SpecError(f"{self.id}.{question.id}: group(s) {untitled} have no zh title (Group(..., zh=...))")
            mistakes = [m.id for m in question.mistakes]
            if len(set(mistakes)) != len(mistakes):
                raise SpecError(f"{self.id}.{question.id}: mistake ids repeat: {mistakes}")
        unknown = sorted(set(points) - set(ids))
        if unknown:
            raise SpecError(f"course.toml [assignments.{self.id}.points]: unknown question(s) {unknown}; "
                            f"this assignment has {ids}")
        missing = sorted(set(ids) - set(points))
        if missing:
            raise SpecError(f"course.toml [assignments.{self.id}.points]: no points for {missing}")


def group_rng(seed: int, assignment: str, question: str, group: Group) -> np.random.Generator:
    """The generator of one group's cases: public groups ignore the secret seed."""
    key = zlib.crc32(f"{assignment}/{question}/{group.name}".encode())
    return np.random.default_rng([PUBLIC_SEED if group.public else seed, key])
