// Small helpers for absl::Status, which Debian 12's abseil (20220623) lacks.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define VETA_CONCAT_INNER_(a, b) a##b
#define VETA_CONCAT_(a, b) VETA_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                    \
  do {                                           \
    ::absl::Status veta_status_ = (expr);        \
    if (!veta_status_.ok()) return veta_status_; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, StatusOrExpr());` declares x, or returns the error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(VETA_CONCAT_(veta_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()
