"""Rewrite an Optimum-exported decoder as a fused graph: one attention kernel per layer.

Optimum's export spells attention out in ~60 small nodes per layer (rotary, repeat-kv, masks,
softmax) and concatenates the KV cache every step. This module reads that graph's weights by
module name, exactly as they are (quantised or float), and writes a new graph of the same model
in ONNX Runtime's fused operators:

    Gather (embedding) -> per layer: SimplifiedLayerNormalization / SkipSimplifiedLayerNormalization,
    q/k/v MatMul(NBits) + bias, GroupQueryAttention (rotary inside, KV cache in a buffer that
    past and present share), o_proj, SkipSimplifiedLayerNormalization, SiLU-gated MLP -> lm_head
    on the last ``num_logits_to_keep`` positions (an input; 0 keeps all).

The node and weight names stay the export's (``/model/layers.0/self_attn/q_proj/MatMul_Q8``), so
LoRA adapters (``core/runtime/lora.py``) apply to the fused graph unchanged. The inputs stay
``input_ids``, ``attention_mask`` and ``past_key_values.N.key/value``; ``position_ids`` are
derived from the mask inside the kernel. The build checks the fused graph against the export it
came from (``core/model_store/quantize.compare_graphs``) and keeps the export when it strays.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FUSED_FORMAT = "fused-gqa-1"
SUPPORTED_TYPES = {"llama", "qwen2", "mistral"}
LOGITS_TO_KEEP = "num_logits_to_keep"
# A fused graph must pick what its export picks: only the order of float operations differs
# (Qwen2.5-0.5B int8 measured top-1 0.96, top-5 1.00, median KL 0.0007 nats against its export;
# the int8 weights themselves cost ~0.004 against float). A broken rewrite lands far outside.
MIN_TOP1 = 0.90
MIN_TOP_K = 0.98
MAX_KL_MEDIAN = 0.01


class FuseUnsupported(ValueError):
    """The model's architecture or export is not one this rewrite knows; the export is kept."""


@dataclass(frozen=True)
class Shape:
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    eps: float
    rope_theta: float
    max_positions: int


def read_shape(config: dict[str, Any]) -> Shape:
    model_type = config.get("model_type")
    if model_type not in SUPPORTED_TYPES:
        raise FuseUnsupported(f"model type {model_type!r} (fused graphs cover {sorted(SUPPORTED_TYPES)})")
    scaling = config.get("rope_scaling")
    if scaling and (scaling.get("rope_type") or scaling.get("type")) not in (None, "default"):
        raise FuseUnsupported(f"rope scaling {scaling!r}")
    if config.get("hidden_act", "silu") != "silu":
        raise FuseUnsupported(f"activation {config.get('hidden_act')!r}")
    if config.get("use_sliding_window") or (model_type == "mistral" and config.get("sliding_window")):
        raise FuseUnsupported("sliding-window attention")
    heads = int(config["num_attention_heads"])
    hidden = int(config["hidden_size"])
    head_dim = int(config.get("head_dim") or hidden // heads)
    if head_dim % 8:
        raise FuseUnsupported(f"head size {head_dim} (the fused kernel needs a multiple of 8)")
    return Shape(
        layers=int(config["num_hidden_layers"]),
        hidden=hidden,
        heads=heads,
        kv_heads=int(config.get("num_key_value_heads") or heads),
        head_dim=head_dim,
        eps=float(config.get("rms_norm_eps", 1e-6)),
        rope_theta=float(config.get("rope_theta", 10000.0)),
        max_positions=int(config.get("max_position_embeddings") or 4096),
    )


def rotary_caches(shape: Shape) -> tuple[np.ndarray, np.ndarray]:
    """cos/sin [max_positions, head_dim / 2] as transformers' default rotary embedding computes them."""
    inverse = 1.0 / (shape.rope_theta ** (np.arange(0, shape.head_dim, 2, dtype=np.int64).astype(np.float32)
                                          / shape.head_dim))
    angles = np.outer(np.arange(shape.max_positions, dtype=np.float32), inverse.astype(np.float32))
    return np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)


