#include "server/ledger_service.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <thread>

#include "client/address.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/base/timestamp.h"
#include "core/read/capacity.h"
#include "core/read/queries.h"
#include "core/read/watch.h"
#include "core/verify/sha256.h"
#include "core/verify/x509.h"
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

// What the service counts for what it holds (HeldBytes): estimates from encoded sizes, with
// a fixed overhead per object for headers and allocator slack.
constexpr size_t kObjectBytes = 64;
// An envelope handed to the ledger: its bytes, the decoded copy the ledger keeps while it
// verifies and sequences it, and the ledger's bookkeeping.
size_t LedgerBytes(size_t envelope_bytes) { return 2 * envelope_bytes + 512; }
// One answer in a batch's response: the object, its strings and flags.
constexpr size_t kEmptyAnswerBytes = sizeof(SubmitResponse) + sizeof(void*);
size_t AnswerBytes(const SubmitResponse& a) {
  return kEmptyAnswerBytes + a.ByteSizeLong() + (a.ByteSizeLong() > 0 ? kObjectBytes : 0);
}
// An oversized batch is refused envelope by envelope up to this many times the batch bound;
// past it, the stream ends (INVALID_ARGUMENT).
constexpr size_t kOversizeAnswersMax = 8;
// A unary call: gRPC's call object and the request and response objects, beyond their bytes.
constexpr size_t kCallBytes = 1024;

absl::Status FullStatus(const HeldBytes& held, size_t wanted) {
  return absl::ResourceExhaustedError(StrCat("the server holds ", held.held(),
                                             " bytes of submissions and answers not yet "
                                             "delivered and cannot take ",
                                             wanted, " more (its limit is ", held.max(),
                                             " bytes, --held-bytes-max): retry later"));
}

