"""``adcopy bench``: this app's runtime against transformers eager and llama.cpp on the same model.

The runner (``adcopy_desktop.bench.runner``) lives apart from the per-runtime child
(``adcopy_desktop.bench.peers``) so that a child imports only what its runtime needs.
"""
