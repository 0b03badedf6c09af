"""Upstream "Create Music Video" APIs: pure dialect modules plus one thin httpx client."""