// One SubmitStream call. Envelopes go to the ledger as their batch arrives; a batch's answers
// are written once all of them, and all earlier batches', are in, so the stream answers in
// order. What the stream holds (envelopes from the read of their batch to the write of their
// answers, and their bytes) is bounded: past stream_inflight_max envelopes or
// stream_held_bytes_max bytes it stops reading until answers are written, so a caller that
// does not read its answers only stalls itself. Past the server-wide bound (HeldBytes), it
// waits in HeldBytes' queue before reading again.
//
// Lifetime: the reactor deletes itself once gRPC has called OnDone, every ledger callback has
// returned and HeldBytes no longer holds it as a waiter (`outstanding_` counts the last two).
// On cancellation it drops its unsent answers at once, and those still in the ledger as they
// come back, giving their bytes back.
class SubmitStreamReactor final : public grpc::ServerBidiReactor<SubmitBatch, SubmitBatchResponse>,
                                  public HeldBytes::Waiter {
 public:
  SubmitStreamReactor(veta::Ledger* ledger, const ServiceLimits& limits, HeldBytes* held,
                      std::atomic<size_t>* live, std::function<void()> on_done)
      : ledger_(ledger), limits_(limits), held_(held), live_(live), on_done_(std::move(on_done)) {
    ++*live_;
    absl::MutexLock lock(&mu_);
    MaybeReadLocked();
  }
  ~SubmitStreamReactor() { --*live_; }

  void OnReadDone(bool ok) ABSL_LOCKS_EXCLUDED(mu_) override {
    absl::ReleasableMutexLock lock(&mu_);
    reading_ = false;
    if (!ok) {
      reads_done_ = true;
      MaybeFinishLocked();
      return;
    }
    const int n = request_.envelopes_size();
    if (static_cast<size_t>(n) > kOversizeAnswersMax * limits_.batch_envelopes_max) {
      // Answering each envelope of a message packed with empty ones (millions fit in 4 MiB)
      // would cost the server far more than the caller: the stream ends instead.
      request_.Clear();
      reads_done_ = true;
      end_ = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          StrCat("a batch holds at most ", limits_.batch_envelopes_max,
                                 " envelopes; this one had ", n, ": the stream is closed"));
      MaybeFinishLocked();
      return;
    }
    auto slot = std::make_shared<Slot>();
    slot->envelopes = static_cast<size_t>(n);
    slot->response.mutable_answers()->Reserve(n);
    for (int i = 0; i < n; ++i) slot->response.add_answers();
    slot->bytes = sizeof(Slot) + kObjectBytes + static_cast<size_t>(n) * kEmptyAnswerBytes;
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
        slot->bytes += AnswerBytes(a) - kEmptyAnswerBytes;
      }
      request_.Clear();
      HoldLocked(slot->bytes, slot->envelopes);
      slots_.push_back(std::move(slot));
      MaybeWriteLocked();
      MaybeReadLocked();
      return;
    }
    carried_ += static_cast<uint64_t>(n);
    slot->remaining = n;
    outstanding_ += static_cast<size_t>(n);
    std::vector<std::string> envelopes;
    std::vector<size_t> charges;
    envelopes.reserve(static_cast<size_t>(n));
    charges.reserve(static_cast<size_t>(n));
    size_t in_ledger = 0;
    for (auto& e : *request_.mutable_envelopes()) {
      charges.push_back(LedgerBytes(e.size()));
      in_ledger += charges.back();
      envelopes.push_back(std::move(e));
    }
    request_.Clear();
    HoldLocked(slot->bytes + in_ledger, slot->envelopes);
    slots_.push_back(slot);
    // No read starts while this batch goes to the ledger: the next batch's envelopes must
    // follow this one's.
    submitting_ = true;
    lock.Release();
    for (int i = 0; i < n; ++i) {
      const size_t k = static_cast<size_t>(i);
      ledger_->Submit(
          std::move(envelopes[k]),
          [this, slot, i, charge = charges[k]](SubmitResult r) { OnResult(slot, i, charge, r); });
    }
    absl::MutexLock relock(&mu_);
    submitting_ = false;
    MaybeWriteLocked();  // an empty batch is answered at once
    MaybeReadLocked();
    MaybeFinishLocked();
  }

  void OnWriteDone(bool ok) ABSL_LOCKS_EXCLUDED(mu_) override {
    size_t give;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      SubmitBatchResponse().Swap(&current_);  // frees the answers (Clear would keep them)
      ReleaseLocked(current_bytes_, current_envelopes_);
      current_bytes_ = current_envelopes_ = 0;
      if (!ok) broken_ = true;  // the client is gone: keep draining answers, write none
      MaybeWriteLocked();
      MaybeReadLocked();
      MaybeFinishLocked();
      give = std::exchange(give_back_, 0);
    }
    held_->Give(give);
  }

  void OnCancel() ABSL_LOCKS_EXCLUDED(mu_) override {
    size_t give;
    {
      absl::MutexLock lock(&mu_);
      broken_ = true;  // nothing more is written: unsent answers are dropped
      if (waiting_ && held_->Cancel(this)) {
        waiting_ = false;
        --outstanding_;
      }
      if (!reading_) reads_done_ = true;  // a read in flight ends with ok == false instead
      MaybeWriteLocked();
      MaybeFinishLocked();
      give = std::exchange(give_back_, 0);
    }
    held_->Give(give);
  }

  void OnDone() ABSL_LOCKS_EXCLUDED(mu_) override {
    on_done_();  // the stream counts
    HeldBytes* const held = held_;
    size_t give;
    bool last;
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
      broken_ = true;
      if (waiting_ && held_->Cancel(this)) {
        waiting_ = false;
        --outstanding_;
      }
      MaybeWriteLocked();
      give = std::exchange(give_back_, 0);
      last = outstanding_ == 0;
    }
    held->Give(give);
    if (last) delete this;
  }

  // HeldBytes has room again (called once per WaitIfFull that returned true).
  void Wake() ABSL_LOCKS_EXCLUDED(mu_) override {
    bool last;
    {
      absl::MutexLock lock(&mu_);
      waiting_ = false;
      --outstanding_;
      MaybeReadLocked();
      MaybeFinishLocked();
      last = done_ && outstanding_ == 0;
    }
    if (last) delete this;
  }

 private:
  struct Slot {
    int remaining = 0;
    size_t envelopes = 0;
    size_t bytes = 0;  // what this batch's answers hold (its envelopes in the ledger apart)
    SubmitBatchResponse response;
  };

  void OnResult(const std::shared_ptr<Slot>& slot, int i, size_t in_ledger, const SubmitResult& r)
      ABSL_LOCKS_EXCLUDED(mu_) {
    HeldBytes* const held = held_;
    size_t give;
    bool last;
    {
      absl::MutexLock lock(&mu_);
      SubmitResponse* a = slot->response.mutable_answers(i);
      FillAnswer(r, a);
      const size_t take = AnswerBytes(*a) - kEmptyAnswerBytes;
      slot->bytes += take;
      held_bytes_ += take;
      held->Take(take);  // before the write that gives it back can happen
      ReleaseLocked(in_ledger, 0);
      --slot->remaining;
      --outstanding_;
      MaybeWriteLocked();
      MaybeReadLocked();
      MaybeFinishLocked();
      give = std::exchange(give_back_, 0);
      last = done_ && outstanding_ == 0;
    }
    // Another callback may delete this reactor once the lock is released: use no member.
    held->Give(give);
    if (last) delete this;
  }

  // Counts what a batch brings (the server-wide total too: it is already in memory).
  void HoldLocked(size_t bytes, size_t envelopes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    held_bytes_ += bytes;
    held_envelopes_ += envelopes;
    held_->Take(bytes);
  }
  // Stops counting; the bytes go back to HeldBytes once the lock is released (give_back_).
  void ReleaseLocked(size_t bytes, size_t envelopes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    held_bytes_ -= bytes;
    held_envelopes_ -= envelopes;
    give_back_ += bytes;
  }

  // Starts the next read unless one is in flight, the stream holds its fill, or the server
  // does (then it waits to be woken).
  void MaybeReadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (reading_ || reads_done_ || submitting_ || waiting_ || done_) return;
    if (held_envelopes_ >= limits_.stream_inflight_max ||
        held_bytes_ >= limits_.stream_held_bytes_max) {
      return;  // OnWriteDone and OnResult call again as the stream drains
    }
    if (held_->WaitIfFull(this)) {
      waiting_ = true;
      ++outstanding_;
      return;
    }
    reading_ = true;
    StartRead(&request_);
  }

  void MaybeWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    while (!writing_ && !slots_.empty() && slots_.front()->remaining == 0) {
      auto slot = std::move(slots_.front());
      slots_.pop_front();
      if (broken_) {
        ReleaseLocked(slot->bytes, slot->envelopes);
        continue;
      }
      writing_ = true;
      current_ = std::move(slot->response);
      current_bytes_ = slot->bytes;
      current_envelopes_ = slot->envelopes;
      StartWrite(&current_);
    }
  }

  void MaybeFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (reads_done_ && slots_.empty() && !writing_ && !finished_ && !done_) {
      finished_ = true;
      Finish(end_);
    }
  }

  veta::Ledger* const ledger_;
  const ServiceLimits limits_;
  HeldBytes* const held_;
  std::atomic<size_t>* const live_;
  const std::function<void()> on_done_;
  absl::Mutex mu_;
  uint64_t carried_ ABSL_GUARDED_BY(mu_) = 0;  // envelopes this stream has taken
  SubmitBatch request_ ABSL_GUARDED_BY(mu_);
  grpc::Status end_ ABSL_GUARDED_BY(mu_);             // the status the stream finishes with
  SubmitBatchResponse current_ ABSL_GUARDED_BY(mu_);  // the write in flight
  size_t current_bytes_ ABSL_GUARDED_BY(mu_) = 0;     // its share
  size_t current_envelopes_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::shared_ptr<Slot>> slots_ ABSL_GUARDED_BY(mu_);  // batches in arrival order
  size_t held_envelopes_ ABSL_GUARDED_BY(mu_) = 0;  // read, their answers not yet written
  size_t held_bytes_ ABSL_GUARDED_BY(mu_) = 0;      // what they hold, in the ledger or here
  size_t give_back_ ABSL_GUARDED_BY(mu_) = 0;       // released, to give to HeldBytes after unlock
  size_t outstanding_ ABSL_GUARDED_BY(mu_) = 0;     // ledger callbacks and a HeldBytes wait
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool submitting_ ABSL_GUARDED_BY(mu_) = false;
  bool waiting_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
};

