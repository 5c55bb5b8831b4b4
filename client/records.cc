#include "client/records.h"

#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>

#include <chrono>

#include "core/base/strings.h"
#include "core/rules/registry.h"

namespace veta::client {

absl::StatusOr<std::vector<VersionedRecord>> AgainstCurrentVersions(
    veta::v1::Ledger::Stub* stub, const std::vector<veta::v1::RegistryRecord>& records) {
  std::vector<VersionedRecord> out;
  out.reserve(records.size());
  for (const auto& r : records) {
    const auto [kind, id] = RecordKey(r);
    veta::v1::GetRecordRequest request;
    request.set_kind(std::string(RecordKindName(kind)));
    request.set_id(id);
    veta::v1::RecordVersion current;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    const grpc::Status s = stub->GetRecord(&ctx, request, &current);
    VersionedRecord v{r, false};
    if (s.ok()) {
      v.record.set_replaces(current.sequence());
      veta::v1::RegistryRecord same = current.record();
      same.set_replaces(current.sequence());
      v.unchanged = google::protobuf::util::MessageDifferencer::Equals(same, v.record);
    } else if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
      v.record.set_replaces(0);
    } else {
      return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                          StrCat("cannot read the current version of ", RecordKindName(kind), " ",
                                 id, ": ", s.error_message()));
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace veta::client
