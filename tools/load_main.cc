// veta-load: measures the durable ingest rate of a running server.
//
// Before timing: registers M keys (signed by the authority key) and pre-signs N memo
// envelopes with them. Then submits them by stream and/or unary calls from C concurrent
// clients and reports durably committed entries/s and latency percentiles, next to this
// machine's verify rate for the same algorithm on 2 threads (what the server must do for
// every entry), with the ratio of the two. With --server-pid (a server on this machine): the
// server's CPU time per entry too, and that as a number of verifications (the CPU time of one,
// by the verifying threads' own clocks): unlike the rate, it does not count the time other
// processes had the cores (a virtual machine's host still moves it: its preemptions count).
//
// --mode attack: C SubmitStream calls write batches without end and never read an answer
// (issue 9), while the server's resident memory (/proc/PID/status, --server-pid) and the
// latency of an honest client's calls are printed over time; then the attackers cancel and
// the memory is watched a little longer.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include "client/connection.h"
#include "core/base/flags.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/rules/geo.h"
#include "core/verify/envelope.h"
#include "tests/support/payloads.h"
#include "veta/v1/service.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
using google::protobuf::util::TimeUtil;
using veta::StrCat;
namespace pl = veta::payloads;

struct Config {
  veta::client::ConnectionOptions connection;
  std::string authority_key;
  std::string algorithm = "ed25519";
  std::string mode = "both";
  std::string workload = "memo";
  uint64_t entries = 20000, keys = 8, clients = 4, window = 256, rate = 0, batch = 64;
  bool json = false;
  // Attack mode.
  uint64_t server_pid = 0, seconds = 15, after_seconds = 5, sample_ms = 1000;
};

struct Presigned {
  std::vector<veta::PrivateKey> keys;
  // Extraction workload: the miner and unit each key stands for.
  std::vector<std::string> rucs, units;
  std::vector<veta::geo::Point> points;
  std::vector<std::string> envelopes;
  std::vector<std::string> paes;  // for the verify-rate measurement
  std::vector<std::string> sigs;
};

struct RunResult {
  std::string mode;
  uint64_t ok = 0, refused = 0;
  double seconds = 0;
  double server_cpu_seconds = -1;  // with --server-pid: the server's CPU time over the run
  std::vector<double> latencies_ms;
  std::string first_error;
};

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

absl::Status SubmitOne(veta::v1::Ledger::Stub* stub, std::string_view type,
                       const google::protobuf::Message& payload, const veta::PrivateKey& key) {
  veta::v1::SubmitRequest req;
  req.set_envelope(pl::Sign(type, payload, {key}));
  veta::v1::SubmitResponse resp;
  grpc::ClientContext ctx;
  grpc::Status s = stub->Submit(&ctx, req, &resp);
  if (!s.ok() && s.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
    return absl::UnavailableError(StrCat("registering: ", s.error_message()));
  }
  return absl::OkStatus();
}