// A stream refused before it starts.
class DeniedStream final : public grpc::ServerBidiReactor<SubmitBatch, SubmitBatchResponse> {
 public:
  explicit DeniedStream(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

class DeniedWatch final : public grpc::ServerWriteReactor<veta::v1::WatchEvent> {
 public:
  explicit DeniedWatch(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

// One Watch call: a thread reads forward (Watcher) and writes one event at a time, waiting
// for each write to complete, so a caller that does not read holds one event in the server.
// Caught up, it waits for the ledger to grow (Ledger::AwaitGrowth) in slices short enough to
// notice a cancel or a stop quickly, and sends a heartbeat when it has been quiet too long.
class WatchReactor final : public grpc::ServerWriteReactor<veta::v1::WatchEvent> {
 public:
  WatchReactor(veta::Ledger* ledger, Watcher watcher, WatchPosition position,
               absl::Duration heartbeat, const std::atomic<bool>* stopping,
               std::function<void()> release)
      : ledger_(ledger),
        watcher_(std::move(watcher)),
        position_(position),
        heartbeat_(heartbeat),
        stopping_(stopping),
        release_(std::move(release)) {}

  // Starts the thread. It is the last to touch this reactor: Finish is its final call, and
  // gRPC calls OnDone (which deletes it) only after that.
  void Start() {
    std::thread([this] { Finish(ToGrpc(Run())); }).detach();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) broken_ = true;
  }
  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }
  void OnDone() override {
    release_();
    delete this;
  }

 private:
  static constexpr absl::Duration kSlice = absl::Milliseconds(200);
  static constexpr size_t kItemsPerRead = 64;

  absl::Status Run() {
    absl::Time last_sent = absl::Now();
    while (true) {
      if (stopping_->load()) {
        return absl::UnavailableError(
            StrCat("the server is stopping: watch again with from_sequence ",
                   position_.next_sequence, " and from_attempt ", position_.next_attempt));
      }
      if (Ended()) return absl::CancelledError("the caller went away");
      const uint64_t entries = ledger_->size(), attempts = ledger_->attempts();
      ASSIGN_OR_RETURN(auto items, watcher_.Read(&position_, entries, attempts, kItemsPerRead));
      for (auto& item : items) {
        veta::v1::WatchEvent event;
        if (item.sequence) {
          auto* e = event.mutable_entry();
          e->set_entry_bytes(std::move(item.entry_bytes));
          e->set_leaf_hash(std::string(AsBytes(item.leaf_hash)));
          *e->mutable_entry() = std::move(item.entry);
          for (auto& f : item.flags) *event.add_flags() = std::move(f);
        } else {
          *event.mutable_attempt() = std::move(*item.attempt);
        }
        event.set_next_sequence(item.after.next_sequence);
        event.set_next_attempt(item.after.next_attempt);
        if (!Write(std::move(event))) return absl::CancelledError("the caller went away");
        last_sent = absl::Now();
      }
      const bool caught_up =
          position_.next_sequence >= entries && position_.next_attempt >= attempts;
      if (caught_up) ledger_->AwaitGrowth(position_.next_sequence, position_.next_attempt, kSlice);
      if (items.empty() && absl::Now() - last_sent >= heartbeat_) {
        veta::v1::WatchEvent beat;  // neither entry nor attempt: where the watch stands
        beat.set_next_sequence(position_.next_sequence);
        beat.set_next_attempt(position_.next_attempt);
        if (!Write(std::move(beat))) return absl::CancelledError("the caller went away");
        last_sent = absl::Now();
      }
    }
  }

  bool Ended() {
    absl::MutexLock lock(&mu_);
    return cancelled_ || broken_;
  }

  // Writes one event and waits until gRPC is done with it; false if the call ended.
  bool Write(veta::v1::WatchEvent event) {
    event_ = std::move(event);
    {
      absl::MutexLock lock(&mu_);
      if (cancelled_ || broken_) return false;
      writing_ = true;
    }
    StartWrite(&event_);
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](bool* writing) { return !*writing; }, &writing_));
    return !cancelled_ && !broken_;
  }

  veta::Ledger* const ledger_;
  Watcher watcher_;
  WatchPosition position_;
  const absl::Duration heartbeat_;
  const std::atomic<bool>* const stopping_;
  const std::function<void()> release_;
  veta::v1::WatchEvent event_;  // the event being written
  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

