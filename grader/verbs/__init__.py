"""The ``grade`` command's verbs: one module each, with ``add_arguments`` and ``run``.

``grade_submission`` (``grade SUBMISSION``), ``check_submission`` (``grade check``),
``judge_images`` (``grade judge``) and ``grade_cohort`` (``grade cohort``). The registry of
verbs is in :mod:`grader.cli`.
"""
