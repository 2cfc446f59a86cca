"""Plotly charts for the workbooks, drawn the same way in every report.

In a kernel plotly renders only its JSON mimetype by default, which nbconvert drops
silently from HTML. :func:`use_offline_renderer` makes every figure an output with
both: plotly's JSON (which Jupyter draws itself) and HTML that draws the figure with a
plotly.js already on the page. The library itself, 4.6 MB, is not in the notebook: the
runner puts it once into each report (:func:`plotly_library`), so a report opens
without the network and the notebook kernels and papermill do not carry it around.

Text from the data (account names, cost pools, titles that quote them) may hold
characters that plotly reads as its HTML-like markup and pandas' table HTML passes
through; :func:`plain` and :func:`table` make them show as written.
"""

from __future__ import annotations

from html import escape

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.io.base_renderers import MimetypeRenderer, PlotlyRenderer
from plotly.offline import get_plotlyjs

from kamlib.words.catalogue import _
from kamlib.words.labels import label, word

POSITIVE, NEGATIVE, TOTAL, NEUTRAL = "#2a7f62", "#c0392b", "#34495e", "#7f8c8d"


class ReportRenderer(MimetypeRenderer):
    """plotly's JSON for Jupyter and, for the report, HTML drawing with the page's plotly.js.

    As plotly's ``plotly_mimetype+notebook`` renderers, without the ``notebook``
    renderer's copy of plotly.js and MathJax from a CDN: our charts use no LaTeX.
    """

    def to_mimebundle(self, fig_dict: dict) -> dict:
        html = pio.to_html(fig_dict, include_plotlyjs=False, include_mathjax=False,
                           full_html=False, default_width="100%", default_height=525,
                           validate=False)
        return {**PlotlyRenderer().to_mimebundle(fig_dict), "text/html": html}


def plotly_library() -> str:
    """plotly.js with the settings plotly puts before it, for a report's head."""
    return ("<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>\n"
            f"<script>{get_plotlyjs()}</script>")


def plain(text: object) -> str:
    """Text as plotly shows it literally: plotly turns tags such as <b> or <br> into
    formatting and decodes entities, so data text goes in with <, > and & as entities."""
    return escape(str(text), quote=False)


def _plain_all(values: pd.Series) -> pd.Series:
    return values.astype("str").map(plain)


def use_offline_renderer() -> None:
    pio.renderers["kam_report"] = ReportRenderer()
    pio.renderers.default = "kam_report"
    pio.templates.default = "plotly_white"


def waterfall(totals: pd.Series, pools: list[str], title: str) -> go.Figure:
    """Gross-to-net waterfall: gross sales down to net revenue, each deduction a step."""
    steps = [("gross_sales", 1, "absolute"), ("credit_notes", 1, "relative"),
             ("discounts", -1, "relative"), ("rebates", -1, "relative"),
             ("net_sales", 1, "total"), ("cost_of_goods", -1, "relative"),
             ("gross_margin", 1, "total"), *((p, -1, "relative") for p in pools),
             ("net_revenue", 1, "total")]
    fig = go.Figure(go.Waterfall(
        x=[plain(label(name)) for name, _, _ in steps],
        y=[sign * totals[name] for name, sign, _ in steps],
        measure=[kind for _, _, kind in steps],
        increasing={"marker": {"color": POSITIVE}}, decreasing={"marker": {"color": NEGATIVE}},
        totals={"marker": {"color": TOTAL}},
    ))
    return fig.update_layout(title=plain(title), showlegend=False, yaxis_title=_("Amount"),
                             margin={"b": 140})


def cost_pools(frame: pd.DataFrame, pools: list[str], title: str) -> go.Figure:
    """Cost to serve by pool, as stacked bars per period."""
    fig = go.Figure([go.Bar(name=plain(label(p)), x=frame["period_start"], y=frame[p])
                     for p in pools])
    return fig.update_layout(barmode="stack", title=plain(title), yaxis_title=_("Cost to serve"),
                             legend={"orientation": "h", "y": -0.2})


