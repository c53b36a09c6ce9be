"""Keepword insights: every topic read into facts, and the indices computed from them."""
