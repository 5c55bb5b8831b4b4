// The veta.v1.Ledger gRPC service: a thin translation between the wire and core::Ledger,
// on gRPC's callback API. No decision is made here.
#pragma once

#include "core/log/ledger.h"
#include "core/read/access.h"

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "veta/v1/service.grpc.pb.h"

namespace veta::server {

// Issues a certificate elsewhere (a follower's primary): LedgerService::GetCertificate relays.
// Asynchronous: the source starts the request and returns at once; `done` runs exactly once,
// on any thread, with the certificate or the refusal (GrpcPrimarySource::Certificate: within
// its deadline). No server thread waits for the primary meanwhile.
using CertificateDone = std::function<void(absl::StatusOr<veta::v1::Certificate>)>;
using CertificateSource = std::function<void(const std::string& lot_id, CertificateDone done)>;

// Every queue a call or the whole server holds has a bound here, in envelopes and in bytes.
// "Held bytes" are what the service keeps alive for callers: requests, envelopes handed to the
// ledger and not yet answered, answers and responses not yet written to the wire (counted until
// gRPC is done with them), estimated from their encoded sizes plus a fixed overhead per object.
// gRPC's own transport buffers come on top: per stream, its HTTP/2 window (64 KiB unless
// ServerOptions::bdp_probe), server-wide ServerOptions::grpc_memory_max.
//
// The ceiling, with these defaults: held bytes <= held_bytes_max (256 MiB) plus, at worst, the
// last batch each open stream read (streams_max x gRPC's 4 MiB message bound); each stream
// <= stream_held_bytes_max (4 MiB) plus its last batch.
struct ServiceLimits {
  // Most envelopes one SubmitStream holds, from the read of their batch to the write of their
  // answers (answered or not); past it the stream stops reading until its answers are written,
  // so a caller that does not read its answers cannot make the server queue them.
  size_t stream_inflight_max = 4096;
  // Most bytes one SubmitStream holds (its envelopes in the ledger, its answers not yet
  // written); past it the stream stops reading until writes drain. A stream may go past either
  // bound by the one batch it has just read.
  size_t stream_held_bytes_max = 4 << 20;
  // Most envelopes in one SubmitBatch message.
  size_t batch_envelopes_max = 1024;
  // Most envelopes one SubmitStream may carry in its life; past it, each is refused with
  // RESOURCE_EXHAUSTED (open a new stream).
  uint64_t stream_envelopes_max = 10'000'000;
  // Most SubmitStreams one caller may have open at once (a caller: its registered key with
  // TLS, its address without).
  size_t streams_per_caller_max = 64;
  // Most SubmitStreams open at once on the whole server; past it a new one is refused with
  // RESOURCE_EXHAUSTED.
  size_t streams_max = 256;
  // Most bytes the whole server holds for all calls together. Past it, streams stop reading
  // (they resume as answers are written or callers go away) and a new unary call is refused
  // with RESOURCE_EXHAUSTED. The total can pass it by at most one batch per open stream.
  size_t held_bytes_max = 256 << 20;
  // Most bytes of entries or attempts in one ListEntries / ListAttempts / ListRecords page: a
  // page stops early (at least one item) once it holds this much; continue from where it
  // stopped (next_start, next_after_id, the last attempt's number + 1).
  size_t page_bytes_max = 3 << 20;
  // A Watch that has sent nothing for this long sends a heartbeat (where it stands).
  uint32_t watch_heartbeat_ms = 10'000;
};

// The bytes the service holds for callers, server-wide, against ServiceLimits::held_bytes_max.
// Streams over the bound wait in a queue and are woken, outside this object's lock, as bytes
// are given back. Thread-safe.
class HeldBytes {
 public:
  // A stream waiting for room.
  class Waiter {
   public:
    virtual void Wake() = 0;

   protected:
    ~Waiter() = default;
  };

  explicit HeldBytes(size_t max) : max_(max) {}

  // Takes `n` bytes if the total stays within the bound.
  bool TryTake(size_t n) ABSL_LOCKS_EXCLUDED(mu_);
  // Takes `n` bytes whatever the total (bytes already received: they must be accounted).
  void Take(size_t n) ABSL_LOCKS_EXCLUDED(mu_);
  // Gives `n` bytes back and wakes the waiting streams once the total is under the bound.
  // Never call it while holding a lock a Waiter::Wake takes.
  void Give(size_t n) ABSL_LOCKS_EXCLUDED(mu_);
  // If the total is at or over the bound, queues `w` (to be woken once by Give) and returns
  // true; otherwise false.
  bool WaitIfFull(Waiter* w) ABSL_LOCKS_EXCLUDED(mu_);
  // Takes `w` out of the queue; false if it was not there (being woken, or never queued).
  bool Cancel(Waiter* w) ABSL_LOCKS_EXCLUDED(mu_);

  size_t held() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t peak() const ABSL_LOCKS_EXCLUDED(mu_);  // the most held at once since the start
  size_t max() const { return max_; }

 private:
  // Memory is handed back to the system (malloc_trim) when the total falls to this after
  // having reached kTrimAfterBytes since the last time.
  static constexpr size_t kTrimBelowBytes = 1 << 20, kTrimAfterBytes = 16 << 20;