def whale_curve(curve: pd.DataFrame, title: str) -> go.Figure:
    fig = go.Figure(go.Scatter(
        x=curve["share_of_accounts"] * 100, y=curve["cumulative_share"] * 100, mode="lines",
        line={"color": TOTAL, "width": 3},
        customdata=_plain_all(curve["account_id"]).to_frame(),
        # plotly fills the %{...} fields (its own number formats); a translation keeps them
        hovertemplate=_("%{x:.1f}% of accounts<br>%{y:.0f}% of net revenue<br>up to "
                        "%{customdata[0]}") + "<extra></extra>"))
    fig.add_hline(y=100, line_dash="dash", line_color=NEUTRAL,
                  annotation_text=_("total net revenue"))
    return fig.update_layout(title=plain(title),
                             xaxis_title=_("Accounts, most to least profitable (%)"),
                             yaxis_title=_("Cumulative net revenue (% of total)"))


def gross_versus_net(ranks: pd.DataFrame, names: pd.Series, title: str) -> go.Figure:
    colour = ranks["looks_big_earns_little"].map({True: NEGATIVE, False: POSITIVE})
    fig = go.Figure(go.Scatter(
        x=ranks["gross_sales"], y=ranks["net_revenue"], mode="markers",
        marker={"color": colour, "size": 8, "opacity": 0.7},
        text=_plain_all(ranks["account_id"].map(names).fillna(ranks["account_id"])),
        hovertemplate=_("%{text}<br>gross sales %{x:,.0f}<br>net revenue %{y:,.0f}")
        + "<extra></extra>"))
    fig.add_hline(y=0, line_color=NEUTRAL)
    return fig.update_layout(title=plain(title), xaxis_title=label("gross_sales"),
                             yaxis_title=label("net_revenue"), xaxis_type="log")


def distribution(values: pd.Series, title: str, axis_title: str) -> go.Figure:
    fig = go.Figure(go.Histogram(x=values, nbinsx=50, marker_color=TOTAL))
    return fig.update_layout(title=plain(title), xaxis_title=plain(axis_title),
                             yaxis_title=_("Accounts"))


def holdout_by_frequency(frame: pd.DataFrame, title: str) -> go.Figure:
    """Mean predicted and actual holdout purchases by past repeat purchases (7 = 7 or more)."""
    fig = go.Figure([
        go.Scatter(x=frame["repeat_purchases"], y=frame["actual_purchases"], name=_("Actual"),
                   mode="lines+markers", line={"color": TOTAL}),
        go.Scatter(x=frame["repeat_purchases"], y=frame["predicted_purchases"], name=_("Predicted"),
                   mode="lines+markers", line={"color": POSITIVE, "dash": "dash"}),
    ])
    return fig.update_layout(title=plain(title),
                             xaxis_title=_("Repeat purchases before the holdout"),
                             yaxis_title=_("Mean purchases in the holdout year"))


def table(frame: pd.DataFrame):
    """A table as readers see it: no pandas index, text left-aligned, cells and headers
    escaped (pandas' Styler writes them into the HTML as they are by default)."""
    return (frame.style.hide(axis="index").format(escape="html")
            .format_index(escape="html", axis=1).set_table_styles(
        [{"selector": "th, td", "props": [("text-align", "left")]}]))


