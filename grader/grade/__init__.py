"""Grading one submission: run it (:mod:`grader.run`), judge its answers (:mod:`grader.judge`) against
the course's declarations (:mod:`grader.course`), and return one frozen result."""
