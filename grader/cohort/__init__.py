"""Grading a whole cohort: roster, cache, local or Dask execution, dashboard, similarity."""
