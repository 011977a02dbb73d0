"""``adcopy serve``: this computer's model over the OpenAI chat/completions API, for a team or for
bulk jobs on other machines; ``adcopy serve token create|list|revoke`` manages who may use it."""

from __future__ import annotations

import logging
import sys
import time

import click

from adcopy_desktop.cli.common import PROVIDER_CHOICES, ProgressPrinter, echo_json, format_option


@click.group("serve", invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but this computer (e.g. 0.0.0.0) needs an access token.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="0: any free port.")
@click.option("--model", "model_id", help="Serve this model (default: the active one, followed as it changes).")
@click.option("--provider", type=click.Choice(PROVIDER_CHOICES), help="Execution provider (default: settings, auto).")
@click.option("--max-concurrent", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Requests generating at once (one suits a CPU; each takes the model's memory for its cache).")
@click.option("--max-waiting", default=4, show_default=True, type=click.IntRange(0, 1024),
              help="Requests that wait for a slot; beyond that the answer is HTTP 429 with Retry-After.")
@click.option("--log-prompts", is_flag=True, help="Also log each request's messages and the copy written (off: "
              "the log has only sizes and timings).")
@click.option("--token-delay-ms", default=0.0, type=click.FloatRange(0, 10_000), hidden=True,
              help="Tests and demos: wait this long after every token (a slower model).")
@click.pass_context
def serve_group(ctx, host, port, model_id, provider, max_concurrent, max_waiting, log_prompts, token_delay_ms):
    """Serve the local model over the OpenAI API: POST /v1/chat/completions (stream true or false),
    GET /v1/models. Other AdCopy installations use it with 'adcopy backends add NAME --url
    http://THIS-HOST:PORT/v1 --api-key-stdin'. Stop with Ctrl+C."""
    if ctx.invoked_subcommand is not None:
        return
    from adcopy_desktop.core.generation import CopyGenerator
    from adcopy_desktop.core.model_store import ModelStore
    from adcopy_desktop.core.plugins import get_plugin_manager
    from adcopy_desktop.core.serve import ServeConfig, TokenStore, check_bind, serve
    from adcopy_desktop.core.settings import load_settings

    check_bind(host, TokenStore())  # before loading (or building) a model for nothing

    requests_log = logging.getLogger("adcopy.serve")
    if not any(getattr(h, "_adcopy_serve", False) for h in requests_log.handlers):
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        console._adcopy_serve = True  # the request log goes to stderr as well as the log file
        requests_log.addHandler(console)
    store = ModelStore()
    settings = load_settings()
    if model_id is None and store.active_id() is None:
        click.echo("No model is installed yet: building the default model once (about a minute).", err=True)
        store.ensure_default_model(progress=ProgressPrinter())
    generator = CopyGenerator(store, model_id=model_id, provider=provider or settings.execution_provider,
                              threads=settings.threads, plugins=get_plugin_manager())
    config = ServeConfig(host=host, port=port, max_concurrent=max_concurrent, max_waiting=max_waiting,
                         log_prompts=log_prompts, token_delay_s=token_delay_ms / 1000)

    def ready(url: str, model: str) -> None:
        click.echo(f"serving {model} on {url}", nl=True)
        sys.stdout.flush()

    serve(config, generator, on_ready=ready)


@serve_group.group("token")
def token_group():
    """Access tokens for adcopy serve (stored as hashes; each shown once, when created)."""


@token_group.command("create")
@click.option("--name", required=True, help="Who or what uses it, e.g. laptop-anna or batch-box.")
def token_create(name):
    """Create a token and print it once: keep it in the client's keyring (adcopy backends add ... --api-key-stdin)."""
    from adcopy_desktop.core.serve import TokenStore

    record, secret = TokenStore().create(name)
    click.echo(secret)
    click.echo(f"token {record.id} ({record.name}) created; it is shown only now: store it on the client "
               "(adcopy backends add NAME --url ... --api-key-stdin). A running server accepts it at once.", err=True)


@token_group.command("list")
@format_option()
def token_list(output_format):
    """Tokens by id and name (the tokens themselves are not kept)."""
    from adcopy_desktop.core.serve import TokenStore

    tokens = TokenStore().tokens()
    if output_format == "json":
        echo_json([{"id": t.id, "name": t.name, "created_at": t.created_at} for t in tokens])
        return
    if not tokens:
        click.echo("no tokens: the server is open to this computer only (create one: adcopy serve token create --name NAME)")
    for t in tokens:
        click.echo(f"{t.id}  {t.name:24} created {time.strftime('%Y-%m-%d %H:%M', time.localtime(t.created_at))}")


@token_group.command("revoke")
@click.argument("token_id")
def token_revoke(token_id):
    """Revoke the token with this id (or name); a running server refuses it from the next request."""
    from adcopy_desktop.core.serve import TokenStore

    record = TokenStore().revoke(token_id)
    click.echo(f"revoked token {record.id} ({record.name})")