// Extraction workload: a registrar (registered by the authority, once per run), and for
// each key a REINFO miner with a unit of its own, so that every extraction runs every rule.
absl::Status RegisterMiner(veta::v1::Ledger::Stub* stub, const veta::PrivateKey& authority,
                           const veta::PrivateKey& key, uint64_t i, Presigned* out) {
  static const veta::PrivateKey registrar =
      *veta::PrivateKey::Generate(veta::KeyAlgorithm::kEd25519);
  static const uint64_t run = std::random_device{}() % 90000000;
  if (i == 0) {
    RETURN_IF_ERROR(SubmitOne(
        stub, veta::kRegistryType,
        pl::RegistrarRecord(StrCat("LOAD-", run), registrar.public_key(), "veta-load registrar"),
        authority));
  }
  char digits[16];
  std::snprintf(digits, sizeof(digits), "10%08llu", static_cast<unsigned long long>(run + i));
  const std::string ruc = pl::Ruc(digits);
  const std::string unit = StrCat("LOAD-", run, "-", i);
  const veta::geo::Point center{-70.9 + 0.05 * static_cast<double>(i % 20),
                                -13.2 + 0.05 * static_cast<double>(i / 20)};
  // A small producer (its unit is installed for 350 t/day), registered until 2100.
  veta::v1::RegistryRecord m = pl::Miner(ruc, key.public_key(), veta::v1::VIGENTE, veta::v1::SMALL);
  m.mutable_miner()->set_name(StrCat("veta-load miner ", i));
  *m.mutable_miner()->mutable_valid_until() = pl::Time("2100-01-01T00:00:00Z");
  RETURN_IF_ERROR(SubmitOne(stub, veta::kRegistryType, m, registrar));
  veta::v1::RegistryRecord u =
      pl::Unit(unit, ruc, center.lon, center.lat, 350 * veta::units::kGramsPerTonne);
  u.mutable_unit()->set_ubigeo("170301");
  RETURN_IF_ERROR(SubmitOne(stub, veta::kRegistryType, u, registrar));
  out->rucs.push_back(ruc);
  out->units.push_back(unit);
  out->points.push_back(center);
  return absl::OkStatus();
}

absl::Status Register(veta::v1::Ledger::Stub* stub, const veta::PrivateKey& authority,
                      Presigned* out, const Config& c) {
  auto alg = veta::ParseAlgorithmName(c.algorithm);
  if (!alg.ok()) return alg.status();
  for (uint64_t i = 0; i < c.keys; ++i) {
    auto key = veta::PrivateKey::Generate(*alg);
    if (!key.ok()) return key.status();
    if (c.workload == "extraction") {
      RETURN_IF_ERROR(RegisterMiner(stub, authority, *key, i, out));
    } else {
      RETURN_IF_ERROR(SubmitOne(
          stub, veta::kKeyRegistrationType,
          pl::KeyRegistrationOf(key->public_key(), StrCat("veta-load client ", i)), authority));
    }
    out->keys.push_back(*key);
  }
  return absl::OkStatus();
}

void Presign(const Config& c, Presigned* p) {
  p->envelopes.resize(c.entries);
  p->paes.resize(c.entries);
  p->sigs.resize(c.entries);
  const uint64_t base = std::random_device{}() * 1000003ull;
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (uint64_t i = t; i < c.entries; i += threads) {
        const size_t k = i % p->keys.size();
        const auto& key = p->keys[k];
        veta::v1::Envelope env;
        if (c.workload == "extraction") {
          // 1.5 kg at 8.4 g/t, stamped to the second.
          veta::v1::Extraction x = pl::ExtractionOf(StrCat("LOAD-", base, "-", i), p->rucs[k],
                                                    p->units[k], p->points[k].lon + 0.001,
                                                    p->points[k].lat - 0.001, 1500, 8400, base + i);
          *x.mutable_time() = TimeUtil::SecondsToTimestamp(std::time(nullptr));
          env = *veta::SignEnvelope(veta::kExtractionType, x.SerializeAsString(), {key});
        } else {
          const veta::v1::Memo memo =
              pl::MemoOf(StrCat("lote ", i, ": 1250.5 kg of ore, 8.4 g/t, unit CM-", i % 97),
                         "veta-load", base + i);
          env = *veta::SignEnvelope(veta::kMemoType, memo.SerializeAsString(), {key});
        }
        p->paes[i] = veta::Pae(env.payload_type(), env.payload());
        p->sigs[i] = env.signatures(0).sig();
        p->envelopes[i] = env.SerializeAsString();
      }
    });
  }
  for (auto& th : pool) th.join();
}

