"""The figures of ``ganplify evaluate``: the challenge's feature histograms with their S², S² per
feature, and each classifier metric's calibrated outputs and training curve."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.plotting import new_figure, save, styled

#: panels per histogram figure (a data set with 45 layers has 135 centres)
PAGE = 40


def _histogram(ax, values, edges, weights=None, **style):
    h, _ = np.histogram(values, bins=edges, weights=weights)
    total = h.sum()
    ax.stairs(h / total if total > 0 else h, edges, **style)


@styled
def histogram_figures(panels: dict, w_gen, out: Path, geometry) -> list[Path]:
    """One figure per group of features (and page of :data:`PAGE` panels): reference filled,
    generated as a line (weighted dashed), each panel titled with its S²."""
    by_group: dict[str, list[str]] = {}
    for name, (_, _, _, row) in panels.items():
        by_group.setdefault(row["group"], []).append(name)
    paths = []
    for group, names in by_group.items():
        for page, lo in enumerate(range(0, len(names), PAGE)):
            chunk = names[lo : lo + PAGE]
            ncols = min(5, len(chunk))
            nrows = -(-len(chunk) // ncols)
            fig, axes = new_figure(nrows, ncols, figsize=(3.2 * ncols, 2.6 * nrows), squeeze=False)
            for ax, name in zip(axes.flat, chunk, strict=False):
                ref, gen, edges, row = panels[name]
                _histogram(ax, ref, edges, fill=True, alpha=0.3, color="C0", label="reference")
                _histogram(ax, gen, edges, color="C1", lw=1.5, label="generated")
                title = f"{name}\nS² {row['s2']:.3g}"
                if w_gen is not None:
                    _histogram(ax, gen, edges, w_gen, color="C2", ls="--", label="weighted")
                    title += f", weighted {row['s2_weighted']:.3g}"
                # few texts: a panel's tick labels cost more time than its histogram
                ax.set_title(title, fontsize=9)
                ax.set_yticks([])
                if name.startswith("e_layer"):
                    ax.set_xscale("log")
                else:
                    ax.locator_params(axis="x", nbins=4)
                ax.tick_params(labelsize=8)
            for ax in list(axes.flat)[len(chunk) :]:
                ax.set_visible(False)
            axes.flat[0].legend(fontsize=8)
            fig.suptitle(f"{geometry.name}: {group}", fontsize=12)
            # fixed spacing: tight_layout took ~2 s a figure
            fig.subplots_adjust(hspace=0.65, wspace=0.3, top=1 - 0.5 / (2.6 * nrows))
            suffix = f"_{page + 1}" if len(names) > PAGE else ""
            path = out / f"histograms_{group}{suffix}.png"
            fig.savefig(path, dpi=90)
            paths.append(path)
    return paths


@styled
def s2_figure(rows: list[dict], path: Path) -> None:
    """S² of every histogram, sorted, unweighted and weighted."""
    s2 = np.array([r["s2"] for r in rows], dtype=float)
    weighted = [r["s2_weighted"] for r in rows]
    has_w = all(v != "" for v in weighted)
    order = np.argsort(s2)
    fig, ax = new_figure(figsize=(7, 4))
    x = np.arange(len(rows))
    ax.plot(x, s2[order], "o", ms=3, label="generated")
    if has_w:
        ax.plot(x, np.asarray(weighted, dtype=float)[order], "s", ms=3, label="weighted")
    ax.set_yscale("log")
    ax.set_xlabel("histogram (sorted by the generator's S²)")
    ax.set_ylabel("separation power S²")
    ax.legend()
    save(fig, [str(path)])


@styled
def classifier_figure(result, mode: str, path: Path) -> None:
    """The calibrated outputs on the validation split per class, and the test accuracy per
    epoch (the best epoch marked)."""
    fig, (ax1, ax2) = new_figure(1, 2, figsize=(10, 3.8))
    h, y, w = result.h_validation, result.y_validation, result.w_validation
    edges = np.linspace(0, 1, 41)
    _histogram(ax1, h[y == 1], edges, fill=True, alpha=0.3, color="C0", label="reference")
    _histogram(ax1, h[y == 0], edges, w[y == 0], color="C1", lw=1.5, label="generated")
    ax1.set_xlabel("calibrated classifier output")
    ax1.set_title(f"{mode}: AUC {result.auc:.3f}, JSD {result.jsd:.3f}")
    ax1.legend()
    epochs = [r["epoch"] for r in result.history]
    ax2.plot(epochs, [r["test_accuracy"] for r in result.history], "o-", ms=3)
    ax2.axvline(result.best_epoch, color="grey", ls=":")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy on the test split")
    fig.tight_layout()
    save(fig, [str(path)])
