import pytest

from tests.shop_servers import FakeShopify, FakeWooCommerce


@pytest.fixture
def shopify_server():
    server = FakeShopify()
    server.reset(["steel-kettle", "green-tea", "clay-pot"])
    yield server
    server.close()


@pytest.fixture
def woo_server():
    server = FakeWooCommerce()
    server.reset({11: "SKU-11", 12: "SKU-12", 13: "SKU-13"})
    yield server
    server.close()
