"""The instructor's tools on top of everything: releasing the notebooks, the student bundle, and
``grader validate`` (the course checks itself)."""
