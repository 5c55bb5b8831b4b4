// Registry records against the server's current versions: a new version of a record names the
// version it replaces (RegistryRecord.replaces), which only the server knows.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "veta/v1/registry.pb.h"
#include "veta/v1/service.grpc.pb.h"

namespace veta::client {

struct VersionedRecord {
  veta::v1::RegistryRecord record;  // with `replaces` set to the current version (0: none)
  bool unchanged = false;           // the current version says the same: nothing to submit
};

// Looks each record up on the server (one GetRecord each) and sets `replaces`. A record that
// equals its current version (but for `replaces`) is marked unchanged. Errors other than
// NOT_FOUND are returned, naming the record.
absl::StatusOr<std::vector<VersionedRecord>> AgainstCurrentVersions(
    veta::v1::Ledger::Stub* stub, const std::vector<veta::v1::RegistryRecord>& records);

}  // namespace veta::client
