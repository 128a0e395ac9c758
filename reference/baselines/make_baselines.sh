#!/usr/bin/env bash
# Reproduce the committed baselines (run from the repository root, venv installed).
#   (a) quick: the budget `grade --quick` trains a student's models with (grader/config.py QUICK)
#   (b) long:  12 epochs of full CIFAR-10 (the JPEG copy), generators kept at epochs 1, 3, 6, 10, 12
#   (c) e30:   30 epochs with a weight average of G (--ema 0.999), generators kept at epochs 15, 30
# Then copy the outputs that are committed into reference/baselines/.
set -euo pipefail
DATA="${DCGAN_GRADER_DATA:-../shared/data/cifar10-jpeg.tar.gz}"
grade reference train --out runs/baseline_quick --steps 150 --batch 64 --seed 0 \
  --data bundled --sample-every 15 --no-progress
grade reference train --out runs/baseline_long --epochs 12 --batch 128 --seed 0 --data "$DATA" \
  --save-generator-at-epochs 1,3,6,10,12 --sample-every 117 --checkpoint-every 390 --no-progress
grade reference train --out runs/baseline_e30 --epochs 30 --batch 128 --seed 0 --data "$DATA" \
  --save-generator-at-epochs 3,6,10,15,20,25,30 --sample-every 390 --checkpoint-every 1950 \
  --ema 0.999 --no-progress
python -m reference.baselines.collect runs/baseline_quick runs/baseline_long
python -m reference.baselines.collect runs/baseline_e30 --steps 5850,11700
