"""DATASHEET.md and the photo SOURCE note of a photo sample; every number is measured."""

from __future__ import annotations

from typing import TYPE_CHECKING

from anchorrec.sample.headroom import GATE_MARGIN, K
from anchorrec.sample.tastes import (
    EXTRA_LATE_END,
    HELD_START,
    LATE_START,
    NEW_ARRIVAL_TRAIN_CAP,
    POPULARITY_TILT,
    TEMPERATURE_SPREAD,
)
from anchorrec.sample.wardrobe import COLLECTIONS, HOUSE_NAME, OCCASIONS, SUSTAINABILITY

if TYPE_CHECKING:
    from anchorrec.sample.headroom import HeadroomReport
    from anchorrec.sample.photo_build import PhotoSample, PhotoSampleConfig, SampleStats
    from anchorrec.sample.photos import PhotoFolder


def _rebuild_command(config: PhotoSampleConfig) -> str:
    t = config.tastes
    parts = [
        "python -m anchorrec sample build --photos PHOTO_DIR --out OUT_DIR",
        f"--seed {config.seed}",
        f"--users {t.n_users}",
        f"--temperature {t.temperature:g}",
        f"--popularity-share {t.popularity_share:g}",
        f"--new-share {config.new_share:g}",
        f"--name {config.name}",
    ]
    if config.limit_per_class is not None:
        parts.append(f"--photos-per-class {config.limit_per_class}")
    return " ".join(parts)