class _Weights:
    """The export's nodes and initializers, looked up by module."""

    def __init__(self, graph) -> None:
        self.initializers = {item.name: item for item in graph.initializer}
        self.nodes = {node.name: node for node in graph.node}
        self.producers = {output: node for node in graph.node for output in node.output}

    def resolve(self, name: str) -> str | None:
        """The initializer behind ``name``, through the Identity nodes an exporter adds for tied
        or equal weights."""
        seen = 0
        while name not in self.initializers and seen < 8:
            producer = self.producers.get(name)
            if producer is None or producer.op_type != "Identity":
                return None
            name, seen = producer.input[0], seen + 1
        return name if name in self.initializers else None

    def initializer(self, name: str):
        if name not in self.initializers:
            raise FuseUnsupported(f"the export has no weight {name}")
        return self.initializers[name]

    def transposed_weight(self, node) -> str | None:
        """A float MatMul fed by ``Transpose(initializer)`` (a tied lm_head): store it transposed."""
        from onnx import numpy_helper

        producer = self.producers.get(node.input[1])
        source = self.resolve(producer.input[0]) if producer is not None and producer.op_type == "Transpose" else None
        if source is None:
            return None
        name = f"{node.input[1]}.transposed"
        if name not in self.initializers:
            array = numpy_helper.to_array(self.initializers[source])
            self.initializers[name] = numpy_helper.from_array(np.ascontiguousarray(array.T), name)
        return name

    def linear(self, module: str):
        """The MatMul or MatMulNBits node of ``module`` (``/model/layers.0/self_attn/q_proj``)."""
        for suffix in ("MatMul_Q8", "MatMul_Q4", "MatMul"):
            node = self.nodes.get(f"{module}/{suffix}")
            if node is None or len(node.input) < 2:
                continue
            if node.op_type == "MatMulNBits" and len(node.input) > 3 and node.input[3]:
                raise FuseUnsupported(f"{module} is quantised with zero points")
            weights = [self.resolve(name) if name else "" for name in node.input[1:]]
            if all(name is not None for name in weights):
                return node, weights
            if node.op_type == "MatMul" and (weight := self.transposed_weight(node)):
                return node, [weight]
        raise FuseUnsupported(f"the export has no weight for {module}")

    def norm(self, module: str) -> str:
        """The RMSNorm weight of ``module`` (``model.layers.0.input_layernorm``); an exporter that
        shares equal initializers (a fresh model's all-ones norms) names it otherwise: find it
        as the scale the norm's last Mul reads."""
        if f"{module}.weight" in self.initializers:
            return f"{module}.weight"
        scope = "/" + module.replace(".", "/").replace("/layers/", "/layers.")
        muls = [node for name, node in self.nodes.items() if name.startswith(f"{scope}/Mul") and node.op_type == "Mul"]
        for node in sorted(muls, key=lambda item: item.name, reverse=True):
            names = [resolved for name in node.input if (resolved := self.resolve(name))]
            if names:
                return names[0]
        raise FuseUnsupported(f"the export has no weight for {module}")

    def bias(self, module: str) -> str | None:
        node = self.nodes.get(f"{module}/Add")
        if node is None:
            return None
        names = [resolved for name in node.input if (resolved := self.resolve(name))]
        return names[0] if names else None


