// The custody reads of veta.v1.Ledger: lineage, certificates, indicators, EPCIS. Thin: each
// translates the request, checks who may read what (core/read/access.h) and calls core.
#include "absl/strings/escaping.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/read/certificate.h"
#include "core/read/epcis.h"
#include "core/read/indicators.h"
#include "core/read/lineage.h"
#include "core/read/queries.h"
#include "core/rules/registry.h"
#include "core/verify/certificate_verify.h"
#include "server/grpc_status.h"
#include "server/ledger_service.h"

namespace veta::server {
namespace {

// The Ed25519 key of a note verifier key (name+hash+base64(0x01 || key); the name and hash
// hold no '+', the base64 may).
absl::StatusOr<PublicKey> KeyOfVerifier(std::string_view vkey) {
  const size_t name_end = vkey.find('+');
  const size_t plus =
      name_end == std::string_view::npos ? std::string_view::npos : vkey.find('+', name_end + 1);
  std::string raw;
  if (plus == std::string_view::npos ||
      !absl::Base64Unescape(absl::string_view(vkey.data() + plus + 1, vkey.size() - plus - 1),
                            &raw) ||
      raw.size() != 33 || raw[0] != 1) {
    return absl::FailedPreconditionError(
        StrCat("the ledger's verifier key '", vkey, "' is not an Ed25519 note key"));
  }
  return PublicKey::FromEd25519Raw(std::string_view(raw).substr(1));
}

}  // namespace

namespace {

uint32_t OrDefault(uint32_t v, uint32_t fallback) { return v == 0 ? fallback : v; }

absl::StatusOr<LineageQuery> ToQuery(const veta::v1::GetLineageRequest& r, uint64_t visible) {
  LineageQuery q;
  switch (r.root_case()) {
    case veta::v1::GetLineageRequest::kLotId:
      q.root = LineageQuery::Root::kLot;
      q.id = r.lot_id();
      break;
    case veta::v1::GetLineageRequest::kUnitCode:
      q.root = LineageQuery::Root::kUnit;
      q.id = r.unit_code();
      break;
    case veta::v1::GetLineageRequest::kMinerId:
      q.root = LineageQuery::Root::kMiner;
      q.id = r.miner_id();
      break;
    default:
      return absl::InvalidArgumentError("lineage needs a root: lot_id, unit_code or miner_id");
  }
  q.forward = r.forward();
  q.as_of = visible;
  q.depth_max = OrDefault(r.depth_max(), q.depth_max);
  q.fanout_max = OrDefault(r.fanout_max(), q.fanout_max);
  q.nodes_max = OrDefault(r.nodes_max(), q.nodes_max);
  q.page_nodes = OrDefault(r.page_size(), q.page_nodes);
  if (!r.page_token().empty()) {
    // "<first lot>@<entries read>": later pages read the log as the first page did.
    const std::vector<std::string_view> parts = Split(r.page_token(), '@');
    uint64_t start = 0, as_of = 0;
    if (parts.size() != 2 || !ParseU64(parts[0], &start) || start > kLineageNodesMax ||
        !ParseU64(parts[1], &as_of) || as_of > visible) {
      return absl::InvalidArgumentError("page_token is not one this server gave");
    }
    q.page_start = static_cast<uint32_t>(start);
    q.as_of = as_of;
  }
  return q;
}

// The party a lineage or certificate is about, for the "own records" check: the holder of the
// root lot, the miner, or the unit's holder.
absl::StatusOr<std::string> Owner(const Reader& store, const LineageQuery& q) {
  switch (q.root) {
    case LineageQuery::Root::kMiner:
      return q.id;
    case LineageQuery::Root::kUnit: {
      ASSIGN_OR_RETURN(RecordVersion v, GetRecordAsOf(store, RecordKind::kUnit, q.id, q.as_of));
      return v.record.unit().holder_ruc();
    }
    case LineageQuery::Root::kLot: {
      ASSIGN_OR_RETURN(veta::v1::Lot lot, GetLot(store, q.id));
      return lot.holder_id();
    }
  }
  return std::string();
}

// What a party sees of its forward lineage: its lots (depth 0), without the lots made from
// them (the edges name its buyers' lots) nor their holders.
void OwnLotsOnly(veta::v1::Lineage* l, const std::string& party) {
  google::protobuf::RepeatedPtrField<veta::v1::LineageNode> mine;
  for (auto& n : *l->mutable_nodes()) {
    if (n.depth() != 0) continue;
    n.clear_edges();
    n.set_truncated(false);
    *mine.Add() = std::move(n);
  }
  l->mutable_nodes()->Swap(&mine);
  if (l->next_page_token().empty()) l->set_total_nodes(static_cast<uint32_t>(l->nodes_size()));
  l->clear_holders();
  l->add_holders(party);
  if (l->truncated() && l->truncated_reason().find("depth limit") != std::string::npos) {
    l->set_truncated(false);
    l->clear_truncated_reason();
  }
}

}  // namespace

grpc::ServerUnaryReactor* LedgerService::GetLineage(grpc::CallbackServerContext* ctx,
                                                    const veta::v1::GetLineageRequest* request,
                                                    veta::v1::Lineage* response) {
  // Counted in the server-wide bound of held bytes, like every call (ledger_service.cc).
  Reply* reply = NewReply(request->ByteSizeLong());
  if (reply == nullptr) return Full(ctx);
  auto status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Caller caller, Authorize(ctx, Rpc::kGetLineage));
    ASSIGN_OR_RETURN(uint64_t visible, VisibleEntries(*ledger_, request->as_of()));
    ASSIGN_OR_RETURN(LineageQuery q, ToQuery(*request, visible));
    // A party's own lots (forward from its own RUC or DNI): the lots it holds and nothing
    // downstream of them (the desks of the web app list them so).
    const bool own_lots = caller.role != Role::kRegulator && caller.role != Role::kOperator &&
                          q.forward && q.root == LineageQuery::Root::kMiner &&
                          MayReadParty(caller, q.id);
    if (own_lots) q.depth_max = 1;
    if (caller.role != Role::kRegulator && caller.role != Role::kOperator && !own_lots) {
      // Where gold went after it left a party is its buyers' business: regulators only.
      if (q.forward) {
        return absl::PermissionDeniedError(
            StrCat("forward lineage (where gold went) is for regulators; a ", RoleName(caller.role),
                   " reads the backward lineage of the lots it holds"));
      }
      ASSIGN_OR_RETURN(std::string owner, Owner(ledger_->store(), q));
      if (!MayReadParty(caller, owner)) {
        return absl::PermissionDeniedError(
            StrCat("a ", RoleName(caller.role), " reads the lineage of its own lots only; ",
                   LineageRootName(q), " is not ", caller.party_id, "'s"));
      }
    }
    ASSIGN_OR_RETURN(*response, QueryLineage(ledger_->store(), q));
    if (own_lots) OwnLotsOnly(response, q.id);
    if (!response->next_page_token().empty()) {
      response->set_next_page_token(StrCat(response->next_page_token(), "@", q.as_of));
    }
    return absl::OkStatus();
  }();
  return SendReply(reply, response, status);
}

