"""Shower batches streamed from HDF5 files through a PyTorch DataLoader, never the whole set.

A sample's showers are cut into *slices* of consecutive showers in one file. Training batches pair
a slice of generated showers with a slice of truth showers (label 1 truth, 0 generated), so every
batch holds both classes in equal numbers; cycling through the truth slices while the generated
ones are used once is the paper's "truth set tiled to the generated set's size". Each DataLoader
work item is exactly one batch and the loader returns work items in order, so the sequence of
batches — and the trained network — does not depend on the number of workers. Showers within a
file are independent draws, so consecutive showers are as good a batch as random ones; the slice
order is shuffled.

Workers read with h5py (each opens its own file handles) and hand out float32 tensors; on CUDA the
loader pins them for asynchronous copies. With ``cls_low`` (the CaloChallenge's low-level input, for
its cylindrical geometries) a batch is not the showers but [log10 E_inc/MeV, voxels / E_inc] per
shower: the classifier then sees the incident energy, and its weights are w(x | E).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import h5py
import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from . import formats


@dataclass(frozen=True, eq=False)
class Slice:
    """Showers ``start`` … ``stop`` − 1 of one file — those of them ``keep`` marks, where a sample
    is a part of the file (its fitting or evaluation showers); ``index`` is the first kept
    shower's position in its sample (all slices of a sample numbered consecutively)."""

    path: str
    format: str
    start: int
    stop: int
    index: int
    keep: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.stop - self.start if self.keep is None else int(np.count_nonzero(self.keep))


def slices(
    segments: Sequence[tuple[str, str, int, int]], size: int, keep: np.ndarray | None = None
) -> list[Slice]:
    """Cut a sample's segments ``(path, format, start, stop)`` into slices of ``size``
    consecutive showers. ``keep``: one flag per shower of the segments, in order — only the
    flagged showers belong to the sample (slices left empty are dropped)."""
    out, index, position = [], 0, 0
    total = sum(stop - start for _, _, start, stop in segments)
    if keep is not None and len(keep) != total:
        raise ValueError(f"{len(keep)} flags for {total} showers")
    for path, fmt, start, stop in segments:
        for lo in range(start, stop, size):
            hi = min(lo + size, stop)
            flags = None
            if keep is not None:
                flags = np.asarray(keep[position + lo - start : position + hi - start], bool)
            part = Slice(str(path), fmt, lo, hi, index, flags)
            if part.n:
                out.append(part)
                index += part.n
        position += stop - start
    return out


def read_slice(f: h5py.File, s: Slice, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """(incident energies as stored, showers as stored) of a slice's kept showers, from the
    open file ``f``."""
    e_name, s_name = formats.dataset_names(s.format)
    energies = np.asarray(f[e_name][s.start : s.stop])
    showers = np.asarray(f[s_name][s.start : s.stop], dtype=dtype)
    if s.keep is not None:
        energies, showers = energies[s.keep], showers[s.keep]
    return energies, showers


def cls_low_inputs(energies_mev, showers) -> np.ndarray:
    """The challenge's cls-low vector: [log10 E_inc/MeV, voxels / E_inc], float32."""
    e = np.asarray(energies_mev, dtype=np.float64).reshape(-1, 1)
    s = np.asarray(showers, dtype=np.float64).reshape(len(e), -1)
    return np.concatenate([np.log10(e), s / e], axis=1).astype(np.float32)


class _Reader:
    """Open files once per worker; read a slice as float32 (n, *shape), or as cls-low vectors."""

    def __init__(self, shape, cls_low: bool = False):
        self.files: dict[str, h5py.File] = {}
        self.shape, self.cls_low = tuple(shape), bool(cls_low)

    def read(self, s: Slice) -> np.ndarray:
        f = self.files.get(s.path)
        if f is None:
            f = self.files[s.path] = h5py.File(s.path, "r")
        energies, showers = read_slice(f, s)
        if self.cls_low:
            return cls_low_inputs(energies, showers)
        return showers.reshape(s.n, *self.shape)


class PairedBatches(IterableDataset):
    """Training batches: generated slice k with truth slice ``pairs[k]``, labels 0 and 1; with
    ``gen_weights``, also each event's weight (the generated showers' own, 1 for the truth)."""

    def __init__(
        self,
        gen: Sequence[Slice],
        truth: Sequence[Slice],
        shape,
        *,
        seed: int,
        cls_low=False,
        gen_weights=None,
    ):
        rng = np.random.default_rng(seed)
        self.gen = [gen[i] for i in rng.permutation(len(gen))]
        # the truth slices cycle, each pass in a new random order, until every generated slice
        # has its partner: the truth set tiled to the generated set's size
        order: list[int] = []
        while len(order) < len(self.gen):
            order += rng.permutation(len(truth)).tolist()
        self.truth = [truth[i] for i in order[: len(self.gen)]]
        self.shape, self.cls_low = shape, cls_low
        # per generated shower (by its position in the sample): batches then carry event weights
        self.gen_weights = None if gen_weights is None else np.asarray(gen_weights, np.float32)

    def __len__(self) -> int:
        return len(self.gen)

    def __iter__(self):
        info = get_worker_info()
        worker, workers = (0, 1) if info is None else (info.id, info.num_workers)
        reader = _Reader(self.shape, self.cls_low)
        for k in range(worker, len(self.gen), workers):
            g, t = reader.read(self.gen[k]), reader.read(self.truth[k])
            x = torch.from_numpy(np.concatenate([g, t]))
            y = torch.cat([torch.zeros(len(g)), torch.ones(len(t))])
            if self.gen_weights is None:
                yield x, y
            else:
                s = self.gen[k]
                w = np.concatenate([self.gen_weights[s.index : s.index + s.n], np.ones(len(t))])
                yield x, y, torch.from_numpy(w.astype(np.float32))


class SliceBatches(IterableDataset):
    """Inference batches: each slice's showers and their positions in the sample."""

    def __init__(self, parts: Sequence[Slice], shape, cls_low=False):
        self.parts, self.shape, self.cls_low = list(parts), shape, cls_low

    def __len__(self) -> int:
        return len(self.parts)

    def __iter__(self):
        info = get_worker_info()
        worker, workers = (0, 1) if info is None else (info.id, info.num_workers)
        reader = _Reader(self.shape, self.cls_low)
        for k in range(worker, len(self.parts), workers):
            s = self.parts[k]
            yield torch.from_numpy(reader.read(s)), torch.arange(s.index, s.index + s.n)


def loader(dataset: IterableDataset, *, workers: int, device) -> DataLoader:
    """One batch per work item, in order, pinned for asynchronous copies on CUDA."""
    return DataLoader(
        dataset,
        batch_size=None,
        num_workers=int(workers),
        pin_memory=torch.device(device).type == "cuda",
        persistent_workers=False,
        prefetch_factor=4 if workers else None,
    )
