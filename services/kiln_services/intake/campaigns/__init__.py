"""Campaigns: create, list, read and change them."""