bool HeldBytes::TryTake(size_t n) {
  absl::MutexLock lock(&mu_);
  if (held_ + n > max_) return false;
  held_ += n;
  peak_ = std::max(peak_, held_);
  peak_since_trim_ = std::max(peak_since_trim_, held_);
  return true;
}

void HeldBytes::Take(size_t n) {
  absl::MutexLock lock(&mu_);
  held_ += n;
  peak_ = std::max(peak_, held_);
  peak_since_trim_ = std::max(peak_since_trim_, held_);
}

void HeldBytes::Give(size_t n) {
  if (n == 0) return;
  std::deque<Waiter*> wake;
  bool trim = false;
  {
    absl::MutexLock lock(&mu_);
    held_ -= std::min(n, held_);
    if (held_ < max_) wake.swap(waiters_);
    // Once what was held has drained, hand the freed memory back to the system: glibc keeps
    // freed blocks in its arenas, and the RSS would stay at its peak long after the callers
    // that caused it have gone.
    if (held_ <= kTrimBelowBytes && peak_since_trim_ >= kTrimAfterBytes) {
      peak_since_trim_ = 0;
      trim = true;
    }
  }
  for (Waiter* w : wake) w->Wake();  // each reads again, or queues again if still full
#ifdef __GLIBC__
  if (trim) malloc_trim(0);
#else
  (void)trim;
#endif
}

bool HeldBytes::WaitIfFull(Waiter* w) {
  absl::MutexLock lock(&mu_);
  if (held_ < max_) return false;
  waiters_.push_back(w);
  return true;
}

bool HeldBytes::Cancel(Waiter* w) {
  absl::MutexLock lock(&mu_);
  auto it = std::find(waiters_.begin(), waiters_.end(), w);
  if (it == waiters_.end()) return false;
  waiters_.erase(it);
  return true;
}

size_t HeldBytes::held() const {
  absl::MutexLock lock(&mu_);
  return held_;
}

size_t HeldBytes::peak() const {
  absl::MutexLock lock(&mu_);
  return peak_;
}

// A unary call that holds its request's bytes, then its response's, in HeldBytes until gRPC
// is done with it (the response written, or the call cancelled): a caller that sends calls
// and does not read the responses fills the server's bound, not its memory.
class LedgerService::Reply final : public grpc::ServerUnaryReactor {
 public:
  Reply(HeldBytes* held, size_t bytes) : held_(held), bytes_(bytes) {}

  // Finishes the call. With OK, the response's bytes are held as well; when they do not fit,
  // the call is refused RESOURCE_EXHAUSTED instead, unless `always` (the answer to work the
  // ledger has done, which must reach the caller). The reactor may be gone on return.
  void Send(google::protobuf::MessageLite* response, const absl::Status& status,
            bool always = false) {
    if (status.ok()) {
      const size_t n = response->ByteSizeLong() + kCallBytes;
      if (always) {
        held_->Take(n);
      } else if (!held_->TryTake(n)) {
        const absl::Status full = FullStatus(*held_, n);
        response->Clear();
        Finish(ToGrpc(full));
        return;
      }
      bytes_ += n;
    }
    Finish(ToGrpc(status));
  }

  void OnDone() override {
    held_->Give(bytes_);
    delete this;
  }

 private:
  HeldBytes* const held_;
  size_t bytes_;
};

LedgerService::Reply* LedgerService::NewReply(size_t request_bytes) {
  const size_t n = request_bytes + kCallBytes;
  if (!held_.TryTake(n)) return nullptr;
  return new Reply(&held_, n);
}

