"""The named writes of withdrawal management, one module per kind of record."""