def portfolio_matrix(matrix: pd.DataFrame, key: pd.Series, title: str) -> go.Figure:
    """Attractiveness against our strength; bubbles sized by net revenue, key accounts dark."""
    placed = matrix.dropna(subset=["attractiveness", "strength"])
    is_key = key.reindex(placed.index).fillna(False).astype(bool)
    fig = go.Figure()
    for flag, colour, name in ((False, NEUTRAL, _("Other accounts")),
                               (True, TOTAL, _("Key accounts"))):
        part = placed[is_key == flag]
        fig.add_trace(go.Scatter(
            x=part["strength"], y=part["attractiveness"], mode="markers", name=name,
            marker={"size": part["bubble_size"], "sizemode": "area", "sizemin": 3,
                    "sizeref": 2.0 * placed["bubble_size"].max() / 40 ** 2, "color": colour,
                    "opacity": 0.8 if flag else 0.35},
            text=_plain_all(part["name"]),
            customdata=_plain_all(part["quadrant"]).to_frame(),
            hovertemplate="%{text}<br>%{customdata[0]}<extra></extra>"))
    x_split, y_split = placed["strength"].median(), placed["attractiveness"].median()
    fig.add_vline(x=x_split, line_dash="dot", line_color=NEUTRAL)
    fig.add_hline(y=y_split, line_dash="dot", line_color=NEUTRAL)
    for text, x, y in ((_("Strategic"), "right", "top"), (_("Star"), "left", "top"),
                       (_("Status"), "right", "bottom"), (_("Streamline"), "left", "bottom")):
        fig.add_annotation(text=f"<b>{text}</b>", xref="paper", yref="paper", showarrow=False,
                           x=0.98 if x == "right" else 0.02, y=0.98 if y == "top" else 0.02,
                           xanchor=x, yanchor=y)
    return fig.update_layout(title=plain(title), xaxis_title=_("Our relative strength"),
                             yaxis_title=_("Customer attractiveness"))


def trend(frame: pd.DataFrame, measures: list[str], title: str) -> go.Figure:
    """Shares per quarter, one line each (values are ratios, shown as percent)."""
    fig = go.Figure([go.Scatter(x=frame["quarter"], y=frame[m] * 100, name=label(m),
                                mode="lines+markers") for m in measures if m in frame])
    return fig.update_layout(title=title, yaxis_title="%", legend={"orientation": "h",
                                                                    "y": -0.2})


def intervals(frame: pd.DataFrame, mean: float, title: str, axis_title: str) -> go.Figure:
    """Shrunk estimates with their intervals against the programme mean (ratios, as %)."""
    colour = frame["verdict"].map({"above the programme": POSITIVE,
                                   "below the programme": NEGATIVE}).fillna(NEUTRAL)
    fig = go.Figure(go.Scatter(
        x=frame["shrunk"] * 100, y=frame.iloc[:, 0], mode="markers",
        marker={"color": colour, "size": 10},
        error_x={"type": "data", "symmetric": False,
                 "array": (frame["upper"] - frame["shrunk"]) * 100,
                 "arrayminus": (frame["shrunk"] - frame["lower"]) * 100},
        text=frame["accounts"],
        hovertemplate=_("%{y}: %{x:.1f}% (%{text} accounts)") + "<extra></extra>"))
    fig.add_vline(x=mean * 100, line_dash="dash", line_color=NEUTRAL,
                  annotation_text=_("programme mean"))
    return fig.update_layout(title=title, xaxis_title=axis_title, yaxis_type="category")


STATUS_COLOURS = {"on track": POSITIVE, "reached": POSITIVE, "at risk": "#e6a23c",
                  "off track": NEGATIVE, "not reached": NEGATIVE, "not reviewed": NEUTRAL,
                  "upcoming": "#d5d8dc"}


def status_counts(counts: pd.DataFrame, title: str) -> go.Figure:
    """Stacked bars: how many goals stand where at each checkpoint (columns: statuses)."""
    fig = go.Figure([go.Bar(name=word(s), x=counts.index, y=counts[s],
                            marker_color=STATUS_COLOURS.get(s, TOTAL)) for s in counts.columns])
    return fig.update_layout(barmode="stack", title=title, yaxis_title=_("90-day targets"))


def scores(frame: pd.DataFrame, title: str) -> go.Figure:
    """The maturity scorecard: one bar per success factor, 0 to 4."""
    fig = go.Figure(go.Bar(x=frame["score"], y=frame["success_factor"], orientation="h",
                           marker_color=TOTAL))
    return fig.update_layout(title=title, xaxis={"range": [0, 4], "dtick": 1},
                             yaxis={"autorange": "reversed"}, margin={"l": 260})
