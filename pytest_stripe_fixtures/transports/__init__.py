"""How calls reach the engine: the stripe SDK's HTTP client layer (``sdk.py``), ..."""
