"""One module per platform, each declaring ``PLATFORM = Platform(...)`` (see socialwh.registry).

Modules whose name starts with ``_`` hold shared shapes, not platforms. The registry discovers
the others: adding a platform is adding its module, never editing a list.
"""
