"""Pure rules of the aftercare plan: its sections, the check-in schedule, the check-in
values, the numbers every crisis plan shows and what a stay exit needs of the plan.
No Django imports."""
