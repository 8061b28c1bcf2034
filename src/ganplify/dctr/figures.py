"""The DCTR figures: functions take arrays and return figures; callers save them.

Colours: truth black, generator orange, DCTR-weighted generator blue (high-level) and green
(low-level), as in the paper's figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..core.plotting import new_figure, styled
from .metrics import normalised_histogram

TRUTH, GEN, DCTR = "black", "tab:orange", "tab:blue"


def _density(x, edges, weights=None):
    h = normalised_histogram(x, edges, weights)
    return h / np.diff(edges)


@styled
def toys_figure(panels: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]], bins: int = 120):
    """Fig. 1: one row per toy; columns truth, GAN, DCTR-weighted GAN.

    ``panels[toy] = (truth events, generated events, weights)``; 1D toys as histograms, 2D toys as
    2D histograms on a common colour scale per row.
    """
    fig, axes = new_figure(len(panels), 3, figsize=(12, 3.8 * len(panels)), squeeze=False)
    titles = ("Truth", "GAN", "DCTR-weighted GAN")
    for row, (toy, (xt, xg, w)) in zip(axes, panels.items(), strict=True):
        lo, hi = np.quantile(xt, [0.0005, 0.9995], axis=0)
        pad = 0.15 * (hi - lo)
        lo, hi = lo - pad, hi + pad
        samples = ((xt, None), (xg, None), (xg, w))
        if xt.shape[1] == 1:
            edges = np.linspace(lo[0], hi[0], bins + 1)
            top = 0.0
            for ax, (x, wt), color, title in zip(
                row, samples, (TRUTH, GEN, DCTR), titles, strict=True
            ):
                ax.stairs(_density(x[:, 0], edges, wt), edges, color=color, fill=True, alpha=0.6)
                ax.stairs(_density(xt[:, 0], edges), edges, color=TRUTH, lw=1.0)
                ax.set_title(f"{toy}: {title}")
                ax.set_xlabel("$x$")
                top = max(top, ax.get_ylim()[1])
            for ax in row:
                ax.set_ylim(0, top)
            row[0].set_ylabel("probability density")
            continue
        ex = np.linspace(lo[0], hi[0], bins + 1)
        ey = np.linspace(lo[1], hi[1], bins + 1)
        dens = [np.histogram2d(x[:, 0], x[:, 1], [ex, ey], weights=wt)[0] for x, wt in samples]
        dens = [d / d.sum() for d in dens]
        vmax = 1.2 * dens[0].max()  # the truth sets the scale: a few heavy events saturate
        for ax, d, title in zip(row, dens, titles, strict=True):
            ax.pcolormesh(ex, ey, d.T, cmap="viridis", vmin=0, vmax=vmax)
            ax.set_title(f"{toy}: {title}")
            ax.set_aspect("equal")
            ax.set_xlabel("$x_1$")
        row[0].set_ylabel("$x_2$")
    fig.tight_layout()
    return fig


def ratio_panel(
    ax_main,
    ax_ratio,
    truth,
    gen,
    edges,
    *,
    weights: Mapping[str, tuple[np.ndarray, str, str]],
    xlabel: str,
    gen_label: str = "GAN",
):
    """A normalised histogram of truth, the generator and its weighted versions, with the ratio
    of each to truth below.

    ``weights[label] = (w, colour, legend suffix)``; the legend suffixes carry S² and r.
    """
    t = normalised_histogram(truth, edges)
    ax_main.stairs(t, edges, color=TRUTH, lw=1.8, label="Truth")
    curves = {gen_label: (None, GEN, weights.get(gen_label, (None, GEN, ""))[2])}
    curves |= {k: v for k, v in weights.items() if k != gen_label}
    for label, (w, color, suffix) in curves.items():
        h = normalised_histogram(gen, edges, w)
        ax_main.stairs(h, edges, color=color, lw=1.5, label=f"{label}{suffix}")
        with np.errstate(divide="ignore", invalid="ignore"):
            ax_ratio.stairs(np.where(t > 0, h / t, np.nan), edges, color=color, lw=1.2)
    ax_ratio.axhline(1.0, color=TRUTH, lw=0.8)
    ax_ratio.set_ylim(0.5, 1.5)
    ax_ratio.set_ylabel("ratio to truth", fontsize=9)
    ax_ratio.set_xlabel(xlabel)
    ax_main.set_ylabel("fraction of events")
    ax_main.legend(frameon=False, fontsize=8)


@styled
def marginals_figure(toy: str, hists: Mapping[str, tuple], w: np.ndarray, rows):
    """Per observable of a toy: truth, GAN and DCTR-weighted GAN with ratio panels.

    ``hists[name] = (truth values, generated values, edges)``; ``rows``: the summary table of
    this toy indexed by observable (S² and r go into the legends).
    """
    n = len(hists)
    fig, axes = new_figure(
        2, n, figsize=(4.3 * n, 4.6), squeeze=False, gridspec_kw={"height_ratios": [3, 1]}
    )
    for j, (name, (t, g, edges)) in enumerate(hists.items()):
        r = rows.loc[name]
        ratio_panel(
            axes[0, j],
            axes[1, j],
            t,
            g,
            edges,
            weights={
                "GAN": (None, GEN, f" ($S^2$={r.s2_gan:.2g}, r={r.r_gan:.2f})"),
                "DCTR": (w, DCTR, f" ($S^2$={r.s2_dctr:.2g}, r={r.r_dctr:.2f})"),
            },
            xlabel=name,
        )
    fig.suptitle(f"{toy}: marginals, GAN and DCTR-weighted GAN against truth")
    fig.tight_layout()
    return fig


def weight_histogram_axes(ax, weights: Mapping[str, np.ndarray], colors: Sequence[str]):
    """Histograms of weight sets on a log axis (Fig. 2, top)."""
    hi = max(float(np.max(w)) for w in weights.values())
    lo = min(float(np.min(w[w > 0])) for w in weights.values())
    edges = np.geomspace(lo, hi, 60)
    for (label, w), color in zip(weights.items(), colors, strict=False):
        ax.hist(w, bins=edges, histtype="step", lw=1.6, color=color, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("DCTR weight")
    ax.set_ylabel("events")
    ax.legend(frameon=False)


#: Colours of the weighted generators by classifier (the paper: high-level blue, low-level green).
CLASSIFIER_COLORS = {"hl": DCTR, "ll": "tab:green"}
CLASSIFIER_LABELS = {"hl": "DCTR (high-level)", "ll": "DCTR (low-level)"}


@styled
def weights_figure(weights: Mapping[str, np.ndarray]):
    """Fig. 2: histograms of each classifier's weights; with two, their scatter and Pearson ρ."""
    two = len(weights) == 2
    fig, axes = new_figure(1, 2 if two else 1, figsize=(11 if two else 5.5, 4.2), squeeze=False)
    weight_histogram_axes(
        axes[0, 0],
        {CLASSIFIER_LABELS.get(k, k): w for k, w in weights.items()},
        [CLASSIFIER_COLORS.get(k, "0.3") for k in weights],
    )
    if two:
        (ka, wa), (kb, wb) = weights.items()
        ax = axes[0, 1]
        ax.hist2d(np.log10(wa), np.log10(wb), bins=60, cmap="Greys", cmin=1)
        rho = float(np.corrcoef(wa, wb)[0, 1])
        ax.set_xlabel(f"log10 weight, {CLASSIFIER_LABELS.get(ka, ka)}")
        ax.set_ylabel(f"log10 weight, {CLASSIFIER_LABELS.get(kb, kb)}")
        ax.text(0.05, 0.92, f"Pearson $\\rho$ = {rho:.2f}", transform=ax.transAxes)
    fig.tight_layout()
    return fig