grpc::ServerUnaryReactor* LedgerService::SendReply(Reply* reply,
                                                   google::protobuf::MessageLite* response,
                                                   const absl::Status& status) {
  reply->Send(response, status);
  return reply;
}

grpc::ServerUnaryReactor* LedgerService::Pending(Reply* reply) { return reply; }

grpc::ServerUnaryReactor* LedgerService::Full(grpc::CallbackServerContext* ctx) const {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpc(FullStatus(held_, kCallBytes)));
  return reactor;
}

size_t LedgerService::open_streams() const {
  absl::MutexLock lock(&streams_mu_);
  return open_streams_total_;
}

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
    if (std::optional<std::string> keyid = ForwardedKeyid(ctx); keyid.has_value()) {
      // A call from the HTTP listener, on behalf of its caller (empty: the public).
      if (!keyid->empty()) {
        caller =
            CallerForKey(ledger_->keys().Find(*keyid).get(), ledger_->store(), ledger_->size());
      }
    } else if (!certs.empty()) {
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

std::string LedgerService::NewHttpSecret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) std::abort();  // no randomness: cannot run safely
  return ToHex(std::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

std::string LedgerService::HttpCallerValue(std::string_view keyid) const {
  return StrCat(http_secret_, " ", keyid);
}

std::optional<std::string> LedgerService::ForwardedKeyid(grpc::CallbackServerContext* ctx) const {
  const auto& metadata = ctx->client_metadata();
  const auto it = metadata.find(kHttpCallerMetadata);
  if (it == metadata.end()) return std::nullopt;
  // Only a call over the in-process channel (grpc::Server::InProcessChannel): its peer is no
  // address ("unknown" in gRPC 1.51, "inproc" in others), and it has no transport security,
  // which every network call has when roles apply (the port is TLS-only).
  const std::string peer = ctx->peer();
  if (peer != "unknown" && peer != "inproc") return std::nullopt;
  const auto auth = ctx->auth_context();
  if (auth != nullptr && !auth->FindPropertyValues("transport_security_type").empty()) {
    return std::nullopt;
  }
  const std::string_view value(it->second.data(), it->second.size());
  const size_t n = http_secret_.size();
  if (value.size() <= n || value[n] != ' ' ||
      CRYPTO_memcmp(value.data(), http_secret_.data(), n) != 0) {
    return std::nullopt;
  }
  return std::string(value.substr(n + 1));
}

grpc::ServerUnaryReactor* LedgerService::Submit(grpc::CallbackServerContext* ctx,
                                                const veta::v1::SubmitRequest* request,
                                                veta::v1::SubmitResponse* response) {
  // The request, and the envelope's copy in the ledger until it answers.
  Reply* reply = NewReply(request->ByteSizeLong() + LedgerBytes(request->envelope().size()));
  if (reply == nullptr) return Full(ctx);
  if (auto caller = Authorize(ctx, Rpc::kSubmit); !caller.ok()) {
    reply->Send(response, caller.status());
    return reply;
  }
  ledger_->Submit(
      request->envelope(),
      [reply, response, ctx](SubmitResult r) {
        if (r.status.ok()) FillAnswer(r, response);
        // A refusal is an error status, whose message starts "[CODE]"; the code also goes in
        // the trailing metadata, so that a program need not parse the message.
        if (r.refusal != veta::v1::REFUSAL_UNSPECIFIED) {
          ctx->AddTrailingMetadata(kRefusalMetadata, veta::v1::Refusal_Name(r.refusal));
        }
        reply->Send(response, r.status, /*always=*/true);
      },
      ctx->deadline());
  return reply;
}

grpc::ServerUnaryReactor* LedgerService::Check(grpc::CallbackServerContext* ctx,
                                               const veta::v1::SubmitRequest* request,
                                               veta::v1::SubmitResponse* response) {
  Reply* reply = NewReply(request->ByteSizeLong() + LedgerBytes(request->envelope().size()));
  if (reply == nullptr) return Full(ctx);
  if (auto caller = Authorize(ctx, Rpc::kCheck); !caller.ok()) {
    reply->Send(response, caller.status());
    return reply;
  }
  if (ledger_->is_replica()) {  // a follower's state is behind the primary's: check there
    reply->Send(response, absl::FailedPreconditionError(StrCat(
                              "this is a follower: check at the primary, ", ledger_->primary())));
    return reply;
  }
  // The verdict is the answer: a refusal is an OK call whose response carries the code.
  ledger_->Check(request->envelope(), [reply, response](SubmitResult r) {
    FillAnswer(r, response);
    reply->Send(response, absl::OkStatus(), /*always=*/true);
  });
  return reply;
}

grpc::ServerUnaryReactor* LedgerService::GetRecord(grpc::CallbackServerContext* ctx,
                                                   const veta::v1::GetRecordRequest* request,
                                                   veta::v1::RecordVersion* response) {
  Reply* reply = NewReply(request->ByteSizeLong());
  if (reply == nullptr) return Full(ctx);
  auto status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(RecordKind kind, ParseRecordKind(request->kind()));
    ASSIGN_OR_RETURN(uint64_t visible, VisibleEntries(*ledger_, request->as_of()));
    ASSIGN_OR_RETURN(RecordVersion v,
                     GetRecordAsOf(ledger_->store(), kind, request->id(), visible));
    *response->mutable_record() = std::move(v.record);
    response->set_sequence(v.sequence);
    return absl::OkStatus();
  }();
  reply->Send(response, status);
  return reply;
}