// This thread's CPU time, in seconds.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// A process's CPU time, in seconds, to the nanosecond: the sum over its threads of their time
// on a CPU (/proc/PID/task/*/schedstat; /proc/PID/stat counts in ticks of 10 ms); -1 if the
// process is not there.
double ProcessCpuSeconds(uint64_t pid) {
  std::error_code ec;
  double ns = 0;
  bool any = false;
  for (const auto& task : std::filesystem::directory_iterator(StrCat("/proc/", pid, "/task"), ec)) {
    std::ifstream in(task.path() / "schedstat");
    double on_cpu = 0;
    if (in >> on_cpu) {
      ns += on_cpu;
      any = true;
    }
  }
  return any ? ns / 1e9 : -1;
}

struct VerifyCost {
  double rate = 0;    // verifications per second on 2 threads
  double cpu_us = 0;  // CPU time of one verification
};

// Verifies pre-signed signatures on 2 threads for about a second: the server's floor cost.
// Also the CPU time of one verification (the threads' own CPU clocks): unlike the rate, it does
// not count time the machine gave to others.
VerifyCost VerifyRate(const Presigned& p) {
  std::atomic<uint64_t> done{0};
  std::mutex mu;
  double cpu = 0;
  const auto stop = Clock::now() + std::chrono::milliseconds(1500);
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      uint64_t n = 0;
      const double cpu0 = ThreadCpuSeconds();
      for (size_t i = static_cast<size_t>(t); Clock::now() < stop; i = (i + 2) % p.paes.size()) {
        const auto& key = p.keys[i % p.keys.size()].public_key();
        if (!key.Verify(p.paes[i], p.sigs[i]).ok()) std::abort();
        ++n;
      }
      done += n;
      std::lock_guard lock(mu);
      cpu += ThreadCpuSeconds() - cpu0;
    });
  }
  for (auto& th : threads) th.join();
  VerifyCost cost;
  cost.rate =
      static_cast<double>(done) / std::chrono::duration<double>(Clock::now() - start).count();
  cost.cpu_us = done > 0 ? cpu * 1e6 / static_cast<double>(done) : 0;
  return cost;
}

