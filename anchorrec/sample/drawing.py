"""Product pictures of the sample catalogue, drawn with PIL.

Each picture shows the item's category (a silhouette), its colour (hue) and shade (lightness),
its pattern (a texture on the body), its material (gloss for leather and acetate, knit ribs for
cashmere, sheen for silk, a woollen speck, polished metal) and its hardware tone. Nothing in
the picture encodes the text-only attributes (occasion, origin, sustainability, collection) or
the hidden drop.
"""

from __future__ import annotations

import colorsys
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from anchorrec.sample.boutique_items import CATEGORY_BY_NAME, COLOURS, SHADES

#: Pictures are drawn at this multiple of the output size, then downsampled (anti-aliasing).
SUPERSAMPLE = 2
BACKGROUND = (246, 244, 241)
HARDWARE_RGB = {"gold": (212, 172, 72), "palladium": (196, 199, 206)}
CREAM = (246, 240, 226)
#: How much lighter (HLS lightness) a pattern's details are than the item's shade.
PATTERN_LIFT = 0.2

Point = tuple[float, float]


def shade_rgb(colour: str, shade: str, jitter: np.ndarray | None = None) -> tuple[int, int, int]:
    """The RGB of ``colour`` at ``shade`` (optionally nudged by a small (hue, lightness) jitter)."""
    hue, sat = COLOURS[colour]
    light = SHADES[shade]
    if jitter is not None:
        hue += float(jitter[0])
        light += float(jitter[1])
    r, g, b = colorsys.hls_to_rgb((hue % 360.0) / 360.0, min(max(light, 0.05), 0.95), sat)
    return int(round(r * 255)), int(round(g * 255)), int(round(b * 255))


