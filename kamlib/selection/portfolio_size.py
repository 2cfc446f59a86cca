"""Portfolio size: how many key accounts a programme keeps, and which stay when too many
qualify.

Management agrees a minimum and a maximum (``portfolio_size``). When more accounts are
proposed key than the maximum, the highest scoring stay key (ties: higher net revenue,
then lower id) and the rest go on the watch list, "over the agreed maximum". On the final
list (after overrides): a warning above the agreed maximum (only overrides get there), a
warning above the guidance of 25 (start small), an error above 100 (even very large
suppliers keep fewer), a warning below the agreed minimum. Key accounts are never
invented to make up the number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from kamlib.data.contract import PortfolioSize
from kamlib.selection.errors import PortfolioSizeError
from kamlib.words.catalogue import _, n_
from kamlib.words.columns import arrow_text, replaced

GUIDANCE_MAXIMUM = 25
"""Start small: about 5 to 25 key accounts (a warning above this)."""
HARD_MAXIMUM = 100
"""Even very large suppliers keep fewer than 100 key accounts (an error above this)."""


def rank_positions(frame: pd.DataFrame) -> np.ndarray:
    """The rows from best to worst, as positions in the frame: higher score, then higher
    net revenue, then lower id."""
    revenue = (pd.to_numeric(frame["net_revenue"], errors="coerce") if "net_revenue" in frame
               else pd.Series(np.nan, index=frame.index))
    ids = frame.index.astype(str)
    order = pd.DataFrame({"score": frame["score"].to_numpy(),
                          "revenue": revenue.to_numpy(dtype="float64", na_value=np.nan),
                          "id": ids})
    if not _strictly_increasing(ids):  # candidates come sorted by id: no need to sort
        order = order.sort_values("id")
    order = order.sort_values(["score", "revenue"], ascending=False, kind="stable",
                              na_position="last")
    return order.index.to_numpy()


def _strictly_increasing(ids: pd.Index) -> bool:
    """Whether each id comes after the one before, as sorting text compares them."""
    texts = arrow_text(ids)
    return len(texts) < 2 or pc.all(pc.less(texts[:-1], texts[1:])).as_py()


def trim_to_maximum(frame: pd.DataFrame, maximum: int) -> pd.DataFrame:
    """The highest scoring ``maximum`` proposed key accounts stay key; the rest go on the
    watch list, "over the agreed maximum"."""
    key_at = np.flatnonzero((frame["status"] == "key").to_numpy(dtype=bool))
    if len(key_at) <= maximum:
        return frame
    ranked = key_at[rank_positions(frame.iloc[key_at])]  # rows of frame, best first
    over = np.sort(ranked[maximum:])  # in row order, as replaced takes them
    rank = np.empty(len(frame), dtype="int64")
    rank[ranked] = np.arange(1, len(ranked) + 1)
    template = _("Watch: over the agreed maximum of {maximum} key accounts (ranked {rank} of "
                 "{ranked} by score). {summary}")
    reasons = [template.format(maximum=maximum, rank=r, ranked=len(ranked), summary=summary)
               for r, summary in zip(rank[over].tolist(),
                                     frame["summary"].iloc[over].tolist())]
    # the few rows replaced in whole columns: setting them one by one with .loc copies a
    # million-row text column each time (a minute for 500 accounts at a million)
    where = np.zeros(len(frame), dtype=bool)
    where[over] = True
    watch = ["watch"] * len(over)
    return frame.assign(change=replaced(frame["change"], where, watch),
                        status=replaced(frame["status"], where, watch),
                        over_maximum=frame["over_maximum"].to_numpy(dtype=bool) | where,
                        reason=replaced(frame["reason"], where, reasons))


def check_portfolio_size(key_accounts: int, size: PortfolioSize, overridden: int = 0
                         ) -> list[str]:
    """Warnings on the number of key accounts; an error above the hard maximum of 100."""
    if key_accounts > HARD_MAXIMUM:
        got = (_("Got {count}, {overridden} of them by management override.") if overridden
               else _("Got {count}."))
        raise PortfolioSizeError(" ".join((
            _("The key-account list must hold at most {maximum} accounts: even very large "
              "suppliers keep fewer.").format(maximum=HARD_MAXIMUM),
            got.format(count=key_accounts, overridden=overridden),
            _("Tighten the criteria or withdraw overrides."))))
    warnings = []
    if key_accounts > size.maximum:
        warnings.append(n_(
            "{count} key accounts exceed the agreed maximum of {maximum}, because of "
            "{overridden} management override.",
            "{count} key accounts exceed the agreed maximum of {maximum}, because of "
            "{overridden} management overrides.", overridden).format(
                count=key_accounts, maximum=size.maximum, overridden=overridden))
    if key_accounts > GUIDANCE_MAXIMUM:
        warnings.append(_("{count} key accounts is above the guidance of about 5 to "
                          "{guidance}: start small, as adding an account later is easy and "
                          "withdrawing one is hard.").format(count=key_accounts,
                                                             guidance=GUIDANCE_MAXIMUM))
    if key_accounts < size.minimum:
        warnings.append(n_(
            "Only {count} account qualifies as key, below the agreed minimum of {minimum}. "
            "No account is added to make up the number; review the criteria or accept a "
            "smaller programme.",
            "Only {count} accounts qualify as key, below the agreed minimum of {minimum}. "
            "No account is added to make up the number; review the criteria or accept a "
            "smaller programme.", key_accounts).format(count=key_accounts,
                                                       minimum=size.minimum))
    return warnings
