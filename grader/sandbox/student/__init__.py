"""The student's process: the only place student code runs (inside the sandbox).

:mod:`~grader.sandbox.student.process` runs a plan (load the code units, then the phases);
:mod:`~grader.sandbox.student.namespace` executes units and keeps every version of a name;
:mod:`~grader.sandbox.student.discover` finds and builds the models;
:mod:`~grader.sandbox.student.explain` turns exceptions into one plain sentence;
:mod:`~grader.sandbox.student.check_phase` and :mod:`~grader.sandbox.student.train_phase`
are the phases. Nothing here is imported by the trusted side, apart from the check registry.
"""
