"""dcgan-grader: automated grading for the CIFAR-10 DCGAN assignment."""

__version__ = "0.1.0"
