"""Small config classes with known validation, for the miners' own tests."""
