"""The judge's network in its shipped form: flip averaging built in, run in bfloat16 where fast.

* :class:`HorizontalFlip` and :func:`with_flip_average` wrap a classifier so that it scores
  each image and its mirror image and averages the two feature vectors (so also the logits:
  the head is linear). Built into the ``.keras`` file, this test-time averaging is part of
  the shipped classifier's function, not an option of the grader.
* :func:`with_compute_policy` rebuilds a loaded float32 network to compute in bfloat16 up to
  its pooled features, which stay float32 with everything after them
  (:func:`grader.judge.precision.compute_policy` decides where).
"""

from __future__ import annotations

import keras

FLOAT32_TAIL = ("features", "logits")
"""Layers kept in float32 under any policy: the pooled features and the head."""
POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16"}


@keras.saving.register_keras_serializable(package="grader")
class HorizontalFlip(keras.layers.Layer):
    """Mirror images left to right (always: this is not an augmentation layer)."""

    def call(self, inputs):
        """Reverse the width axis of (N, H, W, C) images."""
        return keras.ops.flip(inputs, axis=2)


def has_flip_average(model) -> bool:
    """True when ``model`` already averages over horizontal flips."""
    return any(isinstance(layer, HorizontalFlip) for layer in model.layers)


def with_flip_average(model):
    """A model computing ``model`` on each image and its mirror, averaging the features.

    ``model`` must end in a pooled ``features`` layer followed by a linear ``logits`` head;
    the result has the same input, the same two named layers and the same weights.
    """
    if has_flip_average(model):
        return model
    backbone = keras.Model(model.inputs[0], model.get_layer("features").output, name="backbone")
    old_head = model.get_layer("logits")
    inputs = keras.Input(model.inputs[0].shape[1:], name="pixels")
    mirrored = HorizontalFlip(name="mirror")(inputs)
    feats = keras.layers.Average(name="features")([backbone(inputs), backbone(mirrored)])
    head = keras.layers.Dense(old_head.units, name="logits")
    out = head(feats)
    head.set_weights(old_head.get_weights())
    return keras.Model(inputs, out, name=f"{model.name}_flip_average")


def with_compute_policy(model, policy: str):
    """``model`` rebuilt to compute in ``policy`` (``float32``: returned as it is).

    Every layer but the :data:`FLOAT32_TAIL` (and the input) computes in mixed bfloat16:
    bfloat16 arithmetic, float32 weights. Pixels 0..255 are exact in bfloat16; logits and
    features come out in float32.
    """
    if policy == "float32":
        return model

    def clone(layer):
        config = layer.get_config()
        if not isinstance(layer, keras.layers.InputLayer) and layer.name not in FLOAT32_TAIL:
            config["dtype"] = POLICIES[policy]
        return layer.__class__.from_config(config)

    rebuilt = keras.models.clone_model(model, clone_function=clone, recursive=True)
    rebuilt.set_weights(model.get_weights())
    return rebuilt