RunResult RunStream(const Config& c, const std::shared_ptr<grpc::Channel>& channel,
                    const std::vector<std::string>& envelopes) {
  RunResult result;
  result.mode = "stream";
  std::mutex mu;
  const auto start = Clock::now();
  std::vector<std::thread> clients;
  for (uint64_t k = 0; k < c.clients; ++k) {
    clients.emplace_back([&, k] {
      auto stub = veta::v1::Ledger::NewStub(channel);
      grpc::ClientContext ctx;
      auto stream = stub->SubmitStream(&ctx);
      std::vector<size_t> mine;
      for (size_t i = k; i < envelopes.size(); i += c.clients) mine.push_back(i);
      std::vector<Clock::time_point> sent(mine.size());
      std::thread writer([&] {
        const auto t0 = Clock::now();
        for (size_t j = 0; j < mine.size(); j += c.batch) {
          if (c.rate > 0) {  // pace this client at rate / clients
            std::this_thread::sleep_until(
                t0 + std::chrono::nanoseconds(static_cast<int64_t>(
                         1e9 * static_cast<double>(j * c.clients) / static_cast<double>(c.rate))));
          }
          veta::v1::SubmitBatch batch;
          const size_t end = std::min(mine.size(), j + c.batch);
          for (size_t k2 = j; k2 < end; ++k2) batch.add_envelopes(envelopes[mine[k2]]);
          const auto now = Clock::now();
          for (size_t k2 = j; k2 < end; ++k2) sent[k2] = now;
          if (!stream->Write(batch)) break;
        }
        stream->WritesDone();
      });
      veta::v1::SubmitBatchResponse resp;
      std::vector<double> lat;
      uint64_t ok = 0, refused = 0;
      std::string err;
      size_t j = 0;
      while (stream->Read(&resp)) {
        const auto now = Clock::now();
        for (const auto& a : resp.answers()) {
          lat.push_back(std::chrono::duration<double, std::milli>(now - sent[j++]).count());
          if (a.code() == 0) {
            ++ok;
          } else {
            ++refused;
            if (err.empty()) err = a.message();
          }
        }
      }
      writer.join();
      grpc::Status s = stream->Finish();
      std::lock_guard lock(mu);
      result.ok += ok;
      result.refused += refused;
      result.latencies_ms.insert(result.latencies_ms.end(), lat.begin(), lat.end());
      if (!s.ok() && result.first_error.empty()) result.first_error = s.error_message();
      if (!err.empty() && result.first_error.empty()) result.first_error = err;
    });
  }
  for (auto& th : clients) th.join();
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

RunResult RunUnary(const Config& c, const std::shared_ptr<grpc::Channel>& channel,
                   const std::vector<std::string>& envelopes) {
  RunResult result;
  result.mode = "unary";
  std::mutex mu;
  const auto start = Clock::now();
  std::vector<std::thread> clients;
  for (uint64_t k = 0; k < c.clients; ++k) {
    clients.emplace_back([&, k] {
      auto stub = veta::v1::Ledger::NewStub(channel);
      std::mutex cmu;
      std::condition_variable cv;
      uint64_t inflight = 0;
      for (size_t i = k; i < envelopes.size(); i += c.clients) {
        {
          std::unique_lock lock(cmu);
          cv.wait(lock, [&] { return inflight < c.window; });
          ++inflight;
        }
        struct Call {
          grpc::ClientContext ctx;
          veta::v1::SubmitRequest req;
          veta::v1::SubmitResponse resp;
          Clock::time_point sent;
        };
        auto* call = new Call;
        call->req.set_envelope(envelopes[i]);
        call->sent = Clock::now();
        stub->async()->Submit(&call->ctx, &call->req, &call->resp, [&, call](grpc::Status s) {
          const double ms =
              std::chrono::duration<double, std::milli>(Clock::now() - call->sent).count();
          {
            std::lock_guard lock(mu);
            result.latencies_ms.push_back(ms);
            if (s.ok()) {
              ++result.ok;
            } else {
              ++result.refused;
              if (result.first_error.empty()) result.first_error = s.error_message();
            }
          }
          delete call;
          std::lock_guard lock(cmu);
          --inflight;
          cv.notify_one();
        });
      }
      std::unique_lock lock(cmu);
      cv.wait(lock, [&] { return inflight == 0; });
    });
  }
  for (auto& th : clients) th.join();
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

// The resident memory of a process in KiB (VmRSS), or 0 when it cannot be read.
uint64_t RssKib(uint64_t pid) {
  std::ifstream in(StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

// Issue 9: C streams write batches of pre-signed envelopes (cycled: after the first pass the
// server answers them ALREADY_EXISTS, which costs it little and the attacker nothing) and
// never read. Meanwhile, every --sample-ms: the server's RSS, and the time an honest client
// takes for a unary Submit (a fresh memo) and for one batch on a stream it reads. Returns
// non-zero when an honest call failed or took longer than 5 s.
int RunAttack(const Config& c, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
              const std::shared_ptr<grpc::Channel>& channel, const Presigned& p,
              const veta::PrivateKey& honest_key) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> batches_written{0};
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::thread> attackers;
  for (uint64_t k = 0; k < c.clients; ++k) {
    // A channel of its own per attacker: separate connections, as separate clients would be.
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("veta.attacker", static_cast<int>(k));  // keeps the channels apart
    auto own = veta::client::OpenChannel(c.connection.server, credentials, args);
    auto* ctx = contexts.emplace_back(std::make_unique<grpc::ClientContext>()).get();
    attackers.emplace_back([&, own, ctx, k] {
      auto stub = veta::v1::Ledger::NewStub(own);
      auto stream = stub->SubmitStream(ctx);
      size_t next = k * c.batch;
      while (!stop.load()) {
        veta::v1::SubmitBatch batch;
        for (uint64_t j = 0; j < c.batch; ++j) {
          batch.add_envelopes(p.envelopes[next++ % p.envelopes.size()]);
        }
        if (!stream->Write(batch)) break;  // blocks once the server stops reading
        ++batches_written;
      }
      stream->Finish();  // after TryCancel: CANCELLED
    });
  }
  const auto start = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  auto stub = veta::v1::Ledger::NewStub(channel);
  uint64_t nonce = std::random_device{}() * 7919ull, peak_kib = 0, bad = 0;
  const uint64_t rss0 = RssKib(c.server_pid);
  std::printf(
      "attack: %llu streams, batches of %llu envelopes, never reading; server pid %llu,"
      " RSS %.1f MiB at start\n",
      (unsigned long long)c.clients, (unsigned long long)c.batch, (unsigned long long)c.server_pid,
      static_cast<double>(rss0) / 1024);
  std::printf("%7s %10s %14s %14s %16s\n", "t (s)", "RSS (MiB)", "batches sent", "Submit (ms)",
              "stream batch (ms)");
  auto honest = [&]() -> std::pair<double, double> {
    veta::v1::Memo memo;
    memo.set_subject("veta-load honest client");
    memo.set_nonce(++nonce);
    auto env = veta::SignEnvelope(veta::kMemoType, memo.SerializeAsString(), {honest_key});
    veta::v1::SubmitRequest req;
    req.set_envelope(env->SerializeAsString());
    veta::v1::SubmitResponse resp;
    grpc::ClientContext uctx;
    uctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    auto t0 = Clock::now();
    grpc::Status s = stub->Submit(&uctx, req, &resp);
    const double unary_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!s.ok()) {
      std::printf("  honest Submit: %s\n", s.error_message().c_str());
      ++bad;
    }
    memo.set_nonce(++nonce);
    env = veta::SignEnvelope(veta::kMemoType, memo.SerializeAsString(), {honest_key});
    grpc::ClientContext sctx;
    sctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    t0 = Clock::now();
    auto stream = stub->SubmitStream(&sctx);
    veta::v1::SubmitBatch batch;
    batch.add_envelopes(env->SerializeAsString());
    veta::v1::SubmitBatchResponse answer;
    const bool read = stream->Write(batch) && stream->WritesDone() && stream->Read(&answer);
    while (stream->Read(&answer)) {
    }
    s = stream->Finish();
    const double stream_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!read || !s.ok()) {
      std::printf("  honest stream: %s\n", s.error_message().c_str());
      ++bad;
    }
    return {unary_ms, stream_ms};
  };
  auto sample = [&](double until) {
    while (elapsed() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(c.sample_ms));
      const uint64_t rss = RssKib(c.server_pid);
      peak_kib = std::max(peak_kib, rss);
      auto [unary_ms, stream_ms] = honest();
      std::printf("%7.1f %10.1f %14llu %14.1f %16.1f\n", elapsed(), static_cast<double>(rss) / 1024,
                  (unsigned long long)batches_written.load(), unary_ms, stream_ms);
      std::fflush(stdout);
    }
  };
  sample(static_cast<double>(c.seconds));
  stop = true;
  for (auto& ctx : contexts) ctx->TryCancel();
  for (auto& th : attackers) th.join();
  std::printf("attackers cancelled at %.1f s\n", elapsed());
  sample(static_cast<double>(c.seconds + c.after_seconds));
  std::printf(
      "server RSS: %.1f MiB at start, peak %.1f MiB (+%.1f MiB), %.1f MiB at the end;"
      " %llu honest calls failed or were late\n",
      static_cast<double>(rss0) / 1024, static_cast<double>(peak_kib) / 1024,
      static_cast<double>(peak_kib - std::min(peak_kib, rss0)) / 1024,
      static_cast<double>(RssKib(c.server_pid)) / 1024, (unsigned long long)bad);
  return bad == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  veta::Flags flags(
      "veta-load --authority-key KEY.pem [options]",
      "Load generator and benchmark. Registers --keys keys (signed with the authority key),\n"
      "pre-signs --entries memo envelopes, then submits them by stream and/or unary calls\n"
      "from --clients concurrent clients, and prints durably committed entries/s, p50/p99\n"
      "latency, and this machine's 2-thread verify rate for the same algorithm with the ratio.\n"
      "--mode attack reproduces issue 9 against a running server: --clients streams write\n"
      "batches of --batch envelopes for --seconds and never read their answers, while the\n"
      "server's RSS (--server-pid) and an honest client's Submit and stream latencies are\n"
      "printed every --sample-ms; then the attackers cancel and the RSS is followed for\n"
      "--after-seconds more.\n"
      "Every run writes real entries: point it at a test ledger.");
  veta::client::AddConnectionFlags(flags, &c.connection);
  flags.String("authority-key", &c.authority_key, "The ledger's authority private key (PEM).");
  flags.String("algorithm", &c.algorithm, "Key algorithm for the clients: ed25519 or ecdsa-p256.");
  flags.String("mode", &c.mode, "stream, unary, both or attack.");
  flags.String("workload", &c.workload,
               "memo (signature and ledger only) or extraction (REINFO miners and units are "
               "registered first; every entry runs the origin rules).");
  flags.Uint("entries", &c.entries, "Envelopes per mode.");
  flags.Uint("keys", &c.keys, "Distinct signing keys.");
  flags.Uint("clients", &c.clients, "Concurrent clients (streams or unary callers).");
  flags.Uint("window", &c.window, "Unary calls in flight per client.");
  flags.Uint("batch", &c.batch, "Envelopes per SubmitBatch message on a stream (at most 1024).");
  flags.Uint("rate", &c.rate,
             "Pace stream submissions at this many entries/s (0: as fast as possible).");
  flags.Bool("json", &c.json, "Print the results as one JSON object.");
  flags.Uint("server-pid", &c.server_pid,
             "The server's process id (on this machine): its RSS (attack), its CPU per entry.");
  flags.Uint("seconds", &c.seconds, "Attack: how long the attackers write.");
  flags.Uint("after-seconds", &c.after_seconds, "Attack: how long to watch after they cancel.");
  flags.Uint("sample-ms", &c.sample_ms, "Attack: time between samples.");
  if (auto s = flags.Parse(argc, argv); !s.ok()) {
    std::fprintf(stderr, "veta-load: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  if (flags.help_requested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return 0;
  }
  if (c.authority_key.empty() || c.entries == 0 || c.keys == 0 || c.clients == 0 || c.batch == 0 ||
      c.batch > 1024 ||
      (c.mode != "stream" && c.mode != "unary" && c.mode != "both" && c.mode != "attack") ||
      (c.mode == "attack" && (c.server_pid == 0 || c.sample_ms == 0))) {
    std::fprintf(stderr,
                 "veta-load: need --authority-key, positive counts and a valid --mode (attack:"
                 " --server-pid)\n");
    return 2;
  }
  auto pem = veta::ReadFile(c.authority_key);
  auto authority = pem.ok() ? veta::PrivateKey::FromPem(*pem) : pem.status();
  if (!authority.ok()) {
    std::fprintf(stderr, "veta-load: %s\n", std::string(authority.status().message()).c_str());
    return 1;
  }
  auto credentials = veta::client::Credentials(c.connection);
  if (!credentials.ok()) {
    std::fprintf(stderr, "veta-load: %s\n", std::string(credentials.status().message()).c_str());
    return credentials.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = veta::client::OpenChannel(c.connection.server, *credentials, args);
  auto stub = veta::v1::Ledger::NewStub(channel);
  Presigned presigned;
  if (auto s = Register(stub.get(), *authority, &presigned, c); !s.ok()) {
    std::fprintf(stderr, "veta-load: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  Presign(c, &presigned);
  if (c.mode == "attack") return RunAttack(c, *credentials, channel, presigned, presigned.keys[0]);
  const VerifyCost verify = VerifyRate(presigned);
  const double verify_rate = verify.rate;
  std::fprintf(stderr, "veta-load: %llu envelopes pre-signed with %llu %s keys\n",
               (unsigned long long)c.entries, (unsigned long long)c.keys, c.algorithm.c_str());

  // With --server-pid, each run is also measured in the server's CPU time: from its start
  // until the server is idle again after it (the flushes and compactions the run caused).
  const auto measured = [&](const std::function<RunResult()>& run) {
    const double cpu0 = c.server_pid ? ProcessCpuSeconds(c.server_pid) : -1;
    RunResult r = run();
    if (cpu0 >= 0) {
      double cpu = ProcessCpuSeconds(c.server_pid);
      for (int i = 0; i < 100; ++i) {  // at most 10 s
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        const double now = ProcessCpuSeconds(c.server_pid);
        const bool idle = now - cpu < 0.005;  // under 5% of a core
        cpu = now;
        if (idle) break;
      }
      if (cpu >= 0) r.server_cpu_seconds = cpu - cpu0;
    }
    return r;
  };
  std::vector<RunResult> results;
  if (c.mode != "unary") {
    results.push_back(measured([&] { return RunStream(c, channel, presigned.envelopes); }));
  }
  if (c.mode != "stream") {
    // The stream run recorded these envelopes: unary needs fresh ones.
    if (c.mode == "both") Presign(c, &presigned);
    results.push_back(measured([&] { return RunUnary(c, channel, presigned.envelopes); }));
  }
  int rc = 0;
  std::string json = StrCat("{\"verify_rate_2threads\":", static_cast<uint64_t>(verify_rate),
                            ",\"verify_cpu_us\":", verify.cpu_us, ",\"algorithm\":\"", c.algorithm,
                            "\",\"runs\":[");
  for (size_t i = 0; i < results.size(); ++i) {
    auto& r = results[i];
    const double rate = static_cast<double>(r.ok) / r.seconds;
    const double p50 = Percentile(r.latencies_ms, 0.50), p99 = Percentile(r.latencies_ms, 0.99);
    if (r.refused > 0) rc = 1;
    json += StrCat(i ? "," : "", "{\"mode\":\"", r.mode, "\",\"committed\":", r.ok,
                   ",\"refused\":", r.refused, ",\"seconds\":", r.seconds,
                   ",\"entries_per_s\":", static_cast<uint64_t>(rate), ",\"p50_ms\":", p50,
                   ",\"p99_ms\":", p99, ",\"ratio_to_verify\":", rate / verify_rate);
    // The server's CPU per committed entry, and as a number of verifications: the cost the
    // rate ratio reflects, without the time other processes had the cores.
    const double cpu_us = r.server_cpu_seconds >= 0 && r.ok > 0
                              ? r.server_cpu_seconds * 1e6 / static_cast<double>(r.ok)
                              : -1;
    if (cpu_us >= 0) {
      json += StrCat(",\"server_cpu_us_per_entry\":", cpu_us,
                     ",\"verifications_per_entry\":", cpu_us / verify.cpu_us);
    }
    json += "}";
    if (!c.json) {
      std::printf(
          "%-6s %8llu committed in %6.2f s = %8.0f entries/s  p50 %7.2f ms  p99 %7.2f ms"
          "  (%.2f x verify rate)%s%s\n",
          r.mode.c_str(), (unsigned long long)r.ok, r.seconds, rate, p50, p99, rate / verify_rate,
          r.refused ? "  REFUSED: " : "",
          r.refused ? StrCat(r.refused, " (", r.first_error, ")").c_str() : "");
      if (cpu_us >= 0) {
        std::printf("%-6s server CPU %6.1f us per entry = %.2f verifications\n", r.mode.c_str(),
                    cpu_us, cpu_us / verify.cpu_us);
      }
    }
  }
  json += "]}";
  if (c.json) {
    std::printf("%s\n", json.c_str());
  } else {
    std::printf("verify   %s on 2 threads: %8.0f /s, %.1f us of CPU each\n", c.algorithm.c_str(),
                verify_rate, verify.cpu_us);
  }
  return rc;
}
