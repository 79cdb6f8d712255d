// Status and Result<T>: how every fallible engine call reports its outcome.
//
// Errors are values, never exceptions, in the engine. A Status is either OK or a code plus a
// message that says what was wrong, with the offending value, and what was expected:
//   "dimension mismatch: collection 'docs' expects 384, got 383".
// Both types are [[nodiscard]]: ignoring an error is a compile error.
// Thread-safety: values; distinct objects may be used from distinct threads.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace nearstore {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong (dimension, NaN, bad id, bad JSON, k < 1)
  kNotFound,            // unknown collection (points that are absent are not errors)
  kAlreadyExists,       // duplicate collection name
  kCorruption,          // a file's checksum, magic or length is wrong; the message names the file
  kIOError,             // the operating system refused a read, write, sync or rename
  kBusy,                // another process holds the database's write lock
  kFailedPrecondition,  // the object is closed, or read-only, or poisoned by an earlier I/O error
  kInternal,            // a bug: an invariant did not hold
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status Busy(std::string m) { return {StatusCode::kBusy, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidArgument: dimension mismatch: ..." or "OK".
  std::string ToString() const;

  // The same code with `context` put in front of the message ("opening 'db': ...").
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status has no value");
  }
  // The value built in place from `args`, with no temporary T moved in.
  template <typename... Args>
  explicit Result(std::in_place_t, Args&&... args)
      : v_(std::in_place_index<0>, std::forward<Args>(args)...) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  // OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace nearstore

// Early return of a non-OK Status.
#define NEARSTORE_RETURN_IF_ERROR(expr)      \
  do {                                       \
    ::nearstore::Status _ns_status = (expr); \
    if (!_ns_status.ok()) return _ns_status; \
  } while (0)

#define NEARSTORE_CONCAT_INNER(a, b) a##b
#define NEARSTORE_CONCAT(a, b) NEARSTORE_CONCAT_INNER(a, b)
// `NEARSTORE_ASSIGN_OR_RETURN(auto x, Foo());` declares x from a Result or returns its Status.
#define NEARSTORE_ASSIGN_OR_RETURN(lhs, expr) \
  NEARSTORE_ASSIGN_OR_RETURN_IMPL(NEARSTORE_CONCAT(_ns_result_, __LINE__), lhs, expr)
#define NEARSTORE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(tmp).value()
