"""The GANplifying figures: functions take arrays and return figures; callers save them.

Colours and labels of the approaches come from the registry (:mod:`ganplify.core.approaches`);
the style from :mod:`ganplify.core.plotting`, applied without changing matplotlib's global state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.ticker import NullLocator

from ..core import approaches
from ..core.approaches import TRUTH_COLOR
from ..core.plotting import new_figure, styled
from .equivalence import equivalent_events, expected_mse_sample
from .quantiles import to_hyperspherical


@styled
def overview_figure(
    truth,
    sample,
    edges,
    *,
    fit_cdf_pdf=None,
    generated=None,
    xlim: tuple[float, float] = (-9.0, 9.0),
):
    """Fig. 1 analogue: truth, one training sample, its fit, (a GAN sample) and quantile edges.

    ``fit_cdf_pdf`` is the fitted density as a callable; ``generated`` maps an approach ("gan",
    "ensemble") to a large generated sample.
    """
    fig, ax = new_figure(figsize=(7.0, 4.5))
    x = np.linspace(*xlim, 801)
    sample = np.asarray(sample).ravel()
    bins = np.linspace(*xlim, 37)
    ax.hist(
        sample,
        bins=bins,
        density=True,
        color=approaches.color("sample"),
        alpha=0.35,
        label=f"Sample ({sample.size} points)",
    )
    for approach, events in (generated or {}).items():
        ev = np.asarray(events).ravel()
        ax.hist(
            ev,
            bins=np.linspace(*xlim, 91),
            density=True,
            histtype="step",
            lw=1.8,
            color=approaches.color(approach),
            label=f"{approaches.label(approach)} ({ev.size:,} events)",
        )
    if fit_cdf_pdf is not None:
        ax.plot(x, fit_cdf_pdf(x), color=approaches.color("fit"), lw=2.0, label="Fit to the sample")
    ax.plot(x, truth.pdf(x), color=TRUTH_COLOR, lw=2.0, label="Truth")
    for j, e in enumerate(edges):
        ax.axvline(
            e, color="0.45", ls=":", lw=1.0, label=f"{len(edges) + 1} quantiles" if j == 0 else None
        )
    ax.set_xlim(*xlim)
    ax.set_ylim(0, None)
    ax.set_xlabel("$x$")
    ax.set_ylabel("probability density")
    ax.legend(loc="upper center", ncol=2, frameon=False)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.3)
    return fig


@styled
def quantile_error_figure(
    ks: Sequence[int],
    reference_sizes: Sequence[int],
    reference_mse: np.ndarray,
    horizontal: Mapping[str, np.ndarray],
    *,
    n_train: int,
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    titles: Sequence[str] | None = None,
):
    """Fig. 2 analogue: quantile MSE against the number of events, one panel per K.

    ``reference_mse``: truth samples, shape ``(len(reference_sizes), n_repeats, len(ks))``.
    ``horizontal[approach]``: per-run MSE of a fixed-size estimate, shape ``(n_runs, len(ks))``,
    drawn as a band mean ± 1σ over runs. ``curves[approach] = (n_events, mse)`` with ``mse`` of
    shape ``(n_runs, len(n_events), len(ks))``: an estimate evaluated at growing sample sizes.
    """
    sizes = np.asarray(reference_sizes, dtype=float)
    fig, axes = new_figure(1, len(ks), figsize=(4.6 * len(ks), 4.2), squeeze=False)
    n_max = max([sizes.max(), *(np.max(n) for n, _ in (curves or {}).values())])
    grid = np.geomspace(sizes.min(), n_max, 200)
    for j, (k, ax) in enumerate(zip(ks, axes[0], strict=True)):
        m = reference_mse[:, :, j]
        mean, std = m.mean(axis=1), m.std(axis=1, ddof=1)
        ax.fill_between(
            sizes, mean - std, mean + std, color=approaches.color("sample"), alpha=0.2, lw=0
        )
        ax.plot(
            sizes, mean, "o", ms=4, color=approaches.color("sample"), label="Sample (Monte Carlo)"
        )
        ax.plot(
            grid,
            expected_mse_sample(k, grid),
            "--",
            color=approaches.color("sample"),
            lw=1.2,
            label=r"Sample, exact $(K-1)/(K^2N)$",
        )
        for approach, runs in horizontal.items():
            r = np.asarray(runs)[:, j]
            r = r[np.isfinite(r)]
            mu, sd = r.mean(), r.std(ddof=1)
            neq = float(equivalent_events(mu, k))
            c = approaches.color(approach)
            ax.axhspan(mu - sd, mu + sd, color=c, alpha=0.18, lw=0)
            ax.axhline(
                mu,
                color=c,
                lw=2.0,
                label=f"{approaches.label(approach)} ({n_train} pts) $\\approx$ {neq:.0f} events",
            )
        for approach, (n_events, mse) in (curves or {}).items():
            mm = np.asarray(mse)[:, :, j]
            c = approaches.color(approach)
            mu, sd = np.nanmean(mm, axis=0), np.nanstd(mm, axis=0, ddof=1)
            ax.fill_between(n_events, mu - sd, mu + sd, color=c, alpha=0.15, lw=0)
            label = f"{approaches.label(approach)}: {n_events[-1]:,} events " + (
                f"$\\approx$ {float(equivalent_events(mu[-1], k)):.0f}"
            )
            ax.plot(n_events, mu, "-", color=c, lw=1.8, label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(titles[j] if titles else f"{k} quantiles")
        ax.set_xlabel("number of events $N$")
        if j == 0:
            ax.set_ylabel("quantile MSE")
        ax.grid(alpha=0.3, which="both")
        ax.legend(loc="lower left", frameon=False, fontsize=8.5)
    fig.tight_layout()
    return fig


@styled
def training_figure(histories: Sequence[np.ndarray], title: str):
    """Discriminator and generator losses per epoch, one thin line per run (and member).

    ``histories[r]``: array ``(epochs, 2, members)`` of run r (row 0 D loss, row 1 G loss).
    """
    fig, axes = new_figure(1, 2, figsize=(10, 3.8), sharex=True)
    for hist in histories:
        h = np.asarray(hist)
        epochs = np.arange(1, h.shape[0] + 1)
        for ax, row in zip(axes, (0, 1), strict=True):
            ax.plot(
                epochs, h[:, row, :], lw=0.6, alpha=0.35, color=("tab:purple", "tab:orange")[row]
            )
    for ax, name in zip(axes, ("discriminator", "generator"), strict=True):
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{name} loss")
        ax.grid(alpha=0.3)
    axes[0].axhline(2 * np.log(2), color="0.3", ls="--", lw=1, label="2 ln 2 (D undecided)")
    axes[1].axhline(np.log(2), color="0.3", ls="--", lw=1, label="ln 2 (D undecided)")
    for ax in axes:
        ax.legend(frameon=False, loc="upper right")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


@styled
def ring_figure(truth, sample, generated: Mapping[str, np.ndarray] | None = None, *, lim=8.0):
    """The 2D ring: truth density, one training sample, and each generator's sample."""
    generated = dict(generated or {})
    n_panels = 2 + len(generated)
    fig, axes = new_figure(1, n_panels, figsize=(4.2 * n_panels, 4.2), sharex=True, sharey=True)
    g = np.linspace(-lim, lim, 301)
    xx, yy = np.meshgrid(g, g)
    dens = truth.pdf(np.stack([xx, yy], axis=-1))
    axes[0].imshow(dens, origin="lower", extent=(-lim, lim, -lim, lim), cmap="Greys")
    axes[0].set_title("Truth density")
    sample = np.asarray(sample)
    axes[1].contour(xx, yy, dens, levels=4, colors="0.6", linewidths=0.8)
    axes[1].scatter(sample[:, 0], sample[:, 1], s=9, color=approaches.color("sample"))
    axes[1].set_title(f"Training sample ({len(sample)} points)")
    bins = np.linspace(-lim, lim, 121)
    for ax, (approach, events) in zip(axes[2:], generated.items(), strict=True):
        ev = np.asarray(events)
        cmap = LinearSegmentedColormap.from_list(approach, ["white", approaches.color(approach)])
        ax.hist2d(ev[:, 0], ev[:, 1], bins=bins, cmap=cmap)
        ax.set_title(f"{approaches.label(approach)} ({len(ev):,} events)")
    for ax in axes:
        ax.set_aspect("equal")
        ax.set_xlabel("$x_1$")
    axes[0].set_ylabel("$x_2$")
    fig.tight_layout()
    return fig