namespace {

// Items are read from the store this many at a time, so that a page stops at its byte bound
// without first reading all it might have held (at most this many items more).
constexpr size_t kPageChunk = 16;

}  // namespace

grpc::ServerUnaryReactor* LedgerService::ListRecords(grpc::CallbackServerContext* ctx,
                                                     const veta::v1::ListRecordsRequest* request,
                                                     veta::v1::ListRecordsResponse* response) {
  Reply* reply = NewReply(request->ByteSizeLong());
  if (reply == nullptr) return Full(ctx);
  auto status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(RecordKind kind, ParseRecordKind(request->kind()));
    ASSIGN_OR_RETURN(uint64_t visible, VisibleEntries(*ledger_, request->as_of()));
    RecordFilter filter{request->status(), request->department(), request->party_kind()};
    const size_t limit = request->limit() == 0 ? 100 : request->limit();
    if (limit > kPageMax) {
      return absl::InvalidArgumentError(
          StrCat("a page holds at most ", kPageMax, " items; ", limit, " were asked for"));
    }
    std::string after = request->after_id();
    size_t bytes = 0;
    bool more = false;  // the page stopped at its limit or its bytes, not at the end
    while (!more) {
      if (static_cast<size_t>(response->records_size()) == limit) {
        more = true;
        break;
      }
      const size_t chunk = std::min(kPageChunk, limit - response->records_size());
      ASSIGN_OR_RETURN(auto records,
                       veta::ListRecords(ledger_->store(), kind, filter, after, chunk, visible));
      for (auto& v : records) {
        if (bytes >= limits_.page_bytes_max) {
          more = true;
          break;
        }
        auto* out = response->add_records();
        *out->mutable_record() = std::move(v.record);
        out->set_sequence(v.sequence);
        bytes += out->ByteSizeLong();
      }
      if (!more && records.size() < chunk) break;
      if (response->records_size() > 0) {
        after = RecordKey(response->records().rbegin()->record()).second;
      }
    }
    if (more && response->records_size() > 0) {
      response->set_next_after_id(RecordKey(response->records().rbegin()->record()).second);
    }
    return absl::OkStatus();
  }();
  reply->Send(response, status);
  return reply;
}

grpc::ServerUnaryReactor* LedgerService::GetLot(grpc::CallbackServerContext* ctx,
                                                const veta::v1::GetLotRequest* request,
                                                veta::v1::Lot* response) {
  Reply* reply = NewReply(request->ByteSizeLong());
  if (reply == nullptr) return Full(ctx);
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
  reply->Send(response, status);
  return reply;
}

grpc::ServerUnaryReactor* LedgerService::GetDailyCapacity(
    grpc::CallbackServerContext* ctx, const veta::v1::GetDailyCapacityRequest* request,
    veta::v1::DailyCapacity* response) {
  Reply* reply = NewReply(request->ByteSizeLong());
  if (reply == nullptr) return Full(ctx);
  auto status = [&]() -> absl::Status {
    RETURN_IF_ERROR(Authorize(ctx, Rpc::kGetDailyCapacity).status());
    // "Today" is the day the next entry would be sequenced on: the ledger's time never goes
    // back, so not before its last entry's.
    const int64_t now =
        std::max(TimestampMicros(NowTimestamp()), ledger_->last_entry_time_micros());
    ASSIGN_OR_RETURN(*response, veta::GetDailyCapacity(ledger_->store(), request->id(),
                                                       request->day(), now, ledger_->size()));
    return absl::OkStatus();
  }();
  reply->Send(response, status);
  return reply;
}

grpc::ServerUnaryReactor* LedgerService::ListAttempts(grpc::CallbackServerContext* ctx,
                                                      const veta::v1::ListAttemptsRequest* request,
                                                      veta::v1::ListAttemptsResponse* response) {
  Reply* reply = NewReply(request->ByteSizeLong());
  if (reply == nullptr) return Full(ctx);
  auto status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Caller caller, Authorize(ctx, Rpc::kListAttempts));
    if (ledger_->is_replica()) {
      return absl::FailedPreconditionError(
          StrCat("refused attempts are evidence the primary keeps beside its log, not in it: a "
                 "follower has none; list them at the primary, ",
                 ledger_->primary()));
    }
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
    const size_t limit = request->limit() == 0 ? 100 : request->limit();
    if (limit > kPageMax) {
      return absl::InvalidArgumentError(
          StrCat("a page holds at most ", kPageMax, " items; ", limit, " were asked for"));
    }
    // Attempts keep the refused envelope: the page stops at page_bytes_max, and the caller
    // continues from next_start.
    uint64_t start = request->start();
    size_t bytes = 0;
    bool full = false;
    while (!full && static_cast<size_t>(response->attempts_size()) < limit) {
      const size_t chunk = std::min(kPageChunk, limit - response->attempts_size());
      ASSIGN_OR_RETURN(auto attempts, veta::ListAttempts(ledger_->store(), filter, start, chunk));
      for (auto& a : attempts) {
        if (bytes >= limits_.page_bytes_max) {
          full = true;
          break;
        }
        start = a.number() + 1;
        bytes += a.ByteSizeLong();
        *response->add_attempts() = std::move(a);
      }
      if (attempts.size() < chunk) break;
    }
    if (full || static_cast<size_t>(response->attempts_size()) == limit) {
      response->set_next_start(start);
    }
    return absl::OkStatus();
  }();
  reply->Send(response, status);
  return reply;
}

