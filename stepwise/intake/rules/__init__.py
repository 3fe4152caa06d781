"""Pure logic of the admissions line: no Django imports.

Crisis triage and the advice it shows, waitlist priority, the program suggested after
a screening, and the arithmetic of the admissions metrics.
"""
