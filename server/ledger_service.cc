#include "server/ledger_service.h"

#include <deque>
#include <memory>
#include <mutex>

#include "core/strings.h"
#include "server/grpc_status.h"

namespace veta::server {
namespace {

using veta::v1::SubmitRequest;
using veta::v1::SubmitResponse;

void FillEntry(std::string bytes, veta::v1::GetEntryResponse* out) {
  const Hash leaf = merkle::HashLeaf(bytes);
  out->mutable_entry()->ParseFromString(bytes);
  out->set_leaf_hash(std::string(AsBytes(leaf)));
  out->set_entry_bytes(std::move(bytes));
}

// One SubmitStream call. Envelopes go to the ledger as they arrive; answers are written in
// the order the envelopes came, each as soon as it and all before it are answered. At most
// `inflight_max` envelopes wait at a time: past that, reading pauses until answers go out.
//
// Lifetime: the reactor deletes itself once gRPC has called OnDone and every ledger
// callback has returned.
class SubmitStreamReactor final : public grpc::ServerBidiReactor<SubmitRequest, SubmitResponse> {
 public:
  SubmitStreamReactor(veta::Ledger* ledger, size_t inflight_max)
      : ledger_(ledger), inflight_max_(inflight_max) {
    std::lock_guard lock(mu_);
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    std::unique_lock lock(mu_);
    if (!ok) {
      reads_done_ = true;
      MaybeFinishLocked();
      return;
    }
    auto slot = std::make_shared<Slot>();
    slots_.push_back(slot);
    ++outstanding_;
    std::string bytes = std::move(*request_.mutable_envelope());
    lock.unlock();
    ledger_->Submit(std::move(bytes), [this, slot](SubmitResult r) { OnResult(slot, r); });
    lock.lock();
    if (slots_.size() < inflight_max_) {
      StartRead(&request_);
    } else {
      read_paused_ = true;
    }
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!ok) broken_ = true;  // the client is gone: keep draining answers, write none
    MaybeWriteLocked();
    MaybeFinishLocked();
  }

  void OnDone() override {
    bool last;
    {
      std::lock_guard lock(mu_);
      done_ = true;
      last = outstanding_ == 0;
    }
    if (last) delete this;
  }

 private:
  struct Slot {
    bool answered = false;
    SubmitResponse response;
  };

  void OnResult(const std::shared_ptr<Slot>& slot, const SubmitResult& r) {
    bool last;
    {
      std::lock_guard lock(mu_);
      slot->answered = true;
      slot->response.set_code(static_cast<int32_t>(r.status.code()));
      if (r.status.ok()) {
        slot->response.set_sequence(r.sequence);
        slot->response.set_leaf_hash(std::string(AsBytes(r.leaf_hash)));
      } else {
        slot->response.set_message(std::string(r.status.message()));
      }
      MaybeWriteLocked();
      MaybeFinishLocked();
      --outstanding_;
      last = done_ && outstanding_ == 0;
    }
    if (last) delete this;
  }

  void MaybeWriteLocked() {
    while (!writing_ && !slots_.empty() && slots_.front()->answered) {
      auto slot = std::move(slots_.front());
      slots_.pop_front();
      if (read_paused_ && !reads_done_) {
        read_paused_ = false;
        StartRead(&request_);
      }
      if (broken_) continue;
      writing_ = true;
      current_ = std::move(slot->response);
      StartWrite(&current_);
    }
  }

  void MaybeFinishLocked() {
    if (reads_done_ && slots_.empty() && !writing_ && !finished_) {
      finished_ = true;
      Finish(grpc::Status::OK);
    }
  }

  veta::Ledger* const ledger_;
  const size_t inflight_max_;
  std::mutex mu_;
  SubmitRequest request_;                    // GUARDED_BY(mu_)
  SubmitResponse current_;                   // GUARDED_BY(mu_), the write in flight
  std::deque<std::shared_ptr<Slot>> slots_;  // GUARDED_BY(mu_), in arrival order
  size_t outstanding_ = 0;                   // ledger callbacks not yet returned
  bool writing_ = false, reads_done_ = false, read_paused_ = false;
  bool broken_ = false, finished_ = false, done_ = false;
};

}  // namespace

