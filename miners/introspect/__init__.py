"""Reading what a library declares about its config classes: plain values, annotations, fields."""
