#include "core/read/access.h"

#include <algorithm>

#include "core/read/queries.h"

namespace veta {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kPublic:
      return "public";
    case Role::kRegistrar:
      return "registrar";
    case Role::kMiner:
      return "miner";
    case Role::kSelector:
      return "selector";
    case Role::kTrader:
      return "trader";
    case Role::kPlant:
      return "plant";
    case Role::kExporter:
      return "exporter";
    case Role::kRegulator:
      return "regulator";
    case Role::kOperator:
      return "operator";
  }
  return "?";
}

std::string_view RpcName(Rpc rpc) {
  switch (rpc) {
    case Rpc::kSubmit:
      return "Submit";
    case Rpc::kCheck:
      return "Check";
    case Rpc::kGetCheckpoint:
      return "GetCheckpoint";
    case Rpc::kGetProof:
      return "GetInclusionProof/GetConsistencyProof";
    case Rpc::kGetRecord:
      return "GetRecord";
    case Rpc::kListRecords:
      return "ListRecords";
    case Rpc::kGetEntry:
      return "GetEntry";
    case Rpc::kListEntries:
      return "ListEntries";
    case Rpc::kGetLot:
      return "GetLot";
    case Rpc::kListAttempts:
      return "ListAttempts";
    case Rpc::kListFlags:
      return "ListFlags";
    case Rpc::kGetLineage:
      return "GetLineage";
    case Rpc::kGetCertificate:
      return "GetCertificate";
    case Rpc::kGetIndicators:
      return "GetIndicators";
    case Rpc::kExportEpcis:
      return "ExportEpcis";
    case Rpc::kWatch:
      return "Watch";
    case Rpc::kGetDailyCapacity:
      return "GetDailyCapacity";
  }
  return "?";
}

bool IsPartyRole(Role role) {
  return role == Role::kMiner || role == Role::kSelector || role == Role::kTrader ||
         role == Role::kPlant || role == Role::kExporter;
}

namespace {

bool IsParty(Role role) { return IsPartyRole(role); }

}  // namespace

bool MayCall(Role role, Rpc rpc) {
  if (role == Role::kOperator) return true;
  switch (rpc) {
    case Rpc::kGetCheckpoint:
    case Rpc::kGetProof:
    case Rpc::kGetRecord:
    case Rpc::kListRecords:
    case Rpc::kGetEntry:
    case Rpc::kWatch:  // what each role sees: core/read/watch.h
      return true;
    case Rpc::kSubmit:
      return role == Role::kRegistrar || IsParty(role);
    case Rpc::kCheck:
      return role == Role::kRegistrar || IsParty(role) || role == Role::kRegulator;
    case Rpc::kListEntries:
      return role == Role::kRegulator;
    case Rpc::kGetLot:
    case Rpc::kListAttempts:
    case Rpc::kListFlags:
    case Rpc::kGetLineage:
    case Rpc::kGetCertificate:
      return IsParty(role) || role == Role::kRegulator;
    case Rpc::kGetIndicators:
    case Rpc::kExportEpcis:
      return role == Role::kRegulator;
    case Rpc::kGetDailyCapacity:
      return role == Role::kRegistrar || IsParty(role) || role == Role::kRegulator;
  }
  return false;
}

Caller CallerForKey(const KeyInfo* info, const Reader& store, uint64_t visible) {
  Caller c;
  if (info == nullptr) return c;
  if (info->authority) return Caller{Role::kRegulator, "authority"};
  // Revoked (by a key registration) as of the entries visible: the public's.
  if (info->revoked_at != 0 && info->revoked_at < visible) return c;
  const std::string& holder = info->holder;
  const size_t colon = holder.find(':');
  if (colon == std::string::npos) return c;
  const std::string kind = holder.substr(0, colon), id = holder.substr(colon + 1);
  if (kind == "regulator") return Caller{Role::kRegulator, id};
  // A key held through a registry record identifies its holder only while the record's
  // current version lists it: a key dropped in a rotation is the public's from then on.
  auto record_kind = ParseRecordKind(kind);
  if (!record_kind.ok()) return c;
  auto v = GetRecordAsOf(store, *record_kind, id, visible);
  if (!v.ok()) return c;
  bool in_force = false;
  for (const auto& k : RecordKeys(v->record)) in_force = in_force || k.keyid() == info->key.keyid();
  if (!in_force) return c;
  switch (*record_kind) {
    case RecordKind::kRegistrar:
      return Caller{Role::kRegistrar, id};
    case RecordKind::kMiner:
      return Caller{Role::kMiner, id};
    case RecordKind::kSelector:
      return Caller{Role::kSelector, id};
    case RecordKind::kParty:
      switch (v->record.party().kind()) {
        case veta::v1::TRADER:
          return Caller{Role::kTrader, id};
        case veta::v1::PLANT:
          return Caller{Role::kPlant, id};
        case veta::v1::EXPORTER:
          return Caller{Role::kExporter, id};
        default:
          return c;
      }
    default:
      return c;
  }
}

EntryParties PartiesOf(const DecodedEnvelope& d) {
  EntryParties e;
  switch (d.kind) {
    case PayloadKind::kGenesis:
    case PayloadKind::kKeyRegistration:
    case PayloadKind::kRegistry:
      e.is_public = true;
      break;
    case PayloadKind::kMemo:
      break;
    case PayloadKind::kExtraction:
      e.parties = {d.extraction.extractor_id()};
      break;
    case PayloadKind::kSale:
      e.parties = {d.sale.seller_id(), d.sale.buyer_ruc()};
      break;
    case PayloadKind::kProcessing:
      e.parties = {d.processing.plant_ruc()};
      break;
    case PayloadKind::kExport:
      e.parties = {d.export_.exporter_ruc()};
      break;
    case PayloadKind::kCorrection:
    case PayloadKind::kFlagClearance:
      // Names only a sequence number: the parties are those of the corrected (or cleared)
      // entry, which this function does not read; regulators read corrections and clearances.
      break;
  }
  return e;
}

bool MayReadEntry(const Caller& caller, const EntryParties& entry) {
  if (caller.role == Role::kOperator || caller.role == Role::kRegulator || entry.is_public) {
    return true;
  }
  return std::find(entry.parties.begin(), entry.parties.end(), caller.party_id) !=
             entry.parties.end() &&
         IsParty(caller.role);
}

bool MayReadParty(const Caller& caller, std::string_view party_id) {
  if (caller.role == Role::kOperator || caller.role == Role::kRegulator) return true;
  return IsParty(caller.role) && caller.party_id == party_id;
}

}  // namespace veta
