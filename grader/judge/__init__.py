"""The CIFAR-10 judge: a shipped classifier that scores generated images (trusted code only).

Modules: :mod:`~grader.judge.classifier` (load the model, images -> calibrated probabilities
and features), :mod:`~grader.judge.network` (its shipped form: flip averaging built in,
bfloat16 arithmetic), :mod:`~grader.judge.precision` (which arithmetic this CPU gets),
:mod:`~grader.judge.metrics` (pure numpy/scipy scores),
:mod:`~grader.judge.calibration` (the shipped assets) and :mod:`~grader.intake.figures.tiles`
(sample grids in PNG/GIF figures -> 32x32 tiles). Import them directly; this package does
not import TensorFlow.
"""
