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
qpaths = {
  "/collections": {"get": qop("List collections", obj)},
  QC: {"get": qop("Collection info", obj, params=param), "put": qop("Create a collection", {"type": "boolean"}, body(obj), param), "delete": qop("Delete a collection", {"type": "boolean"}, params=param)},
  QC + "/exists": {"get": qop("Whether it exists", obj, params=param)},
  QC + "/points": {"put": qop("Upsert points", obj, body(obj), param), "post": qop("Retrieve points", {"type": "array"}, body(obj), param)},
  QC + "/points/{id}": {"get": qop("One point", obj, params=param + [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}])},
  QC + "/points/delete": {"post": qop("Delete points", obj, body(obj), param)},
  QC + "/points/payload": {"post": qop("Set payload", obj, body(obj), param), "put": qop("Overwrite payload", obj, body(obj), param)},
  QC + "/points/payload/delete": {"post": qop("Delete payload keys", obj, body(obj), param)},
  QC + "/points/scroll": {"post": qop("Scroll points", obj, body(obj, required=False), param)},
  QC + "/points/count": {"post": qop("Count points", obj, body(obj, required=False), param)},
  QC + "/points/query": {"post": qop("Query points", obj, body(obj), param)},
  QC + "/points/query/batch": {"post": qop("Query points in batch", {"type": "array"}, body(obj), param)},
  QC + "/index": {"put": qop("Create a payload index", obj, body(obj), param)},
  QC + "/index/{field}": {"delete": qop("Delete a payload index", obj, params=param + [{"name": "field", "in": "path", "required": True, "schema": {"type": "string"}}])},
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
