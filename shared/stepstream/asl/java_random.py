"""The random number generator of ``java.util.Random``, for seeded States.MathRandom."""

from __future__ import annotations


class JavaRandom:
    """The 48-bit linear congruential generator of ``java.util.Random``.

    A seeded MathRandom must give the same number for the same seed on every machine and
    every Python version, forever, because histories are replayed; Python's own
    ``random`` promises that only for ``random()``, not for integer draws.
    """

    _MULTIPLIER = 0x5DEECE66D
    _MASK = (1 << 48) - 1

    def __init__(self, seed: int) -> None:
        self._seed = (seed ^ self._MULTIPLIER) & self._MASK

    def next_bits(self, bits: int) -> int:
        self._seed = (self._seed * self._MULTIPLIER + 0xB) & self._MASK
        value = self._seed >> (48 - bits)
        return value - (1 << 32) if bits == 32 and value >= 1 << 31 else value

    def next_int(self, bound: int) -> int:
        """A draw from [0, bound), exactly as ``Random.nextInt(bound)``."""
        value = self.next_bits(31)
        if bound & (bound - 1) == 0:
            return (bound * value) >> 31
        while True:
            result = value % bound
            if value - result + bound - 1 < 1 << 31:
                return result
            value = self.next_bits(31)