grpc::ServerUnaryReactor* LedgerService::ListFlags(grpc::CallbackServerContext* ctx,
                                                   const veta::v1::ListFlagsRequest* request,
                                                   veta::v1::ListFlagsResponse* response) {
  Reply* reply = NewReply(request->ByteSizeLong());
  if (reply == nullptr) return Full(ctx);
  auto status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Caller caller, Authorize(ctx, Rpc::kListFlags));
    if (!MayReadParty(caller, request->party())) {
      return absl::PermissionDeniedError(StrCat(
          "a ", RoleName(caller.role), " lists only its own flags: --party ", caller.party_id));
    }
    if (!request->party().empty() && !request->unit().empty()) {
      return absl::InvalidArgumentError("filter flags by party or unit, not both");
    }
    // Flags are small (no envelope): a page of kPageMax stays far below page_bytes_max.
    EvidenceFilter filter{request->party(), request->unit(), ""};
    ASSIGN_OR_RETURN(auto flags,
                     veta::ListFlags(ledger_->store(), filter, request->start_sequence(),
                                     request->limit(), ledger_->size()));
    for (auto& f : flags) *response->add_flags() = std::move(f);
    return absl::OkStatus();
  }();
  reply->Send(response, status);
  return reply;
}

absl::StatusOr<std::function<void()>> LedgerService::AdmitStream(grpc::CallbackServerContext* ctx,
                                                                 const Caller& caller) {
  std::string who = roles_ ? StrCat(RoleName(caller.role), ":", caller.party_id) : ctx->peer();
  const size_t colon = who.rfind(':');
  if (!roles_ && colon != std::string::npos) who.resize(colon);  // the address, not the port
  absl::MutexLock lock(&streams_mu_);
  if (open_streams_total_ >= limits_.streams_max) {
    return absl::ResourceExhaustedError(StrCat("the server has ", open_streams_total_,
                                               " streams open; the limit is ", limits_.streams_max,
                                               " (--streams-max): retry later"));
  }
  size_t& open = open_streams_[who];
  if (open >= limits_.streams_per_caller_max) {
    return absl::ResourceExhaustedError(StrCat(who, " already has ", open,
                                               " streams open; the limit is ",
                                               limits_.streams_per_caller_max));
  }
  ++open;
  ++open_streams_total_;
  return std::function<void()>([this, who] {
    absl::MutexLock release_lock(&streams_mu_);
    --open_streams_total_;
    if (--open_streams_[who] == 0) open_streams_.erase(who);
  });
}

grpc::ServerBidiReactor<SubmitBatch, SubmitBatchResponse>* LedgerService::SubmitStream(
    grpc::CallbackServerContext* ctx) {
  auto caller = Authorize(ctx, Rpc::kSubmit);
  if (!caller.ok()) return new DeniedStream(ToGrpc(caller.status()));
  auto release = AdmitStream(ctx, *caller);
  if (!release.ok()) return new DeniedStream(ToGrpc(release.status()));
  return new SubmitStreamReactor(ledger_, limits_, &held_, &live_streams_, std::move(*release));
}

grpc::ServerWriteReactor<veta::v1::WatchEvent>* LedgerService::Watch(
    grpc::CallbackServerContext* ctx, const veta::v1::WatchRequest* request) {
  auto start = [&]() -> absl::StatusOr<WatchReactor*> {
    if (stopping_.load()) return absl::UnavailableError("the server is stopping");
    ASSIGN_OR_RETURN(Caller caller, Authorize(ctx, Rpc::kWatch));
    ASSIGN_OR_RETURN(WatchFilter filter, MakeWatchFilter(caller, request->party(), request->unit(),
                                                         request->refusal(), request->red_flag()));
    WatchPosition position{ledger_->size(), ledger_->attempts()};
    if (request->has_from_sequence()) {
      if (request->from_sequence() > position.next_sequence) {
        return absl::OutOfRangeError(StrCat("from_sequence ", request->from_sequence(),
                                            " is past the log's ", position.next_sequence,
                                            " entries"));
      }
      position.next_sequence = request->from_sequence();
    }
    if (request->has_from_attempt()) {
      if (request->from_attempt() > position.next_attempt) {
        return absl::OutOfRangeError(StrCat("from_attempt ", request->from_attempt(),
                                            " is past the ", position.next_attempt,
                                            " attempts logged"));
      }
      position.next_attempt = request->from_attempt();
    }
    ASSIGN_OR_RETURN(auto release, AdmitStream(ctx, caller));
    return new WatchReactor(ledger_, Watcher(ledger_->store(), caller, std::move(filter)), position,
                            absl::Milliseconds(limits_.watch_heartbeat_ms), &stopping_,
                            std::move(release));
  }();
  if (!start.ok()) return new DeniedWatch(ToGrpc(start.status()));
  (*start)->Start();
  return *start;
}

