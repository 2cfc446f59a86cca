"""The selection layer: which accounts are key accounts, and why.

One module per concept: :mod:`.candidates` (the features frame), :mod:`.criteria_phrases`
and :mod:`.criteria_scoring` (the agreed criteria), :mod:`.roster_history`,
:mod:`.hysteresis`, :mod:`.portfolio_size` and :mod:`.overrides` (roster governance),
:mod:`.roster_proposal` (the next roster), :mod:`.roster_file` (approval: appending to
roster.csv), :mod:`.portfolio_matrix`, :mod:`.explanations`, :mod:`.long_tail`,
:mod:`.errors`; :mod:`.features` is what selection measures per account;
:mod:`.segments` groups accounts (with :mod:`.segment_inputs`, :mod:`.segment_names` and
:mod:`.segment_stability`).
"""
