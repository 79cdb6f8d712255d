"""Writes api/openapi.json, the OpenAPI 3 description of everything `nearstore serve` serves
(docs/SERVER.md). Edit this file and run it (python3 api/generate_openapi.py); the JSON is
compiled into the server, and tests/python/test_server.py checks that it is this script's
output, that it is valid, and that the server routes every path it describes."""

import json
from pathlib import Path

OUT = Path(__file__).resolve().parent / "openapi.json"

def ref(n): return {"$ref": f"#/components/schemas/{n}"}
def body(schema, required=True): return {"required": required, "content": {"application/json": {"schema": schema}}}
def ok(schema, desc="OK", code="200"): return {code: {"description": desc, "content": {"application/json": {"schema": schema}}}}
ERR = {"description": "Error", "content": {"application/json": {"schema": ref("Error")}}}
def errors(*codes): return {str(c): {"$ref": "#/components/responses/Error"} for c in codes}
# 415, 417, 501: a body in an encoding not read, an expectation other than 100-continue.
COMMON = (400, 401, 403, 404, 408, 409, 413, 415, 417, 429, 431, 500, 501, 503)
vec = {"type": "array", "items": {"type": "number"}, "description": "float32 values"}
f32 = {"type": "string", "description": "base64 of little-endian float32 values"}
filt = {"oneOf": [{"type": "object", "description": "docs/FILTERS.md"}, {"type": "string", "description": "a filter's JSON text"}], "nullable": True}
meta = {"type": "object", "additionalProperties": True}
schemas = {
  "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
  "CollectionInfo": {"type": "object", "required": ["name", "incarnation", "dim", "metric", "count"], "properties": {
      "name": {"type": "string"}, "incarnation": {"type": "integer"}, "dim": {"type": "integer"}, "metric": {"type": "string", "enum": ["cosine", "l2", "dot"]},
      "count": {"type": "integer"}, "segments": {"type": "integer"}, "segment_rows": {"type": "integer"}, "memtable_rows": {"type": "integer"}, "disk_bytes": {"type": "integer"}, "wal_bytes": {"type": "integer"},
      "index": {"type": "string", "enum": ["flat", "hnsw"]}, "m": {"type": "integer"}, "ef_construction": {"type": "integer"}, "ef_search": {"type": "integer"},
      "quantization": {"type": "string", "enum": ["none", "sq8", "binary"]}, "rerank": {"type": "integer"}, "vector_bytes": {"type": "integer"}, "graph_bytes": {"type": "integer"},
      "code_bytes": {"type": "integer"}, "indexed_rows": {"type": "integer"}, "payload_index_bytes": {"type": "integer"}}},
  "CreateCollection": {"type": "object", "additionalProperties": False, "required": ["name", "dim"], "properties": {
      "name": {"type": "string"}, "dim": {"type": "integer", "minimum": 0}, "metric": {"type": "string"}, "index": {"type": "string"}, "m": {"type": "integer", "minimum": 0},
      "ef_construction": {"type": "integer", "minimum": 0}, "ef_search": {"type": "integer", "minimum": 0}, "quantization": {"type": "string"}, "rerank": {"type": "integer", "minimum": 0}}},
  "PointIn": {"type": "object", "additionalProperties": False, "required": ["id", "vector"], "properties": {"id": {"type": "string"}, "vector": vec, "metadata": {**meta, "nullable": True}}},
  "Upsert": {"type": "object", "additionalProperties": False, "properties": {"points": {"type": "array", "items": ref("PointIn")}, "ids": {"type": "array", "items": {"type": "string"}}, "vectors_f32": f32, "dim": {"type": "integer", "minimum": 1}, "metadata_json": {"type": "array", "items": {"type": "string"}}}},
  "PointOut": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}, "metadata": meta, "vector": vec}},
  "Hit": {"type": "object", "required": ["id", "distance"], "properties": {"id": {"type": "string"}, "distance": {"type": "number"}, "metadata": meta, "vector": vec}},
  "Search": {"type": "object", "additionalProperties": False, "properties": {"vector": vec, "vector_f32": f32, "k": {"type": "integer"}, "ef": {"type": "integer", "minimum": 0}, "rerank": {"type": "integer", "minimum": 0}, "filter": filt, "with_metadata": {"type": "boolean"}, "with_vectors": {"type": "boolean"}}},
  "SearchBatch": {"type": "object", "additionalProperties": False, "properties": {"vectors": {"type": "array", "items": vec}, "vectors_f32": f32, "dim": {"type": "integer", "minimum": 1}, "k": {"type": "integer"}, "ef": {"type": "integer", "minimum": 0}, "rerank": {"type": "integer", "minimum": 0}, "filter": filt, "with_metadata": {"type": "boolean"}, "with_vectors": {"type": "boolean"}}},
}
C = "/v1/collections/{collection}"
param = [{"name": "collection", "in": "path", "required": True, "schema": {"type": "string"}, "examples": {"existing": {"value": "fuzz"}, "missing": {"value": "nosuch"}}}]
def op(summary, responses, request=None, params=None, tag="native"):
    o = {"summary": summary, "tags": [tag], "responses": {**responses, **errors(*COMMON)}}
    if request: o["requestBody"] = request
    if params: o["parameters"] = params
    return o
