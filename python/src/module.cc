// nearstore._core: the thin nanobind face of the C++ engine. All logic is in the engine; this
// file only converts arguments and results, releases the GIL around engine calls (WithoutGil),
// and turns a non-OK Status into the Python exception class nearstore/errors.py maps its code's
// name to. Arguments arrive checked by the package (nearstore/_args.py): types and widths.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "nearstore/nearstore.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace nearstore::python {
namespace {

// Python exception classes by status code NAME (StatusCodeName), handed over once at import by
// nearstore/errors.py: the table lives there, and the codes cross by name, never by position.
nb::dict& ErrorClasses() {
  static auto* classes = new nb::dict();  // lives until exit (no destructor runs at shutdown)
  return *classes;
}

[[noreturn]] void Raise(const Status& status) {
  nb::object cls = ErrorClasses().get(StatusCodeName(status.code()), nb::none());
  PyErr_SetString(cls.is_none() ? PyExc_RuntimeError : cls.ptr(), status.message().c_str());
  throw nb::python_error();
}

void Check(const Status& status) {
  if (!status.ok()) Raise(status);
}

template <typename T>
T Unwrap(Result<T>&& result) {
  if (!result.ok()) Raise(result.status());
  return std::move(result).value();
}

// Runs `call` (an engine call returning Status or Result<T>) with the GIL released, so other
// Python threads run meanwhile, then, with the GIL back, returns its value (nothing for a
// Status) or raises the exception of its code.
template <typename Call>
auto WithoutGil(Call&& call) {
  using R = std::invoke_result_t<Call&>;
  if constexpr (std::is_same_v<R, Status>) {
    Status s;
    {
      nb::gil_scoped_release release;
      s = call();
    }
    Check(s);
  } else {
    std::optional<R> r;
    {
      nb::gil_scoped_release release;
      r.emplace(call());
    }
    return Unwrap(std::move(*r));
  }
}

using Vector = nb::ndarray<const float, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using Matrix = nb::ndarray<const float, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using OutVector = nb::ndarray<nb::numpy, float, nb::ndim<1>>;

std::span<const float> Span(const Vector& v) { return {v.data(), v.shape(0)}; }
std::span<const float> Span(const Matrix& m) { return {m.data(), m.shape(0) * m.shape(1)}; }

// A copy of a C++ vector as a numpy array that owns its memory.
OutVector ToNumpy(std::vector<float>&& v) {
  auto* heap = new std::vector<float>(std::move(v));
  nb::capsule owner(heap, [](void* p) noexcept { delete static_cast<std::vector<float>*>(p); });
  return OutVector(heap->data(), {heap->size()}, owner);
}

// (id, distance, metadata JSON text) per hit; nearstore/__init__.py turns them into Hits.
using RawHit = std::tuple<std::string, float, std::string>;

std::vector<RawHit> ToRaw(std::vector<Hit>&& hits) {
  std::vector<RawHit> out;
  out.reserve(hits.size());
  for (auto& h : hits) out.emplace_back(std::move(h.id), h.distance, std::move(h.metadata));
  return out;
}

// One page of Collection::Scroll, without the GIL.
ScrollPage ScrollOnce(const Collection& c, const std::string& after, size_t limit,
                      std::string filter, bool with_vectors, bool with_metadata) {
  ScrollOptions o;
  o.after = after;
  o.limit = limit;
  o.with_vectors = with_vectors;
  o.with_metadata = with_metadata;
  o.filter = std::move(filter);
  return WithoutGil([&] { return c.Scroll(o); });
}

SearchOptions MakeSearchOptions(int k, bool with_metadata, uint32_t ef, uint32_t rerank,
                                std::string filter) {
  SearchOptions o;
  o.k = k;
  o.with_metadata = with_metadata;
  o.ef = ef;
  o.rerank = rerank;
  o.filter = std::move(filter);
  return o;
}

// A point as the package takes it: (vector, metadata JSON text).
using RawPoint = std::tuple<OutVector, std::string>;

std::optional<RawPoint> ToRaw(std::optional<Point>&& p) {
  if (!p) return std::nullopt;
  return std::make_tuple(ToNumpy(std::move(p->vector)), std::move(p->metadata));
}

// The same keys as the server's collection routes (one rendering: CollectionInfoToJson).
nb::dict InfoDict(const CollectionInfo& i) {
  return nb::cast<nb::dict>(nb::module_::import_("json").attr("loads")(CollectionInfoToJson(i)));
}

}  // namespace

