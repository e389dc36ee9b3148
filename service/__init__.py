"""klarjournal's HTTP service: translation API, clinician preview page, metrics.

``klarjournal serve`` runs it; ``klarjournal.service.app.create_app`` builds the ASGI app.
"""