grpc::ServerUnaryReactor* LedgerService::GetCertificate(
    grpc::CallbackServerContext* ctx, const veta::v1::GetCertificateRequest* request,
    veta::v1::Certificate* response) {
  // Counted in the server-wide bound of held bytes, like every call (ledger_service.cc).
  Reply* reply = NewReply(request->ByteSizeLong());
  if (reply == nullptr) return Full(ctx);
  Caller caller;
  const absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(caller, Authorize(ctx, Rpc::kGetCertificate));
    if (request->lot_id().empty()) return absl::InvalidArgumentError("name the lot: lot_id");
    if (caller.role != Role::kRegulator && caller.role != Role::kOperator) {
      ASSIGN_OR_RETURN(veta::v1::Lot lot, veta::GetLot(ledger_->store(), request->lot_id()));
      if (!MayReadParty(caller, lot.holder_id())) {
        return absl::PermissionDeniedError(
            StrCat("lot ", request->lot_id(), " is not held by ", caller.party_id));
      }
    }
    if (certificate_source_) return absl::OkStatus();  // relayed below
    ASSIGN_OR_RETURN(*response, IssueCertificate(*ledger_, request->lot_id()));
    return absl::OkStatus();
  }();
  if (!status.ok() || !certificate_source_) return SendReply(reply, response, status);
  // A follower: the primary signs (it alone holds the authority key), whoever receives checks.
  // The call to the primary is asynchronous: the reply is finished when the primary answers
  // (or its deadline passes), from the thread that brings the answer; no thread of this server
  // waits meanwhile. `response` and `reply` live until the reply is finished.
  certificate_source_(
      request->lot_id(), [this, reply, response, caller,
                          lot_id = request->lot_id()](absl::StatusOr<veta::v1::Certificate> got) {
        const absl::Status relayed = [&]() -> absl::Status {
          if (!got.ok()) return got.status();
          *response = std::move(*got);
          if (caller.role != Role::kRegulator && caller.role != Role::kOperator) {
            // The primary answered the follower (a regulator), with the lot as the primary holds
            // it: a party gets it only if it is the holder there too (this follower may lag).
            absl::StatusOr<PublicKey> authority = KeyOfVerifier(ledger_->verifier_key());
            absl::StatusOr<CertificateClaims> claims =
                authority.ok() ? VerifyCertificate(*response, *authority)
                               : absl::StatusOr<CertificateClaims>(authority.status());
            if (!claims.ok() || claims->holder != caller.party_id) {
              response->Clear();
              return absl::PermissionDeniedError(
                  StrCat("lot ", lot_id, " is not held by ", caller.party_id, " at the primary"));
            }
          }
          return absl::OkStatus();
        }();
        SendReply(reply, response, relayed);
      });
  return Pending(reply);
}

