"""The fictional catalogue of Maison Verelle: item attributes, titles and descriptions.

Every item draws its attributes independently, so that no attribute predicts another. Which
attributes each modality shows is the planted structure of the sample:

- image only: ``pattern`` and ``shade`` (the exact tone: pastel / classic / deep) — the text
  never names them;
- text only: ``occasion``, ``material_origin``, ``sustainability`` and ``collection`` — the
  picture never shows them;
- both: ``category`` (silhouette / product noun), ``colour`` (hue / colour word), ``material``
  (texture / material word) and ``hardware`` (metal tone / metal word);
- neither: ``drop`` (a hidden co-purchase group) and ``popularity`` (a latent demand weight).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

HOUSE_NAME = "Maison Verelle"


@dataclass(frozen=True)
class Category:
    """A product category: its silhouette key, material and the nouns the copy uses."""

    name: str
    material: str
    styles: tuple[str, ...]


CATEGORIES: tuple[Category, ...] = (
    Category("handbag", "leather", ("Shoulder Bag", "Top-Handle Bag", "Saddle Bag")),
    Category("tote", "leather", ("Tote", "Shopper Tote", "Weekender Tote")),
    Category("clutch", "leather", ("Envelope Clutch", "Frame Clutch", "Pouch Clutch")),
    Category("sneakers", "leather", ("Court Sneaker", "Runner Sneaker", "Low-Top Sneaker")),
    Category("heels", "leather", ("Pump", "Slingback Pump", "Stiletto Pump")),
    Category("boots", "leather", ("Ankle Boot", "Riding Boot", "Chelsea Boot")),
    Category("dress", "silk", ("Slip Dress", "Midi Dress", "Wrap Dress")),
    Category("coat", "wool", ("Overcoat", "Trench Coat", "Car Coat")),
    Category("knitwear", "cashmere", ("Crew-Neck Sweater", "Cardigan", "Turtleneck")),
    Category("scarf", "silk", ("Carré Scarf", "Long Scarf", "Stole")),
    Category("watch", "metal", ("Dress Watch", "Chronograph", "Tank Watch")),
    Category("ring", "metal", ("Cocktail Ring", "Signet Ring", "Solitaire Ring")),
    Category("necklace", "metal", ("Pendant Necklace", "Chain Necklace", "Medallion Necklace")),
    Category(
        "sunglasses", "acetate", ("Cat-Eye Sunglasses", "Square Sunglasses", "Aviator Sunglasses")
    ),
)
CATEGORY_BY_NAME: dict[str, Category] = {c.name: c for c in CATEGORIES}

#: Colour words (shown in text and picture): hue in degrees and HLS saturation.
COLOURS: dict[str, tuple[float, float]] = {
    "scarlet": (2.0, 0.78),
    "saffron": (44.0, 0.85),
    "emerald": (148.0, 0.62),
    "cobalt": (222.0, 0.72),
    "violet": (276.0, 0.52),
    "rose": (338.0, 0.62),
    "cognac": (24.0, 0.58),
    "slate": (210.0, 0.14),
}
#: Image-only tone of the colour: HLS lightness of pastel / classic / deep.
SHADES: dict[str, float] = {"pastel": 0.78, "classic": 0.52, "deep": 0.25}
#: Image-only surface patterns.
PATTERNS: tuple[str, ...] = ("solid", "stripes", "check", "dots", "monogram", "chevron")
HARDWARE: tuple[str, ...] = ("gold", "palladium")
#: Spread (σ of the log) of the items' latent popularity: the source of the popularity skew.
POPULARITY_SIGMA = 1.4

#: Text-only attributes.
OCCASIONS: dict[str, tuple[str, ...]] = {
    "evening": ("gala evenings", "cocktail hours", "nights at the opera", "candlelit dinners"),
    "office": ("the working week", "boardroom mornings", "client meetings", "the daily commute"),
    "weekend": ("slow weekends", "Sunday brunch", "country walks", "lazy Saturday markets"),
    "travel": ("long-haul flights", "city breaks", "airport lounges", "grand tours by train"),
    "wedding": ("weddings", "garden ceremonies", "wedding receptions", "the bridal party"),
    "resort": ("beach clubs", "yacht decks", "poolside afternoons", "summers on the coast"),
}
COLLECTIONS: dict[str, str] = {
    "Riviera": "the Riviera Resort 2026 collection",
    "Nocturne": "the Nocturne Autumn-Winter 2026 collection",
    "Atelier": "the Atelier Pre-Fall 2026 collection",
    "Alpine": "the Alpine Winter 2026 capsule",
    "Jardin": "the Jardin Spring-Summer 2027 collection",
}
ORIGINS: dict[str, str] = {
    "Italy": "Tuscan",
    "France": "French",
    "Scotland": "Scottish",
    "Japan": "Japanese",
    "Portugal": "Portuguese",
}
SUSTAINABILITY: dict[str, str] = {
    "recycled": "made with recycled {material}",
    "organic": "made with organic {material} and plant dyes",
    "traceable": "traceable from source to atelier",
    "conventional": "made in a limited edition",
}
#: The adjective the copy puts before the product noun for each occasion.
OCCASION_ADJECTIVES: dict[str, str] = {
    "evening": "evening",
    "office": "office",
    "weekend": "weekend",
    "travel": "travel",
    "wedding": "bridal",
    "resort": "resort",
}
MATERIAL_WORDS: dict[str, str] = {
    "leather": "calfskin",
    "silk": "silk twill",
    "wool": "double-faced wool",
    "cashmere": "cashmere",
    "metal": "18-carat vermeil",
    "acetate": "hand-polished acetate",
}
CRAFT: dict[str, tuple[str, ...]] = {
    "leather": ("hand-stitched in our Florence atelier", "edge-painted by hand in eleven coats"),
    "silk": ("hand-rolled and hand-finished", "cut on the bias by our couture workshop"),
    "wool": ("tailored with a hand-set collar", "cut and sewn by our master tailors"),
    "cashmere": ("knitted on heritage frames", "linked by hand at every seam"),
    "metal": ("set and polished by our jewellers", "cast and engraved by hand"),
    "acetate": ("polished by hand for three days", "assembled by our eyewear artisans"),
}


def _hardware_phrase(category: str, hardware: str) -> str:
    tone = "gold-tone" if hardware == "gold" else "palladium"
    if CATEGORY_BY_NAME[category].material == "metal":
        return "yellow gold" if hardware == "gold" else "white gold"
    return f"{tone} hardware"


def generate_attributes(n_items: int, rng: np.random.Generator, n_drops: int) -> pd.DataFrame:
    """One row per item with every attribute drawn independently (ids ``0..n_items-1``)."""
    cats = [c.name for c in CATEGORIES]
    # Balanced categories in a shuffled order: every category has n_items / 14 ± 1 items.
    category = np.resize(np.arange(len(cats)), n_items)
    rng.shuffle(category)
    frame = pd.DataFrame(
        {
            "item_id": np.arange(n_items, dtype=np.int64),
            "category": [cats[c] for c in category],
            "style": "",
            "colour": rng.choice(list(COLOURS), n_items),
            "shade": rng.choice(list(SHADES), n_items),
            "pattern": rng.choice(PATTERNS, n_items),
            "hardware": rng.choice(HARDWARE, n_items),
            "occasion": rng.choice(list(OCCASIONS), n_items),
            "collection": rng.choice(list(COLLECTIONS), n_items),
            "material_origin": rng.choice(list(ORIGINS), n_items),
            "sustainability": rng.choice(list(SUSTAINABILITY), n_items),
            "drop": rng.integers(0, n_drops, n_items),
            # Latent demand, heavy-tailed (log-normal): drives the popularity skew.
            "popularity": np.round(
                rng.lognormal(mean=0.0, sigma=POPULARITY_SIGMA, size=n_items), 4
            ),
        }
    )
    frame["style"] = [
        CATEGORY_BY_NAME[c].styles[int(k)]
        for c, k in zip(frame["category"], rng.integers(0, 3, n_items), strict=True)
    ]
    frame["material"] = [CATEGORY_BY_NAME[c].material for c in frame["category"]]
    return frame


def write_copy(row: pd.Series, rng: np.random.Generator) -> tuple[str, str]:
    """The title and the two-sentence description of one item, in the house's voice.

    Only both-modality and text-only attributes are named; pattern and shade never are.
    """
    colour = str(row["colour"])
    material = str(row["material"])
    material_word = MATERIAL_WORDS[material]
    origin = ORIGINS[str(row["material_origin"])]
    occasion = str(row["occasion"])
    adjective = OCCASION_ADJECTIVES[occasion]
    title = f"{row['collection']} {adjective.capitalize()} {row['style']} in {colour.capitalize()}"
    craft = CRAFT[material][int(rng.integers(0, len(CRAFT[material])))]
    noun = f"{adjective} {str(row['style']).lower()}"
    if row["category"] == "sunglasses":
        article = "A pair of"
    else:
        article = "An" if noun[0] in "aeiou" else "A"
    hardware = _hardware_phrase(str(row["category"]), str(row["hardware"]))
    moments = rng.choice(OCCASIONS[occasion], 2, replace=False)
    if material == "metal":
        first = (
            f"{article} {noun} for {moments[0]} and {moments[1]}, in {origin} {hardware} "
            f"set with a {colour} stone."
        )
    else:
        first = (
            f"{article} {noun} for {moments[0]} and {moments[1]}, in {colour} {origin} "
            f"{material_word} with {hardware}."
        )
    sustain = SUSTAINABILITY[str(row["sustainability"])].format(material=material_word)
    second = f"{craft[0].upper()}{craft[1:]} for {COLLECTIONS[str(row['collection'])]}, {sustain}."
    return title, f"{first} {second}"
