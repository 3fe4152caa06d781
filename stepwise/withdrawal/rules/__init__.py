"""Pure clinical logic of withdrawal management: no Django imports.

Thresholds, the formulary and dose schedules, the induction and antagonist safety
rules, what is due on the flowsheet, over-sedation signs and the discharge bundle.
"""