def fuse_graph(source: Path, config: dict[str, Any], out: Path, data_file: str | None = None) -> dict[str, Any]:
    """Write the fused version of the export ``source`` to ``out``; returns what was fused.

    The weights go to ``data_file`` beside ``out`` (default ``<out>.data``): ONNX Runtime maps an
    external data file instead of copying a protobuf, which halves the peak memory of a load and
    cuts its time to a third, and the embedding rows a prompt never uses are never read."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    shape = read_shape(config)
    model = onnx.load(str(source))
    weights = _Weights(model.graph)
    used: dict[str, Any] = {}
    nodes: list[Any] = []

    def use(name: str) -> str:
        used[name] = weights.initializer(name)
        return name

    def linear(module: str, x: str, out_name: str) -> str:
        source_node, weight_inputs = weights.linear(module)
        inputs = [x, *(use(name) for name in weight_inputs if name)]
        bias = weights.bias(module)
        produced = out_name if bias is None else f"{out_name}_nobias"
        node = helper.make_node(source_node.op_type, inputs, [produced], name=source_node.name,
                                domain=source_node.domain)
        node.attribute.extend(source_node.attribute)
        nodes.append(node)
        if bias is not None:
            nodes.append(helper.make_node("Add", [produced, use(bias)], [out_name], name=f"{module}/Add"))
        return out_name

    embed = weights.nodes.get("/model/embed_tokens/Gather")
    table = weights.resolve(embed.input[0]) if embed is not None else None
    if table is None:
        raise FuseUnsupported("the export has no embedding table")
    cos, sin = rotary_caches(shape)
    extra = [
        numpy_helper.from_array(cos, "rotary.cos_cache"),
        numpy_helper.from_array(sin, "rotary.sin_cache"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "const.one"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "const.axis1"),
        numpy_helper.from_array(np.array([np.iinfo(np.int64).max], dtype=np.int64), "const.end"),
    ]
    ms = "com.microsoft"
    # Sequence lengths for the kernel: tokens seen so far minus one, and the mask's width.
    nodes += [
        helper.make_node("ReduceSum", ["attention_mask", "const.one"], ["mask.sum"], keepdims=0, name="/mask/ReduceSum"),
        helper.make_node("Sub", ["mask.sum", "const.one"], ["mask.seqlens"], name="/mask/Sub"),
        helper.make_node("Cast", ["mask.seqlens"], ["seqlens_k"], to=TensorProto.INT32, name="/mask/Cast"),
        helper.make_node("Shape", ["attention_mask"], ["mask.shape"], start=1, end=2, name="/mask/Shape"),
        helper.make_node("Squeeze", ["mask.shape"], ["mask.total"], name="/mask/Squeeze"),
        helper.make_node("Cast", ["mask.total"], ["total_sequence_length"], to=TensorProto.INT32, name="/mask/Cast_1"),
        helper.make_node("Gather", [use(table), "input_ids"], ["hidden.0"], name=embed.name),
    ]
    past_inputs, present_outputs = [], []
    kv_shape = ["batch_size", shape.kv_heads, "past_sequence_length", shape.head_dim]
    present_shape = ["batch_size", shape.kv_heads, "total_sequence_length", shape.head_dim]
    residual, pending = "hidden.0", None  # pending: the sub-layer output not yet added to residual
    for layer in range(shape.layers):
        prefix = f"/model/layers.{layer}"
        norm_weight = use(weights.norm(f"model.layers.{layer}.input_layernorm"))
        if pending is None:
            nodes.append(helper.make_node("SimplifiedLayerNormalization", [residual, norm_weight], [f"{prefix}/in"],
                                          axis=-1, epsilon=shape.eps, name=f"{prefix}/input_layernorm"))
        else:
            summed = f"{prefix}/residual_in"
            nodes.append(helper.make_node("SkipSimplifiedLayerNormalization", [pending, residual, norm_weight],
                                          [f"{prefix}/in", "", "", summed], epsilon=shape.eps, domain=ms,
                                          name=f"{prefix}/input_layernorm"))
            residual = summed
        attn = f"{prefix}/self_attn"
        q = linear(f"{attn}/q_proj", f"{prefix}/in", f"{attn}/q")
        k = linear(f"{attn}/k_proj", f"{prefix}/in", f"{attn}/k")
        v = linear(f"{attn}/v_proj", f"{prefix}/in", f"{attn}/v")
        past_k, past_v = f"past_key_values.{layer}.key", f"past_key_values.{layer}.value"
        present_k, present_v = f"present.{layer}.key", f"present.{layer}.value"
        nodes.append(helper.make_node(
            "GroupQueryAttention",
            [q, k, v, past_k, past_v, "seqlens_k", "total_sequence_length", "rotary.cos_cache", "rotary.sin_cache"],
            [f"{attn}/out", present_k, present_v], domain=ms, name=f"{attn}/GroupQueryAttention",
            num_heads=shape.heads, kv_num_heads=shape.kv_heads, do_rotary=1, rotary_interleaved=0,
            scale=float(shape.head_dim ** -0.5),
        ))
        for name in (past_k, past_v):
            past_inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, kv_shape))
        for name in (present_k, present_v):
            present_outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, present_shape))
        attended = linear(f"{attn}/o_proj", f"{attn}/out", f"{attn}/o")
        post = f"{prefix}/post"
        summed = f"{prefix}/residual_mid"
        nodes.append(helper.make_node(
            "SkipSimplifiedLayerNormalization",
            [attended, residual, use(weights.norm(f"model.layers.{layer}.post_attention_layernorm"))],
            [post, "", "", summed], epsilon=shape.eps, domain=ms, name=f"{prefix}/post_attention_layernorm"))
        residual = summed
        mlp = f"{prefix}/mlp"
        gate = linear(f"{mlp}/gate_proj", post, f"{mlp}/gate")
        up = linear(f"{mlp}/up_proj", post, f"{mlp}/up")
        nodes += [
            helper.make_node("Sigmoid", [gate], [f"{mlp}/gate_sigmoid"], name=f"{mlp}/act_fn/Sigmoid"),
            helper.make_node("Mul", [gate, f"{mlp}/gate_sigmoid"], [f"{mlp}/act"], name=f"{mlp}/act_fn/Mul"),
            helper.make_node("Mul", [f"{mlp}/act", up], [f"{mlp}/gated"], name=f"{mlp}/Mul"),
        ]
        pending = linear(f"{mlp}/down_proj", f"{mlp}/gated", f"{mlp}/down")
    nodes += [
        helper.make_node("SkipSimplifiedLayerNormalization", [pending, residual, use(weights.norm("model.norm"))],
                         ["final"], epsilon=shape.eps, domain=ms, name="/model/norm"),
        # Keep only the positions asked for: the prompt's last one is all a generation step reads.
        helper.make_node("Neg", [LOGITS_TO_KEEP], ["keep.start"], name="/lm_head/Neg"),
        helper.make_node("Slice", ["final", "keep.start", "const.end", "const.axis1"], ["final.kept"],
                         name="/lm_head/Slice"),
    ]
    linear("/lm_head", "final.kept", "logits")
    if weights.bias("/lm_head"):
        raise FuseUnsupported("an lm_head with a bias")

    graph = helper.make_graph(
        nodes, "adcopy-fused-decoder",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch_size", "total_sequence_length"]),
         *past_inputs,
         helper.make_tensor_value_info(LOGITS_TO_KEEP, TensorProto.INT64, [1])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch_size", "kept_length", "vocab_size"]),
         *present_outputs],
        initializer=[*used.values(), *extra],
    )
    fused = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid(ms, 1)],
                              producer_name="adcopy-desktop", ir_version=model.ir_version)
    helper.set_model_props(fused, {"adcopy_graph": FUSED_FORMAT})
    out = Path(out)
    onnx.save_model(fused, str(out), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=data_file or f"{out.name}.data", size_threshold=1024)
    return {"graph": FUSED_FORMAT, "layers": shape.layers, "nodes": len(nodes),
            "source_nodes": len(model.graph.node)}


def is_fused(model_path: Path) -> bool:
    import onnx

    model = onnx.load(str(model_path), load_external_data=False)
    return any(prop.key == "adcopy_graph" and prop.value == FUSED_FORMAT for prop in model.metadata_props)


def fuse_model(onnx_dir: Path, tokenizer, config: dict[str, Any]) -> dict[str, Any]:
    """Replace ``onnx_dir/model.onnx`` (an export) with its fused graph if that checks out.

    Returns figures for the manifest. An architecture the rewrite does not know, or a fused graph
    that strays from the export, keeps the export (slower, same copy) and says why."""
    import os

    from adcopy_desktop.core.model_store.quantize import check_sequences, compare_graphs, external_data_files

    export = onnx_dir / "model.onnx"
    fused = onnx_dir / "model.fused.onnx"
    stale = external_data_files(export)
    # named for the file it ends up beside, unless the export's own weights use that name
    data_file = "model.onnx.data" if "model.onnx.data" not in stale else "model.fused.onnx.data"
    try:
        described = fuse_graph(export, config, fused, data_file)
        figures = compare_graphs(export, fused, check_sequences(onnx_dir, tokenizer))
    except FuseUnsupported as exc:
        _remove_graph(fused, data_file)
        return {"graph": "export", "fuse_skipped": str(exc)}
    except BaseException:
        _remove_graph(fused, data_file)
        raise
    result = {"fused_next_token_agreement": figures["top1"], "fused_in_export_top5": figures["top_k"],
              "fused_kl_median": figures["kl_median"], "fused_check_positions": figures["positions"]}
    if figures["top1"] < MIN_TOP1 or figures["top_k"] < MIN_TOP_K or figures["kl_median"] > MAX_KL_MEDIAN:
        _remove_graph(fused, data_file)
        return {**result, "graph": "export", "fuse_skipped": "the fused graph strayed from the export"}
    os.replace(fused, export)
    for name in stale - external_data_files(export):
        (onnx_dir / name).unlink(missing_ok=True)
    return {**result, "graph": described["graph"], "graph_nodes": described["nodes"],
            "export_nodes": described["source_nodes"]}


def _remove_graph(path: Path, data_file: str) -> None:
    path.unlink(missing_ok=True)
    path.with_name(data_file).unlink(missing_ok=True)
