"""Newborn with hypoplastic left heart: Norwood shunt choice (placeholder: being written)."""
