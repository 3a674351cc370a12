#!/usr/bin/env python3
"""Writes build/icon.png (512x512): a tunnel mouth, a ring over a rounded square, in the app's blue.
Pure Python (zlib + struct), so it needs no image tools; electron-builder derives .icns and .ico from it."""
import math, struct, zlib, os

N = 512
BG, RING, CORE = (29, 78, 216), (255, 255, 255), (14, 36, 104)

def px(x, y):
    # Rounded-square background with antialiased edges, transparent outside.
    r, m = 96, 16
    dx = max(m + r - x - 0.5, 0, x + 0.5 - (N - m - r)); dy = max(m + r - y - 0.5, 0, y + 0.5 - (N - m - r))
    a = min(1.0, max(0.0, r + 0.5 - math.hypot(dx, dy)))
    if a <= 0: return (0, 0, 0, 0)
    d = math.hypot(x + 0.5 - N / 2, y + 0.5 - N / 2)
    c = BG
    if d < 168: c = RING
    if d < 120: c = CORE
    # A light path through the tunnel, left to right.
    if abs(y + 0.5 - N / 2) < 14 and 96 < x < 416: c = RING
    return (*c, int(255 * a))

rows = b''.join(b'\x00' + b''.join(struct.pack('BBBB', *px(x, y)) for x in range(N)) for y in range(N))
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', N, N, 8, 6, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(rows, 9)) + chunk(b'IEND', b'')
os.makedirs('build', exist_ok=True)
open('build/icon.png', 'wb').write(png)
