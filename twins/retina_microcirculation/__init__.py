"""Retinal microcirculation: vessel calibres, shape and perfusion from a fundus photograph
(fundus analysis + Poiseuille network flow with small-vessel viscosity; README.md)."""
