"""Command modules: each holds flags, help text and examples; the work lives in `services`."""
