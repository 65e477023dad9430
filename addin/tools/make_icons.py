#!/usr/bin/env python3
"""Draws the add-in's icons (addin/assets/icon-SIZE.png) with the standard library alone.

The icon: a calendar card with a tick on the brand-blue rounded square.
Every size the manifest names is drawn from the same shapes, supersampled
for smooth edges. Run it again after changing the shapes; commit the PNGs.

    python3 addin/tools/make_icons.py
"""

import math
import os
import struct
import zlib

SIZES = (16, 32, 64, 80, 128)
SAMPLES = 4  # per axis, per pixel

BRAND = (0x0F, 0x6C, 0xBD)
BRAND_DARK = (0x0C, 0x3B, 0x5E)
WHITE = (0xFF, 0xFF, 0xFF)
BAND = (0xCF, 0xE4, 0xFA)


def rounded_rect(x0, y0, x1, y1, r):
    """Inside test of a rounded rectangle in unit coordinates."""

    def inside(x, y):
        if x < x0 or x > x1 or y < y0 or y > y1:
            return False
        cx = min(max(x, x0 + r), x1 - r)
        cy = min(max(y, y0 + r), y1 - r)
        return (x - cx) ** 2 + (y - cy) ** 2 <= r * r

    return inside


def polyline(points, width):
    """Inside test of a thick polyline with round joins."""
    half = width / 2

    def near(x, y):
        for (ax, ay), (bx, by) in zip(points, points[1:]):
            dx, dy = bx - ax, by - ay
            t = ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)
            t = min(max(t, 0.0), 1.0)
            px, py = ax + t * dx, ay + t * dy
            if math.hypot(x - px, y - py) <= half:
                return True
        return False

    return near


def layers(size):
    """The shapes, back to front, with their colours. Small sizes get bolder strokes."""
    bold = 1.35 if size <= 16 else 1.15 if size <= 32 else 1.0
    return [
        (rounded_rect(0.0, 0.0, 1.0, 1.0, 0.2), BRAND),
        (rounded_rect(0.19, 0.25, 0.81, 0.82, 0.07), WHITE),
        (rounded_rect(0.19, 0.25, 0.81, 0.40, 0.07), BAND),
        (rounded_rect(0.19, 0.33, 0.81, 0.40, 0.0), BAND),
        (rounded_rect(0.31, 0.17, 0.39, 0.32, 0.035), BRAND_DARK),
        (rounded_rect(0.61, 0.17, 0.69, 0.32, 0.035), BRAND_DARK),
        (polyline([(0.34, 0.60), (0.46, 0.71), (0.67, 0.49)], 0.085 * bold), BRAND),
    ]


def render(size):
    shapes = layers(size)
    rows = []
    step = 1.0 / (size * SAMPLES)
    for py in range(size):
        row = bytearray([0])  # PNG filter type: none
        for px in range(size):
            r = g = b = a = 0.0
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    x = (px * SAMPLES + sx + 0.5) * step
                    y = (py * SAMPLES + sy + 0.5) * step
                    colour = None
                    for inside, c in shapes:
                        if inside(x, y):
                            colour = c
                    if colour is not None:
                        r += colour[0]
                        g += colour[1]
                        b += colour[2]
                        a += 1
            n = SAMPLES * SAMPLES
            if a:
                row += bytes([round(r / a), round(g / a), round(b / a), round(255 * a / n)])
            else:
                row += bytes([0, 0, 0, 0])
        rows.append(bytes(row))
    return png(size, size, b"".join(rows))


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png(width, height, raw):
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "assets")
    os.makedirs(out, exist_ok=True)
    for size in SIZES:
        path = os.path.join(out, f"icon-{size}.png")
        with open(path, "wb") as f:
            f.write(render(size))
        print(f"wrote {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