paths = {
  "/": {"get": op("Name and version", ok({"type": "object", "properties": {"title": {"type": "string"}, "version": {"type": "string"}, "nearstore_version": {"type": "string"}}}), tag="service")},
  "/healthz": {"get": op("Alive (no key needed)", ok({"type": "object"}), tag="service")},
  "/livez": {"get": op("Alive (no key needed)", ok({"type": "object"}), tag="service")},
  "/readyz": {"get": op("Ready; 503 while draining (no key needed)", ok({"type": "object"}), tag="service")},
  "/metrics": {"get": {"summary": "Prometheus text format", "tags": ["service"], "responses": {"200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}}, **errors(401, 403, 408, 415, 417, 429, 431, 501, 503)}}},
  "/openapi.json": {"get": op("This document", ok({"type": "object"}), tag="service")},
  "/v1/collections": {
      "get": op("List collections", ok({"type": "object", "required": ["collections"], "properties": {"collections": {"type": "array", "items": ref("CollectionInfo")}}})),
      "post": op("Create a collection", ok(ref("CollectionInfo"), "Created", "201"), body(ref("CreateCollection")))},
  C: {"get": op("A collection's info", ok(ref("CollectionInfo")), params=param),
      "delete": op("Drop a collection", ok({"type": "object", "properties": {"dropped": {"type": "boolean"}}}), params=param)},
  C + "/upsert": {"post": op("Insert or replace points atomically", ok({"type": "object", "properties": {"upserted": {"type": "integer"}}}), body(ref("Upsert")), param)},
  C + "/get": {"post": op("Points by id", ok({"type": "object", "properties": {"points": {"type": "array", "items": {"oneOf": [ref("PointOut")], "nullable": True}}}}),
      body({"type": "object", "additionalProperties": False, "required": ["ids"], "properties": {"ids": {"type": "array", "items": {"type": "string"}}, "with_vectors": {"type": "boolean"}, "with_metadata": {"type": "boolean"}}}), param)},
  C + "/update": {"post": op("Replace a point's vector and/or metadata", ok({"type": "object", "properties": {"updated": {"type": "boolean"}}}),
      body({"type": "object", "additionalProperties": False, "required": ["id"], "properties": {"id": {"type": "string"}, "vector": vec, "vector_f32": f32, "metadata": {**meta, "nullable": True}, "metadata_json": {"type": "string"}}}), param)},
  C + "/delete": {"post": op("Delete points by id, or by filter", ok({"type": "object", "properties": {"deleted": {"oneOf": [{"type": "integer"}, {"type": "array", "items": {"type": "boolean"}}]}}}),
      body({"type": "object", "additionalProperties": False, "properties": {"ids": {"type": "array", "items": {"type": "string"}}, "filter": filt}}), param)},
  C + "/count": {"post": op("Count points (passing a filter)", ok({"type": "object", "properties": {"count": {"type": "integer"}}}),
      body({"type": "object", "additionalProperties": False, "properties": {"filter": filt}}, required=False), param)},
  C + "/scroll": {"post": op("A page of points in ascending id order", ok({"type": "object", "properties": {"points": {"type": "array", "items": ref("PointOut")}, "next_after": {"type": "string", "nullable": True}}}),
      body({"type": "object", "additionalProperties": False, "properties": {"after": {"type": "string"}, "limit": {"type": "integer", "minimum": 0}, "filter": filt, "with_vectors": {"type": "boolean"}, "with_metadata": {"type": "boolean"}}}, required=False), param)},
  C + "/search": {"post": op("The k nearest points", ok({"type": "object", "properties": {"hits": {"type": "array", "items": ref("Hit")}}}), body(ref("Search")), param)},
  C + "/search_batch": {"post": op("The k nearest points of each query", ok({"type": "object", "properties": {"results": {"type": "array", "items": {"type": "array", "items": ref("Hit")}}}}), body(ref("SearchBatch")), param)},
  C + "/indexes": {"get": op("Payload indexes", ok({"type": "object", "properties": {"indexes": {"type": "object", "additionalProperties": {"type": "string"}}}}), params=param),
      "post": op("Create a payload index", ok({"type": "object", "properties": {"created": {"type": "boolean"}}}), body({"type": "object", "additionalProperties": False, "required": ["field", "kind"], "properties": {"field": {"type": "string"}, "kind": {"type": "string", "enum": ["keyword", "int", "float", "bool"]}}}), param)},
  C + "/indexes/drop": {"post": op("Drop a payload index", ok({"type": "object", "properties": {"dropped": {"type": "boolean"}}}), body({"type": "object", "additionalProperties": False, "required": ["field"], "properties": {"field": {"type": "string"}}}), param)},
  C + "/flush": {"post": op("Seal buffered points into a segment now", ok({"type": "object", "properties": {"flushed": {"type": "boolean"}}}), params=param)},
  C + "/compact": {"post": op("Rewrite segments without deleted points now", ok({"type": "object", "properties": {"compacted": {"type": "boolean"}}}), params=param)},
}
QERR = {"description": "Error: Qdrant's shape from the handlers, nearstore's from the router (bad name, no route)", "content": {"application/json": {"schema": {"anyOf": [{"type": "object", "required": ["status"], "properties": {"status": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}, "time": {"type": "number"}}}, ref("Error")]}}}}
def qok(result):
    return {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object", "required": ["result", "status", "time"], "properties": {"result": result, "status": {"type": "string"}, "time": {"type": "number"}}}}}}}
def qop(summary, result, request=None, params=None):
    o = {"summary": summary, "tags": ["qdrant"], "responses": {**qok(result), **{str(c): {"$ref": "#/components/responses/QdrantError"} for c in (400, 403, 404, 409, 500, 503)}, **{str(c): {"$ref": "#/components/responses/Error"} for c in (401, 405, 408, 413, 415, 417, 429, 431, 501)}}}
    if request: o["requestBody"] = request
    if params: o["parameters"] = params
    return o
QC = "/collections/{collection}"
obj = {"type": "object"}
anyv = {}
# Request bodies of the Qdrant face as src/server/qdrant_request.h reads them: every field
# named (others are refused), null where Qdrant takes null for "not given", and the fields
# accepted only at their default as an enum of that default. Never stricter than the server:
# the fuzz test sends what this forbids and expects it refused.
def n(schema): return {**schema, "nullable": True}
def only(*values): return n({"enum": [*values, None] if None not in values else list(values)})
def qobj(props, required=()):
    o = {"type": "object", "additionalProperties": False, "properties": props}
    if required: o["required"] = list(required)
    return o
qid = {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "description": "a UUID"}]}
qids = {"type": "array", "items": qid}
qvec = {"anyOf": [vec, {"type": "object", "description": "{\"\": [numbers]}: the unnamed vector by its name"}]}
qfilter = n({"type": "object", "description": "Qdrant's filter (must, should, must_not and their conditions)"})
keys = {"type": "array", "items": {"type": "string"}}
some_keys = {"anyOf": [keys, {"type": "string"}]}
with_payload = n({"anyOf": [{"type": "boolean"}, keys, qobj({"include": some_keys}, ["include"]), qobj({"exclude": some_keys}, ["exclude"])]})
with_vector = n({"anyOf": [{"type": "boolean"}, {"type": "array", "items": {"type": "string", "enum": [""]}}]})
count = n({"type": "integer", "minimum": 0})
shard_key = only(None)
hnsw = n(qobj({"m": n({"type": "integer", "minimum": 1}), "ef_construct": count, "full_scan_threshold": only(10000), "max_indexing_threads": only(0),
               "on_disk": only(False), "memory": only("cached"), "payload_m": only(None), "inline_storage": only(False)}))
quantization = n({"type": "object", "description": "{\"scalar\": {\"type\": \"int8\"}} or {\"binary\": {}}"})
vector_params = qobj({"size": {"type": "integer", "minimum": 1}, "distance": {"type": "string", "enum": ["Cosine", "Euclid", "Dot"]},
                      "hnsw_config": hnsw, "quantization_config": quantization, "on_disk": only(False), "memory": only("cached"),
                      "datatype": only("float32"), "multivector_config": only(None)}, ["size", "distance"])
empty = n({"type": "object", "maxProperties": 0})
q_create = qobj({"vectors": {"anyOf": [vector_params, qobj({"": vector_params}, [""])]}, "shard_number": only(1), "sharding_method": only("auto"),
                 "replication_factor": only(1), "write_consistency_factor": only(1), "on_disk_payload": n({"type": "boolean"}),
                 "payload": empty, "id_tracker": empty, "hnsw_config": hnsw, "wal_config": empty, "optimizers_config": empty,
                 "quantization_config": quantization, "sparse_vectors": empty, "strict_mode_config": n({"type": "object"}), "metadata": empty}, ["vectors"])
q_point = qobj({"id": qid, "vector": qvec, "payload": n({"type": "object"})}, ["id", "vector"])
q_upsert = {"anyOf": [
    qobj({"points": {"type": "array", "items": q_point}, "shard_key": shard_key, "update_filter": only(None), "update_mode": only("upsert")}, ["points"]),
    qobj({"batch": qobj({"ids": qids, "vectors": {"anyOf": [{"type": "array", "items": vec}, {"type": "object"}]}, "payloads": n({"type": "array", "items": n({"type": "object"})})}, ["ids", "vectors"]),
          "shard_key": shard_key, "update_filter": only(None), "update_mode": only("upsert")}, ["batch"])]}
q_vectors = qobj({"points": {"type": "array", "items": qobj({"id": qid, "vector": qvec}, ["id", "vector"])}, "shard_key": shard_key, "update_filter": only(None)}, ["points"])
q_targets = {"anyOf": [qobj({"points": qids, "shard_key": shard_key}, ["points"]), qobj({"filter": {"type": "object"}, "shard_key": shard_key}, ["filter"])]}
def q_edit(extra, required):
    return {"anyOf": [qobj({**extra, "points": qids, "shard_key": shard_key}, [*required, "points"]), qobj({**extra, "filter": {"type": "object"}, "shard_key": shard_key}, [*required, "filter"])]}
q_retrieve = qobj({"ids": qids, "with_payload": with_payload, "with_vector": with_vector, "shard_key": shard_key}, ["ids"])
q_scroll = qobj({"offset": n(qid), "limit": n({"type": "integer", "minimum": 1}), "filter": qfilter, "with_payload": with_payload,
                 "with_vector": with_vector, "order_by": only(None), "shard_key": shard_key})
q_count = qobj({"filter": qfilter, "exact": n({"type": "boolean"}), "shard_key": shard_key})
mmr = n(qobj({"diversity": n({"type": "number", "minimum": 0, "maximum": 1}), "candidates_limit": n({"type": "integer", "minimum": 1})}))
q_query = qobj({"query": {"anyOf": [qvec, qid, qobj({"nearest": {"anyOf": [qvec, qid]}, "mmr": mmr}, ["nearest"])]},
                "using": only(""), "filter": qfilter, "score_threshold": n({"type": "number"}),
                "params": n(qobj({"hnsw_ef": count, "exact": only(False), "indexed_only": only(False), "acorn": n({"type": "object"}), "idf": only(None),
                                  "quantization": n(qobj({"ignore": only(False), "rescore": only(True), "oversampling": n({"type": "number", "minimum": 1})}))})),
                "limit": n({"type": "integer", "minimum": 1}), "offset": count, "with_vector": with_vector, "with_payload": with_payload,
                "lookup_from": n(qobj({"collection": {"type": "string"}, "vector": only(""), "shard_key": shard_key}, ["collection"])),
                "prefetch": n({"type": "array", "maxItems": 0}), "shard_key": shard_key}, ["query"])
q_index = qobj({"field_name": {"type": "string"}, "field_schema": n({"anyOf": [
    {"type": "string", "enum": ["keyword", "uuid", "integer", "float", "bool"]},
    qobj({"type": {"type": "string", "enum": ["keyword", "uuid", "integer", "float", "bool"]}, "is_tenant": only(False), "is_principal": only(False),
          "on_disk": only(False), "memory": only("cached"), "enable_hnsw": only(True), "prefix": only(None), "nested": only(None),
          "lookup": only(True), "range": only(True)}, ["type"])]})}, ["field_name"])
# Query strings: writes take wait, ordering, timeout; reads consistency, timeout (qdrant_fields.h).
timeout = {"name": "timeout", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}}
writes = param + [{"name": "wait", "in": "query", "required": False, "schema": {"type": "boolean"}},
                  {"name": "ordering", "in": "query", "required": False, "schema": {"type": "string", "enum": ["weak", "medium", "strong"]}}, timeout]