@styled
def radial_figure(truth, sample, *, fit_pdf=None, generated=None):
    """Shells in d >= 3: the radius and the first polar angle, truth against estimates."""
    fig, axes = new_figure(1, 2, figsize=(10, 4.2))
    c = to_hyperspherical(np.asarray(sample))
    r = np.linspace(0, 9, 400)
    axes[0].hist(
        c[:, 0],
        bins=np.linspace(0, 9, 31),
        density=True,
        color=approaches.color("sample"),
        alpha=0.35,
        label=f"Sample ({len(c)} points)",
    )
    phi = np.linspace(0, np.pi, 400)
    axes[1].hist(
        c[:, 1],
        bins=np.linspace(0, np.pi, 25),
        density=True,
        color=approaches.color("sample"),
        alpha=0.35,
        label="Sample",
    )
    for approach, events in (generated or {}).items():
        ce = to_hyperspherical(np.asarray(events))
        kw = {
            "density": True,
            "histtype": "step",
            "lw": 1.8,
            "color": approaches.color(approach),
            "label": approaches.label(approach),
        }
        axes[0].hist(ce[:, 0], bins=np.linspace(0, 9, 61), **kw)
        axes[1].hist(ce[:, 1], bins=np.linspace(0, np.pi, 49), **kw)
    if fit_pdf is not None:
        axes[0].plot(r, fit_pdf(r), color=approaches.color("fit"), lw=2, label="Fit to the sample")
    axes[0].plot(r, truth.marginal_pdf(0, r), color=TRUTH_COLOR, lw=2, label="Truth")
    axes[1].plot(
        phi,
        truth.marginal_pdf(1, phi),
        color=TRUTH_COLOR,
        lw=2,
        label=rf"Truth $\propto \sin^{{{truth.dim - 2}}}\phi_1$",
    )
    axes[0].set_xlabel("radius $r$")
    axes[1].set_xlabel(r"polar angle $\phi_1$")
    for ax in axes:
        ax.set_ylabel("probability density")
        ax.legend(frameon=False, fontsize=9)
    fig.suptitle(f"{truth.dim}D spherical shell")
    fig.tight_layout()
    return fig