grpc::ServerUnaryReactor* LedgerService::GetEntry(grpc::CallbackServerContext* ctx,
                                                  const veta::v1::GetEntryRequest* request,
                                                  veta::v1::GetEntryResponse* response) {
  Reply* reply = NewReply(request->ByteSizeLong());
  if (reply == nullptr) return Full(ctx);
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
  reply->Send(response, status);
  return reply;
}

uint32_t LedgerService::EntriesPageMax() const {
  // The ledger's page bound (LedgerOptions::list_entries_max) is not exposed; ListEntries
  // checks a limit before anything else, and a start past the end reads nothing, so the bound
  // is found by bisection on calls that read nothing, once.
  uint32_t max = entries_page_max_.load();
  if (max != 0) return max;
  uint32_t ok = 1, bad = UINT32_MAX;  // ListEntries accepts `ok` (and 0) and refuses `bad`
  if (ledger_->ListEntries(UINT64_MAX, bad).ok()) {
    ok = bad;
  } else {
    while (bad - ok > 1) {
      const uint32_t mid = ok + (bad - ok) / 2;
      (ledger_->ListEntries(UINT64_MAX, mid).ok() ? ok : bad) = mid;
    }
  }
  entries_page_max_.store(ok);
  return ok;
}

grpc::ServerUnaryReactor* LedgerService::ListEntries(grpc::CallbackServerContext* ctx,
                                                     const veta::v1::ListEntriesRequest* request,
                                                     veta::v1::ListEntriesResponse* response) {
  Reply* reply = NewReply(request->ByteSizeLong());
  if (reply == nullptr) return Full(ctx);
  auto status = [&]() -> absl::Status {
    RETURN_IF_ERROR(Authorize(ctx, Rpc::kListEntries).status());
    // The ledger's own check of the limit, and its message (nothing is read).
    RETURN_IF_ERROR(ledger_->ListEntries(UINT64_MAX, request->limit()).status());
    const size_t limit = request->limit() == 0 ? EntriesPageMax() : request->limit();
    uint64_t next = request->start();
    size_t bytes = 0;
    bool full = false;
    while (!full && static_cast<size_t>(response->entries_size()) < limit) {
      const size_t chunk = std::min(kPageChunk, limit - response->entries_size());
      ASSIGN_OR_RETURN(auto entries, ledger_->ListEntries(next, static_cast<uint32_t>(chunk)));
      for (auto& e : entries) {
        if (bytes >= limits_.page_bytes_max) {
          full = true;
          break;
        }
        bytes += 2 * e.size();  // the bytes, and the decoded entry beside them
        FillEntry(std::move(e), response->add_entries());
        ++next;
      }
      if (entries.size() < chunk) break;
    }
    response->set_next_start(next);
    return absl::OkStatus();
  }();
  reply->Send(response, status);
  return reply;
}

grpc::ServerUnaryReactor* LedgerService::GetCheckpoint(
    grpc::CallbackServerContext* ctx, const veta::v1::GetCheckpointRequest* request,
    veta::v1::Checkpoint* response) {
  Reply* reply = NewReply(request->ByteSizeLong());
  if (reply == nullptr) return Full(ctx);
  *response = ledger_->PublishedCheckpoint();
  reply->Send(response, absl::OkStatus());
  return reply;
}

grpc::ServerUnaryReactor* LedgerService::GetInclusionProof(
    grpc::CallbackServerContext* ctx, const veta::v1::GetInclusionProofRequest* request,
    veta::v1::InclusionProof* response) {
  Reply* reply = NewReply(request->ByteSizeLong());
  if (reply == nullptr) return Full(ctx);
  auto status = [&]() -> absl::Status {
    const uint64_t size = request->tree_size() != 0 ? request->tree_size()
                                                    : ledger_->PublishedCheckpoint().tree_size();
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
  reply->Send(response, status);
  return reply;
}

grpc::ServerUnaryReactor* LedgerService::GetConsistencyProof(
    grpc::CallbackServerContext* ctx, const veta::v1::GetConsistencyProofRequest* request,
    veta::v1::ConsistencyProof* response) {
  Reply* reply = NewReply(request->ByteSizeLong());
  if (reply == nullptr) return Full(ctx);
  const uint64_t second = request->second_size() != 0 ? request->second_size()
                                                      : ledger_->PublishedCheckpoint().tree_size();
  auto proof = ledger_->ConsistencyProof(request->first_size(), second);
  if (proof.ok()) {
    response->set_first_size(request->first_size());
    response->set_second_size(second);
    for (const Hash& h : *proof) response->add_hashes(std::string(AsBytes(h)));
  }
  reply->Send(response, proof.status());
  return reply;
}

}  // namespace veta::server
