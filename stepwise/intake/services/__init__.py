"""The named writes of the admissions line; each checks access, runs in one
transaction and writes its audit row."""
