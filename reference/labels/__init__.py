"""The eye-read label set of generated CIFAR-10 tiles (protocol, sheets, labels)."""
