"""HTTP front end of kubesim (aiohttp)."""