  const size_t max_;
  mutable absl::Mutex mu_;
  size_t held_ ABSL_GUARDED_BY(mu_) = 0;
  size_t peak_ ABSL_GUARDED_BY(mu_) = 0;
  size_t peak_since_trim_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<Waiter*> waiters_ ABSL_GUARDED_BY(mu_);
};

// The number of entries a read sees: all, those up to an entry, or those up to a time.
absl::StatusOr<uint64_t> VisibleEntries(const veta::Ledger& ledger, const veta::v1::AsOf& as_of);

class LedgerService final : public veta::v1::Ledger::CallbackService {
 public:
  // With `roles`, callers are identified by their TLS client certificate and the matrix of
  // core/read/access.h applies; without, every caller is the local operator.
  LedgerService(veta::Ledger* ledger, ServiceLimits limits, bool roles = false)
      : ledger_(ledger),
        limits_(limits),
        roles_(roles),
        held_(limits.held_bytes_max),
        http_secret_(NewHttpSecret()) {}

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
  grpc::ServerUnaryReactor* GetDailyCapacity(grpc::CallbackServerContext* ctx,
                                             const veta::v1::GetDailyCapacityRequest* request,
                                             veta::v1::DailyCapacity* response) override;
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
  // Each watch has a thread that reads forward and writes one event at a time; it counts as
  // a stream (streams_max, streams_per_caller_max).
  grpc::ServerWriteReactor<veta::v1::WatchEvent>* Watch(
      grpc::CallbackServerContext* ctx, const veta::v1::WatchRequest* request) override;
  // Ends every watch (UNAVAILABLE, saying where to resume) within a fraction of a second, and
  // refuses new ones: call before shutting the gRPC server down, whose Shutdown would
  // otherwise wait its whole deadline for streams that never end by themselves.
  void StopWatches() { stopping_.store(true); }
  // A follower relays GetCertificate to its primary (set before serving); what comes back is
  // checked with the ledger's own verifier key.
  void SetCertificateSource(CertificateSource source) { certificate_source_ = std::move(source); }

  // The HTTP listener's JSON API (server/connect_api.h) calls this service in-process and
  // forwards its caller's identity in this metadata: "<secret> <keyid>" (keyid empty: the
  // public). Authorize trusts it only on an in-process call carrying this process's random
  // secret (compared in constant time); from any other caller it is ignored.
  static constexpr char kHttpCallerMetadata[] = "veta-http-caller";
  // The metadata value for the caller whose key id is `keyid` (empty: the public).
  std::string HttpCallerValue(std::string_view keyid) const;

  // What the service holds now, for tests and operators.
  const HeldBytes& held() const { return held_; }
  size_t open_streams() const ABSL_LOCKS_EXCLUDED(streams_mu_);
  // SubmitStream reactors not yet deleted (a stream is deleted once gRPC is done with it and
  // the ledger has answered all it submitted).
  size_t live_streams() const { return live_streams_.load(); }

 private:
  class Reply;  // a unary call whose request and response are counted in held_
  // The reactor of a unary call, holding `request_bytes` (counted in held_) until gRPC is done
  // with the call; null when the server holds too much to take them: answer with Full().
  Reply* NewReply(size_t request_bytes);
  grpc::ServerUnaryReactor* Full(grpc::CallbackServerContext* ctx) const;
  // Finishes a counted call with its response (Reply::Send); returns it as the call's reactor.
  static grpc::ServerUnaryReactor* SendReply(Reply* reply, google::protobuf::MessageLite* response,
                                             const absl::Status& status);
  // The call's reactor, not finished yet (a reply sent later: SendReply from another thread).
  static grpc::ServerUnaryReactor* Pending(Reply* reply);
  // The most entries the ledger puts in one ListEntries page (found once, then cached).
  uint32_t EntriesPageMax() const;

  // The caller of this call, and whether it may call `rpc` (UNAUTHENTICATED for the public,
  // PERMISSION_DENIED for a known role).
  absl::StatusOr<Caller> Authorize(grpc::CallbackServerContext* ctx, Rpc rpc) const;
  // The key id the HTTP listener forwarded (kHttpCallerMetadata) on a trusted in-process call;
  // nullopt when the call is not one.
  std::optional<std::string> ForwardedKeyid(grpc::CallbackServerContext* ctx) const;
  static std::string NewHttpSecret();  // hex of 32 random bytes
  // Counts a new stream against streams_max and the caller's streams_per_caller_max (the
  // caller: its identity with TLS, its address without); RESOURCE_EXHAUSTED past either.
  // The function returned gives it back.
  absl::StatusOr<std::function<void()>> AdmitStream(grpc::CallbackServerContext* ctx,
                                                    const Caller& caller)
      ABSL_LOCKS_EXCLUDED(streams_mu_);

  veta::Ledger* const ledger_;
  const ServiceLimits limits_;
  const bool roles_;
  HeldBytes held_;
  std::atomic<size_t> live_streams_{0};
  mutable std::atomic<uint32_t> entries_page_max_{0};
  mutable absl::Mutex streams_mu_;
  std::map<std::string, size_t> open_streams_ ABSL_GUARDED_BY(streams_mu_);  // by caller
  size_t open_streams_total_ ABSL_GUARDED_BY(streams_mu_) = 0;
  std::atomic<bool> stopping_{false};
  CertificateSource certificate_source_;
  const std::string http_secret_;
};

}  // namespace veta::server
