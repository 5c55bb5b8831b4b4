#include "server/ledger_service.h"

#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "core/queries.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "core/timestamp.h"
#include "core/x509.h"
#include "server/grpc_status.h"

namespace veta::server {
namespace {

using veta::v1::SubmitBatch;
using veta::v1::SubmitBatchResponse;
using veta::v1::SubmitResponse;

void FillAnswer(const SubmitResult& r, SubmitResponse* a) {
  a->set_code(static_cast<int32_t>(r.status.code()));
  if (r.status.ok()) {
    a->set_sequence(r.sequence);
    a->set_leaf_hash(std::string(AsBytes(r.leaf_hash)));
  } else {
    a->set_message(std::string(r.status.message()));
  }
  if (r.refusal != veta::v1::REFUSAL_UNSPECIFIED) a->set_refusal(veta::v1::Refusal_Name(r.refusal));
  for (const auto& f : r.flags) *a->add_flags() = f;
}

void FillEntry(std::string bytes, veta::v1::GetEntryResponse* out) {
  const Hash leaf = merkle::HashLeaf(bytes);
  out->mutable_entry()->ParseFromString(bytes);
  out->set_leaf_hash(std::string(AsBytes(leaf)));
  out->set_entry_bytes(std::move(bytes));
}

// One SubmitStream call. Envelopes go to the ledger as their batch arrives; a batch's answers
// are written once all of them, and all earlier batches', are in, so the stream answers in
// order. At most `inflight_max` envelopes wait at a time: past that, reading pauses until
// answers go out (flow control), so one client cannot queue without bound.
//
// Lifetime: the reactor deletes itself once gRPC has called OnDone and every ledger
// callback has returned.
class SubmitStreamReactor final : public grpc::ServerBidiReactor<SubmitBatch, SubmitBatchResponse> {
 public:
  SubmitStreamReactor(veta::Ledger* ledger, const ServiceLimits& limits,
                      std::function<void()> on_done)
      : ledger_(ledger), limits_(limits), on_done_(std::move(on_done)) {
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
    const int n = request_.envelopes_size();
    slot->response.mutable_answers()->Reserve(n);
    for (int i = 0; i < n; ++i) slot->response.add_answers();
    slots_.push_back(slot);
    const bool too_big = static_cast<size_t>(n) > limits_.batch_envelopes_max;
    const bool too_long = carried_ + static_cast<uint64_t>(n) > limits_.stream_envelopes_max;
    if (too_big || too_long) {
      for (auto& a : *slot->response.mutable_answers()) {
        if (too_big) {
          a.set_code(static_cast<int32_t>(absl::StatusCode::kInvalidArgument));
          a.set_message(StrCat("a batch holds at most ", limits_.batch_envelopes_max,
                               " envelopes; this one had ", n));
        } else {
          a.set_code(static_cast<int32_t>(absl::StatusCode::kResourceExhausted));
          a.set_message(StrCat("this stream has carried ", carried_,
                               " envelopes; a stream carries at most ",
                               limits_.stream_envelopes_max, ": open a new one"));
        }
      }
      MaybeWriteLocked();
      StartRead(&request_);
      return;
    }
    carried_ += static_cast<uint64_t>(n);
    slot->remaining = n;
    inflight_ += static_cast<size_t>(n);
    outstanding_ += static_cast<size_t>(n);
    std::vector<std::string> envelopes;
    envelopes.reserve(static_cast<size_t>(n));
    for (auto& e : *request_.mutable_envelopes()) envelopes.push_back(std::move(e));
    lock.unlock();
    for (int i = 0; i < n; ++i) {
      ledger_->Submit(std::move(envelopes[static_cast<size_t>(i)]),
                      [this, slot, i](SubmitResult r) { OnResult(slot, i, r); });
    }
    lock.lock();
    MaybeWriteLocked();  // an empty batch is answered at once
    if (inflight_ < limits_.stream_inflight_max) {
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
    on_done_();  // the caller's stream count
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
    int remaining = 0;
    SubmitBatchResponse response;
  };

  void OnResult(const std::shared_ptr<Slot>& slot, int i, const SubmitResult& r) {
    bool last;
    {
      std::lock_guard lock(mu_);
      FillAnswer(r, slot->response.mutable_answers(i));
      --slot->remaining;
      --inflight_;
      MaybeWriteLocked();
      MaybeFinishLocked();
      --outstanding_;
      last = done_ && outstanding_ == 0;
    }
    if (last) delete this;
  }

  void MaybeWriteLocked() {
    while (!writing_ && !slots_.empty() && slots_.front()->remaining == 0) {
      auto slot = std::move(slots_.front());
      slots_.pop_front();
      if (read_paused_ && !reads_done_ && inflight_ < limits_.stream_inflight_max) {
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
  const ServiceLimits limits_;
  const std::function<void()> on_done_;
  uint64_t carried_ = 0;  // GUARDED_BY(mu_): envelopes this stream has taken
  std::mutex mu_;
  SubmitBatch request_;                      // GUARDED_BY(mu_)
  SubmitBatchResponse current_;              // GUARDED_BY(mu_), the write in flight
  std::deque<std::shared_ptr<Slot>> slots_;  // GUARDED_BY(mu_), batches in arrival order
  size_t inflight_ = 0;                      // envelopes submitted and not yet answered
  size_t outstanding_ = 0;                   // ledger callbacks not yet returned
  bool writing_ = false, reads_done_ = false, read_paused_ = false;
  bool broken_ = false, finished_ = false, done_ = false;
};

// A stream refused before it starts.
class DeniedStream final : public grpc::ServerBidiReactor<SubmitBatch, SubmitBatchResponse> {
 public:
  explicit DeniedStream(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

absl::StatusOr<uint64_t> VisibleEntries(const veta::Ledger& ledger, const veta::v1::AsOf& as_of) {
  const uint64_t size = ledger.size();
  switch (as_of.point_case()) {
    case veta::v1::AsOf::kSequence:
      if (as_of.sequence() >= size) {
        return absl::OutOfRangeError(
            StrCat("as of entry ", as_of.sequence(), ": the log has ", size, " entries"));
      }
      return as_of.sequence() + 1;
    case veta::v1::AsOf::kTime:
      return ledger.SizeAtTime(TimestampMicros(as_of.time()));
    default:
      return size;
  }
}

absl::StatusOr<Caller> LedgerService::Authorize(grpc::CallbackServerContext* ctx, Rpc rpc) const {
  Caller caller{Role::kOperator, ""};
  if (roles_) {
    caller = Caller{};
    auto auth = ctx->auth_context();
    const auto certs =
        auth ? auth->FindPropertyValues("x509_pem_cert") : std::vector<grpc::string_ref>{};
    if (!certs.empty()) {
      auto key = CertificatePublicKey(std::string_view(certs[0].data(), certs[0].size()));
      if (key.ok()) {
        caller = CallerForKey(ledger_->keys().Find(key->keyid()).get(), ledger_->store(),
                              ledger_->size());
      }
    }
  }
  if (MayCall(caller.role, rpc)) return caller;
  if (caller.role == Role::kPublic) {
    return absl::UnauthenticatedError(
        StrCat(RpcName(rpc), " needs a client certificate whose key the registry knows"));
  }
  return absl::PermissionDeniedError(
      StrCat("the role ", RoleName(caller.role), " may not call ", RpcName(rpc)));
}

grpc::ServerUnaryReactor* LedgerService::Submit(grpc::CallbackServerContext* ctx,
                                                const veta::v1::SubmitRequest* request,
                                                veta::v1::SubmitResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  if (auto caller = Authorize(ctx, Rpc::kSubmit); !caller.ok()) {
    reactor->Finish(ToGrpc(caller.status()));
    return reactor;
  }
  ledger_->Submit(
      request->envelope(),
      [reactor, response](SubmitResult r) {
        if (!r.status.ok()) {
          reactor->Finish(ToGrpc(r.status));
          return;
        }
        FillAnswer(r, response);
        reactor->Finish(grpc::Status::OK);
      },
      ctx->deadline());
  return reactor;
}

grpc::ServerUnaryReactor* LedgerService::Check(grpc::CallbackServerContext* ctx,
                                               const veta::v1::SubmitRequest* request,
                                               veta::v1::SubmitResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  if (auto caller = Authorize(ctx, Rpc::kCheck); !caller.ok()) {
    reactor->Finish(ToGrpc(caller.status()));
    return reactor;
  }
  // The verdict is the answer: a refusal is an OK call whose response carries the code.
  ledger_->Check(request->envelope(), [reactor, response](SubmitResult r) {
    FillAnswer(r, response);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* LedgerService::GetRecord(grpc::CallbackServerContext* ctx,
                                                   const veta::v1::GetRecordRequest* request,
                                                   veta::v1::RecordVersion* response) {
  auto* reactor = ctx->DefaultReactor();
  auto status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(RecordKind kind, ParseRecordKind(request->kind()));
    ASSIGN_OR_RETURN(uint64_t visible, VisibleEntries(*ledger_, request->as_of()));
    ASSIGN_OR_RETURN(RecordVersion v,
                     GetRecordAsOf(ledger_->store(), kind, request->id(), visible));
    *response->mutable_record() = std::move(v.record);
    response->set_sequence(v.sequence);
    return absl::OkStatus();
  }();
  reactor->Finish(ToGrpc(status));
  return reactor;
}

grpc::ServerUnaryReactor* LedgerService::ListRecords(grpc::CallbackServerContext* ctx,
                                                     const veta::v1::ListRecordsRequest* request,
                                                     veta::v1::ListRecordsResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  auto status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(RecordKind kind, ParseRecordKind(request->kind()));
    ASSIGN_OR_RETURN(uint64_t visible, VisibleEntries(*ledger_, request->as_of()));
    RecordFilter filter{request->status(), request->department(), request->party_kind()};
    const size_t limit = request->limit() == 0 ? 100 : request->limit();
    ASSIGN_OR_RETURN(auto records, veta::ListRecords(ledger_->store(), kind, filter,
                                                     request->after_id(), limit, visible));
    for (auto& v : records) {
      auto* out = response->add_records();
      *out->mutable_record() = std::move(v.record);
      out->set_sequence(v.sequence);
    }
    if (records.size() == limit) {
      response->set_next_after_id(RecordKey(response->records().rbegin()->record()).second);
    }
    return absl::OkStatus();
  }();
  reactor->Finish(ToGrpc(status));
  return reactor;
}

grpc::ServerUnaryReactor* LedgerService::GetLot(grpc::CallbackServerContext* ctx,
                                                const veta::v1::GetLotRequest* request,
                                                veta::v1::Lot* response) {
  auto* reactor = ctx->DefaultReactor();
  auto status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Caller caller, Authorize(ctx, Rpc::kGetLot));
    ASSIGN_OR_RETURN(veta::v1::Lot lot, veta::GetLot(ledger_->store(), request->lot_id()));
    if (!MayReadParty(caller, lot.holder_id())) {
      return absl::PermissionDeniedError(
          StrCat("lot ", request->lot_id(), " is not held by ", caller.party_id));
    }
    *response = std::move(lot);
    return absl::OkStatus();
  }();
  reactor->Finish(ToGrpc(status));
  return reactor;
}

grpc::ServerUnaryReactor* LedgerService::ListAttempts(grpc::CallbackServerContext* ctx,
                                                      const veta::v1::ListAttemptsRequest* request,
                                                      veta::v1::ListAttemptsResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  auto status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Caller caller, Authorize(ctx, Rpc::kListAttempts));
    if (!MayReadParty(caller, request->party())) {
      return absl::PermissionDeniedError(StrCat(
          "a ", RoleName(caller.role), " lists only its own attempts: --party ", caller.party_id));
    }
    if ((!request->party().empty()) + (!request->unit().empty()) + (!request->refusal().empty()) >
        1) {
      return absl::InvalidArgumentError("filter attempts by party, unit or refusal: one at most");
    }
    if (!request->refusal().empty()) {
      veta::v1::Refusal code;
      if (!veta::v1::Refusal_Parse(request->refusal(), &code)) {
        return absl::InvalidArgumentError(
            StrCat("unknown refusal code '", request->refusal(), "'"));
      }
    }
    EvidenceFilter filter{request->party(), request->unit(), request->refusal()};
    ASSIGN_OR_RETURN(auto attempts, veta::ListAttempts(ledger_->store(), filter, request->start(),
                                                       request->limit()));
    for (auto& a : attempts) *response->add_attempts() = std::move(a);
    return absl::OkStatus();
  }();
  reactor->Finish(ToGrpc(status));
  return reactor;
}

grpc::ServerUnaryReactor* LedgerService::ListFlags(grpc::CallbackServerContext* ctx,
                                                   const veta::v1::ListFlagsRequest* request,
                                                   veta::v1::ListFlagsResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  auto status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Caller caller, Authorize(ctx, Rpc::kListFlags));
    if (!MayReadParty(caller, request->party())) {
      return absl::PermissionDeniedError(StrCat(
          "a ", RoleName(caller.role), " lists only its own flags: --party ", caller.party_id));
    }
    if (!request->party().empty() && !request->unit().empty()) {
      return absl::InvalidArgumentError("filter flags by party or unit, not both");
    }
    EvidenceFilter filter{request->party(), request->unit(), ""};
    ASSIGN_OR_RETURN(auto flags,
                     veta::ListFlags(ledger_->store(), filter, request->start_sequence(),
                                     request->limit(), ledger_->size()));
    for (auto& f : flags) *response->add_flags() = std::move(f);
    return absl::OkStatus();
  }();
  reactor->Finish(ToGrpc(status));
  return reactor;
}

grpc::ServerBidiReactor<SubmitBatch, SubmitBatchResponse>* LedgerService::SubmitStream(
    grpc::CallbackServerContext* ctx) {
  auto caller = Authorize(ctx, Rpc::kSubmit);
  if (!caller.ok()) return new DeniedStream(ToGrpc(caller.status()));
  // Count the caller's open streams: its identity with TLS, its address without.
  std::string who = roles_ ? StrCat(RoleName(caller->role), ":", caller->party_id) : ctx->peer();
  const size_t colon = who.rfind(':');
  if (!roles_ && colon != std::string::npos) who.resize(colon);  // the address, not the port
  {
    std::lock_guard lock(streams_mu_);
    size_t& open = open_streams_[who];
    if (open >= limits_.streams_per_caller_max) {
      return new DeniedStream(
          grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                       StrCat(who, " already has ", open, " streams open; the limit is ",
                              limits_.streams_per_caller_max)));
    }
    ++open;
  }
  return new SubmitStreamReactor(ledger_, limits_, [this, who] {
    std::lock_guard lock(streams_mu_);
    if (--open_streams_[who] == 0) open_streams_.erase(who);
  });
}

grpc::ServerUnaryReactor* LedgerService::GetEntry(grpc::CallbackServerContext* ctx,
                                                  const veta::v1::GetEntryRequest* request,
                                                  veta::v1::GetEntryResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  auto status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Caller caller, Authorize(ctx, Rpc::kGetEntry));
    ASSIGN_OR_RETURN(std::string bytes, ledger_->GetEntry(request->sequence()));
    FillEntry(std::move(bytes), response);
    if (caller.role == Role::kOperator || caller.role == Role::kRegulator) return absl::OkStatus();
    auto decoded = DecodeEnvelope(response->entry().envelope(), EnvelopeLimits{});
    if (!decoded.ok() || !MayReadEntry(caller, PartiesOf(*decoded))) {
      response->Clear();
      return absl::PermissionDeniedError(
          StrCat("entry ", request->sequence(), " is a transaction of other parties"));
    }
    return absl::OkStatus();
  }();
  reactor->Finish(ToGrpc(status));
  return reactor;
}

grpc::ServerUnaryReactor* LedgerService::ListEntries(grpc::CallbackServerContext* ctx,
                                                     const veta::v1::ListEntriesRequest* request,
                                                     veta::v1::ListEntriesResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  if (auto caller = Authorize(ctx, Rpc::kListEntries); !caller.ok()) {
    reactor->Finish(ToGrpc(caller.status()));
    return reactor;
  }
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
