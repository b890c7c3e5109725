"""Grading a class, in the order :func:`~grader.classroom.batch.grade_class` runs the steps:
``plan`` (what to grade) → ``cache`` (what the gradebook already has) → ``runner`` (where the rest
is graded: this machine's threads, or ``distributed``'s Dask workers) → ``collect`` (each result kept
as it arrives) → ``gradebook`` (the files that survive the run). ``needs`` provides what an
assignment declares it needs (its face data) to the class run, the workers and ``grader validate``."""
