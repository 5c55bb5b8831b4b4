// The veta.v1.Ledger gRPC service: a thin translation between the wire and core::Ledger,
// on gRPC's callback API. No decision is made here.
#pragma once

#include "core/access.h"
#include "core/ledger.h"

#include <map>
#include <mutex>
#include <string>
#include "veta/v1/service.grpc.pb.h"

namespace veta::server {

struct ServiceLimits {
  // Most envelopes one SubmitStream may have waiting for their answers; the stream stops
  // reading past it (flow control), so one client cannot queue without bound.
  size_t stream_inflight_max = 4096;
  // Most envelopes in one SubmitBatch message.
  size_t batch_envelopes_max = 1024;
  // Most envelopes one SubmitStream may carry in its life; past it, each is refused with
  // RESOURCE_EXHAUSTED (open a new stream).
  uint64_t stream_envelopes_max = 10'000'000;
  // Most SubmitStreams one caller may have open at once (a caller: its registered key with
  // TLS, its address without).
  size_t streams_per_caller_max = 64;
};

// The number of entries a read sees: all, those up to an entry, or those up to a time.
absl::StatusOr<uint64_t> VisibleEntries(const veta::Ledger& ledger, const veta::v1::AsOf& as_of);

class LedgerService final : public veta::v1::Ledger::CallbackService {
 public:
  // With `roles`, callers are identified by their TLS client certificate and the matrix of
  // core/access.h applies; without, every caller is the local operator.
  LedgerService(veta::Ledger* ledger, ServiceLimits limits, bool roles = false)
      : ledger_(ledger), limits_(limits), roles_(roles) {}

  grpc::ServerUnaryReactor* Submit(grpc::CallbackServerContext* ctx,
                                   const veta::v1::SubmitRequest* request,
                                   veta::v1::SubmitResponse* response) override;
  grpc::ServerBidiReactor<veta::v1::SubmitBatch, veta::v1::SubmitBatchResponse>* SubmitStream(
      grpc::CallbackServerContext* ctx) override;
  grpc::ServerUnaryReactor* GetEntry(grpc::CallbackServerContext* ctx,
                                     const veta::v1::GetEntryRequest* request,
                                     veta::v1::GetEntryResponse* response) override;
  grpc::ServerUnaryReactor* ListEntries(grpc::CallbackServerContext* ctx,
                                        const veta::v1::ListEntriesRequest* request,
                                        veta::v1::ListEntriesResponse* response) override;
  grpc::ServerUnaryReactor* GetCheckpoint(grpc::CallbackServerContext* ctx,
                                          const veta::v1::GetCheckpointRequest* request,
                                          veta::v1::Checkpoint* response) override;
  grpc::ServerUnaryReactor* GetInclusionProof(grpc::CallbackServerContext* ctx,
                                              const veta::v1::GetInclusionProofRequest* request,
                                              veta::v1::InclusionProof* response) override;
  grpc::ServerUnaryReactor* GetConsistencyProof(grpc::CallbackServerContext* ctx,
                                                const veta::v1::GetConsistencyProofRequest* request,
                                                veta::v1::ConsistencyProof* response) override;
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* ctx,
                                  const veta::v1::SubmitRequest* request,
                                  veta::v1::SubmitResponse* response) override;
  grpc::ServerUnaryReactor* GetRecord(grpc::CallbackServerContext* ctx,
                                      const veta::v1::GetRecordRequest* request,
                                      veta::v1::RecordVersion* response) override;
  grpc::ServerUnaryReactor* ListRecords(grpc::CallbackServerContext* ctx,
                                        const veta::v1::ListRecordsRequest* request,
                                        veta::v1::ListRecordsResponse* response) override;
  grpc::ServerUnaryReactor* GetLot(grpc::CallbackServerContext* ctx,
                                   const veta::v1::GetLotRequest* request,
                                   veta::v1::Lot* response) override;
  grpc::ServerUnaryReactor* ListAttempts(grpc::CallbackServerContext* ctx,
                                         const veta::v1::ListAttemptsRequest* request,
                                         veta::v1::ListAttemptsResponse* response) override;
  grpc::ServerUnaryReactor* ListFlags(grpc::CallbackServerContext* ctx,
                                      const veta::v1::ListFlagsRequest* request,
                                      veta::v1::ListFlagsResponse* response) override;
  // Custody reads (custody_service.cc).
  grpc::ServerUnaryReactor* GetLineage(grpc::CallbackServerContext* ctx,
                                       const veta::v1::GetLineageRequest* request,
                                       veta::v1::Lineage* response) override;
  grpc::ServerUnaryReactor* GetCertificate(grpc::CallbackServerContext* ctx,
                                           const veta::v1::GetCertificateRequest* request,
                                           veta::v1::Certificate* response) override;
  grpc::ServerUnaryReactor* GetIndicators(grpc::CallbackServerContext* ctx,
                                          const veta::v1::GetIndicatorsRequest* request,
                                          veta::v1::Indicators* response) override;
  grpc::ServerUnaryReactor* ExportEpcis(grpc::CallbackServerContext* ctx,
                                        const veta::v1::ExportEpcisRequest* request,
                                        veta::v1::ExportEpcisResponse* response) override;

 private:
  // The caller of this call, and whether it may call `rpc` (UNAUTHENTICATED for the public,
  // PERMISSION_DENIED for a known role).
  absl::StatusOr<Caller> Authorize(grpc::CallbackServerContext* ctx, Rpc rpc) const;

  veta::Ledger* const ledger_;
  const ServiceLimits limits_;
  const bool roles_;
  std::mutex streams_mu_;
  std::map<std::string, size_t> open_streams_;  // GUARDED_BY(streams_mu_), by caller
};

}  // namespace veta::server
