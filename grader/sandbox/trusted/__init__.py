"""The trusted process: trains and samples the student's models as data, never their code.

:mod:`~grader.sandbox.trusted.process` runs a plan; :mod:`~grader.sandbox.trusted.models`
loads exported model files safely and re-initialises them; :mod:`~grader.sandbox.trusted.restore`
restores the student's checkpoint into the architecture their code builds.
"""
