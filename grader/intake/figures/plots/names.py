"""What a series name or legend label means: fake or real accuracy, generator or critic loss."""

from __future__ import annotations

import re

from grader.intake.figures.plots.records import DISC_LOSS, FAKE_ACCURACY, GEN_LOSS, REAL_ACCURACY

#: legend labels students write, compared with the legend when the code gives none
VOCABULARY = (
    "fake_accuracy", "real_accuracy", "gen_loss", "disc_loss",
    "fake accuracy", "real accuracy", "generator loss", "discriminator loss",
    "Fake Accuracy", "Real Accuracy", "Generator Loss", "Discriminator Loss",
    "fake_acc", "real_acc", "fake acc", "real acc", "Fake acc", "Real acc",
    "acc_fake", "acc_real", "fake", "real", "Fake", "Real",
    "g_loss", "d_loss", "G loss", "D loss", "G_loss", "D_loss", "gen loss", "disc loss",
    "generator", "discriminator", "Generator", "Discriminator",
    "D(fake) accuracy", "D(real) accuracy", "accuracy_fake", "accuracy_real",
)


def role_of(text: str) -> str:
    """The history series a name or label refers to, '' when it does not say.

    ``fake_accuracy``, ``'Fake acc'`` -> fake accuracy; ``gen_loss``, ``'G loss'``,
    ``'generator'`` -> generator loss; and so on. A loss of fakes (``'disc fake loss'``) is a
    loss, not an accuracy.
    """
    t = text.lower().strip()
    words = set(re.split(r"[^a-z0-9]+", t))
    loss = "loss" in t
    if not loss and ("fake" in t or "generated" in t):
        return FAKE_ACCURACY
    if not loss and "real" in t:
        return REAL_ACCURACY
    if t.startswith("gen") or words & {"g", "gen", "generator", "gloss", "g_loss"}:
        return GEN_LOSS
    if t.startswith("disc") or words & {"d", "disc", "discriminator", "dloss", "d_loss"}:
        return DISC_LOSS if loss or "acc" not in t else ""
    return ""
