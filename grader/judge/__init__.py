"""Judging answers: comparison, diagnosis, the result records, the summaries and the self-check.

The lowest layer. Its modules import only NumPy, the standard library and each other, because the
student bundle ships them byte for byte as ``selfcheck/`` (:mod:`grader.authoring.bundle`): a
student's ``check("conv2d")`` judges with the very code the grader judges with.
"""
