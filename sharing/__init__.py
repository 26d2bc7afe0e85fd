"""Delningstjänsten: the inter-municipal sharing service."""

from sharing.app import create_app

__all__ = ["create_app"]
