"""The shop targets: Shopify (Admin GraphQL) and WooCommerce (REST v3), sent through the outbox."""

from __future__ import annotations

from adcopy_desktop.core.plugins import Exporter, hookimpl
from adcopy_desktop.core.shops import shopify, woocommerce

TIMEOUT = {"type": "number", "default": 30.0, "min": 1, "max": 600, "label": "Seconds to wait for an answer"}


def connect_shopify(options, credentials):
    return shopify.ShopifyClient(options["shop_url"], credentials["token"], api_version=options["api_version"],
                                 timeout=options["timeout_s"])


def connect_woocommerce(options, credentials):
    return woocommerce.WooCommerceClient(
        options["shop_url"], credentials["consumer_key"], credentials["consumer_secret"],
        api_version=options["api_version"], batch_size=options["batch_size"], timeout=options["timeout_s"],
        seo_plugin=options["seo_plugin"])


@hookimpl
def register_exporters(register):
    register(Exporter(
        name="shopify",
        label="Shopify (Admin API)",
        description="productUpdate per product (title, description HTML, SEO), addressed by handle.",
        connect=connect_shopify,
        credentials=shopify.CREDENTIALS,
        settings_schema={
            "shop_url": {"type": "string", "default": "", "label": "Shop address (https://NAME.myshopify.com)"},
            "api_version": {"type": "string", "default": shopify.DEFAULT_API_VERSION, "label": "Admin API version"},
            "timeout_s": TIMEOUT,
        },
    ))
    register(Exporter(
        name="woocommerce",
        label="WooCommerce (REST API v3)",
        description="Batch product updates (name, description, optional SEO plugin fields), by id or SKU.",
        connect=connect_woocommerce,
        credentials=woocommerce.CREDENTIALS,
        settings_schema={
            "shop_url": {"type": "string", "default": "", "label": "Site address (https://example.com)"},
            "api_version": {"type": "string", "default": woocommerce.DEFAULT_API_VERSION, "label": "REST API version"},
            "batch_size": {"type": "integer", "default": 100, "min": 1, "max": 100, "label": "Products per request"},
            "seo_plugin": {"type": "choice", "default": "none", "choices": list(woocommerce.SEO_META_KEYS),
                           "label": "SEO plugin whose title/description fields to set"},
            "timeout_s": TIMEOUT,
        },
    ))
