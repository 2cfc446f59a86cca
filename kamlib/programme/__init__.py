"""The programme layer: how the key-account programme is run and benchmarked.

Account plans, stage goals and the 90-30 rhythm (:mod:`.plans`), managers and their
skills (:mod:`.managers`), executive sponsors (:mod:`.sponsorship`), the comparison of
key accounts with the others (:mod:`.comparison`) and the programme's maturity
(:mod:`.maturity`).
"""
