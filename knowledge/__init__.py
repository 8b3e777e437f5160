"""AI2-THOR's object knowledge as pure data: object types, affordances, placement rules.

A leaf package: it imports no other room, and every room may import it (the brain plans with the
placement rules without touching the simulator).
"""
