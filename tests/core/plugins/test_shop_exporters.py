"""Shop targets through register_exporters: validated at registration, connected through the
manager (error boundary, options checked), their items sent through the outbox."""

import pytest

from adcopy_desktop.core.errors import PluginError
from adcopy_desktop.core.export import export_to_shop
from adcopy_desktop.core.library import Library
from adcopy_desktop.core.outbox import RetryPolicy
from adcopy_desktop.core.plugins import Exporter, hookimpl
from adcopy_desktop.core.shops import ItemResult
from tests.core.shops.helpers import add_product_with_copy


class NotebookShop:
    batch_size = 2
    instances: list["NotebookShop"] = []

    def __init__(self, url, token):
        self.destination, self.token, self.pages, self.calls = url, token, {}, []
        NotebookShop.instances.append(self)

    def send(self, items):
        self.calls.append([item.external_key for item in items])
        for item in items:
            self.pages[item.external_key] = dict(item.payload)
        return [ItemResult(item.id, "done") for item in items]


class NotebookPlugin:
    @hookimpl
    def register_exporters(self, register):
        register(Exporter(name="notebook", credentials=("token",),
                          connect=lambda options, credentials: NotebookShop(options["shop_url"], credentials["token"]),
                          settings_schema={"shop_url": {"type": "string", "default": ""}}))


def test_register_exporters_shop_targets_are_connected_with_keyring_credentials(make_manager, tmp_path,
                                                                                memory_keyring):
    from adcopy_desktop.core.secrets import store_credentials

    manager = make_manager()
    manager.add_plugin(NotebookPlugin(), name="notebook-plugin")
    assert manager.exporters()["notebook"].is_shop
    store_credentials("notebook", "https://notes.example", {"token": "nb_token_123"})
    with Library(tmp_path / "library.sqlite3") as library:
        for key in ("a", "b", "c"):
            add_product_with_copy(library, key, key, {"title": f"T {key}"})
        result = export_to_shop(library, manager, "notebook", options={"shop_url": "notes.example"},
                                policy=RetryPolicy(base_s=0.001))
    shop = NotebookShop.instances[-1]
    assert shop.token == "nb_token_123" and shop.destination == "https://notes.example"
    assert result.done == 3 and sorted(len(call) for call in shop.calls) == [1, 2]
    assert shop.pages["a"] == {"title": "T a", "seo_title": "T a"}
    with pytest.raises(PluginError, match="has no setting 'colour'"):
        manager.connect_shop("notebook", {"shop_url": "x", "colour": 1}, {"token": "t"})
    with pytest.raises(PluginError, match="writes files, not to a shop"):
        manager.connect_shop("csv", {}, {})


@pytest.mark.parametrize("fields, problem", [
    ({"connect": lambda o, c: None, "write": lambda *a: None}, "has a callable connect and no write"),
    ({"connect": lambda o, c: None}, "needs a 'shop_url' setting"),
    ({"connect": lambda o, c: None, "settings_schema": {"shop_url": {"type": "string", "default": ""}},
      "credentials": "token"}, "credentials must be a list"),
    ({"write": lambda *a: None, "extension": ".x", "credentials": ("token",)}, "only shop targets"),
    ({"write": lambda *a: None}, "extension"),
])
def test_register_exporters_refuses_malformed_targets(make_manager, fields, problem):
    class Bad:
        @hookimpl
        def register_exporters(self, register):
            register(Exporter(name="bad", **fields))

    manager = make_manager()
    manager.add_plugin(Bad(), name="bad-plugin")
    assert "bad" not in manager.exporters()
    assert any(problem in str(p.error) for p in manager.problems), [str(p.error) for p in manager.problems]


def test_a_client_that_is_not_a_shop_client_is_reported(make_manager):
    class Broken:
        @hookimpl
        def register_exporters(self, register):
            register(Exporter(name="broken", connect=lambda options, credentials: object(),
                              settings_schema={"shop_url": {"type": "string", "default": ""}}))

    manager = make_manager()
    manager.add_plugin(Broken(), name="broken-plugin")
    with pytest.raises(PluginError, match="not a ShopClient"):
        manager.connect_shop("broken", {"shop_url": "https://x"}, {})