@styled
def amplification_vs_ntrain_figure(rows: Sequence[Mapping], titles: Mapping[int, str]):
    """Amplification N_eq / N_train against N_train, one panel per K, one line per approach,
    with the bootstrap interval as error bars. ``rows``: the amplification_vs_ntrain table."""
    ks = sorted({int(r["K"]) for r in rows})
    fig, axes = new_figure(1, len(ks), figsize=(4.6 * len(ks), 4.2), squeeze=False)
    for ax, k in zip(axes[0], ks, strict=True):
        for approach in dict.fromkeys(r["approach"] for r in rows):
            mine = sorted(
                (r for r in rows if r["approach"] == approach and r["K"] == k),
                key=lambda r: r["n_train"],
            )
            n = np.array([r["n_train"] for r in mine], dtype=float)
            g = np.array([r["amplification"] for r in mine])
            err = np.array(
                [
                    [r["amplification"] - r["amplification_lo"] for r in mine],
                    [r["amplification_hi"] - r["amplification"] for r in mine],
                ]
            )
            ax.errorbar(
                n,
                g,
                yerr=np.nan_to_num(err),
                marker="o",
                capsize=3,
                lw=1.6,
                color=approaches.color(approach),
                label=approaches.label(approach),
            )
        ax.axhline(1.0, color="0.4", ls="--", lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        # tick exactly the training sizes: log minor ticks between two sizes overlap
        sizes = sorted({int(r["n_train"]) for r in rows})
        ax.set_xticks(sizes, [str(n) for n in sizes])
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("training sample $N_\\mathrm{train}$")
        ax.set_title(titles.get(k, f"K = {k}"))
        ax.grid(alpha=0.3, which="both")
    axes[0, 0].set_ylabel("amplification $N_\\mathrm{eq} / N_\\mathrm{train}$")
    axes[0, 0].legend(frameon=False, fontsize=8.5)
    fig.tight_layout()
    return fig


#: Colours and labels of the samples of a shower generator's amplification runs.
SHOWER_SAMPLES = {
    "training": (TRUTH_COLOR, "its training showers"),
    "generated": ("tab:orange", "generated"),
    "dctr_hl": ("tab:blue", "generated, DCTR-weighted (HL)"),
}


@styled
def shower_amplification_figure(rows: Sequence[Mapping], title: str = ""):
    """N_eq against the number of events, one panel per training size, one line per sample
    (:data:`SHOWER_SAMPLES`) with its interval; dashed: the training size, dotted: N_eq = M."""
    sizes = sorted({int(r["n_train"]) for r in rows})
    fig, axes = new_figure(1, len(sizes), figsize=(4.6 * len(sizes), 4.2), squeeze=False)
    for ax, n_train in zip(axes[0], sizes, strict=True):
        mine = [r for r in rows if int(r["n_train"]) == n_train]
        top = max(int(r["n_events"]) for r in mine)
        for sample, (color, label) in SHOWER_SAMPLES.items():
            pts = sorted((r for r in mine if r["sample"] == sample), key=lambda r: r["n_events"])
            if not pts:
                continue
            m = np.array([r["n_events"] for r in pts], dtype=float)
            neq = np.array([r["n_eq"] for r in pts])
            lo = np.array([r["n_eq_lo"] for r in pts])
            hi = np.minimum(np.array([r["n_eq_hi"] for r in pts]), 100 * top)  # inf: off the top
            ax.plot(m, neq, marker="o", ms=3.5, lw=1.6, color=color, label=label)
            ax.fill_between(m, lo, hi, color=color, alpha=0.2, lw=0)
        ax.plot([100, top], [100, top], ls=":", color="0.4", lw=1, label="$N_\\mathrm{eq} = M$")
        ax.axhline(n_train, color="0.4", ls="--", lw=1, label="$N_\\mathrm{train}$")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("events $M$")
        ax.set_title(f"{title} $N_\\mathrm{{train}}$ = {n_train}".strip())
        ax.grid(alpha=0.3, which="both")
    axes[0, 0].set_ylabel("equivalent truth showers $N_\\mathrm{eq}$")
    axes[0, 0].legend(frameon=False, fontsize=8.5)
    fig.tight_layout()
    return fig


@styled
def forecast_figure(
    rows: Sequence[Mapping],
    title: str = "",
    *,
    panel_key: str = "K",
    measured_label: str = "measured (truth), GAN",
):
    """Forecast G(M) (line and its member-bootstrap band; dotted: its M → ∞ limit) beside the
    measured G of the study's GAN (points, bootstrap interval over runs) and, dashed, the
    forecast with the truth's mis-specification term added; one panel per ``panel_key`` value.
    ``rows``: the forecast table (:data:`ganplify.amplification.tables.FORECAST_COLUMNS`; a table
    without measured or truth columns draws the forecast alone)."""
    panels = list(dict.fromkeys(r[panel_key] for r in rows))
    fig, axes = new_figure(1, len(panels), figsize=(4.6 * len(panels), 4.2), squeeze=False)
    nan = float("nan")
    for ax, key in zip(axes[0], panels, strict=True):
        mine = [r for r in rows if r[panel_key] == key]
        finite = sorted(
            (r for r in mine if np.isfinite(r["n_generated"])), key=lambda r: r["n_generated"]
        )
        limit = [r for r in mine if not np.isfinite(r["n_generated"])]
        m = np.array([r["n_generated"] for r in finite], dtype=float)
        col = lambda name, rs=finite: np.array([r.get(name, nan) for r in rs], dtype=float)  # noqa: E731
        color = approaches.color("ensemble")
        ax.plot(m, col("forecast_amplification"), color=color, lw=1.8, label="forecast (spread)")
        ax.fill_between(
            m, col("forecast_amplification_lo"), col("forecast_amplification_hi"), color=color,
            alpha=0.2, lw=0,
        )  # fmt: skip
        if limit:
            ax.axhline(
                limit[0]["forecast_amplification"], color=color, ls=":", lw=1.2,
                label="forecast, $M \\to \\infty$",
            )  # fmt: skip
        g = col("measured_amplification")
        if np.isfinite(g).any():
            n_train = np.array([r["n_train"] for r in finite], dtype=float)
            err = np.array(
                [g - col("measured_n_equiv_lo") / n_train, col("measured_n_equiv_hi") / n_train - g]
            )
            ax.errorbar(
                m, g, yerr=np.nan_to_num(np.clip(err, 0, None)), marker="o", ls="none", capsize=3,
                color=approaches.color("gan"), label=measured_label,
            )  # fmt: skip
        corrected = col("corrected_amplification")
        if np.isfinite(corrected).any():
            ax.plot(
                m, corrected, color="0.25", ls="--", lw=1.3,
                label="forecast + mis-specification (truth)",
            )  # fmt: skip
        ax.axhline(1.0, color="0.55", ls="-.", lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("generated events $M$")
        ax.set_title(f"{panel_key} = {key}")
        ax.grid(alpha=0.3, which="both")
    axes[0, 0].set_ylabel("amplification $G = N_\\mathrm{eq} / N_\\mathrm{train}$")
    axes[0, 0].legend(frameon=False, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=12 if len(panels) > 1 else 10)
    fig.tight_layout()
    return fig
