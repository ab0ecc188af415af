"""The photo catalogue's copy: attributes only the words state, titles, descriptions, prices.

Each photo becomes one item. What the photo shows (garment class, colour, brightness) is
given; what only the copy states is drawn here, independently of the photo and of each
other: ``occasion``, ``collection``, ``material`` (among those plausible for the class),
``care`` (among those plausible for the material) and ``sustainability``. The title and a
two-sentence description in a retailer's voice are written from templates, several per slot,
so that two items with the same attributes rarely read the same. The copy names the class,
the colour and every copy-only attribute; it never names the brightness.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOUSE_NAME = "Atelier Nord"


@dataclass(frozen=True)
class GarmentClass:
    """A garment class: the nouns the copy uses, plausible materials and a base price."""

    name: str
    nouns: tuple[str, ...]
    materials: tuple[str, ...]
    base_price: float


GARMENT_CLASSES: dict[str, GarmentClass] = {
    g.name: g
    for g in (
        GarmentClass("dress", ("dress", "midi dress", "shift dress", "day dress"),
                     ("cotton", "linen", "viscose", "silk", "jersey"), 89.0),
        GarmentClass("hat", ("cap", "hat", "baseball cap", "bucket hat"),
                     ("cotton twill", "wool", "canvas", "corduroy"), 29.0),
        GarmentClass("longsleeve", ("long-sleeve top", "long-sleeve tee", "jumper", "sweatshirt"),
                     ("cotton jersey", "merino wool", "modal", "brushed cotton"), 49.0),
        GarmentClass("outwear", ("jacket", "coat", "parka", "overshirt"),
                     ("wool", "nylon", "cotton canvas", "denim", "fleece"), 149.0),
        GarmentClass("pants", ("trousers", "chinos", "joggers", "jeans"),
                     ("cotton twill", "denim", "linen", "wool"), 69.0),
        GarmentClass("shirt", ("shirt", "oxford shirt", "button-down shirt", "overshirt"),
                     ("cotton poplin", "oxford cotton", "linen", "flannel"), 59.0),
        GarmentClass("shoes", ("trainers", "sneakers", "loafers", "boots"),
                     ("leather", "suede", "canvas", "knit"), 99.0),
        GarmentClass("shorts", ("shorts", "chino shorts", "swim shorts", "bermuda shorts"),
                     ("cotton", "linen", "nylon", "denim"), 39.0),
        GarmentClass("skirt", ("skirt", "midi skirt", "pleated skirt", "A-line skirt"),
                     ("cotton", "wool", "viscose", "denim"), 59.0),
        GarmentClass("t-shirt", ("T-shirt", "tee", "crew-neck tee", "boxy tee"),
                     ("organic cotton", "cotton jersey", "slub cotton", "linen blend"), 25.0),
    )
}  # fmt: skip
#: Used for a class folder the table above does not know (its name is the noun).
DEFAULT_MATERIALS: tuple[str, ...] = ("cotton", "wool", "linen", "polyester")

#: occasion → the phrases the copy uses for it.
OCCASIONS: dict[str, tuple[str, ...]] = {
    "workwear": ("the office", "long days at work", "the working week"),
    "weekend": ("slow weekends", "Saturday errands", "days off"),
    "evening": ("evenings out", "dinner plans", "late nights in town"),
    "travel": ("travel", "long journeys", "a weekend away"),
    "outdoor": ("the outdoors", "country walks", "trail days"),
    "lounge": ("staying in", "lazy Sundays", "lounging at home"),
}
#: collection → its one-line identity in the copy.
COLLECTIONS: dict[str, str] = {
    "Harbour": "our coastal Harbour line",
    "Meridian": "the clean-lined Meridian range",
    "Fieldnote": "Fieldnote, our utility collection",
    "Solstice": "the sun-washed Solstice edit",
    "Nocturne": "Nocturne, our night-time edit",
    "Heritage": "the Heritage line of archive shapes",
}
#: sustainability → the claim the copy makes (``standard`` makes none).
SUSTAINABILITY: dict[str, str] = {
    "organic": "made from certified organic fibres",
    "recycled": "made with recycled yarns",
    "fair-trade": "sewn in a Fairtrade-certified factory",
    "standard": "",
}
#: care instruction → the materials it suits (empty: any material).
CARE: dict[str, tuple[str, ...]] = {
    "machine wash 30": (),
    "machine wash 40": ("cotton", "denim", "jersey", "twill", "canvas", "poplin", "fleece"),
    "hand wash": ("wool", "merino", "silk", "viscose", "linen", "modal"),
    "dry clean": ("wool", "silk", "viscose"),
    "wipe clean": ("leather", "suede", "canvas"),
}
CARE_PHRASES: dict[str, tuple[str, ...]] = {
    "machine wash 30": ("machine wash at 30°C", "machine washable at 30°C"),
    "machine wash 40": ("machine wash at 40°C", "washable at 40°C"),
    "hand wash": ("hand wash cold", "wash gently by hand"),
    "dry clean": ("dry clean only", "professional dry clean only"),
    "wipe clean": ("wipe clean with a damp cloth", "a damp cloth is all the care needed"),
}
#: Leather and suede items never go in the machine.
NO_MACHINE: tuple[str, ...] = ("leather", "suede")

TITLE_TEMPLATES: tuple[str, ...] = (
    "The {collection} {Noun}",
    "{Colour} {Material} {Noun}",
    "{collection} {Material} {Noun} in {Colour}",
    "{collection} {Colour} {Noun}",
)
FIRST_SENTENCES: tuple[str, ...] = (
    "{a}{colour} {noun} cut from {material}, made for {occasion}.",
    "Our {material} {noun} in {colour} {is} an easy pick for {occasion}.",
    "Cut from {material}, {this} {colour} {noun} {was} designed with {occasion} in mind.",
    "{this} {colour} {noun} in {material} {earns} {its} place in a wardrobe built for {occasion}.",
)
SECOND_SENTENCES: tuple[str, ...] = (
    "{it} {belongs} to {collection_line}{claim}; {care}.",
    "Part of {collection_line}{claim} — {care}.",
    "A pick from {collection_line}{claim}: {care}.",
)
#: Words that agree with a singular or a plural noun ("this shirt is", "these boots are").
AGREEMENT: dict[bool, dict[str, str]] = {
    False: {"a": "a ", "this": "this", "is": "is", "was": "was", "earns": "earns", "its": "its",
            "it": "it", "belongs": "belongs"},
    True: {"a": "", "this": "these", "is": "are", "was": "were", "earns": "earn", "its": "their",
           "it": "they", "belongs": "belong"},
}  # fmt: skip
#: Nouns ending in "s" that are singular.
SINGULAR_S: tuple[str, ...] = ("dress",)


def is_plural(noun: str) -> bool:
    """Whether the copy treats ``noun`` as plural (trainers, jeans, shorts...)."""
    return noun.endswith("s") and not noun.endswith(SINGULAR_S)


def _plausible_care(material: str) -> list[str]:
    m = material.lower()
    out = []
    for care, suits in CARE.items():
        if care.startswith("machine") and any(w in m for w in NO_MACHINE):
            continue
        if not suits or any(w in m for w in suits):
            out.append(care)
    return out


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _title_case(text: str) -> str:
    return " ".join(w if w[:1].isupper() else _cap(w) for w in text.split(" "))


@dataclass(frozen=True)
class ItemCopy:
    """The copy-only attributes of one item, its title, description and price."""

    noun: str
    occasion: str
    collection: str
    material: str
    care: str
    sustainability: str
    title: str
    description: str
    price: float


def write_item(garment_class: str, colour: str, kids: bool, rng: np.random.Generator) -> ItemCopy:
    """Draw the copy-only attributes of one item and write its title and description."""
    g = GARMENT_CLASSES.get(garment_class)
    nouns = g.nouns if g else (garment_class.replace("-", " "),)
    materials = g.materials if g else DEFAULT_MATERIALS
    noun = str(rng.choice(nouns))
    occasion = str(rng.choice(list(OCCASIONS)))
    collection = str(rng.choice(list(COLLECTIONS)))
    material = str(rng.choice(materials))
    care = str(rng.choice(_plausible_care(material)))
    sustainability = str(rng.choice(list(SUSTAINABILITY)))
    shown_noun = f"kids' {noun}" if kids else noun
    title = str(rng.choice(TITLE_TEMPLATES)).format(
        collection=collection,
        Noun=_title_case(shown_noun),
        Colour=_cap(colour),
        Material=_title_case(material),
    )
    words = AGREEMENT[is_plural(noun)]
    first = str(rng.choice(FIRST_SENTENCES)).format(
        **words,
        colour=colour,
        noun=shown_noun,
        material=material,
        occasion=str(rng.choice(OCCASIONS[occasion])),
    )
    claim = SUSTAINABILITY[sustainability]
    second = str(rng.choice(SECOND_SENTENCES)).format(
        **words,
        collection_line=COLLECTIONS[collection],
        claim=f", {claim}" if claim else "",
        care=str(rng.choice(CARE_PHRASES[care])),
    )
    base = g.base_price if g else 49.0
    premium = {"Heritage": 1.25, "Nocturne": 1.15}.get(collection, 1.0)
    premium *= 1.2 if sustainability != "standard" else 1.0
    premium *= 0.7 if kids else 1.0
    raw = base * premium * float(np.exp(rng.normal(0.0, 0.2)))
    price = max(4.99, round(raw / 5.0) * 5.0 - 0.01)
    return ItemCopy(
        noun=noun,
        occasion=occasion,
        collection=collection,
        material=material,
        care=care,
        sustainability=sustainability,
        title=title,
        description=f"{_cap(first)} {_cap(second)}",
        price=round(price, 2),
    )
