"""The deterministic stream of shared/fixtures/SPEC.md (`det`), vectorised: the bench's inputs in Python."""
import numpy as np


def fnv1a32(text: str) -> int:
    h = 0x811C9DC5
    for b in text.encode("utf-8"):
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def det(seed: str, n: int, scale: float = 1.0) -> np.ndarray:
    h = np.uint64(fnv1a32(seed))
    mask = np.uint64(0xFFFFFFFF)
    z = (h + np.arange(n, dtype=np.uint64) * np.uint64(0x9E3779B9)) & mask
    z ^= z >> np.uint64(16)
    z = (z * np.uint64(0x85EBCA6B)) & mask
    z ^= z >> np.uint64(13)
    z = (z * np.uint64(0xC2B2AE35)) & mask
    z ^= z >> np.uint64(16)
    return ((z.astype(np.float64) * 2.0 ** -31 - 1.0) * scale).astype(np.float32)
