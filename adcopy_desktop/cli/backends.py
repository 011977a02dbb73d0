"""``adcopy backends``: the OpenAI-compatible servers AdCopy can write with (vLLM, llama.cpp,
Ollama, TGI, another ``adcopy serve``): add, list, remove, test. Names and options go to settings,
API keys to the system keyring."""

from __future__ import annotations

import os
import sys

import click

from adcopy_desktop.cli.common import echo_json, fail, format_option

API_KEY_ENV = "ADCOPY_BACKEND_API_KEY"


@click.group("backends")
def backends_group():
    """Inference servers to write with: --backend NAME (one server) or --backend pool (all of them)."""


def _read_api_key() -> str:
    if os.environ.get(API_KEY_ENV):
        return os.environ[API_KEY_ENV].strip()
    if not sys.stdin.isatty():
        line = sys.stdin.readline().strip()
        if not line:
            raise click.UsageError(f"Give the API key on standard input or in {API_KEY_ENV}.")
        return line
    return click.prompt("API key", hide_input=True).strip()


@backends_group.command("add")
@click.argument("name")
@click.option("--url", "base_url", required=True, help="The server's OpenAI API address, e.g. http://gpu-box:8000/v1.")
@click.option("--model", default="", help="Model name on the server (default: the first it lists).")
@click.option("--api-key-stdin", "with_key", is_flag=True,
              help=f"Store an API key in the keyring, read from {API_KEY_ENV}, standard input or a hidden prompt "
                   "(never from the command line).")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.1), default=120.0, show_default=True,
              help="Seconds to wait for the next part of an answer.")
@click.option("--retries", "max_retries", type=click.IntRange(0, 20), default=4, show_default=True,
              help="Tries after the first on 429, 5xx, timeouts and dropped connections (with backoff).")
@click.option("--max-concurrent", type=click.IntRange(1, 256), default=2, show_default=True,
              help="Requests the server is given at once (a pool and bulk jobs use it).")
@click.option("--n-mode", type=click.Choice(["auto", "native", "parallel"]), default="auto", show_default=True,
              help="n candidates: 'native' sends n, 'parallel' one request each, 'auto' sends n and fills in.")
@click.option("--no-extra-sampling", is_flag=True,
              help="Do not send top_k, repetition_penalty and no_repeat_ngram (for servers that refuse unknown fields).")
@click.option("--test/--no-test", "run_test", default=True, show_default=True, help="Check the connection after saving.")
def backends_add(name, base_url, model, with_key, timeout_s, max_retries, max_concurrent, n_mode, no_extra_sampling,
                 run_test):
    """Add (or change) the server called NAME."""
    from adcopy_desktop.core.endpoints import Endpoint, configure_endpoint
    from adcopy_desktop.core.secrets import require_keyring

    Endpoint(name=name, base_url=base_url)  # a bad name or address is refused before a key is asked for
    api_key = None
    if with_key:
        require_keyring()  # before asking for a key that could not be kept
        api_key = _read_api_key()
    # Every option has a default here, so all of them are set (a stored key stays until replaced).
    saved, previous = configure_endpoint(name, base_url, api_key=api_key, model=model, timeout_s=timeout_s,
                                         max_retries=max_retries, max_concurrent=max_concurrent, n_mode=n_mode,
                                         extra_sampling=not no_extra_sampling)
    if api_key and saved.key_crosses_network_unencrypted:
        click.echo(f"warning: {saved.base_url} is plain http, so the API key crosses the network "
                   "unencrypted; put the server behind https if the network is not yours.", err=True)
    key_note = ", API key in the system keyring" if saved.has_api_key else ""
    click.echo(f"{'updated' if previous else 'added'} backend {saved.name}: {saved.base_url}"
               f"{' model ' + saved.model if saved.model else ''}{key_note}")
    if run_test:
        _report_test(saved, "text")


@backends_group.command("list")
@format_option()
def backends_list(output_format):
    """The configured servers (no keys: those stay in the keyring)."""
    from adcopy_desktop.core.endpoints import list_endpoints

    endpoints = list_endpoints()
    if output_format == "json":
        echo_json([e.to_dict() for e in endpoints])
        return
    if not endpoints:
        click.echo("no backends configured; add one: adcopy backends add NAME --url http://HOST:PORT/v1")
        return
    for e in endpoints:
        click.echo(f"{e.name:16} {e.base_url:40} model {e.model or '(first listed)':24} "
                   f"at once {e.max_concurrent:<3} n {e.n_mode:8} key {'yes' if e.has_api_key else 'no'}")


@backends_group.command("remove")
@click.argument("name")
def backends_remove(name):
    """Forget the server NAME and delete its API key from the keyring."""
    from adcopy_desktop.core.endpoints import remove_endpoint

    removed = remove_endpoint(name)
    click.echo(f"removed backend {removed.name} ({removed.base_url})")


@backends_group.command("test")
@click.argument("name", required=False)
@format_option()
def backends_test(name, output_format):
    """Check a server (default: every configured one): its models and a few tokens of text.
    Exit status 1 when any is unreachable or refuses."""
    from adcopy_desktop.core.endpoints import get_endpoint, list_endpoints

    endpoints = [get_endpoint(name)] if name else list_endpoints()
    if not endpoints:
        fail("No backends are configured; add one with 'adcopy backends add NAME --url http://HOST:PORT/v1'.")
    reports = [_report_test(endpoint, output_format) for endpoint in endpoints]
    if output_format == "json":
        echo_json([report.__dict__ for report in reports])
    if not all(report.ok for report in reports):
        sys.exit(1)


def _report_test(endpoint, output_format: str):
    from adcopy_desktop.builtin.openai_backend import test_connection

    report = test_connection(endpoint)
    if output_format != "json":
        if report.ok:
            click.echo(f"ok  {endpoint.name}: {report.message}; first token {report.first_token_s:.2f} s, "
                       f"{report.tokens} tokens in {report.total_s:.2f} s; models: {', '.join(report.models)}")
        else:
            click.echo(f"FAIL {endpoint.name}: {report.message}", err=True)
    return report
