"""TEDS admission demographic codes, as coded in the TEDS-A public-use file. Pure data.

-9 is TEDS' "missing/unknown". States may submit finer detail than the
public-use file; review these lists with the state TEDS coordinator.
"""

from __future__ import annotations

MISSING = "-9"

SEX = [("1", "Male"), ("2", "Female"), (MISSING, "Unknown")]

RACE = [
    ("1", "Alaska Native (Aleut, Eskimo, Indian)"),
    ("2", "American Indian (other than Alaska Native)"),
    ("3", "Asian or Pacific Islander"),
    ("4", "Black or African American"),
    ("5", "White"),
    ("6", "Asian"),
    ("7", "Other single race"),
    ("8", "Two or more races"),
    ("9", "Native Hawaiian or Other Pacific Islander"),
    (MISSING, "Unknown"),
]

ETHNICITY = [
    ("1", "Puerto Rican"),
    ("2", "Mexican"),
    ("3", "Cuban or other specific Hispanic"),
    ("4", "Not of Hispanic or Latino origin"),
    ("5", "Hispanic or Latino, specific origin not specified"),
    (MISSING, "Unknown"),
]

EDUCATION = [
    ("1", "8 years or less (including no schooling)"),
    ("2", "Grades 9 to 11"),
    ("3", "Grade 12 (or GED)"),
    ("4", "13-15 years (some college or vocational school)"),
    ("5", "16 years or more (bachelor's degree or higher)"),
    (MISSING, "Unknown"),
]

EMPLOYMENT = [
    ("1", "Full-time"),
    ("2", "Part-time"),
    ("3", "Unemployed"),
    ("4", "Not in labor force"),
    (MISSING, "Unknown"),
]

LIVING_ARRANGEMENT = [
    ("1", "Homeless"),
    ("2", "Dependent living"),
    ("3", "Independent living"),
    (MISSING, "Unknown"),
]


def label(choices: list[tuple[str, str]], code: str) -> str:
    return dict(choices).get(code, "Unknown")