def _mix(a: np.ndarray, b: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    return a * (1.0 - t) + b * t


def pattern_texture(
    pattern: str, base: tuple[int, int, int], contrast: tuple[int, int, int], size: int, phase: int
) -> Image.Image:
    """A ``size``×``size`` RGB texture of ``pattern`` in ``base`` with ``contrast`` details."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    xx += phase
    yy += phase // 2
    b = np.asarray(base, np.float32)
    c = np.asarray(contrast, np.float32)
    unit = size / 14.0
    if pattern == "solid":
        t = np.zeros_like(xx)
    elif pattern == "stripes":
        t = ((xx // unit) % 2 == 1).astype(np.float32)
    elif pattern == "check":
        bx = ((xx // (unit * 1.2)) % 2 == 1).astype(np.float32)
        by = ((yy // (unit * 1.2)) % 2 == 1).astype(np.float32)
        t = 0.45 * bx + 0.45 * by + 0.1 * bx * by
    elif pattern == "dots":
        g = unit * 2.0
        row = yy // g
        cx = (xx + (row % 2) * g / 2) % g - g / 2
        cy = yy % g - g / 2
        t = ((cx**2 + cy**2) <= (g * 0.26) ** 2).astype(np.float32)
    elif pattern == "chevron":
        p = unit * 2.4
        t = (((yy + np.abs(xx % p - p / 2)) // unit) % 2 == 1).astype(np.float32)
    elif pattern == "monogram":
        g = unit * 2.6
        row = yy // g
        cx = (xx + (row % 2) * g / 2) % g - g / 2
        cy = yy % g - g / 2
        diamond = (np.abs(cx) + np.abs(cy)) <= g * 0.34
        hole = (np.abs(cx) + np.abs(cy)) <= g * 0.17
        dot = (cx**2 + cy**2) <= (g * 0.08) ** 2
        t = ((diamond & ~hole) | dot).astype(np.float32)
    else:
        raise ValueError(f"unknown pattern {pattern!r}")
    shading = 1.0 - 0.10 * (yy - phase // 2) / size  # soft top light
    rgb = _mix(b, c, t[..., None]) * shading[..., None]
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")


def _material_overlay(material: str, mask: Image.Image, rng: np.random.Generator) -> Image.Image:
    """An RGBA layer (limited to ``mask``) with the material's surface cue."""
    size = mask.size[0]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    rgba = np.zeros((size, size, 4), np.float32)
    m = np.asarray(mask, np.float32) / 255.0
    if material in ("leather", "acetate"):
        box = mask.getbbox() or (0, 0, size, size)
        cx = box[0] + 0.32 * (box[2] - box[0])
        cy = box[1] + 0.28 * (box[3] - box[1])
        rx, ry = 0.22 * (box[2] - box[0]) + 1, 0.16 * (box[3] - box[1]) + 1
        d = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2
        strength = 150.0 if material == "acetate" else 110.0
        rgba[..., :3] = 255.0
        rgba[..., 3] = np.clip(1.0 - d, 0, 1) ** 1.5 * strength
    elif material == "silk":
        rgba[..., :3] = 255.0
        rgba[..., 3] = np.clip(np.sin((xx + yy) / (size / 9.0)), 0, 1) ** 4 * 70.0
    elif material == "cashmere":
        period = size / 40.0
        rib = np.abs(((xx % period) / period) - 0.5) * 2.0
        stitch = np.abs(((yy + np.abs(xx % period - period / 2)) % period) / period - 0.5)
        rgba[..., 3] = (0.6 * rib + 0.4 * stitch) * 70.0
    elif material == "wool":
        rgba[..., :3] = 0.0
        rgba[..., 3] = rng.random((size, size)) * 38.0
    rgba[..., 3] *= m
    return Image.fromarray(np.clip(rgba, 0, 255).astype(np.uint8), "RGBA")


def _metal_fill(hardware: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    base = HARDWARE_RGB[hardware]
    light = tuple(min(255, int(v * 1.18) + 20) for v in base)
    return base, light  # type: ignore[return-value]


# ------------------------------------------------------------------ silhouettes
# Each draws the textured body on ``mask`` (255 = body) and returns the detail painter that
# runs on the canvas after the body is pasted. ``P`` maps unit coordinates to pixels.


def _silhouette(
    category: str, style: int, P: Callable[[float, float], Point], w: float, dark, metal
) -> tuple[Callable[[ImageDraw.ImageDraw], None], Callable[[ImageDraw.ImageDraw], None]]:
    def poly(pts: list[Point]) -> list[Point]:
        return [P(x, y) for x, y in pts]

    def box(x0: float, y0: float, x1: float, y1: float) -> list[Point]:
        return [P(x0, y0), P(x1, y1)]

    lw = max(2, int(w * 0.018))
    hw, hw_light = metal

    if category == "handbag":

        def body(d):
            d.polygon(poly([(0.2, 0.42), (0.8, 0.42), (0.87, 0.84), (0.13, 0.84)]), fill=255)

        def details(d):
            if style == 0:
                d.arc(box(0.3, 0.1, 0.7, 0.74), 180, 360, fill=hw, width=lw)
            else:
                d.arc(box(0.34, 0.22, 0.66, 0.62), 180, 360, fill=dark, width=lw * 3)
            d.line(poly([(0.2, 0.43), (0.5, 0.64), (0.8, 0.43)]), fill=dark, width=lw)
            d.ellipse(box(0.46, 0.6, 0.54, 0.68), fill=hw, outline=hw_light)

    elif category == "tote":

        def body(d):
            d.polygon(poly([(0.2, 0.36), (0.8, 0.36), (0.84, 0.88), (0.16, 0.88)]), fill=255)

        def details(d):
            d.arc(box(0.26, 0.08, 0.46, 0.64), 180, 360, fill=dark, width=lw * 2)
            d.arc(box(0.54, 0.08, 0.74, 0.64), 180, 360, fill=dark, width=lw * 2)
            d.line(poly([(0.2, 0.42), (0.8, 0.42)]), fill=dark, width=lw)

    elif category == "clutch":

        def body(d):
            d.rounded_rectangle(box(0.1, 0.38, 0.9, 0.74), radius=int(w * 0.03), fill=255)

        def details(d):
            d.line(poly([(0.11, 0.39), (0.5, 0.62), (0.89, 0.39)]), fill=dark, width=lw)
            d.rectangle(box(0.44, 0.59, 0.56, 0.64), fill=hw)
            if style == 1:
                d.line(poly([(0.1, 0.38), (0.02, 0.2)]), fill=hw, width=lw)

    elif category == "sneakers":
        upper = [
            (0.1, 0.66),
            (0.16, 0.46),
            (0.3, 0.42),
            (0.46, 0.4),
            (0.62, 0.5),
            (0.86, 0.56),
            (0.92, 0.66),
        ]

        def body(d):
            d.polygon(poly(upper), fill=255)

        def details(d):
            d.rounded_rectangle(
                box(0.08, 0.64, 0.94, 0.76),
                radius=int(w * 0.04),
                fill=CREAM,
                outline=(200, 196, 188),
                width=lw,
            )
            for k in range(4):
                x = 0.46 + 0.045 * k
                d.line(
                    poly([(x, 0.42 + 0.03 * k), (x + 0.05, 0.48 + 0.03 * k)]), fill=CREAM, width=lw
                )
            d.line(poly([(0.2, 0.6), (0.6, 0.6)]), fill=dark, width=lw)

    elif category == "heels":
        shoe = [
            (0.14, 0.36),
            (0.28, 0.36),
            (0.42, 0.52),
            (0.64, 0.56),
            (0.86, 0.6),
            (0.9, 0.67),
            (0.84, 0.7),
            (0.5, 0.7),
            (0.34, 0.62),
            (0.24, 0.56),
            (0.17, 0.5),
        ]

        def body(d):
            d.polygon(poly(shoe), fill=255)
            d.polygon(poly([(0.15, 0.46), (0.24, 0.52), (0.22, 0.86), (0.19, 0.86)]), fill=255)

        def details(d):
            d.line(poly([(0.5, 0.7), (0.86, 0.69)]), fill=dark, width=lw * 2)
            if style == 1:
                d.line(poly([(0.16, 0.4), (0.3, 0.48)]), fill=hw, width=lw)
            d.rectangle(box(0.185, 0.84, 0.225, 0.88), fill=dark)

    elif category == "boots":
        top = 0.36 if style != 1 else 0.1

        def body(d):
            d.polygon(
                poly(
                    [(0.3, top), (0.56, top), (0.56, 0.56), (0.82, 0.66), (0.86, 0.8), (0.28, 0.8)]
                ),
                fill=255,
            )

        def details(d):
            d.rectangle(box(0.27, 0.8, 0.42, 0.88), fill=dark)
            d.line(poly([(0.42, 0.81), (0.87, 0.81)]), fill=dark, width=lw * 2)
            if style == 2:
                d.rectangle(box(0.4, top + 0.04, 0.52, 0.52), fill=(60, 60, 60))
            d.ellipse(box(0.51, top + 0.1, 0.55, top + 0.14), fill=hw)

    elif category == "dress":

        def body(d):
            d.polygon(poly([(0.37, 0.18), (0.63, 0.18), (0.6, 0.42), (0.4, 0.42)]), fill=255)
            flare = 0.22 if style != 0 else 0.28
            d.polygon(poly([(0.4, 0.41), (0.6, 0.41), (1 - flare, 0.9), (flare, 0.9)]), fill=255)

        def details(d):
            d.line(poly([(0.39, 0.19), (0.42, 0.06)]), fill=dark, width=lw)
            d.line(poly([(0.61, 0.19), (0.58, 0.06)]), fill=dark, width=lw)
            d.line(poly([(0.4, 0.42), (0.6, 0.42)]), fill=dark, width=lw * 2)

    elif category == "coat":

        def body(d):
            d.polygon(poly([(0.3, 0.14), (0.7, 0.14), (0.75, 0.9), (0.25, 0.9)]), fill=255)
            d.polygon(poly([(0.3, 0.15), (0.16, 0.66), (0.23, 0.68), (0.33, 0.32)]), fill=255)
            d.polygon(poly([(0.7, 0.15), (0.84, 0.66), (0.77, 0.68), (0.67, 0.32)]), fill=255)

        def details(d):
            d.line(poly([(0.4, 0.14), (0.5, 0.42), (0.6, 0.14)]), fill=dark, width=lw * 2)
            d.line(poly([(0.5, 0.42), (0.52, 0.9)]), fill=dark, width=lw)
            for y in (0.5, 0.62, 0.74):
                d.ellipse(box(0.545, y, 0.585, y + 0.04), fill=hw)
            if style == 1:
                d.line(poly([(0.27, 0.5), (0.73, 0.5)]), fill=dark, width=lw * 3)

    elif category == "knitwear":

        def body(d):
            d.rectangle(box(0.28, 0.2, 0.72, 0.8), fill=255)
            d.polygon(poly([(0.28, 0.2), (0.12, 0.72), (0.2, 0.74), (0.3, 0.4)]), fill=255)
            d.polygon(poly([(0.72, 0.2), (0.88, 0.72), (0.8, 0.74), (0.7, 0.4)]), fill=255)

        def details(d):
            for y in (0.76, 0.78):
                d.line(poly([(0.28, y), (0.72, y)]), fill=dark, width=lw)
            if style == 2:
                d.rectangle(box(0.42, 0.12, 0.58, 0.22), fill=dark)
            else:
                d.arc(box(0.4, 0.12, 0.6, 0.3), 0, 180, fill=dark, width=lw * 2)
            if style == 1:
                d.line(poly([(0.5, 0.28), (0.5, 0.8)]), fill=dark, width=lw)

    elif category == "scarf":
        if style == 0:
            shape = [(0.5, 0.1), (0.9, 0.5), (0.5, 0.9), (0.1, 0.5)]
        else:
            shape = [(0.14, 0.22), (0.3, 0.12), (0.86, 0.76), (0.7, 0.86)]

        def body(d):
            d.polygon(poly(shape), fill=255)

        def details(d):
            a, b = shape[2], shape[3]
            for k in range(9):
                t = (k + 0.5) / 9
                x = a[0] + (b[0] - a[0]) * t
                y = a[1] + (b[1] - a[1]) * t
                d.line(poly([(x, y), (x + 0.02, y + 0.05)]), fill=dark, width=lw)

    elif category == "watch":

        def body(d):
            d.rounded_rectangle(box(0.4, 0.06, 0.6, 0.94), radius=int(w * 0.03), fill=255)

        def details(d):
            if style == 2:
                d.rectangle(box(0.3, 0.3, 0.7, 0.7), fill=hw, outline=hw_light, width=lw)
                d.rectangle(box(0.35, 0.35, 0.65, 0.65), fill=CREAM)
            else:
                d.ellipse(box(0.28, 0.28, 0.72, 0.72), fill=hw, outline=hw_light, width=lw)
                d.ellipse(box(0.33, 0.33, 0.67, 0.67), fill=CREAM)
            d.line(poly([(0.5, 0.5), (0.5, 0.38)]), fill=(40, 40, 40), width=lw)
            d.line(poly([(0.5, 0.5), (0.6, 0.54)]), fill=(40, 40, 40), width=lw)
            if style == 1:
                for x, y in ((0.43, 0.56), (0.57, 0.44)):
                    d.ellipse(
                        box(x - 0.035, y - 0.035, x + 0.035, y + 0.035), outline=dark, width=lw
                    )

    elif category == "ring":

        def body(d):
            if style == 1:
                d.rounded_rectangle(box(0.3, 0.14, 0.7, 0.44), radius=int(w * 0.06), fill=255)
            else:
                d.ellipse(box(0.28, 0.1, 0.72, 0.5), fill=255)

        def details(d):
            d.ellipse(box(0.24, 0.38, 0.76, 0.9), outline=hw, width=lw * 5)
            d.ellipse(box(0.27, 0.41, 0.73, 0.87), outline=hw_light, width=lw)
            for x in (0.3, 0.7):
                d.ellipse(box(x - 0.04, 0.42, x + 0.04, 0.5), fill=hw)

    elif category == "necklace":

        def body(d):
            if style == 2:
                d.ellipse(box(0.32, 0.48, 0.68, 0.86), fill=255)
            else:
                d.polygon(poly([(0.5, 0.46), (0.68, 0.66), (0.5, 0.9), (0.32, 0.66)]), fill=255)

        def details(d):
            d.arc(box(0.16, -0.2, 0.84, 0.5), 0, 180, fill=hw, width=lw * (2 if style == 1 else 1))
            d.ellipse(box(0.47, 0.43, 0.53, 0.49), outline=hw, width=lw)

    elif category == "sunglasses":
        lens = [(0.08, 0.36, 0.47, 0.68), (0.53, 0.36, 0.92, 0.68)]

        def body(d):
            for x0, y0, x1, y1 in lens:
                if style == 1:
                    d.rectangle(box(x0, y0, x1, y1), fill=255)
                else:
                    d.ellipse(box(x0, y0, x1, y1), fill=255)
            d.rectangle(box(0.45, 0.42, 0.55, 0.47), fill=255)

        def details(d):
            for x0, y0, x1, y1 in lens:
                inner = box(x0 + 0.06, y0 + 0.06, x1 - 0.06, y1 - 0.06)
                if style == 1:
                    d.rectangle(inner, fill=(48, 46, 50))
                else:
                    d.ellipse(inner, fill=(48, 46, 50))
            d.ellipse(box(0.06, 0.38, 0.1, 0.42), fill=hw)
            d.ellipse(box(0.9, 0.38, 0.94, 0.42), fill=hw)

    else:
        raise ValueError(f"no silhouette for category {category!r}")
    return body, details


def draw_product(item: dict[str, object], size: int, rng: np.random.Generator) -> Image.Image:
    """The ``size``×``size`` RGB product picture of one catalogue item.

    ``item`` needs ``category``, ``style``, ``colour``, ``shade``, ``pattern``, ``material``
    and ``hardware``. ``rng`` only jitters framing and the exact tone (never an attribute).
    """
    w = size * SUPERSAMPLE
    category = str(item["category"])
    style = CATEGORY_BY_NAME[category].styles.index(str(item["style"]))
    base = shade_rgb(str(item["colour"]), str(item["shade"]), rng.uniform(-1, 1, 2) * [6.0, 0.035])
    # Tone-on-tone details: the pattern shows, and the item's overall lightness stays its shade.
    contrast = shade_rgb(str(item["colour"]), str(item["shade"]), np.array([0.0, PATTERN_LIFT]))
    dark = tuple(int(v * 0.55) for v in base)
    metal = _metal_fill(str(item["hardware"]))

    scale = rng.uniform(0.9, 1.02)
    ox, oy = rng.uniform(-0.03, 0.03, 2)

    def P(x: float, y: float) -> Point:
        return (((x - 0.5) * scale + 0.5 + ox) * w, ((y - 0.5) * scale + 0.5 + oy) * w)

    canvas = Image.new("RGB", (w, w), BACKGROUND)
    shadow = Image.new("L", (w, w), 0)
    ImageDraw.Draw(shadow).ellipse([P(0.16, 0.88), P(0.84, 0.97)], fill=60)
    shadow = shadow.filter(ImageFilter.GaussianBlur(w / 40))
    canvas.paste((200, 196, 190), mask=shadow)

    body, details = _silhouette(category, style, P, w, dark, metal)
    mask = Image.new("L", (w, w), 0)
    body(ImageDraw.Draw(mask))
    texture = pattern_texture(str(item["pattern"]), base, contrast, w, int(rng.integers(0, 40)))
    canvas.paste(texture, mask=mask)
    overlay = _material_overlay(str(item["material"]), mask, rng)
    canvas.paste(overlay.convert("RGB"), mask=overlay.getchannel("A"))
    edge = mask.filter(ImageFilter.FIND_EDGES).filter(ImageFilter.MaxFilter(3))
    canvas.paste(dark, mask=edge)
    details(ImageDraw.Draw(canvas))
    return canvas.resize((size, size), Image.Resampling.LANCZOS)
