// The follower's view of its primary over gRPC: veta.v1.Ledger's read RPCs (GetCheckpoint,
// ListEntries, GetConsistencyProof, GetInclusionProof). Over TLS the primary serves ListEntries
// to regulators only (core/read/access.h): a follower presents a regulator's client
// certificate, or runs beside the primary on loopback.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/log/follower.h"
#include "veta/v1/service.grpc.pb.h"

namespace veta::server {

class GrpcPrimarySource final : public PrimarySource {
 public:
  // `name` names the primary in errors. Each call waits at most `deadline`.
  GrpcPrimarySource(std::unique_ptr<veta::v1::Ledger::StubInterface> stub, std::string name,
                    std::chrono::milliseconds deadline = std::chrono::seconds(30))
      : stub_(std::move(stub)), name_(std::move(name)), deadline_(deadline) {}

  absl::StatusOr<std::string> LatestCheckpointNote() override;
  absl::StatusOr<std::vector<std::string>> Entries(uint64_t start, uint32_t limit) override;
  absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t first, uint64_t second) override;
  absl::StatusOr<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size) override;
  // A certificate the primary issues (a follower relays GetCertificate: only the primary holds
  // the authority key that signs one; whoever receives it checks it offline). Asynchronous
  // (gRPC's callback API): returns at once; `done` runs once, on a gRPC thread, with the
  // certificate or the primary's refusal naming it, at the latest when the deadline passes.
  // The source must outlive the calls it started.
  void Certificate(const std::string& lot_id,
                   std::function<void(absl::StatusOr<veta::v1::Certificate>)> done);

 private:
  absl::Status FromGrpc(const grpc::Status& s, std::string_view what) const;
  void SetDeadline(grpc::ClientContext* ctx) const;

  std::unique_ptr<veta::v1::Ledger::StubInterface> stub_;
  const std::string name_;
  const std::chrono::milliseconds deadline_;
};

}  // namespace veta::server