reads = param + [{"name": "consistency", "in": "query", "required": False, "schema": {"type": "string", "description": "an integer >= 1, majority, quorum or all"}}, timeout]
point_id = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
qpaths = {
  "/collections": {"get": qop("List collections", obj)},
  QC: {"get": qop("Collection info", obj, params=param), "put": qop("Create a collection", {"type": "boolean"}, body(q_create), param + [timeout]),
       "delete": qop("Delete a collection", {"type": "boolean"}, params=param + [timeout])},
  QC + "/exists": {"get": qop("Whether it exists", obj, params=param)},
  QC + "/points": {"put": qop("Upsert points", obj, body(q_upsert), writes), "post": qop("Retrieve points", {"type": "array"}, body(q_retrieve), reads)},
  QC + "/points/vectors": {"put": qop("Replace the vectors of existing points", obj, body(q_vectors), writes)},
  QC + "/points/{id}": {"get": qop("One point", obj, params=reads + point_id)},
  QC + "/points/delete": {"post": qop("Delete points", obj, body(q_targets), writes)},
  QC + "/points/payload": {"post": qop("Set payload", obj, body(q_edit({"payload": {"type": "object"}, "key": only(None)}, ["payload"])), writes),
                           "put": qop("Overwrite payload", obj, body(q_edit({"payload": {"type": "object"}, "key": only(None)}, ["payload"])), writes)},
  QC + "/points/payload/delete": {"post": qop("Delete payload keys", obj, body(q_edit({"keys": keys}, ["keys"])), writes)},
  QC + "/points/scroll": {"post": qop("Scroll points", obj, body(q_scroll, required=False), reads)},
  QC + "/points/count": {"post": qop("Count points", obj, body(q_count, required=False), reads)},
  QC + "/points/query": {"post": qop("Query points", obj, body(q_query), reads)},
  QC + "/points/query/batch": {"post": qop("Query points in batch", {"type": "array"}, body(qobj({"searches": {"type": "array", "items": q_query}}, ["searches"])), reads)},
  QC + "/index": {"put": qop("Create a payload index", obj, body(q_index), writes)},
  QC + "/index/{field}": {"delete": qop("Delete a payload index", obj, params=writes + [{"name": "field", "in": "path", "required": True, "schema": {"type": "string"}}])},
}
paths.update(qpaths)
doc = {"openapi": "3.0.3", "info": {"title": "nearstore", "version": "0.1.0", "description": "The HTTP API of `nearstore serve` (docs/SERVER.md): the native face under /v1/, the Qdrant-compatible face under /collections, and the service routes."},
       "components": {"schemas": schemas, "responses": {"Error": ERR, "QdrantError": QERR}, "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "api-key"}, "bearer": {"type": "http", "scheme": "bearer"}}},
       "security": [{"apiKey": []}, {"bearer": []}, {}], "paths": paths}


def main() -> None:
    OUT.write_text(render())


def render() -> str:
    return json.dumps(doc, indent=1) + "\n"


if __name__ == "__main__":
    main()