def render_photo_datasheet(
    config: PhotoSampleConfig, s: SampleStats, report: HeadroomReport, folder: PhotoFolder
) -> str:
    t = config.tastes
    checks = "\n".join(
        f"- {'passed' if c.passed else 'MISSED'}: {c.describe()}" for c in report.checks
    )
    verdict = "passed" if report.passed else "FAILED"
    groups = ", ".join(f"{g} {n}" for g, n in s.groups.items())
    new_train = ", ".join(f"{k}: {v}" for k, v in sorted(s.new_train_counts.items()))
    classes = sorted({p.garment_class for p in folder.photos})
    return f"""# Datasheet: {config.name} — the {HOUSE_NAME} photo sample

Real product photos (their licence is `images/LICENSE`; see `images/SOURCE.md`) with generated copy and
synthetic shoppers whose tastes live in the feature spaces the offline encoders produce, so
that content has something to find that purchase history alone does not.

## Contents

| | |
|---|---|
| items | {s.n_items} photos in {len(classes)} garment classes ({", ".join(classes)}) |
| shoppers | {s.n_users} ({groups}) |
| purchases | {s.n_train} train / {s.n_valid} valid / {s.n_test} test |
| train purchases per shopper | median {s.median_train_per_user:g}, mean {s.mean_train_per_user:.2f} |
| train purchases per item | mean {s.mean_train_per_item:.2f} |
| items with fewer than 5 train purchases | {100 * s.share_items_under_5_train:.1f} % |
| Gini of item train purchases | {s.gini_train:.3f} |
| new arrivals | {s.new_items} items ({100 * s.new_share:.1f} %): {s.new_valid} valid and {s.new_test} test purchases |
| new arrivals by train purchases | {new_train} (count: items) |
| removed by the iterative 5-core | {s.dropped_items} items, {s.dropped_users} shoppers |
| split | chronological per shopper (MMRec proportions: the latest 2, or 20 % from 10 purchases, held out; test last) |

For comparison, the Amazon Baby 5-core (MMRec split): median 4 and mean 6.2 train purchases per\nshopper, 17.0 per item, 18.3 % of items with fewer than 5, Gini 0.555.

Files: `{config.name}.inter` (userID, itemID, x_label), `purchases.csv` (user_id, item_id, day
of the year, split), `image_feat.npy` (EfficientNet-Lite0, ImageNet weights, 1280-d, pooled
last stage, of the JPEGs in `images/`), `text_feat.npy` (all-MiniLM-L6-v2, 384-d, over
title, category and description joined by ". "), `fused_feat.npy` (both, L2-normalised and concatenated), `items.csv`,
`users.csv`, `images/` (the photos, longest side 256 px).

## The catalogue

Each photo is one item. What the photo shows: `category` (the garment class of its folder),
`kids`, `colour` (the most frequent colour name among the pixels of the photo's central box)
and `brightness` (that box's mean luma: dark < 85 ≤ medium < 165 ≤ light). What only the copy
states, drawn independently: `occasion` ({", ".join(OCCASIONS)}), `collection`
({", ".join(COLLECTIONS)}), `material` (among those plausible for the class), `care` (among
those plausible for the material) and `sustainability` ({", ".join(SUSTAINABILITY)}). The
title and the two-sentence description are written from templates that vary the wording; the
copy names the class, the colour and every copy-only attribute, never the brightness.
`price` follows class, collection and claim; `release_date` is in 2025, and the
`new_arrival` items are released after day {LATE_START}. `co_purchase_group` and `popularity`
are hidden: the first drives collaborative shoppers, the second everyone's popularity
purchases.

## The shoppers

`users.csv` records every shopper's `group` and taste: visual shoppers choose near one or
two `seed_items` (`seed_photos`, `seed_weights`; a seed removed by the 5-core is -1) in the image\nfeature space, textual shoppers
near seed items in the text space, collaborative shoppers inside their hidden
`co_purchase_groups`. An item's appeal to a content shopper is
Σ weight · exp((cos(item, seed) − 1) / `temperature`), with cos the cosine of the mean-centred
features; the shopper's `temperature` (blank for collaborative shoppers) is {t.temperature:g} times a log-normal spread
(σ = {TEMPERATURE_SPREAD:g}). Each purchase is led by popularity with the shopper's
`w_popularity` (mean {t.popularity_share:g}); otherwise it is drawn in proportion to appeal ·
popularity^{POPULARITY_TILT:g}. Purchases before day {LATE_START} are of old items; the held-out
ones happen after day {HELD_START}, when new arrivals are on sale and promoted
({t.new_arrival_boost:g}× likelier); {100 * t.extra_late_chance:.0f} % of the shoppers make one
more purchase in days {LATE_START}–{EXTRA_LATE_END} that stays in train, which is how a new
arrival gets up to {NEW_ARRIVAL_TRAIN_CAP} train purchases.

## Content headroom (the build's gate)

Model-free rankers on the test split, each scoring items from the shopper's train purchases
(train and valid items masked; one hyper-parameter each, chosen on valid, shown in brackets):
co-purchase item kNN, EASE, image kNN and text kNN (cosine of the mean-centred features, the
k nearest kept), and a hybrid of EASE with both kNNs (scores standardised per shopper).
Recall@{K} / NDCG@{K}; the number of shoppers in brackets; "new arrivals" counts only the
test purchases of new arrivals.

{report.table()}

Gate ({verdict}): image kNN above EASE on visual shoppers and text kNN above EASE on textual
shoppers, each by at least {GATE_MARGIN:.2f} Recall@{K}, and the hybrid above EASE overall.

{checks}

## Rebuild

```bash
{_rebuild_command(config)}
```

PHOTO_DIR is the CC0 clothing photo folder (class sub-folders, LICENSE, images.csv). The
features are cached by content (`--feature-cache DIR`), so a rebuild encodes only what changed.
"""


def photo_source_note(built: PhotoSample) -> str:
    """``images/SOURCE.md``: what the photos are and what was done to them."""
    readme = (
        "The photo folder's own README, with its origin and acknowledgements, is `README.md` "
        "beside this file."
        if built.readme_text
        else "The photo folder had no README of its own."
    )
    return f"""# Photos: source and licence

The {len(built.images)} photos in this folder are the sample's product photos; their licence
is `LICENSE` beside this file and ships with them. Each photo was downsized so that its
longest side is 256 px and re-encoded as JPEG; `items.csv` column `photo_source` gives its path
in the original photo folder. Titles, descriptions and every attribute other than
`category` and `kids` (both from the folder) and `colour` and `brightness` (measured from the
pixels) are generated; no shopper or purchase is real.

{readme}
"""
