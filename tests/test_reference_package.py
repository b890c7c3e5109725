"""The public surface of grader.course.reference, and its promise not to load TensorFlow."""

from __future__ import annotations

import subprocess
import sys

import grader.course.reference
from grader.course.assignments import course_assignments

DECLARED = course_assignments()

def test_every_declared_reference_is_its_modules_function_of_the_same_name() -> None:
    # The declarations import their assignment's reference module, so a new question's reference is
    # found as soon as it is written there; nothing else lists it (tests/test_extend.py).
    for assignment in DECLARED.values():
        for question in assignment.questions:
            if question.reference is None:
                assert question.assess is not None, f"{assignment.id}.{question.id}: neither reference nor assess"
                continue
            module = sys.modules[question.reference.__module__]
            assert module.__name__.startswith("grader.course.reference."), question.id
            assert question.reference.__name__ == question.id, (assignment.id, question.id)
            assert getattr(module, question.id) is question.reference


def test_the_package_exports_only_graded_names() -> None:
    # A convenience surface: every name is a declared question (a reference, or the model-building
    # answers of the gender notebook), and exported as the very function the module defines.
    declared = {q.id for a in DECLARED.values() for q in a.questions}
    assert set(grader.course.reference.__all__) <= declared
    assert len(set(grader.course.reference.__all__)) == len(grader.course.reference.__all__)
    for name in grader.course.reference.__all__:
        assert callable(getattr(grader.course.reference, name)), name
    assert {"conv2d", "max_pool2d", "layer_table", "load_faces", "build_model"} <= set(grader.course.reference.__all__)


def test_importing_the_references_does_not_load_tensorflow() -> None:
    # The grader grades the NumPy notebooks in a process without TensorFlow: a fresh interpreter
    # must be able to import every reference module (keras_models included) without loading Keras.
    code = (
        "import sys, grader.course.reference, grader.course.reference.keras_models, grader.course.reference.networks; "
        "loaded = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules); "
        "assert not loaded, loaded"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
