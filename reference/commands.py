"""Reference solution tools (train the reference DCGAN): ``grade reference train``.

Registered as a ``grade`` verb through the ``dcgan_grader.verbs`` entry point (pyproject),
so the engine never imports this package.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from grader.config import DATA_HELP
from grader.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``grade reference train`` options."""
    sub = parser.add_subparsers(dest="action", required=True)
    train = sub.add_parser("train", help="train the reference DCGAN and write its outputs")
    train.add_argument("--out", type=Path, required=True, help="output folder")
    budget = train.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, help="number of training steps")
    budget.add_argument("--epochs", type=float, help="number of epochs over the training set")
    train.add_argument("--batch", type=int, default=128, help="batch size (default 128)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument("--sample-every", type=int, default=0,
                       help="steps between sample grids (default: about 40 grids per run)")
    train.add_argument("--checkpoint-every", type=int, default=0,
                       help="steps between checkpoints (default: about 10 per run)")
    train.add_argument("--save-generator-at-epochs", default="",
                       help="comma-separated epochs at which to keep the generator weights")
    train.add_argument("--jit", action="store_true", help="compile the step with XLA")
    train.add_argument("--ema", type=float, default=0.0, metavar="DECAY",
                       help="also keep and save a moving average of the generator's weights "
                            "with this decay per step, e.g. 0.999 (default: none)")
    train.add_argument("--precision", choices=("float32", "mixed_bfloat16"), default="float32",
                       help="Keras dtype policy of the models (default float32; "
                            "mixed_bfloat16 on CPUs with bfloat16 units, see "
                            "bench/results/README.md)")
    train.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    train.add_argument("--data", default=None, help=DATA_HELP)
    train.add_argument("--limit", type=int, default=0, help="use only the first N training images")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Train the reference DCGAN with the chosen budget."""
    from grader.data import load_dataset
    from grader.tf_setup import configure_tensorflow

    configure_tensorflow(seed=args.seed)
    from grader.training.trainer import TrainConfig, precision_policy, train_gan
    from reference import solution

    data = load_dataset(args.data)
    images = data.x_train[: args.limit] if args.limit else data.x_train
    per_epoch = max(1, len(images) // args.batch)
    if args.steps is not None:
        steps = args.steps
    elif args.epochs is not None:
        steps = int(round(args.epochs * per_epoch))
    else:
        steps = per_epoch
    if steps <= 0 or args.batch <= 0:
        raise UsageError("--steps/--epochs and --batch must be positive")
    save_at = tuple(int(round(float(e) * per_epoch))
                    for e in args.save_generator_at_epochs.split(",") if e.strip())
    cfg = TrainConfig(steps=steps, batch_size=args.batch, seed=args.seed,
                      sample_every=args.sample_every or max(1, steps // 40),
                      checkpoint_every=args.checkpoint_every or max(1, steps // 10),
                      jit_compile=args.jit, save_generator_at=save_at,
                      ema_decay=args.ema)
    with precision_policy(args.precision):
        generator = solution.make_generator_model()
        discriminator = solution.make_discriminator_model()
    g_opt, d_opt = solution.make_optimizers()
    print(f"precision: {args.precision}; data: {data.source}, {len(images)} images; {steps} steps of {args.batch} "
          f"({steps / per_epoch:.2f} epochs)")
    try:
        result = train_gan(generator, discriminator, images,
                           generator_loss=solution.generator_loss,
                           discriminator_loss=solution.discriminator_loss,
                           generator_optimizer=g_opt, discriminator_optimizer=d_opt,
                           config=cfg, student_accuracy=solution.discriminator_accuracy,
                           out_dir=args.out, resume=args.resume, progress=not args.no_progress,
                           metadata={"data_source": data.source, "steps_per_epoch": per_epoch,
                                     "epochs": steps / per_epoch,
                                     "precision": args.precision})
    except KeyboardInterrupt:
        print(f"interrupted: partial outputs and a checkpoint are in {args.out}")
        return 130
    summary = json.loads((Path(args.out) / "summary.json").read_text())
    print(f"done: {result.steps_done} steps in {result.wall_s:.1f}s "
          f"({result.images_per_s:.0f} img/s); fake accuracy "
          f"{summary['fake_accuracy']['first']:.2f} -> {summary['fake_accuracy']['last']:.2f}; "
          f"outputs in {args.out}")
    return 0
