// ResponseLimit: the most bytes a response body may take (ServerOptions::max_response_bytes).
//
// A small request may ask for a large answer: one id repeated in a get, many queries with a
// large k, a scroll with vectors. Without a bound, a 1.5 KB request with a read-only key made
// the server build a 315 MB answer (and hold three times that while building it). A request
// is therefore judged twice:
// - before the engine runs, on the least its answer can take (so many entries, each at least
//   so many bytes as JSON): an answer certain to pass the limit is refused at once;
// - while the body is built, entry by entry: once it passes the limit it is dropped and the
//   request refused, so a body never grows more than one entry past the limit.
// The refusal is 400 InvalidArgument, like the other per-request limits (max_batch_points,
// max_limit), naming the limit and saying how to ask for less.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "nearstore/status.h"

namespace nearstore::server {

class ResponseLimit {
 public:
  explicit ResponseLimit(uint64_t max_bytes) : max_bytes_(max_bytes) {}

  uint64_t max_bytes() const { return max_bytes_; }

  // The bound given to the engine (SearchOptions/ScrollOptions::max_result_bytes), so that it
  // copies no more for one request than that: twice max_bytes. The engine counts raw bytes,
  // and an answer's text takes at least half of them (ids and metadata as they are, plus
  // quotes; a float's 4 bytes as at least "0,"), so the engine refuses only answers whose
  // text would be refused too, and the refusals keep the server's own advice; except where
  // the text leaves most of the bytes out (a Qdrant payload selector), and then the engine
  // would have held them.
  uint64_t engine_bytes() const {
    return max_bytes_ > UINT64_MAX / 2 ? UINT64_MAX : 2 * max_bytes_;
  }

  // OK when an answer of `bytes` fits; else InvalidArgument: "<what> would take more than
  // N bytes, the most this server sends (max_response_bytes); <ask_less>".
  [[nodiscard]] Status Check(uint64_t bytes, std::string_view what,
                             std::string_view ask_less) const;

  // The same for an answer of `entries` entries of at least `min_entry_bytes` each (the
  // product saturates instead of wrapping).
  [[nodiscard]] Status CheckEntries(uint64_t entries, uint64_t min_entry_bytes,
                                    std::string_view what, std::string_view ask_less) const;

  // The fewest bytes one entry of an answer takes as JSON: {"id":"x"} (an id has at least one
  // byte), with ,"distance":0 for a hit, ,"metadata":{} and ,"vector":[0,...] (at least two
  // bytes per number) when asked for, and the comma between entries. A lower bound for both
  // faces (the Qdrant face's entries carry more fields).
  static uint64_t MinEntryBytes(bool with_distance, bool with_metadata, bool with_vector,
                                uint32_t dim);

 private:
  uint64_t max_bytes_;
};

// A running count of the bytes of an answer built as a JSON tree before it is written (the
// Qdrant face): each entry adds the least its text can take, and the answer is refused as soon
// as the count passes the limit, so that the tree stays near the limit too. (The text written
// from it is checked once more, exactly.) Not thread-safe: one per answer.
class ResponseBudget {
 public:
  // `ask_less` ends the message, as in ResponseLimit::Check.
  ResponseBudget(const ResponseLimit& limit, std::string ask_less)
      : limit_(limit), ask_less_(std::move(ask_less)) {}

  // Adds `bytes`; InvalidArgument once the total passes the limit.
  [[nodiscard]] Status Spend(uint64_t bytes);

 private:
  const ResponseLimit& limit_;
  std::string ask_less_;
  uint64_t bytes_ = 0;
};

}  // namespace nearstore::server
