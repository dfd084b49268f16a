"""Cardiometabolic risk and familial hypercholesterolaemia (placeholder: being written)."""
