"""Developer tools built on the product, never under it: bench, eval, doctor, calibrate."""