NB_MODULE(_core, m) {
  m.doc() = "nearstore's C++ engine (use the nearstore package, not this module)";

  m.def(
      "_set_error_classes", [](nb::dict classes) { ErrorClasses() = std::move(classes); },
      "classes"_a, nb::sig("def _set_error_classes(classes: dict[str, type[Exception]]) -> None"),
      "{status code name: exception class}; raised for a non-OK Status");
  m.def(
      "_status_code_names",
      [] {
        std::vector<std::string> names;
        for (int c = static_cast<int>(StatusCode::kOk) + 1;
             c <= static_cast<int>(StatusCode::kInternal); ++c) {
          names.emplace_back(StatusCodeName(static_cast<StatusCode>(c)));
        }
        return names;
      },
      "The name of every non-OK status code (for the test that each has a class).");

  m.def(
      "verify",
      [](const std::string& path) {
        VerifyReport report = WithoutGil([&] { return VerifyDatabase(path); });
        return VerifyReportToJson(report, path);
      },
      "path"_a,
      "Checks every file of the database in `path` without opening it (nearstore/verify.h); "
      "the report as JSON text, the same as `nearstore verify --json`.");

  // A parsed filter (docs/FILTERS.md): refused with InvalidArgument when bad.
  nb::class_<Filter>(m, "Filter")
      .def(
          "__init__",
          [](Filter* self, const std::string& text) {
            new (self) Filter(Unwrap(Filter::Parse(text)));
          },
          "text"_a)
      .def(
          "matches",
          [](const Filter& f, const std::string& metadata, const std::string& id) {
            return f.Matches(metadata, id);
          },
          "metadata"_a, "id"_a);

  nb::class_<Collection>(m, "Collection")
      .def_prop_ro("name", &Collection::name)
      .def_prop_ro("dim", &Collection::dim)
      .def_prop_ro("metric",
                   [](const Collection& c) { return std::string(MetricName(c.metric())); })
      .def(
          "upsert",
          [](Collection& c, const std::vector<std::string>& ids, const Matrix& vectors,
             const std::vector<std::string>& metadata) {
            Check(CheckUpsertShape(c, ids.size(), vectors.shape(0), vectors.shape(1)));
            WithoutGil([&] { return c.UpsertColumns(ids, Span(vectors), metadata); });
          },
          "ids"_a, "vectors"_a, "metadata"_a)
      .def(
          "get",
          [](const Collection& c, const std::string& id) {
            return ToRaw(WithoutGil([&] { return c.Get(id); }));
          },
          "id"_a)
      .def(
          "get_many",
          [](const Collection& c, const std::vector<std::string>& ids) {
            auto points = WithoutGil([&] { return c.GetMany(ids); });
            std::vector<std::optional<RawPoint>> out;
            out.reserve(points.size());
            for (auto& p : points) out.push_back(ToRaw(std::move(p)));
            return out;
          },
          "ids"_a)
      .def(
          "update",
          [](Collection& c, const std::string& id, std::optional<Vector> vector,
             std::optional<std::string> metadata) {
            PointUpdate u;
            if (vector) {
              auto s = Span(*vector);
              u.vector.emplace(s.begin(), s.end());
            }
            u.metadata = std::move(metadata);
            return WithoutGil([&] { return c.Update(id, u); });
          },
          "id"_a, "vector"_a.none(), "metadata"_a.none())
      .def(
          "delete_many",
          [](Collection& c, const std::vector<std::string>& ids) {
            return WithoutGil([&] { return c.DeleteMany(ids); });
          },
          "ids"_a)
      .def("count",
           [](const Collection& c) {
             Check(c.CheckUsable());
             return c.Count();
           })
      .def(
          "scroll",
          [](const Collection& c, const std::string& after, size_t limit, std::string filter) {
            auto page = ScrollOnce(c, after, limit, std::move(filter), false, false);
            std::vector<std::string> ids;
            ids.reserve(page.points.size());
            for (auto& p : page.points) ids.push_back(std::move(p.id));
            return std::make_tuple(std::move(ids), std::move(page.next_after));
          },
          "after"_a, "limit"_a, "filter"_a)
      .def(
          "scroll_points",
          [](const Collection& c, const std::string& after, size_t limit, std::string filter,
             bool with_vectors) {
            auto page = ScrollOnce(c, after, limit, std::move(filter), with_vectors, true);
            std::vector<std::tuple<std::string, std::optional<OutVector>, std::string>> points;
            points.reserve(page.points.size());
            for (auto& p : page.points) {
              std::optional<OutVector> v;
              if (with_vectors) v = ToNumpy(std::move(p.vector));
              points.emplace_back(std::move(p.id), std::move(v), std::move(p.metadata));
            }
            return std::make_tuple(std::move(points), std::move(page.next_after));
          },
          "after"_a, "limit"_a, "filter"_a, "with_vectors"_a)
      .def(
          "count_where",
          [](const Collection& c, const std::string& filter) {
            return WithoutGil([&] { return c.CountWhere(filter); });
          },
          "filter"_a)
      .def(
          "delete_where",
          [](Collection& c, const std::string& filter) {
            return WithoutGil([&] { return c.DeleteWhere(filter); });
          },
          "filter"_a)
      .def(
          "create_index",
          [](Collection& c, const std::string& field, const std::string& kind) {
            const PayloadIndexKind k = Unwrap(ParsePayloadIndexKind(kind));
            WithoutGil([&] { return c.CreatePayloadIndex(field, k); });
          },
          "field"_a, "kind"_a)
      .def(
          "drop_index",
          [](Collection& c, const std::string& field) {
            return WithoutGil([&] { return c.DropPayloadIndex(field); });
          },
          "field"_a)
      .def("list_indexes",
           [](const Collection& c) {
             Check(c.CheckUsable());
             std::vector<std::tuple<std::string, std::string>> out;
             for (const auto& i : c.ListPayloadIndexes()) {
               out.emplace_back(i.field, PayloadIndexKindName(i.kind));
             }
             return out;
           })
      .def(
          "search",
          [](const Collection& c, const Vector& query, int k, bool with_metadata, uint32_t ef,
             uint32_t rerank, std::string filter) {
            const SearchOptions o =
                MakeSearchOptions(k, with_metadata, ef, rerank, std::move(filter));
            return ToRaw(WithoutGil([&] { return c.Search(Span(query), o); }));
          },
          "query"_a, "k"_a, "with_metadata"_a, "ef"_a, "rerank"_a, "filter"_a)
      .def(
          "search_batch",
          [](const Collection& c, const Matrix& queries, int k, bool with_metadata, uint32_t ef,
             uint32_t rerank, std::string filter) {
            Check(CheckQueryWidth(c, queries.shape(1)));
            const SearchOptions o =
                MakeSearchOptions(k, with_metadata, ef, rerank, std::move(filter));
            auto all = WithoutGil([&] { return c.SearchBatch(Span(queries), o); });
            std::vector<std::vector<RawHit>> out;
            out.reserve(all.size());
            for (auto& hits : all) out.push_back(ToRaw(std::move(hits)));
            return out;
          },
          "queries"_a, "k"_a, "with_metadata"_a, "ef"_a, "rerank"_a, "filter"_a)
      .def(
          "info",
          [](const Collection& c) {
            Check(c.CheckUsable());  // Info() itself answers even once dropped or closed
            return InfoDict(c.Info());
          },
          nb::sig("def info(self) -> dict[str, typing.Any]"))
      .def("flush", [](Collection& c) { WithoutGil([&] { return c.Flush(); }); })
      .def("compact", [](Collection& c) { WithoutGil([&] { return c.Compact(); }); });

  nb::class_<Database>(m, "Database")
      .def_static(
          "open",
          [](std::optional<std::string> path, bool sync, int threads, size_t memtable_max_bytes) {
            DatabaseOptions o;
            o.durability = sync ? Durability::kSync : Durability::kNoSync;
            o.search_threads = threads;
            o.index_build_threads = threads;
            if (memtable_max_bytes != 0) o.memtable_max_bytes = memtable_max_bytes;
            return std::shared_ptr<Database>(WithoutGil(
                [&] { return path ? Database::Open(*path, o) : Database::OpenInMemory(o); }));
          },
          "path"_a.none(), "sync"_a, "threads"_a, "memtable_max_bytes"_a)
      .def_prop_ro("path", &Database::path)
      .def("close", [](Database& db) { WithoutGil([&] { return db.Close(); }); })
      .def(
          "create_collection",
          [](Database& db, const std::string& name, uint32_t dim, const std::string& metric,
             const std::string& index, uint32_t m, uint32_t ef_construction, uint32_t ef_search,
             const std::string& quantization, uint32_t rerank) {
            IndexOptions o;
            o.kind = Unwrap(ParseIndexKind(index));
            o.m = m;
            o.ef_construction = ef_construction;
            o.ef_search = ef_search;
            o.quantization = Unwrap(ParseQuantization(quantization));
            o.rerank = rerank;
            auto mt = Unwrap(ParseMetric(metric));
            return Unwrap(db.CreateCollection(name, dim, mt, o));
          },
          "name"_a, "dim"_a, "metric"_a, "index"_a, "m"_a, "ef_construction"_a, "ef_search"_a,
          "quantization"_a, "rerank"_a)
      .def(
          "get_collection",
          [](Database& db, const std::string& name) { return Unwrap(db.GetCollection(name)); },
          "name"_a)
      .def(
          "list_collections",
          [](Database& db) {
            Check(db.CheckUsable());
            std::vector<nb::dict> out;
            for (const auto& i : db.ListCollections()) out.push_back(InfoDict(i));
            return out;
          },
          nb::sig("def list_collections(self) -> list[dict[str, typing.Any]]"))
      .def(
          "drop_collection",
          [](Database& db, const std::string& name) { Check(db.DropCollection(name)); }, "name"_a);
}

}  // namespace nearstore::python
