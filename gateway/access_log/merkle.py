"""RFC 6962 / RFC 9162 Merkle tree math, as plain functions over hashes; no storage, no I/O.

A node is named by (level, index): the perfect subtree of 2**level leaves starting at leaf
index * 2**level. Every hash a proof needs is either such a node or the hash of a range that
ends at the tree's size, which is folded from the range's perfect subtrees ("peaks").
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

Node = tuple[int, int]  # (level, index)

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than n (n > 1), where RFC 6962 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(start: int, end: int) -> list[Node]:
    """The perfect subtrees that make up MTH(D[start:end]), left to right.

    Valid for the ranges RFC 6962's recursion produces: `start` is aligned to the range's size.
    """
    nodes = []
    while start < end:
        size = split_point(end - start) if end - start > 1 else 1
        if (end - start) & (end - start - 1) == 0:
            size = end - start
        level = size.bit_length() - 1
        nodes.append((level, start >> level))
        start += size
    return nodes


def fold(peaks: Sequence[bytes]) -> bytes:
    """The hash of a range from its perfect subtrees, combined right to left as RFC 6962 does."""
    if not peaks:
        return EMPTY_ROOT
    digest = peaks[-1]
    for peak in reversed(peaks[:-1]):
        digest = node_hash(peak, digest)
    return digest


@dataclass(frozen=True)
class Part:
    """One element of a proof: the hash of leaves [start, end), built from `nodes`."""

    start: int
    end: int

    @property
    def nodes(self) -> list[Node]:
        return range_nodes(self.start, self.end)


def inclusion_parts(index: int, size: int) -> list[Part]:
    """PATH(m, D[n]) of RFC 6962 §2.1.1, as ranges, leaf side first."""
    if not 0 <= index < size:
        raise ValueError("leaf index outside the tree")
    parts: list[Part] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index - start < k:
            parts.append(Part(start + k, end))
            end = start + k
        else:
            parts.append(Part(start, start + k))
            start += k
    return list(reversed(parts))


def consistency_parts(first: int, second: int) -> list[Part]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 6962 §2.1.2, as ranges."""
    if not 0 < first <= second:
        raise ValueError("need 0 < first <= second")
    parts: list[Part] = []
    start, end, m, whole = 0, second, first, True
    while True:
        n = end - start
        if m == n:
            if not whole:
                parts.append(Part(start, end))
            break
        k = split_point(n)
        if m <= k:
            parts.append(Part(start + k, end))
            end = start + k
        else:
            parts.append(Part(start, start + k))
            start, m, whole = start + k, m - k, False
    return list(reversed(parts))


def resolve(parts: Iterable[Part], lookup: Callable[[Node], bytes]) -> list[bytes]:
    return [fold([lookup(node) for node in part.nodes]) for part in parts]


def needed_nodes(parts: Iterable[Part]) -> set[Node]:
    return {node for part in parts for node in part.nodes}


def peaks_of(size: int) -> list[Node]:
    """The perfect subtrees of a tree of `size` leaves: its right edge, from which it grows."""
    return range_nodes(0, size)


@dataclass
class CompactRange:
    """The right edge of a growing tree: append leaves, get the root, see the nodes completed."""

    size: int = 0
    peaks: list[tuple[int, bytes]] = field(default_factory=list)  # (level, hash), left to right

    @classmethod
    def from_peaks(cls, size: int, hashes: Sequence[bytes]) -> CompactRange:
        levels = [level for level, _index in peaks_of(size)]
        if len(levels) != len(hashes):
            raise ValueError("wrong number of peaks for the tree size")
        return cls(size, list(zip(levels, hashes, strict=True)))

    def append(self, leaf: bytes, completed: list[tuple[int, int, bytes]] | None = None) -> None:
        """Add one leaf hash; interior nodes it completes go to `completed` as (level, idx, h)."""
        self.append_node(0, leaf, completed)

    def append_node(
        self, level: int, digest: bytes, completed: list[tuple[int, int, bytes]] | None = None
    ) -> None:
        """Add a whole perfect subtree of 2**level leaves; the tree's size must be aligned."""
        if self.size % (1 << level):
            raise ValueError("a subtree joins the tree only at a multiple of its size")
        added, index = 1 << level, self.size >> level
        peaks = self.peaks
        while peaks and peaks[-1][0] == level:
            _, left = peaks.pop()
            digest = node_hash(left, digest)
            level += 1
            index >>= 1
            if completed is not None:
                completed.append((level, index, digest))
        peaks.append((level, digest))
        self.size += added

    def root(self) -> bytes:
        return fold([digest for _level, digest in self.peaks])


def verify_inclusion(
    *, index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    *, first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2."""
    if first > second or first == 0:
        return False
    if first == second:
        return not proof and first_root == second_root
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first tree is a node of the second
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root
