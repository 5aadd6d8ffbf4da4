"""``python -m core knn --dataset shapes --features pixels|RUN_DIR|pretrained[:ARCH] --train-size N --k K [--json]``.

k-nearest-neighbour classification of the data set's test images, in raw-pixel space or in the feature space of
a trained run or of an ImageNet-pretrained zoo network (the input of its classifier layer; ``pretrained`` alone
is ResNet-18 at 64 px; its weights must be cached already: nothing is downloaded). Prints the accuracy, the memory k-NN holds (the stored
training features and labels, plus the network for run features) and the milliseconds per query (feature
extraction + distance search, averaged over the test images). ``--dataset folder --path DIR`` works on your own
images (ImageFolder layout); a data set without a test split holds out 20 % of its training split.
"""
from __future__ import annotations

import argparse

from core.cli._common import print_json
from core.errors import InputError


def register(subparsers) -> None:
    p = subparsers.add_parser("knn", help="k-NN accuracy, memory and time per query (pixels or a run's features)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="shapes", help="shapes (default), folder, or a downloaded built-in set")
    p.add_argument("--path", default="", help="for --dataset folder: a server folder or an imported zip's name")
    p.add_argument("--features", default="pixels", metavar="pixels|RUN_DIR|pretrained[:ARCH]",
                   help="raw pixels (default), a run folder whose network provides the features, or an "
                   "ImageNet-pretrained zoo network from its cached weights (pretrained = resnet18)")
    p.add_argument("--train-size", default="1000", metavar="N", help="training images to store (default 1000)")
    p.add_argument("--test-size", default="600", metavar="M", help="test images to classify (default 600)")
    p.add_argument("--k", default="5", metavar="K", help="neighbours that vote (default 5)")
    p.add_argument("--image-size", default="32", metavar="S",
                   help="pixel k-NN image size (default 32); run features use the run's own size")
    p.add_argument("--seed", default="0", help="data seed (default 0)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def whole(value: str, what: str, lo: int, hi: int) -> int:
    try:
        n = int(value)
    except ValueError:
        raise InputError(f"{what} must be a whole number, got {value!r}") from None
    if not lo <= n <= hi:
        raise InputError(f"{what} must be between {lo:,} and {hi:,}, got {n:,}")
    return n


def run(args) -> int:
    from core.lessons.data import load_lesson_data  # heavy: see core/cli/__init__.py
    from core.lessons.knn import FeatureNet, knn_evaluate

    train_size = whole(args.train_size, "--train-size", 1, 100_000)
    test_size = whole(args.test_size, "--test-size", 1, 20_000)
    k = whole(args.k, "--k", 1, train_size)
    size = whole(args.image_size, "--image-size", 8, 256)
    seed = whole(args.seed, "--seed", 0, 2**31 - 1)
    net = None
    if args.features == "pretrained" or args.features.startswith("pretrained:"):
        from core.lessons.knn import PRETRAINED_ARCH, pretrained_features  # heavy: see core/cli/__init__.py

        net = pretrained_features(args.features.partition(":")[2] or PRETRAINED_ARCH)
        size = net.image_size
    elif args.features != "pixels":
        from core.models.shared import load_run_model  # heavy: see core/cli/__init__.py

        rm = load_run_model(args.features)
        net, size = FeatureNet(rm.model, rm.image_size, f"features of {rm.label}"), rm.image_size
    data = load_lesson_data(args.dataset, train_size=train_size, n_test=test_size, image_size=size, seed=seed,
                            path=args.path)
    score = knn_evaluate(data, k, net)
    result = {"dataset": args.dataset, **score.to_dict()}
    if args.json:
        print_json(result)
        return 0
    print(f"k-NN (k = {k}) on {score.features}, {args.dataset} at {score.image_size} px: "
          f"{score.train_size:,} stored, {score.n_test:,} queries, {score.dims:,} dimensions")
    print(f"  accuracy      {score.accuracy:.1%}")
    print(f"  memory held   {score.memory_bytes:,} bytes")
    print(f"  per query     {score.ms_per_query:.3f} ms")
    return 0
