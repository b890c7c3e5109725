"""Judging answers: comparison, diagnosis, the result records, what a student may see of them, the
one message catalog, the summaries and the self-check.

The lowest layer. Its modules import only NumPy, the standard library and each other, because the
student bundle ships them byte for byte as ``selfcheck/`` (:mod:`grader.authoring.bundle`): a
student's ``check("conv2d")`` judges with the very code the grader judges with, and words its
failures from the very catalog (:mod:`.catalog`) the grader's pages and terminal use.
"""
