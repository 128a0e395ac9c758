"""Statistics used by scoring: curve trends (:mod:`~grader.stats.trend`), set differences
with bootstrap intervals (:mod:`~grader.stats.bootstrap`) and the classifier score
(:mod:`~grader.stats.inception`). Pure numpy/scipy.
"""
