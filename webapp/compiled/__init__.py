"""What this user's processes compile once and share: catalogues and templates."""
