"""Billing for an imaginary shop, on top of the official ``stripe`` SDK.

* :mod:`billing.catalog`: keep Stripe's products and prices in line with the shop's catalog.
* :mod:`billing.discounts`: coupons, promotion codes and customers who redeem them.
* :mod:`billing.payments`: bank-transfer sources: attach, detach, charge.
"""