grpc::ServerUnaryReactor* LedgerService::GetIndicators(
    grpc::CallbackServerContext* ctx, const veta::v1::GetIndicatorsRequest* request,
    veta::v1::Indicators* response) {
  // Counted in the server-wide bound of held bytes, like every call (ledger_service.cc).
  Reply* reply = NewReply(request->ByteSizeLong());
  if (reply == nullptr) return Full(ctx);
  auto status = [&]() -> absl::Status {
    RETURN_IF_ERROR(Authorize(ctx, Rpc::kGetIndicators).status());
    ASSIGN_OR_RETURN(uint64_t visible, VisibleEntries(*ledger_, request->as_of()));
    ASSIGN_OR_RETURN(*response, ComputeIndicators(ledger_->store(), visible));
    return absl::OkStatus();
  }();
  return SendReply(reply, response, status);
}

grpc::ServerUnaryReactor* LedgerService::ExportEpcis(grpc::CallbackServerContext* ctx,
                                                     const veta::v1::ExportEpcisRequest* request,
                                                     veta::v1::ExportEpcisResponse* response) {
  // Counted in the server-wide bound of held bytes, like every call (ledger_service.cc).
  Reply* reply = NewReply(request->ByteSizeLong());
  if (reply == nullptr) return Full(ctx);
  auto status = [&]() -> absl::Status {
    RETURN_IF_ERROR(Authorize(ctx, Rpc::kExportEpcis).status());
    EpcisOptions options;
    options.start = request->start();
    options.limit = request->limit();
    options.lot_id = request->lot_id();
    ASSIGN_OR_RETURN(EpcisResult r, EpcisDocument(ledger_->store(), ledger_->size(), options));
    response->set_document(std::move(r.json));
    response->set_next_start(r.next_start);
    response->set_events(static_cast<uint32_t>(r.events));
    return absl::OkStatus();
  }();
  return SendReply(reply, response, status);
}

}  // namespace veta::server
