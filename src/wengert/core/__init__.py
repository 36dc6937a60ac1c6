"""The machinery: primitives, traces and the three transformations. Knows no operation."""