grpc::ServerUnaryReactor* LedgerService::Submit(grpc::CallbackServerContext* ctx,
                                                const veta::v1::SubmitRequest* request,
                                                veta::v1::SubmitResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  ledger_->Submit(request->envelope(), [reactor, response](SubmitResult r) {
    if (!r.status.ok()) {
      reactor->Finish(ToGrpc(r.status));
      return;
    }
    response->set_sequence(r.sequence);
    response->set_leaf_hash(std::string(AsBytes(r.leaf_hash)));
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerBidiReactor<SubmitRequest, SubmitResponse>* LedgerService::SubmitStream(
    grpc::CallbackServerContext* /*ctx*/) {
  return new SubmitStreamReactor(ledger_, limits_.stream_inflight_max);
}

grpc::ServerUnaryReactor* LedgerService::GetEntry(grpc::CallbackServerContext* ctx,
                                                  const veta::v1::GetEntryRequest* request,
                                                  veta::v1::GetEntryResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  auto bytes = ledger_->GetEntry(request->sequence());
  if (bytes.ok()) FillEntry(std::move(*bytes), response);
  reactor->Finish(ToGrpc(bytes.status()));
  return reactor;
}

grpc::ServerUnaryReactor* LedgerService::ListEntries(grpc::CallbackServerContext* ctx,
                                                     const veta::v1::ListEntriesRequest* request,
                                                     veta::v1::ListEntriesResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  auto entries = ledger_->ListEntries(request->start(), request->limit());
  if (entries.ok()) {
    for (auto& bytes : *entries) FillEntry(std::move(bytes), response->add_entries());
    response->set_next_start(request->start() + entries->size());
  }
  reactor->Finish(ToGrpc(entries.status()));
  return reactor;
}

grpc::ServerUnaryReactor* LedgerService::GetCheckpoint(
    grpc::CallbackServerContext* ctx, const veta::v1::GetCheckpointRequest* /*request*/,
    veta::v1::Checkpoint* response) {
  auto* reactor = ctx->DefaultReactor();
  *response = ledger_->LatestCheckpoint();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* LedgerService::GetInclusionProof(
    grpc::CallbackServerContext* ctx, const veta::v1::GetInclusionProofRequest* request,
    veta::v1::InclusionProof* response) {
  auto* reactor = ctx->DefaultReactor();
  auto status = [&]() -> absl::Status {
    const uint64_t size =
        request->tree_size() != 0 ? request->tree_size() : ledger_->LatestCheckpoint().tree_size();
    uint64_t index = request->sequence();
    if (request->leaf_case() == veta::v1::GetInclusionProofRequest::kLeafHash) {
      Hash leaf;
      if (!HashFromBytes(request->leaf_hash(), &leaf)) {
        return absl::InvalidArgumentError("leaf_hash must be 32 bytes (SHA-256)");
      }
      auto found = ledger_->FindLeaf(leaf);
      if (!found.ok()) return found.status();
      index = *found;
    }
    auto proof = ledger_->InclusionProof(index, size);
    if (!proof.ok()) return proof.status();
    auto entry = ledger_->GetEntry(index);
    if (!entry.ok()) return entry.status();
    response->set_leaf_index(index);
    response->set_tree_size(size);
    response->set_leaf_hash(std::string(AsBytes(merkle::HashLeaf(*entry))));
    for (const Hash& h : *proof) response->add_hashes(std::string(AsBytes(h)));
    return absl::OkStatus();
  }();
  reactor->Finish(ToGrpc(status));
  return reactor;
}

grpc::ServerUnaryReactor* LedgerService::GetConsistencyProof(
    grpc::CallbackServerContext* ctx, const veta::v1::GetConsistencyProofRequest* request,
    veta::v1::ConsistencyProof* response) {
  auto* reactor = ctx->DefaultReactor();
  const uint64_t second = request->second_size() != 0 ? request->second_size()
                                                      : ledger_->LatestCheckpoint().tree_size();
  auto proof = ledger_->ConsistencyProof(request->first_size(), second);
  if (proof.ok()) {
    response->set_first_size(request->first_size());
    response->set_second_size(second);
    for (const Hash& h : *proof) response->add_hashes(std::string(AsBytes(h)));
  }
  reactor->Finish(ToGrpc(proof.status()));
  return reactor;
}

}  // namespace veta::server
