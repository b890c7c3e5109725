"""Grading a class: the plan, the cache, the runner (local or Dask), collecting, and the gradebook."""
