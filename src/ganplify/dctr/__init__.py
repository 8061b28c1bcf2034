"""DCTR: reweighting generated events with a classifier, w = h/(1 − h), and its statistics."""