@styled
def observables_figure(
    names: list[str],
    truth: np.ndarray,
    gen: np.ndarray,
    edges: list[np.ndarray],
    weights: Mapping[str, np.ndarray],
    rows,
    *,
    title: str,
    ncols: int = 3,
    gen_label: str = "GAN",
):
    """Figs. 3–6: truth, generator and its weighted versions per observable, with ratio panels.

    ``truth``/``gen``: ``(n, len(names))``; ``weights[classifier]``; ``rows``: the summary table
    indexed by observable (S² and r in the legends).
    """
    nrows = -(-len(names) // ncols)
    fig, axes = new_figure(
        2 * nrows,
        ncols,
        figsize=(4.6 * ncols, 4.4 * nrows),
        squeeze=False,
        gridspec_kw={"height_ratios": [3, 1] * nrows},
    )
    for j, name in enumerate(names):
        r, c = divmod(j, ncols)
        row = rows.loc[name]
        curves = {gen_label: (None, GEN, f" ($S^2$={row.s2_gan:.2g}, r={row.r_gan:.2f})")}
        for k, w in weights.items():
            curves[CLASSIFIER_LABELS.get(k, k)] = (
                w,
                CLASSIFIER_COLORS.get(k, "0.3"),
                f" ($S^2$={row[f's2_dctr_{k}']:.2g}, r={row[f'r_dctr_{k}']:.2f})",
            )
        ratio_panel(
            axes[2 * r, c],
            axes[2 * r + 1, c],
            truth[:, j],
            gen[:, j],
            edges[j],
            weights=curves,
            xlabel=name,
            gen_label=gen_label,
        )
    for j in range(len(names), nrows * ncols):
        r, c = divmod(j, ncols)
        axes[2 * r, c].set_visible(False)
        axes[2 * r + 1, c].set_visible(False)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def weighted_correlation(x: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Pearson correlation matrix of the columns of ``x`` with event weights ``w``."""
    w = np.ones(len(x)) if w is None else np.asarray(w, dtype=float)
    mean = w @ x / w.sum()
    d = x - mean
    cov = (d * w[:, None]).T @ d / w.sum()
    s = np.sqrt(np.diag(cov))
    return cov / np.outer(s, s)


@styled
def correlation_figure(
    names: list[str],
    truth: np.ndarray,
    gen: np.ndarray,
    weights: Mapping[str, np.ndarray],
    gen_label: str = "GAN",
):
    """Fig. 7: correlation differences truth − generator, unweighted and for each weighting."""
    ct = weighted_correlation(truth)
    panels = {gen_label: weighted_correlation(gen)}
    panels |= {
        CLASSIFIER_LABELS.get(k, k): weighted_correlation(gen, w) for k, w in weights.items()
    }
    fig, axes = new_figure(1, len(panels), figsize=(5.2 * len(panels), 4.8), squeeze=False)
    vmax = max(np.abs(ct - c).max() for c in panels.values())
    for ax, (label, c) in zip(axes[0], panels.items(), strict=True):
        im = ax.imshow(ct - c, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.set_title(f"truth − {label}\nmean |Δρ| = {np.abs(ct - c).mean():.3f}", fontsize=10)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="correlation difference")
    return fig


@styled
def summary_figure(
    summary, classifiers: list[str], groups: Mapping[str, str], gen_label: str = "GAN"
):
    """Fig. 8: per observable group, histograms of S² (generator and weighted), of the S² ratio
    and of the dilution r."""
    fig, axes = new_figure(len(groups), 3, figsize=(14, 3.6 * len(groups)), squeeze=False)
    for row, (group, title) in zip(axes, groups.items(), strict=True):
        g = summary[summary.group == group]
        s2_all = [g.s2_gan] + [g[f"s2_dctr_{k}"] for k in classifiers]
        lo = max(min(float(np.min(s[s > 0])) for s in s2_all if (s > 0).any()), 1e-6)
        hi = max(float(np.max(s)) for s in s2_all)
        bins = np.geomspace(lo, hi * 1.01, 25)
        # a generator far from its truth (the ILD fastsim at the paper's size) leaves S² ratios
        # of ~0.01, which would share one bin of the paper's linear axis
        ratios = [g[f"s2_ratio_{k}"] for k in classifiers]
        log_ratio = all((r > 0).all() and r.median() < 0.1 for r in ratios) and bool(ratios)
        row[0].hist(g.s2_gan, bins=bins, histtype="step", lw=1.8, color=GEN, label=gen_label)
        for k in classifiers:
            color, label = CLASSIFIER_COLORS.get(k, "0.3"), CLASSIFIER_LABELS.get(k, k)
            row[0].hist(
                g[f"s2_dctr_{k}"], bins=bins, histtype="step", lw=1.8, color=color, label=label
            )
            ratio = g[f"s2_ratio_{k}"]
            row[1].hist(
                ratio,
                bins=(
                    np.geomspace(float(ratio.min()) * 0.9, max(2.0, float(ratio.max())), 25)
                    if log_ratio
                    else np.linspace(0, max(2.0, float(ratio.max())), 25)
                ),
                histtype="step",
                lw=1.8,
                color=color,
                label=f"{label} (median {ratio.median():.2g})",
            )
            r = g[f"r_dctr_{k}"]
            row[2].hist(
                r,
                bins=np.linspace(0.5, max(5.0, float(r.max())), 25),
                histtype="step",
                lw=1.8,
                color=color,
                label=f"{label} (median {r.median():.2f})",
            )
        row[2].hist(
            g.r_gan,
            bins=np.linspace(0.5, 5.0, 25),
            histtype="step",
            lw=1.8,
            color=GEN,
            label=gen_label,
        )
        row[0].set_xscale("log")
        if log_ratio:
            row[1].set_xscale("log")
        row[0].set_xlabel(f"$S^2$, {title}")
        row[1].set_xlabel(f"$S^2$(DCTR) / $S^2$({gen_label}), {title}")
        row[2].set_xlabel(f"r, {title}")
        row[1].axvline(1.0, color="0.3", ls="--", lw=1)
        for ax in row:
            ax.set_ylabel("observables")
            ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
