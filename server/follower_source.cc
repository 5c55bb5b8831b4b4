#include "server/follower_source.h"

#include "core/base/strings.h"

namespace veta::server {
namespace {

absl::StatusOr<std::vector<Hash>> Hashes(
    const google::protobuf::RepeatedPtrField<std::string>& bytes) {
  std::vector<Hash> out(static_cast<size_t>(bytes.size()));
  for (int i = 0; i < bytes.size(); ++i) {
    if (!HashFromBytes(bytes[i], &out[static_cast<size_t>(i)])) {
      return absl::InvalidArgumentError("the primary sent a proof hash that is not 32 bytes");
    }
  }
  return out;
}

}  // namespace

absl::Status GrpcPrimarySource::FromGrpc(const grpc::Status& s, std::string_view what) const {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      StrCat(what, " from the primary ", name_, ": ", s.error_message()));
}

void GrpcPrimarySource::SetDeadline(grpc::ClientContext* ctx) const {
  ctx->set_deadline(std::chrono::system_clock::now() + deadline_);
}

absl::StatusOr<std::string> GrpcPrimarySource::LatestCheckpointNote() {
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  veta::v1::Checkpoint cp;
  if (grpc::Status s = stub_->GetCheckpoint(&ctx, {}, &cp); !s.ok()) {
    return FromGrpc(s, "the checkpoint");
  }
  return cp.note();
}

absl::StatusOr<std::vector<std::string>> GrpcPrimarySource::Entries(uint64_t start,
                                                                    uint32_t limit) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  veta::v1::ListEntriesRequest request;
  request.set_start(start);
  request.set_limit(limit);
  veta::v1::ListEntriesResponse response;
  grpc::Status s = stub_->ListEntries(&ctx, request, &response);
  if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT && limit > 1) {
    // A primary whose page is smaller than asked: its default page.
    return Entries(start, 0);
  }
  if (!s.ok()) return FromGrpc(s, StrCat("entries from ", start));
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(response.entries_size()));
  for (auto& e : *response.mutable_entries()) out.push_back(std::move(*e.mutable_entry_bytes()));
  return out;
}

absl::StatusOr<std::vector<Hash>> GrpcPrimarySource::ConsistencyProof(uint64_t first,
                                                                      uint64_t second) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  veta::v1::GetConsistencyProofRequest request;
  request.set_first_size(first);
  request.set_second_size(second);
  veta::v1::ConsistencyProof proof;
  if (grpc::Status s = stub_->GetConsistencyProof(&ctx, request, &proof); !s.ok()) {
    return FromGrpc(s, StrCat("the consistency proof ", first, "-", second));
  }
  return Hashes(proof.hashes());
}

absl::StatusOr<std::vector<Hash>> GrpcPrimarySource::InclusionProof(uint64_t index, uint64_t size) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  veta::v1::GetInclusionProofRequest request;
  request.set_sequence(index);
  request.set_tree_size(size);
  veta::v1::InclusionProof proof;
  if (grpc::Status s = stub_->GetInclusionProof(&ctx, request, &proof); !s.ok()) {
    return FromGrpc(s, StrCat("the inclusion proof of entry ", index));
  }
  return Hashes(proof.hashes());
}

void GrpcPrimarySource::Certificate(
    const std::string& lot_id, std::function<void(absl::StatusOr<veta::v1::Certificate>)> done) {
  struct Call {
    grpc::ClientContext ctx;
    veta::v1::GetCertificateRequest request;
    veta::v1::Certificate certificate;
    std::function<void(absl::StatusOr<veta::v1::Certificate>)> done;
  };
  auto* async = stub_->async();
  if (async == nullptr) {
    done(absl::UnimplementedError("this stub has no asynchronous calls"));
    return;
  }
  auto call = std::make_unique<Call>();
  SetDeadline(&call->ctx);
  call->request.set_lot_id(lot_id);
  call->done = std::move(done);
  Call* raw = call.release();  // owned by the callback, which runs exactly once
  async->GetCertificate(
      &raw->ctx, &raw->request, &raw->certificate, [raw, name = name_](grpc::Status s) {
        std::unique_ptr<Call> owned(raw);
        if (!s.ok()) {
          // The primary's refusal as it is (CERTIFICATE_REFUSED naming the entry, NOT_FOUND...).
          owned->done(absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                                   StrCat("the primary (", name, "): ", s.error_message())));
          return;
        }
        owned->done(std::move(owned->certificate));
      });
}

}  // namespace veta::server
