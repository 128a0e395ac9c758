"""The grader's GAN trainer (trusted code: the student's code never runs in its process).

:mod:`~grader.training.trainer` trains a generator/discriminator pair with given losses and
records the trusted history; :mod:`~grader.training.run_files` draws a run's pictures.
"""
