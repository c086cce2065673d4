"""Per-resource strategies (defaults, validation, update and delete rules, table columns).

Hook methods are documented on :class:`kubesim.strategy.Strategy`.
"""
